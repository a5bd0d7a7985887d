#!/usr/bin/env node
// Hot-path benchmark: the built Worker under bare workerd vs. the mock provider.
//
//   node bench/run.mjs [--n1 500] [--n16 2000] [--n64 3000] [--pool 1000] [--port 8788]
//                      [--pg-port 54329] [--mock-url http://127.0.0.1:3100] [--quick]
//                      [--wait-idle 120] [--gateway URL [--gateway-header 'k: v']…
//                      [--gateway-pid PID] [--gateway-name portkey]]
//                      [--build-dir DIR] [--baseline-build DIR] [--only REGEX]
//                      [--profile DIR] [--floor]
//
// --floor runs the runtime's floor (bench/floor: a plain JavaScript Worker
// making one SQLite-counting Durable Object call per request) on port+2
// and measures it right after every proxy row ("floor" rows), with a
// table of what the proxy adds over it.
//
// --profile records a CPU profile of the Worker's isolate over each
// measured proxy row (bench/profile.mjs): DIR/<row>.cpuprofile and the
// functions with the most self time on stderr. Use an unstripped build.
//
// --baseline-build runs a second workerd with another build (e.g. a saved
// copy of the build before a change) on port+1, and measures each proxy row
// on it right after the same row on the build under test ("base" rows), so
// before and after share the machine's conditions.
// --build-dir runs another build (index.js + index_bg.wasm, e.g. a saved
// copy of an earlier one) instead of worker/build; --only keeps the rows
// whose label (e.g. proxy-one-json-c1, gateway-json-c64) matches.
//
// --gateway adds a side-by-side row for any OpenAI-compatible chat
// completions URL pointed at the same mock (`{mock}` in a header value is
// replaced by the mock's base URL), e.g. a Node gateway:
//   --gateway http://127.0.0.1:8787/v1/chat/completions \
//   --gateway-header 'x-portkey-provider: openai' \
//   --gateway-header 'x-portkey-custom-host: {mock}/openai/v1' --gateway-pid <its pid>
//
// Builds nothing: it runs worker/build/ (from `cd worker && worker-build
// --release`) with bench/workerd.capnp on 127.0.0.1:8788, a fresh temp dir
// for Durable Object storage, Hyperdrive → the dev-stack Postgres, and (by
// default) its own mock-provider process on a free port, so the shared dev
// mock's request records (capped at 10,000) are not flushed under other
// tests. It logs in, creates a project pointed at the mock with a generous
// tier, measures, prints markdown tables and writes bench/results.md.
// Everything it starts runs in its own process group and is killed at the end.
// See bench/README.md.

import { spawn, execFileSync } from 'node:child_process';
import { CLK_TCK, processCpuMs as cpuMs, ROOT, workerdBinary } from './common.mjs';
import { openProfiler, saveProfile } from './profile.mjs';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = path.join(ROOT, 'bench');

// ---------------------------------------------------------------- options
function parseArgs(argv) {
  const o = {
    n1: 500,
    n16: 2000,
    n64: 3000,
    pool: 1000,
    port: 8788,
    pgPort: Number(process.env.AIRL_PG_PORT || 54329),
    mockUrl: null,
    quick: false,
    waitIdle: 0,
    gateway: null,
    gatewayHeaders: [],
    gatewayPid: null,
    gatewayName: 'gateway',
    buildDir: null,
    baselineBuild: null,
    floor: false,
    only: null,
    profile: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [k, inline] = a.includes('=') ? a.split(/=(.*)/s) : [a, undefined];
    const val = () => (inline !== undefined ? inline : argv[++i]);
    if (k === '--n1') o.n1 = Number(val());
    else if (k === '--n16') o.n16 = Number(val());
    else if (k === '--pool') o.pool = Number(val());
    else if (k === '--n64') o.n64 = Number(val());
    else if (k === '--port') o.port = Number(val());
    else if (k === '--pg-port') o.pgPort = Number(val());
    else if (k === '--gateway') o.gateway = String(val());
    else if (k === '--gateway-header') o.gatewayHeaders.push(String(val()));
    else if (k === '--gateway-pid') o.gatewayPid = Number(val());
    else if (k === '--gateway-name') o.gatewayName = String(val());
    else if (k === '--build-dir') o.buildDir = path.resolve(String(val()));
    else if (k === '--baseline-build') o.baselineBuild = path.resolve(String(val()));
    else if (k === '--only') o.only = new RegExp(String(val()));
    else if (k === '--mock-url') o.mockUrl = String(val()).replace(/\/$/, '');
    else if (k === '--quick') o.quick = true;
    else if (k === '--floor') o.floor = true;
    else if (k === '--wait-idle') o.waitIdle = Number(val());
    else if (k === '--profile') o.profile = path.resolve(String(val()));
    else if (k === '-h' || k === '--help') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 42).join('\n'));
      process.exit(0);
    } else {
      console.error(`unknown option ${a} (try --help)`);
      process.exit(2);
    }
  }
  if (o.quick) Object.assign(o, { n1: 100, n16: 300, n64: 600 });
  if (!Number.isFinite(o.waitIdle) || o.waitIdle < 0) {
    console.error('--wait-idle must be a number of seconds >= 0');
    process.exit(2);
  }
  for (const k of ['n1', 'n16', 'n64', 'pool', 'port', 'pgPort']) {
    if (!Number.isInteger(o[k]) || o[k] <= 0) {
      console.error(`--${k} must be a positive integer`);
      process.exit(2);
    }
  }
  if (o.n1 < 500 && !o.quick) console.warn(`note: --n1 ${o.n1} < 500; p99 will be coarse`);
  return o;
}
const opt = parseArgs(process.argv.slice(2));
const LOAD_START = os.loadavg();
const COMMAND = ['node', 'bench/run.mjs', ...process.argv.slice(2)].join(' ');

