#!/usr/bin/env node
// CPU per Worker → Durable Object call, RPC vs fetch, in bare workerd:
//   node bench/do-call/run.mjs [--calls 5000] [--rounds 5]
// Each request makes `calls` calls of one shape to one object; the CPU time
// workerd used (user + sys from /proc) is divided by the calls. Shapes are
// alternated round by round so both see the same machine conditions.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberOption, processCpuMs, workerdBinary } from '../common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const calls = numberOption('calls', 5000);
const rounds = numberOption('rounds', 5);
const port = numberOption('port', 8899);
const workerd = workerdBinary();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'do-call-'));
const child = spawn(workerd, ['serve', path.join(HERE, 'workerd.capnp'), '--directory-path', `do-disk=${dir}`, '--socket-addr', `http=127.0.0.1:${port}`], { stdio: 'ignore', detached: true });
const cpuMs = () => processCpuMs(child.pid);
const get = async (shape, n) => {
  const res = await fetch(`http://127.0.0.1:${port}/${shape}?n=${n}`);
  if (res.status !== 200) throw new Error(`${shape}: ${res.status}`);
  return res.json();
};

try {
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      await get('rpc', 1);
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`workerd did not answer: ${e.message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await get('rpc', 500);
  await get('fetch', 500);
  const per = { rpc: [], fetch: [] };
  for (let r = 0; r < rounds; r++) {
    for (const shape of r % 2 ? ['fetch', 'rpc'] : ['rpc', 'fetch']) {
      const before = cpuMs();
      await get(shape, calls);
      per[shape].push((cpuMs() - before) / calls);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`| shape | CPU ms per call (median of ${rounds} × ${calls}) |\n|---|---:|`);
  for (const shape of ['rpc', 'fetch']) console.log(`| ${shape} | ${median(per[shape]).toFixed(4)} |`);
  console.log(`\nfetch / rpc: ${(median(per.fetch) / median(per.rpc)).toFixed(2)}×`);
} finally {
  process.kill(-child.pid, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
