#!/usr/bin/env node
// Removes the `name` custom section (function names for stack traces) from
// a built .wasm, in place: `node scripts/wasm-strip-names.mjs worker/build/index_bg.wasm`.
//
// The Worker's build runs it after worker-build: the names are ~30% of the
// module and the runtime needs none of them (a Rust panic is denied by the
// lints, and errors are logged by message). Stripping at link time
// (`strip = true`) is not an option: wasm-bindgen needs the sections it would
// drop. Only that one section is removed; every other byte is kept in order.
// A module without a name section is left unchanged.
import fs from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/wasm-strip-names.mjs <module.wasm>');
  process.exit(2);
}
const bytes = fs.readFileSync(file);
const MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);
if (bytes.length < 8 || !bytes.subarray(0, 4).equals(MAGIC)) {
  console.error(`${file}: not a WebAssembly module`);
  process.exit(1);
}

/** Unsigned LEB128 at `i` → [value, next index]. */
function leb(buf, i) {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (i >= buf.length || shift > 28) throw new Error('truncated or oversized LEB128');
    const b = buf[i++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, i];
  }
}

const kept = [bytes.subarray(0, 8)];
let removed = 0;
let i = 8;
while (i < bytes.length) {
  const start = i;
  const id = bytes[i++];
  const [size, body] = leb(bytes, i);
  const end = body + size;
  if (end > bytes.length) throw new Error(`${file}: section ${id} runs past the end`);
  let drop = false;
  if (id === 0) {
    const [len, nameAt] = leb(bytes, body);
    drop = bytes.toString('utf8', nameAt, nameAt + len) === 'name';
  }
  if (drop) removed += end - start;
  else kept.push(bytes.subarray(start, end));
  i = end;
}
if (removed > 0) fs.writeFileSync(file, Buffer.concat(kept));
console.log(`${file}: ${removed ? `removed the name section (${removed} bytes)` : 'no name section'}; ${bytes.length - removed} bytes`);