// ---------------------------------------------------------------- children
const children = []; // {name, child}
let tmpDir;

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

async function cleanup() {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) killGroup(child, 'SIGTERM');
  const deadline = Date.now() + 3000;
  for (const { child } of children) {
    while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(50);
    if (child.exitCode === null && child.signalCode === null) killGroup(child, 'SIGKILL');
  }
  if (tmpDir && !process.env.BENCH_KEEP_TMP) fs.rmSync(tmpDir, { recursive: true, force: true });
}

let cleaning = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    if (cleaning) return;
    cleaning = true;
    console.error(`\n${sig}: stopping`);
    await cleanup();
    process.exit(130);
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function fail(msg) {
  const e = new Error(msg);
  e.benchFatal = true;
  throw e;
}

// ---------------------------------------------------------------- env
function findWorkerd() {
  try {
    return workerdBinary();
  } catch (e) {
    fail(e.message);
  }
}

/** wrangler.toml's top-level [vars] table (flat `KEY = "value"` lines). */
function wranglerVars() {
  const text = fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
  const vars = {};
  let inVars = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inVars = line === '[vars]';
      continue;
    }
    if (!inVars || !line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(".*"|'.*'|[^#]+?)\s*(#.*)?$/.exec(line);
    if (m) vars[m[1]] = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2].replace(/^'|'$/g, '');
  }
  return vars;
}

/** .dev.vars (KEY=VALUE lines). */
function devVars() {
  const file = path.join(ROOT, '.dev.vars');
  if (!fs.existsSync(file)) fail('.dev.vars not found; `node scripts/stack.mjs` creates it (JWT_SECRET, ENCRYPTION_KEY)');
  const vars = {};
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    if (i <= 0) continue;
    let v = line.slice(i + 1).trim();
    if (/^".*"$/.test(v)) v = JSON.parse(v);
    else if (/^'.*'$/.test(v)) v = v.slice(1, -1);
    vars[line.slice(0, i).trim()] = v;
  }
  for (const k of ['JWT_SECRET', 'ENCRYPTION_KEY']) if (!vars[k]) fail(`.dev.vars has no ${k}`);
  return vars;
}

function spawnGroup(name, cmd, args, { env, logFile }) {
  const log = fs.openSync(logFile, 'w');
  const child = spawn(cmd, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  children.push({ name, child, logFile });
  return child;
}

function tail(file, n = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

async function portInUse(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(true);
    });
  });
}

async function startMock() {
  const logFile = path.join(tmpDir, 'mock.log');
  const child = spawnGroup('mock', process.execPath, [path.join(ROOT, 'mock-provider/server.mjs'), '--port', '0'], {
    env: { ...process.env, MOCK_PORT: '' },
    logFile,
  });
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    const m = /listening on (http:\/\/[^\s]+)/.exec(tail(logFile));
    if (m) return m[1].replace(/\/$/, '');
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  fail(`mock provider did not start:\n${tail(logFile)}`);
}

/** workerd's inspector port with --profile. */
const inspectorPort = () => opt.port + 100;

/** The floor Worker (bench/floor) on port + 2, counting in SQLite. */
async function startFloor(workerd, mockUrl) {
  const dir = path.join(tmpDir, 'floor-do');
  fs.mkdirSync(dir);
  const logFile = path.join(tmpDir, 'floor.log');
  const child = spawnGroup('floor', workerd, ['serve', path.join(BENCH, 'floor', 'workerd.capnp'), '--directory-path', `do-disk=${dir}`, '--socket-addr', `http=127.0.0.1:${opt.port + 2}`], {
    env: { ...process.env, MODE: 'sql', MOCK_URL: mockUrl },
    logFile,
  });
  const target = makeTarget('floor', {});
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    const r = await once(new http.Agent({ keepAlive: false }), target, bodyFor('floor', false, 'floor-smoke'));
    if (r.ok) return child;
    if (child.exitCode !== null) break;
    await sleep(200);
  }
  fail(`the floor Worker did not start:\n${tail(logFile)}`);
}

async function startWorkerd(workerd, base, { name = 'workerd', buildDir = opt.buildDir, port = opt.port } = {}) {
  const vars = { ...wranglerVars(), ...devVars(), ENVIRONMENT: 'development' };
  const doDir = path.join(tmpDir, `${name}-do`);
  fs.mkdirSync(doDir);
  const logFile = path.join(tmpDir, `${name}.log`);
  let capnp = path.join(BENCH, 'workerd.capnp');
  if (buildDir) {
    capnp = path.join(tmpDir, `${name}.capnp`);
    const text = fs
      .readFileSync(path.join(BENCH, 'workerd.capnp'), 'utf8')
      .replaceAll('embed "../worker/build/', `embed "${path.relative(tmpDir, buildDir)}/`);
    fs.writeFileSync(capnp, text);
  }
  const child = spawnGroup(
    name,
    workerd,
    [
      'serve',
      capnp,
      '--directory-path',
      `do-disk=${doDir}`,
      '--socket-addr',
      `http=127.0.0.1:${port}`,
      '--external-addr',
      `pg=127.0.0.1:${opt.pgPort}`,
      ...(opt.profile && name === 'workerd' ? [`--inspector-addr=127.0.0.1:${inspectorPort()}`] : []),
    ],
    { env: { ...process.env, ...vars }, logFile },
  );
  const deadline = Date.now() + 30000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) fail(`workerd exited (${child.exitCode}):\n${tail(logFile)}`);
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return child;
    } catch (e) {
      last = e.message;
    }
    await sleep(200);
  }
  fail(`workerd /healthz not ready after 30 s (last: ${last}):\n${tail(logFile)}`);
}

