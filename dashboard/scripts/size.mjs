// Prints the built bundle's size, raw and gzipped, per file and in total.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const files = fs
  .readdirSync(dist, { recursive: true })
  .map(String)
  .filter((f) => /\.(js|css|html)$/.test(f))
  .sort();
let raw = 0;
let gz = 0;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
for (const f of files) {
  const buf = fs.readFileSync(path.join(dist, f));
  const g = zlib.gzipSync(buf, { level: 9 }).length;
  raw += buf.length;
  gz += g;
  console.log(`  ${f.padEnd(40)} ${kb(buf.length).padStart(10)} raw ${kb(g).padStart(10)} gzipped`);
}
console.log(`dashboard bundle: ${kb(raw)} raw, ${kb(gz)} gzipped (${files.length} files: JS, CSS, HTML)`);
