#!/usr/bin/env node
// What this runtime charges any per-identity limiting proxy, whatever its
// code: the floor Worker (worker.js) in bare workerd, one request at a time,
// for each step it adds (passthrough; one object call; one SQLite upsert
// in it) and each identity shape the product's benchmark has (one
// identity; a pool of warm identities; a new identity per request).
//   node bench/floor/run.mjs [--n 1000] [--pool 1000] [--port 8897]
// Added latency is over the mock measured directly in the same round; CPU
// is workerd's (user + sys from /proc) over the requests.
//   node bench/floor/run.mjs --idle 2,8,15,35 [--objects 100]
// measures instead what an object costs when its identity comes back after
// that many seconds of silence (SQLite step), against a busy identity.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberOption, processCpuMs, ROOT, workerdBinary } from '../common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const n = numberOption('n', 1000);
const pool = numberOption('pool', 1000);
const port = numberOption('port', 8897);
const idleIndex = process.argv.indexOf('--idle');
const idleSeconds = idleIndex > 0 ? process.argv[idleIndex + 1].split(',').map(Number) : null;
const objects = numberOption('objects', 100);
const workerd = workerdBinary();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];
const stopAll = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
process.on('exit', stopAll);

function start(cmd, argv, env) {
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  children.push(child);
  return { child, output: () => out };
}

async function until(what, check, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not come up`);
    await sleep(100);
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'Say hello' }] });
function post(url, identity) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: 'Bearer floor', 'content-length': Buffer.byteLength(body), 'x-identity': identity } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`${url}: ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function measure(url, identityOf, pid) {
  for (let i = 0; i < 50; i++) await post(url, identityOf(-1 - i));
  const cpu0 = pid ? processCpuMs(pid) : 0;
  const times = [];
  for (let i = 0; i < n; i++) times.push(await post(url, identityOf(i)));
  return { p50: pct(times, 0.5), p99: pct(times, 0.99), cpu: pid ? (processCpuMs(pid) - cpu0) / n : null };
}

const mock = start(process.execPath, [path.join(ROOT, 'mock-provider/server.mjs'), '--port', '0'], { MOCK_PORT: '' });
const mockUrl = (await until('mock provider', async () => /listening on (http:\/\/[^\s]+)/.exec(mock.output())?.[1])).replace(/\/$/, '');
const direct = `${mockUrl}/openai/v1/chat/completions`;
const url = `http://127.0.0.1:${port}/`;
let fresh = 0;
const shapes = {
  'one identity': () => 'one',
  [`${pool} warm identities`]: (i) => `pool-${((i % pool) + pool) % pool}`,
  'new identity each request': () => `new-${fresh++}`,
};
/** The floor Worker in `mode`, answering; `stop()` kills it and removes its storage. */
async function startFloor(mode) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floor-bench-'));
  const w = start(workerd, ['serve', path.join(HERE, 'workerd.capnp'), '--directory-path', `do-disk=${dir}`, '--socket-addr', `http=127.0.0.1:${port}`], { MODE: mode, MOCK_URL: mockUrl });
  await until(`workerd (${mode})`, () => post(url, 'one')).catch((e) => {
    throw new Error(`${e.message}:\n${w.output()}`);
  });
  const stop = async () => {
    const exited = new Promise((r) => w.child.once('exit', r));
    w.child.kill('SIGKILL');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { pid: w.child.pid, stop };
}

const signed = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;

if (idleSeconds) {
  // Each gap: `objects` identities used twice, then silent for the gap, then
  // back once each (p50 and CPU of those returns), then as many requests of
  // one busy identity for comparison.
  const floor = await startFloor('sql');
  for (let i = 0; i < 200; i++) await post(url, 'one');
  console.log(`# An identity back after silence, floor Worker with SQLite (${new Date().toISOString()}, ${objects} objects per gap)\n`);
  console.log('| silent for | back: p50 ms | back: CPU ms/req | busy identity: CPU ms/req |\n|---:|---:|---:|---:|');
  for (const gap of idleSeconds) {
    const ids = Array.from({ length: objects }, (_, k) => `idle-${gap}-${k}`);
    for (const id of [...ids, ...ids]) await post(url, id);
    await sleep(gap * 1000);
    const cpu0 = processCpuMs(floor.pid);
    const back = [];
    for (const id of ids) back.push(await post(url, id));
    const cpu1 = processCpuMs(floor.pid);
    for (let i = 0; i < objects; i++) await post(url, 'one');
    const cpu2 = processCpuMs(floor.pid);
    console.log(`| ${gap} s | ${pct(back, 0.5).toFixed(2)} | ${((cpu1 - cpu0) / objects).toFixed(2)} | ${((cpu2 - cpu1) / objects).toFixed(2)} |`);
  }
  await floor.stop();
  stopAll();
  process.exit(0);
}

const rows = [];
for (const mode of ['plain', 'object', 'sql']) {
  const floor = await startFloor(mode);
  if (mode !== 'plain') for (let i = 0; i < pool; i++) await post(url, shapes[`${pool} warm identities`](i));
  for (const [shape, identityOf] of Object.entries(shapes)) {
    if (mode === 'plain' && shape !== 'one identity') continue;
    const base = await measure(direct, () => 'direct', null);
    const m = await measure(url, identityOf, floor.pid);
    rows.push({ mode, shape, ...m, added: m.p50 - base.p50, addedP99: m.p99 - base.p99 });
    process.stderr.write(`${mode.padEnd(7)} ${shape.padEnd(26)} p50 ${m.p50.toFixed(2)} ms (+${(m.p50 - base.p50).toFixed(2)}), CPU ${m.cpu.toFixed(2)} ms/req\n`);
  }
  await floor.stop();
}
const steps = { plain: 'passthrough', object: '+ one object call', sql: '+ one SQLite upsert in it' };
console.log(`# The runtime's floor (${new Date().toISOString()}, ${os.cpus().length} CPUs, n=${n} per row at concurrency 1)\n`);
console.log('| floor Worker | identity | p50 ms | added p50 ms | added p99 ms | CPU ms/req |\n|---|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${steps[r.mode]} | ${r.shape} | ${r.p50.toFixed(2)} | ${signed(r.added)} | ${signed(r.addedP99)} | ${r.cpu.toFixed(2)} |`);
stopAll();
process.exit(0);