// ---------------------------------------------------------------- setup
async function json(url, { body, token, method } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, {
    method: method || (body === undefined ? 'GET' : 'POST'),
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15000),
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

async function setupProject(base, mockUrl) {
  const tag = `${Date.now().toString(36)}-${Math.random().toString(16).slice(2, 10)}`;
  const email = `bench-${tag}@example.com`;
  const link = await json(`${base}/api/auth/magic-link`, { body: { email } });
  if (link.status !== 200 && link.status !== 202) fail(`magic-link → ${link.status} ${link.text}`);
  if (!link.body?.devLink) fail(`magic-link answer has no devLink (ENVIRONMENT must be development): ${link.text}`);
  const token = new URL(link.body.devLink, base).searchParams.get('token');
  const verified = await json(`${base}/api/auth/verify`, { body: { token } });
  if (verified.status !== 200) fail(`verify → ${verified.status} ${verified.text}`);
  const access = verified.body.accessToken;
  // Finite but unreachable limits, so the Durable Object does its full
  // counting work (an all-null tier might be cheaper than real use).
  const created = await json(`${base}/api/projects`, {
    token: access,
    body: {
      name: `bench-${tag}`,
      provider: 'openai',
      baseUrl: `${mockUrl}/openai/v1`,
      providerApiKey: 'sk-mock-bench',
      defaultTier: 'bench',
      tiers: {
        bench: {
          requests: { limit: 1_000_000_000, period: 'day' },
          tokens: { limit: 1_000_000_000_000, period: 'month' },
        },
      },
    },
  });
  if (created.status !== 201) fail(`create project → ${created.status} ${created.text}`);
  return { projectKey: created.body.projectKey, projectId: created.body.id, email };
}

// ---------------------------------------------------------------- load loop
const MODEL = 'bench-model';
const MESSAGES = [{ role: 'user', content: 'Say hello to the benchmark.' }];

function makeTarget(kind, { base, mockUrl, projectKey, baseline }) {
  if (kind === 'base') return makeTarget('proxy', { ...baseline, mockUrl });
  if (kind === 'direct' || kind === 'direct-responses') {
    const u = new URL(`${mockUrl}/openai/v1/${kind === 'direct' ? 'chat/completions' : 'responses'}`);
    return { host: u.hostname, port: Number(u.port), path: u.pathname, headers: { authorization: 'Bearer sk-mock-bench' } };
  }
  if (kind === 'gateway') {
    const u = new URL(opt.gateway);
    const headers = { authorization: 'Bearer sk-mock-bench' };
    for (const h of opt.gatewayHeaders) {
      const i = h.indexOf(':');
      if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim().replaceAll('{mock}', mockUrl);
    }
    return { host: u.hostname, port: Number(u.port || 80), path: u.pathname + u.search, headers };
  }
  if (kind === 'floor') return { host: '127.0.0.1', port: opt.port + 2, path: '/', headers: {} };
  if (kind === 'dropin' || kind === 'responses') {
    const u = new URL(`${base}/v1/${kind === 'dropin' ? 'chat/completions' : 'responses'}`);
    return { host: u.hostname, port: Number(u.port), path: u.pathname, headers: { authorization: `Bearer ${projectKey}` } };
  }
  const u = new URL(`${base}/api/v1/proxy/chat`);
  return { host: u.hostname, port: Number(u.port), path: u.pathname, headers: { 'x-project-key': projectKey } };
}

const PROXY_KINDS = new Set(['proxy', 'base', 'floor', 'dropin', 'responses']);

function bodyFor(kind, stream, identity) {
  if (kind === 'responses' || kind === 'direct-responses') {
    // The Responses API: `input` instead of `messages`; usage always arrives in response.completed.
    const r = { model: MODEL, input: MESSAGES[0].content };
    if (kind === 'responses') r.identity = identity;
    if (stream) r.stream = true;
    return Buffer.from(JSON.stringify(r));
  }
  const b = { model: MODEL, messages: MESSAGES };
  if (PROXY_KINDS.has(kind)) b.identity = identity;
  if (stream) {
    b.stream = true;
    // the proxy forces include_usage upstream; ask the mock the same directly
    if (!PROXY_KINDS.has(kind)) b.stream_options = { include_usage: true };
  }
  return Buffer.from(JSON.stringify(b));
}

/** One request → {ok, status, ttfb, total, overhead, err}. Times in ms. */
function once(agent, target, body) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let ttfb = 0;
    const req = http.request(
      {
        agent,
        host: target.host,
        port: target.port,
        path: target.path,
        method: 'POST',
        headers: { ...target.headers, 'content-type': 'application/json', 'content-length': body.length },
        timeout: 30000,
      },
      (res) => {
        ttfb = Number(process.hrtime.bigint() - t0) / 1e6;
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const total = Number(process.hrtime.bigint() - t0) / 1e6;
          const text = Buffer.concat(chunks).toString('utf8');
          const oh = res.headers['x-ratelimit-overhead-ms'];
          const ok = res.statusCode === 200 && (text.includes('[DONE]') || text.includes('event: response.completed') || text.startsWith('{'));
          resolve({ ok, status: res.statusCode, ttfb, total, overhead: oh === undefined ? null : Number(oh), err: ok ? null : text.slice(0, 300) });
        });
        res.on('error', (e) => resolve({ ok: false, status: res.statusCode, ttfb, total: 0, overhead: null, err: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout after 30 s')));
    req.on('error', (e) => resolve({ ok: false, status: 0, ttfb: 0, total: 0, overhead: null, err: e.message }));
    req.end(body);
  });
}

/** Busy and total CPU jiffies of the whole machine (/proc/stat), in ms. */
function machineCpuMs() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: ((total - idle) * 1000) / CLK_TCK, total: (total * 1000) / CLK_TCK };
  } catch {
    return null;
  }
}

/** CPU of our own processes (this Node, workerd, our mock), ms. */
function ownCpuMs() {
  let sum = cpuMs(process.pid) ?? 0;
  for (const { child } of children) sum += cpuMs(child.pid) ?? 0;
  return sum;
}

/**
 * Runs `n` requests with `c` in flight (keep-alive, one socket per worker).
 * `identityOf(i)` names the identity of request i.
 */
async function load({ target, stream, kind, c, n, identityOf, cpuPid }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: c, maxFreeSockets: c });
  const results = new Array(n);
  let next = 0;
  const cpu0 = cpuPid ? cpuMs(cpuPid) : null;
  const m0 = machineCpuMs();
  const own0 = ownCpuMs();
  const t0 = process.hrtime.bigint();
  async function worker() {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      results[i] = await once(agent, target, bodyFor(kind, stream, identityOf(i)));
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu1 = cpuPid ? cpuMs(cpuPid) : null;
  const m1 = machineCpuMs();
  const own1 = ownCpuMs();
  agent.destroy();
  // other processes' CPU during the run, in cores (noise indicator)
  const others = m0 && m1 ? Math.max(0, (m1.busy - m0.busy - (own1 - own0)) / wallMs) : null;
  return { results, wallMs, cpuMs: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null, others };
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function summarize(run) {
  const ok = run.results.filter((r) => r.ok);
  const lat = ok.map((r) => r.total).sort((a, b) => a - b);
  const ttfb = ok.map((r) => r.ttfb).sort((a, b) => a - b);
  const oh = ok.map((r) => r.overhead).filter((v) => v !== null && !Number.isNaN(v)).sort((a, b) => a - b);
  const errors = run.results.filter((r) => !r.ok);
  return {
    n: run.results.length,
    errors: errors.length,
    firstError: errors[0] ? `${errors[0].status} ${errors[0].err}` : null,
    p50: pct(lat, 50),
    p90: pct(lat, 90),
    p99: pct(lat, 99),
    max: lat[lat.length - 1],
    ttfb50: pct(ttfb, 50),
    rps: (run.results.length / run.wallMs) * 1000,
    cpuPerReq: run.cpuMs === null ? null : run.cpuMs / run.results.length,
    others: run.others,
    overhead: oh.length
      ? { n: oh.length, p50: pct(oh, 50), p90: pct(oh, 90), p99: pct(oh, 99), max: oh[oh.length - 1], mean: oh.reduce((a, b) => a + b, 0) / oh.length }
      : null,
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const build = opt.buildDir || path.join(ROOT, 'worker/build');
  for (const f of ['index.js', 'index_bg.wasm']) {
    if (!fs.existsSync(path.join(build, f))) {
      console.error(`worker/build/${f} is missing. Build the Worker first:\n\n  cd worker && worker-build --release && node ../scripts/wasm-strip-names.mjs build/index_bg.wasm\n\n(or start the dev stack once: wrangler dev runs the same build command). Then: node bench/run.mjs`);
      process.exit(1);
    }
  }
  const workerd = findWorkerd();
  const base = `http://127.0.0.1:${opt.port}`;
  if (await portInUse(opt.port)) fail(`127.0.0.1:${opt.port} is already in use (use --port)`);
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-ratelimit-bench-'));

  const mockUrl = opt.mockUrl || (await startMock());
  const mockChild = children.find((c) => c.name === 'mock')?.child;
  const mockHealth = await json(`${mockUrl}/__mock/health`).catch((e) => ({ status: 0, text: e.message }));
  if (mockHealth.status !== 200) fail(`mock at ${mockUrl} is not healthy: ${mockHealth.status} ${mockHealth.text}`);

  const wd = await startWorkerd(workerd, base);
  const workerdVersion = execFileSync(workerd, ['--version'], { encoding: 'utf8' }).trim();
  console.error(`workerd up on ${base} (pid ${wd.pid}); mock ${mockUrl}${opt.mockUrl ? ' (external)' : ` (pid ${mockChild.pid})`}`);

  const { projectKey } = await setupProject(base, mockUrl);
  const ctx = { base, mockUrl, projectKey };
  let baseWd = null;
  if (opt.baselineBuild) {
    const bBase = `http://127.0.0.1:${opt.port + 1}`;
    baseWd = await startWorkerd(workerd, bBase, { name: 'baseline', buildDir: opt.baselineBuild, port: opt.port + 1 });
    ctx.baseline = { base: bBase, projectKey: (await setupProject(bBase, mockUrl)).projectKey };
    console.error(`baseline workerd up on ${bBase} (pid ${baseWd.pid})`);
  }
  let floorWd = null;
  if (opt.floor) {
    floorWd = await startFloor(workerd, mockUrl);
    console.error(`floor workerd up on 127.0.0.1:${opt.port + 2} (pid ${floorWd.pid})`);
  }
  console.error(`project ready (${projectKey.slice(0, 10)}…)`);

  // smoke: both paths answer what we expect, before timing anything
  for (const stream of [false, true]) {
    for (const kind of ['direct', 'proxy', ...(opt.gateway ? ['gateway'] : []), ...(baseWd ? ['base'] : []), ...(floorWd ? ['floor'] : [])]) {
      const agent = new http.Agent({ keepAlive: false });
      const r = await once(agent, makeTarget(kind, ctx), bodyFor(kind, stream, 'smoke'));
      if (!r.ok) fail(`smoke ${kind} ${stream ? 'stream' : 'non-stream'} → ${r.status} ${r.err}`);
      if (kind === 'proxy' && r.overhead === null) fail('proxy answer has no x-ratelimit-overhead-ms header');
    }
  }

  if (opt.waitIdle > 0) {
    // wait (bounded) until other processes use < 0.3 cores over 2 s
    const deadline = Date.now() + opt.waitIdle * 1000;
    for (;;) {
      const m0 = machineCpuMs();
      const o0 = ownCpuMs();
      await sleep(2000);
      const m1 = machineCpuMs();
      const others = m0 && m1 ? (m1.busy - m0.busy - (ownCpuMs() - o0)) / 2000 : 0;
      if (others < 0.3) break;
      if (Date.now() >= deadline) {
        console.error(`machine still busy (${others.toFixed(2)} cores used by others); measuring anyway`);
        break;
      }
      console.error(`waiting for the machine to go quiet (${others.toFixed(2)} cores used by others)`);
    }
  }

  const runTag = Math.random().toString(16).slice(2, 8);
  const identity = {
    none: () => undefined,
    one: () => `bench-one-${runTag}`,
    pool: (i) => `bench-pool-${runTag}-${i % opt.pool}`,
    fresh: (i, label) => `bench-fresh-${runTag}-${label}-${i}`,
  };

  // Scenarios. c=1 for latency (n1 requests), c=16 for throughput (n16).
  const scenarios = [];
  for (const stream of [false, true]) {
    for (const [c, n] of [
      [1, opt.n1],
      [16, opt.n16],
    ]) {
      scenarios.push({ kind: 'direct', ids: 'none', stream, c, n });
      if (opt.gateway) scenarios.push({ kind: 'gateway', ids: 'none', stream, c, n });
      scenarios.push({ kind: 'proxy', ids: 'one', stream, c, n });
      scenarios.push({ kind: 'proxy', ids: 'pool', stream, c, n });
      // every request creates a Durable Object: slow, so fewer of them at c=16
      scenarios.push({ kind: 'proxy', ids: 'fresh', stream, c, n: c === 1 ? n : Math.min(n, Math.max(opt.n1, 100)) });
    }
  }
  // The Responses API next to the chat drop-in, each against its own direct baseline.
  for (const stream of [false, true]) {
    for (const [c, n] of [
      [1, opt.n1],
      [16, opt.n16],
    ]) {
      scenarios.push({ kind: 'direct-responses', ids: 'none', stream, c, n });
      scenarios.push({ kind: 'dropin', ids: 'one', stream, c, n });
      scenarios.push({ kind: 'responses', ids: 'one', stream, c, n });
    }
  }
  // Throughput at concurrency 64 (JSON): direct, the gateway, the proxy on one identity and on the pool.
  scenarios.push({ kind: 'direct', ids: 'none', stream: false, c: 64, n: opt.n64 });
  if (opt.gateway) scenarios.push({ kind: 'gateway', ids: 'none', stream: false, c: 64, n: opt.n64 });
  scenarios.push({ kind: 'proxy', ids: 'one', stream: false, c: 64, n: opt.n64 });
  scenarios.push({ kind: 'proxy', ids: 'pool', stream: false, c: 64, n: opt.n64 });

  if (baseWd) {
    for (let i = scenarios.length - 1; i >= 0; i--) {
      if (scenarios[i].kind === 'proxy') scenarios.splice(i + 1, 0, { ...scenarios[i], kind: 'base' });
    }
  }
  // The floor next to every proxy row.
  if (floorWd) {
    for (let i = scenarios.length - 1; i >= 0; i--) {
      if (scenarios[i].kind === 'proxy') scenarios.splice(i + 1, 0, { ...scenarios[i], kind: 'floor' });
    }
  }
  // Warm the pool's objects once so "pool" is steady state over many objects.
  if (scenarios.some((x) => x.ids === 'pool' && (!opt.only || opt.only.test(`proxy-pool-${x.stream ? 'stream' : 'json'}-c${x.c}`)))) {
    for (const kind of ['proxy', ...(baseWd ? ['base'] : []), ...(floorWd ? ['floor'] : [])]) {
      const target = makeTarget(kind, ctx);
      const warm = await load({ target, stream: false, kind, c: 8, n: opt.pool, identityOf: (i) => identity.pool(i) });
      const bad = warm.results.filter((r) => !r.ok);
      if (bad.length) fail(`pool warm-up (${kind}): ${bad.length} errors, first: ${bad[0].status} ${bad[0].err}`);
    }
  }

  const profiler = opt.profile ? await openProfiler(inspectorPort()) : null;
  const rows = [];
  for (const s of scenarios) {
    const label = `${s.kind}${s.ids !== 'none' ? `-${s.ids}` : ''}-${s.stream ? 'stream' : 'json'}-c${s.c}`;
    if (opt.only && !opt.only.test(label.replace(/^(base|floor)-/, 'proxy-'))) continue;
    const target = makeTarget(s.kind, ctx);
    const idOf = s.ids === 'fresh' ? (i) => identity.fresh(i, `${label}-w`) : identity[s.ids];
    // warm-up: JIT, sockets, caches (project cache, the "one" object)
    await load({ target, stream: s.stream, kind: s.kind, c: s.c, n: Math.max(50, Math.min(200, Math.floor(s.n / 10))), identityOf: idOf });
    const cpuPid = s.kind.startsWith('direct') ? mockChild?.pid : ({ gateway: opt.gatewayPid, base: baseWd?.pid, floor: floorWd?.pid }[s.kind] ?? wd.pid);
    const profiled = profiler && ['proxy', 'dropin', 'responses'].includes(s.kind);
    if (profiled) await profiler.start();
    const run = await load({
      target,
      stream: s.stream,
      kind: s.kind,
      c: s.c,
      n: s.n,
      identityOf: s.ids === 'fresh' ? (i) => identity.fresh(i, label) : identity[s.ids],
      cpuPid,
    });
    const sum = summarize(run);
    if (profiled) console.error(saveProfile(opt.profile, label, await profiler.stop(), { requests: sum.n }));
    rows.push({ ...s, label, ...sum });
    console.error(
      `${label.padEnd(28)} n=${sum.n} err=${sum.errors} p50=${sum.p50.toFixed(2)} p99=${sum.p99.toFixed(2)} ms ${sum.rps.toFixed(0)} req/s` +
        (sum.firstError ? `  first error: ${sum.firstError}` : ''),
    );
  }

  profiler?.close();
  const md = report(rows, { workerdVersion, mockUrl });
  console.log(md);
  fs.writeFileSync(path.join(BENCH, 'results.md'), md);
  console.error('wrote bench/results.md');
}

// ---------------------------------------------------------------- report
const f2 = (v) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(2));
const f0 = (v) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(0));
const sign = (v) => (Number.isNaN(v) ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(2)}`);

function idsLabel(r) {
  if (r.kind === 'gateway') return `${opt.gatewayName} (${opt.gateway})`;
  if (r.kind === 'base') return `baseline: ${idsLabel({ ...r, kind: 'proxy' })}`;
  if (r.kind === 'floor') return `floor: ${idsLabel({ ...r, kind: 'proxy' }).replace(/^proxy, /, '')}`;
  if (r.kind === 'direct-responses') return 'direct to mock /responses';
  if (r.kind === 'dropin') return 'proxy /v1/chat/completions, 1 identity';
  if (r.kind === 'responses') return 'proxy /v1/responses, 1 identity';
  return r.kind === 'direct' ? 'direct to mock' : { one: 'proxy, 1 identity', pool: `proxy, ${opt.pool} identities (warm)`, fresh: 'proxy, new identity each request' }[r.ids];
}

function report(rows, { workerdVersion, mockUrl }) {
  const cpus = os.cpus();
  const L = [];
  L.push('# Hot-path benchmark results', '');
  L.push(`- date: ${new Date().toISOString()}`);
  L.push(`- command: \`${COMMAND}\``);
  L.push(`- machine: ${os.availableParallelism ? os.availableParallelism() : cpus.length} CPUs (nproc), ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}`);
  L.push(`- runtime: workerd ${workerdVersion.replace(/^workerd\s*/, '')} (bare, bench/workerd.capnp), Node ${process.version} load generator (node:http keep-alive), mock provider ${opt.mockUrl ? mockUrl : 'own process'}; all on loopback on the same machine`);
  L.push(`- machine load: 1/5/15-min load average ${LOAD_START.map((v) => v.toFixed(2)).join(' / ')} at start, ${os.loadavg().map((v) => v.toFixed(2)).join(' / ')} at end`);
  L.push(`- requests: ${opt.n1} at concurrency 1, ${opt.n16} at concurrency 16, ${opt.n64} at concurrency 64 per row (fewer for new-identity rows at c=16, see n), after a warm-up; model \`${MODEL}\` (4 content chunks, ~70 B JSON / ~1 KB SSE)`);
  L.push('');
  L.push('## All runs', '');
  L.push('Latency is client-side, request sent → last body byte, over successful requests. `CPU ms/req` is workerd\'s user+sys CPU time over the run divided by requests (the mock\'s for direct rows): it includes the Durable Object and the `waitUntil` settle, and is the figure least disturbed by other load. `other load` is the CPU used by processes other than the benchmark\'s own (this Node, workerd, the mock) during the run, in cores out of nproc: above ~0.3 the latencies of that row are noisy.', '');
  L.push('| path | body | c | n | errors | p50 ms | p90 ms | p99 ms | max ms | TTFB p50 ms | req/s | CPU ms/req | other load |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    L.push(`| ${idsLabel(r)} | ${r.stream ? 'stream' : 'json'} | ${r.c} | ${r.n} | ${r.errors} | ${f2(r.p50)} | ${f2(r.p90)} | ${f2(r.p99)} | ${f2(r.max)} | ${f2(r.ttfb50)} | ${f0(r.rps)} | ${f2(r.cpuPerReq)} | ${f2(r.others)} |`);
  }
  L.push('');
  L.push('## Added latency and throughput (proxy − direct)', '');
  L.push('Difference of percentiles (proxy pX − direct pX) for the same body type and concurrency; throughput as a share of direct.', '');
  L.push('| path | body | added p50 ms (c=1) | added p99 ms (c=1) | req/s c=16 | vs direct | added p50 ms (c=16) |');
  L.push('|---|---|---:|---:|---:|---:|---:|');
  for (const stream of [false, true]) {
    if (!rows.some((r) => r.kind === 'direct' && r.stream === stream && r.c === 16)) continue;
    const d1 = rows.find((r) => r.kind === 'direct' && r.stream === stream && r.c === 1);
    const d16 = rows.find((r) => r.kind === 'direct' && r.stream === stream && r.c === 16);
    for (const ids of ['one', 'pool', 'fresh']) {
      const p1 = rows.find((r) => r.kind === 'proxy' && r.ids === ids && r.stream === stream && r.c === 1);
      const p16 = rows.find((r) => r.kind === 'proxy' && r.ids === ids && r.stream === stream && r.c === 16);
      if (!p1 || !p16 || !d1 || !d16) continue;
      L.push(`| ${idsLabel(p1)} | ${stream ? 'stream' : 'json'} | ${sign(p1.p50 - d1.p50)} | ${sign(p1.p99 - d1.p99)} | ${f0(p16.rps)} | ${((p16.rps / d16.rps) * 100).toFixed(0)}% | ${sign(p16.p50 - d16.p50)} |`);
    }
  }
  // A row left out by --only reads as not measured.
  const MISSING = { p50: NaN, p99: NaN, rps: NaN, ttfb50: NaN, cpuPerReq: null };
  const find = (kind, ids, stream, c) => rows.find((r) => r.kind === kind && r.ids === ids && r.stream === stream && r.c === c) || MISSING;
  const d64 = find('direct', 'none', false, 64);
  const p64 = find('proxy', 'one', false, 64);
  const pool64 = find('proxy', 'pool', false, 64);
  L.push('');
  L.push('## Throughput at concurrency 64 (JSON)', '');
  L.push('| path | req/s | p50 ms | p99 ms | CPU ms/req | errors |');
  L.push('|---|---:|---:|---:|---:|---:|');
  for (const r of rows.filter((x) => x.c === 64)) L.push(`| ${idsLabel(r)} | ${f0(r.rps)} | ${f2(r.p50)} | ${f2(r.p99)} | ${f2(r.cpuPerReq)} | ${r.errors} |`);
  const p1 = find('proxy', 'one', false, 1);
  const d1 = find('direct', 'none', false, 1);
  const fresh1 = find('proxy', 'fresh', false, 1);
  const pool1 = find('proxy', 'pool', false, 1);
  /** The row of `kind` measured with the same shape as proxy row `r`. */
  const twin = (r, kind) => rows.find((x) => x.kind === kind && x.ids === (kind === 'direct' ? 'none' : r.ids) && x.stream === r.stream && x.c === r.c);
  if (rows.some((r) => r.kind === 'base')) {
    L.push('', '## This build against the baseline build, row by row (same run, interleaved)', '');
    L.push(`Baseline: \`${opt.baselineBuild}\`. Added = proxy pX − direct pX of the same body and concurrency.`, '');
    L.push('| path | body | c | added p50 ms (baseline → this) | added p99 ms (baseline → this) | req/s (baseline → this) | CPU ms/req (baseline → this) |');
    L.push('|---|---|---:|---:|---:|---:|---:|');
    for (const r of rows.filter((x) => x.kind === 'proxy')) {
      const [b, d] = [twin(r, 'base'), twin(r, 'direct')];
      if (!b || !d) continue;
      L.push(`| ${idsLabel(r)} | ${r.stream ? 'stream' : 'json'} | ${r.c} | ${sign(b.p50 - d.p50)} → ${sign(r.p50 - d.p50)} | ${sign(b.p99 - d.p99)} → ${sign(r.p99 - d.p99)} | ${f0(b.rps)} → ${f0(r.rps)} | ${f2(b.cpuPerReq)} → ${f2(r.cpuPerReq)} |`);
    }
  }
  if (rows.some((r) => r.kind === 'floor')) {
    L.push('', "## Over the runtime's floor (same run, interleaved)", '');
    L.push('The floor is `bench/floor/worker.js`: a plain JavaScript Worker that makes one call to the identity\'s Durable Object (one SQLite upsert) and streams the provider\'s answer back, with nothing else — what this runtime charges any proxy that counts per identity in a Durable Object. "over the floor" = proxy − floor.', '');
    L.push('| path | body | c | floor added p50 ms | proxy added p50 ms | over the floor p50 ms | over the floor TTFB p50 ms | floor CPU ms/req | proxy CPU ms/req | over the floor CPU | floor req/s | proxy req/s |');
    L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows.filter((x) => x.kind === 'proxy')) {
      const [fl, d] = [twin(r, 'floor'), twin(r, 'direct')];
      if (!fl || !d) continue;
      L.push(`| ${idsLabel(r)} | ${r.stream ? 'stream' : 'json'} | ${r.c} | ${sign(fl.p50 - d.p50)} | ${sign(r.p50 - d.p50)} | ${sign(r.p50 - fl.p50)} | ${sign(r.ttfb50 - fl.ttfb50)} | ${f2(fl.cpuPerReq)} | ${f2(r.cpuPerReq)} | ${sign(r.cpuPerReq - fl.cpuPerReq)} | ${f0(fl.rps)} | ${f0(r.rps)} |`);
    }
  }
  L.push('', '## Identities', '');
  L.push('| what | value |', '|---|---:|');
  L.push(`| new identity: added p50 over 1 identity (c=1, JSON) | ${sign(fresh1.p50 - p1.p50)} ms |`);
  L.push(`| ${opt.pool} warm identities vs 1: added p50 (c=1, JSON) | ${sign(pool1.p50 - p1.p50)} ms (${(((pool1.p50 - d1.p50) / (p1.p50 - d1.p50) - 1) * 100).toFixed(0)}% of the added latency) |`);
  L.push(`| ${opt.pool} warm identities vs 1: req/s at c=64 | ${f0(pool64.rps)} vs ${f0(p64.rps)} (${((pool64.rps / p64.rps - 1) * 100).toFixed(0)}%) |`);
  if (opt.gateway) {
    const g1 = find('gateway', 'none', false, 1);
    const g64 = find('gateway', 'none', false, 64);
    const gs1 = find('gateway', 'none', true, 1);
    const ps1 = find('proxy', 'one', true, 1);
    const ds1 = find('direct', 'none', true, 1);
    L.push('', `## Against ${opt.gatewayName}, same run`, '');
    L.push('| target | ours | theirs | ratio |', '|---|---:|---:|---:|');
    L.push(`| added p50 ms, c=1 (JSON) | ${sign(p1.p50 - d1.p50)} | ${sign(g1.p50 - d1.p50)} | ${((p1.p50 - d1.p50) / (g1.p50 - d1.p50)).toFixed(2)}× |`);
    L.push(`| added p99 ms, c=1 (JSON) | ${sign(p1.p99 - d1.p99)} | ${sign(g1.p99 - d1.p99)} | ${((p1.p99 - d1.p99) / (g1.p99 - d1.p99)).toFixed(2)}× |`);
    L.push(`| req/s, c=64 | ${f0(p64.rps)} | ${f0(g64.rps)} | ${(p64.rps / g64.rps).toFixed(2)}× |`);
    L.push(`| CPU ms/req, c=64 | ${f2(p64.cpuPerReq)} | ${f2(g64.cpuPerReq)} | ${g64.cpuPerReq ? (p64.cpuPerReq / g64.cpuPerReq).toFixed(2) + '×' : '–'} |`);
    L.push(`| added stream TTFB p50 ms, c=1 | ${sign(ps1.ttfb50 - ds1.ttfb50)} | ${sign(gs1.ttfb50 - ds1.ttfb50)} | – |`);
  }
  if (rows.some((r) => r.kind === 'responses')) {
    L.push('', '## /v1/responses against /v1/chat/completions', '');
    L.push('Each proxy route against calling the mock\'s same API directly (chat completions for the chat drop-in, `/responses` for the Responses route, which an OpenAI project forwards natively), one identity, same run. "difference" is the Responses route\'s added latency minus the chat route\'s.', '');
    L.push('| body | c | chat added p50 | responses added p50 | difference p50 | chat added p99 | responses added p99 | chat CPU ms/req | responses CPU ms/req | chat req/s | responses req/s |');
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const stream of [false, true]) {
      for (const c of [1, 16]) {
        const dc = find('direct', 'none', stream, c);
        const dr = find('direct-responses', 'none', stream, c);
        const pc = find('dropin', 'one', stream, c);
        const pr = find('responses', 'one', stream, c);
        if (pr === MISSING) continue;
        const ac = pc.p50 - dc.p50;
        const ar = pr.p50 - dr.p50;
        L.push(`| ${stream ? 'stream' : 'json'} | ${c} | ${sign(ac)} | ${sign(ar)} | ${sign(ar - ac)} | ${sign(pc.p99 - dc.p99)} | ${sign(pr.p99 - dr.p99)} | ${f2(pc.cpuPerReq)} | ${f2(pr.cpuPerReq)} | ${f0(pc.rps)} | ${f0(pr.rps)} |`);
      }
    }
  }
  L.push('');
  L.push('## `x-ratelimit-overhead-ms` (as reported by the Worker)', '');
  L.push('Integer milliseconds from the Worker\'s clock, which in workerd only advances across I/O: it is the time spent waiting on Postgres/the Durable Object before forwarding, not CPU.', '');
  L.push('| path | body | c | n | mean | p50 | p90 | p99 | max |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows.filter((x) => PROXY_KINDS.has(x.kind) && x.kind !== 'floor')) {
    const o = r.overhead;
    L.push(o ? `| ${idsLabel(r)} | ${r.stream ? 'stream' : 'json'} | ${r.c} | ${o.n} | ${f2(o.mean)} | ${o.p50} | ${o.p90} | ${o.p99} | ${o.max} |` : `| ${idsLabel(r)} | ${r.stream ? 'stream' : 'json'} | ${r.c} | 0 | – | – | – | – | – |`);
  }
  const errs = rows.filter((r) => r.errors);
  if (errs.length) {
    L.push('', '## Errors', '');
    for (const r of errs) L.push(`- ${r.label}: ${r.errors} errors; first: \`${(r.firstError || '').replace(/`/g, "'")}\``);
  }
  L.push('');
  return L.join('\n');
}

main()
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (e) => {
    console.error(e.benchFatal ? `bench: ${e.message}` : e);
    const wd = children.find((c) => c.name === 'workerd');
    if (wd && !e.benchFatal) console.error(`--- workerd log tail ---\n${tail(wd.logFile)}`);
    await cleanup();
    process.exit(1);
  });
