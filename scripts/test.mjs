#!/usr/bin/env node
// `npm test`: every test of the repository, stage by stage, with a summary.
//
//   npm test                                  all stages
//   npm test -- --only=rust,integration       some stages
//   npm test -- --skip=pack                   all but some
//
// Stages: rust, mock, api-doc, sdk, dashboard, stack, integration, sdk-integration, e2e, pack.
// A stage whose folder does not exist (yet) is reported as skipped. The stack
// is started if it is not running, and then stopped again at the end (only the
// services this run started); a stack that was already running is left alone.
// The last line is always `N passed, M failed`; the exit code is non-zero on
// any failure.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as stack from './stack.mjs';

const { ROOT } = stack;
const ALL = ['rust', 'mock', 'api-doc', 'sdk', 'dashboard', 'stack', 'integration', 'sdk-integration', 'e2e', 'pack'];
const NEEDS_STACK = new Set(['integration', 'sdk-integration', 'e2e']);

function parseArgs(argv) {
  let only = null;
  let skip = [];
  for (const a of argv) {
    const m = /^--(only|skip)=(.*)$/.exec(a);
    if (!m) {
      console.error(`unknown argument ${a} (use --only=a,b or --skip=a,b; stages: ${ALL.join(', ')})`);
      process.exit(2);
    }
    const names = m[2].split(',').map((s) => s.trim()).filter(Boolean);
    for (const n of names) {
      if (!ALL.includes(n)) {
        console.error(`unknown stage ${n}; stages: ${ALL.join(', ')}`);
        process.exit(2);
      }
    }
    if (m[1] === 'only') only = names;
    else skip = names;
  }
  let selected = ALL.filter((s) => (!only || only.includes(s)) && !skip.includes(s));
  // The stack is a means, not a goal: bring it up whenever a stage needs it.
  if (selected.some((s) => NEEDS_STACK.has(s)) && !selected.includes('stack')) selected = [...selected, 'stack'];
  return new Set(selected);
}

const exists = (p) => fs.existsSync(path.join(ROOT, p));

/** Test files under a folder (`*.test.mjs`/`*.test.js`, recursively, no node_modules), sorted. */
function testFiles(dir) {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { recursive: true })
    .map(String)
    .filter((f) => /\.test\.m?js$/.test(f) && !f.split(path.sep).includes('node_modules'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Run a command, streaming its output, and keep the text for counting. */
function runStreaming(cmd, args, { env } = {}) {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    child.on('error', (e) => resolve({ code: 127, out: `${out}\n${e.message}` }));
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), out }));
  });
}

/** Counts from node:test output: TAP (`# pass 3`) or spec (`ℹ pass 3`). */
export function countNodeTest(out) {
  let passed = 0;
  let failed = 0;
  for (const m of out.matchAll(/^\s*(?:#|ℹ) (pass|fail) (\d+)\s*$/gm)) {
    if (m[1] === 'pass') passed += Number(m[2]);
    else failed += Number(m[2]);
  }
  return { passed, failed };
}

/** Counts from Vitest output: its `Tests  N passed | M failed` line. */
export function countVitest(out) {
  const line = /^\s*Tests\s+(.*)$/m.exec(out.replace(/\x1b\[[0-9;]*m/g, ''));
  const n = (word) => Number((line && new RegExp(`(\\d+) ${word}`).exec(line[1])?.[1]) || 0);
  return { passed: n('passed'), failed: n('failed') };
}

/** Counts from cargo test output: its `test result:` lines. */
export function countCargo(out) {
  let passed = 0;
  let failed = 0;
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  return { passed, failed };
}

/** A failing command with no failing test counted is still one failure. */
function result(r, counts) {
  const failed = r.code !== 0 && counts.failed === 0 ? 1 : counts.failed;
  return { ...counts, failed, ok: r.code === 0 && failed === 0 };
}

/**
 * The browser the e2e stage drives: `AIRL_CHROMIUM` or Debian's `chromium`.
 * When it is missing and this runs as root with apt, it is installed (about
 * a minute, once); otherwise the stage fails saying what to install.
 */
async function ensureChromium() {
  const binary = process.env.AIRL_CHROMIUM || '/usr/bin/chromium';
  if (fs.existsSync(binary)) return { ok: true };
  const canInstall = process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get') && !process.env.AIRL_CHROMIUM;
  if (canInstall) {
    console.log(`${binary} is missing: installing Debian's chromium for the browser tests (apt-get, about a minute, once)`);
    let r = await runStreaming('apt-get', ['install', '-y', 'chromium']);
    if (r.code !== 0) {
      await runStreaming('apt-get', ['update']);
      r = await runStreaming('apt-get', ['install', '-y', 'chromium']);
    }
    if (fs.existsSync(binary)) return { ok: true };
  }
  console.error(`the browser tests need Chromium at ${binary}: install it (apt-get install -y chromium) or set AIRL_CHROMIUM to a Chromium binary`);
  return { ok: false };
}

const node = process.execPath;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

async function sdkProjectKey() {
  const base = stack.WORKER_URL;
  const call = async (p, body, token) => {
    const res = await fetch(`${base}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    if (!res.ok) throw new Error(`POST ${p} → ${res.status} ${text.slice(0, 300)}`);
    return json;
  };
  const email = `sdk-it-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const link = await call('/api/auth/magic-link', { email });
  const token = link?.devLink && new URL(link.devLink, base).searchParams.get('token');
  if (!token) throw new Error(`magic-link answer has no devLink with token= (${JSON.stringify(link)})`);
  const { accessToken } = await call('/api/auth/verify', { token });
  const project = await call(
    '/api/projects',
    {
      name: 'sdk-it',
      provider: 'openai',
      baseUrl: `${stack.MOCK_URL}/openai/v1`,
      providerApiKey: 'sk-mock-1234',
      defaultTier: 'free',
      tiers: {
        free: { requests: { limit: 3, period: 'day' }, limitMessage: { message: 'Upgrade now', deepLink: 'myapp://upgrade' } },
        pro: { requests: { limit: 1000, period: 'day' } },
      },
    },
    accessToken,
  );
  await call(
    `/api/projects/${project.id}/rules`,
    {
      name: 'half',
      enabled: true,
      priority: 1,
      condition: {
        type: 'all',
        conditions: [
          { type: 'tier', tiers: ['free'] },
          { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: 50 },
        ],
      },
      action: { type: 'warn', message: 'Half used', deepLink: 'myapp://half' },
    },
    accessToken,
  );
  if (!project.projectKey) throw new Error(`project answer has no projectKey (${JSON.stringify(project)})`);
  return project.projectKey;
}

function integrationEnv() {
  return {
    AIRL_BASE_URL: stack.WORKER_URL,
    AIRL_MOCK_URL: stack.MOCK_URL,
    DATABASE_URL: stack.databaseUrl(),
    AIRL_STACK: `${JSON.stringify(node)} ${JSON.stringify(path.join(ROOT, 'scripts', 'stack.mjs'))}`,
    AIRL_DO_STATE_DIR: path.join(ROOT, '.wrangler', 'state', 'v3', 'do'),
    AIRL_WORKER_LOG: path.join(stack.LOG_DIR, 'worker.log'),
    // The deadlines the running Worker uses, when this run shortened them.
    ...Object.fromEntries(Object.entries(stack.workerVarOverrides()).map(([k, v]) => [`AIRL_${k}`, String(v)])),
  };
}

const STAGES = {
  rust: {
    title: 'Rust (cargo test --workspace, native)',
    present: () => exists('Cargo.toml'),
    async run() {
      const r = await runStreaming('cargo', ['test', '--workspace', '--color', 'never']);
      return result(r, countCargo(r.out));
    },
  },
  mock: {
    title: 'mock provider unit tests (mock-provider/**/*.test.mjs)',
    present: () => testFiles('mock-provider').length > 0,
    async run() {
      const r = await runStreaming(node, ['--test', '--test-reporter=spec', ...testFiles('mock-provider')]);
      return result(r, countNodeTest(r.out));
    },
  },
  'api-doc': {
    title: 'API document: the answer checker and docs/openapi.yaml (tests/api-doc)',
    present: () => testFiles('tests/api-doc').length > 0,
    async run() {
      const r = await runStreaming(node, ['--test', '--test-reporter=spec', ...testFiles('tests/api-doc')]);
      return result(r, countNodeTest(r.out));
    },
  },
  sdk: {
    title: 'SDK unit tests + typecheck (sdk-js)',
    present: () => exists('sdk-js/package.json'),
    async run() {
      const t = await runStreaming(npm, ['test', '-w', 'sdk-js']);
      const counts = countNodeTest(t.out);
      const tc = await runStreaming(npm, ['run', 'typecheck', '-w', 'sdk-js']);
      const r = result(t, counts);
      if (tc.code === 0) r.passed += 1; // the typecheck counts as one check
      else {
        r.failed += 1;
        r.ok = false;
      }
      return r;
    },
  },
  stack: {
    title: 'local stack up (postgres, mock, wrangler dev)',
    present: () => true,
    async run(ctx) {
      ctx.before = new Set(stack.runningServices());
      // A stack this run starts gets short deadlines, so the 504 test and the
      // lease-expiry test (a Worker that dies mid-request) run in seconds.
      if (!ctx.before.has('worker')) {
        process.env.AIRL_PROVIDER_TIMEOUT_MS ||= '3000';
        process.env.AIRL_LEASE_GRACE_MS ||= '2000';
        // Lets tests/integration/faults-limiter.test.mjs inject a limiter fault (never in production).
        process.env.AIRL_FAULT_INJECTION ||= '1';
        // Webhook retries 200 ms apart, doubling to 800 ms (production: 30 s to 2 h),
        // so tests/integration/webhooks.test.mjs sees retries and the dead letter.
        process.env.AIRL_WEBHOOK_RETRY_BASE_MS ||= '200';
      }
      await stack.start();
      ctx.stackUp = true;
      return { passed: 0, failed: 0, ok: true, note: ctx.before.has('worker') ? 'reused the running stack' : 'started' };
    },
  },
  integration: {
    title: 'proxy integration tests (tests/integration)',
    present: () => testFiles('tests/integration').length > 0,
    async run() {
      const files = testFiles('tests/integration');
      const r = await runStreaming(node, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { env: integrationEnv() });
      return result(r, countNodeTest(r.out));
    },
  },
  'sdk-integration': {
    title: 'SDK integration tests (against the stack)',
    present: () => exists('sdk-js/package.json'),
    async run() {
      let key;
      try {
        key = await sdkProjectKey();
      } catch (e) {
        console.error(`could not create the SDK test project: ${e.message}`);
        return { passed: 0, failed: 1, ok: false, note: 'project setup failed' };
      }
      const r = await runStreaming(npm, ['run', 'test:integration', '-w', 'sdk-js'], {
        env: { AIRL_BASE_URL: stack.WORKER_URL, AIRL_PROJECT_KEY: key, AIRL_MOCK_URL: stack.MOCK_URL },
      });
      return result(r, countNodeTest(r.out));
    },
  },
  dashboard: {
    title: 'dashboard unit tests (Vitest) + vue-tsc',
    present: () => exists('dashboard/package.json'),
    async run() {
      const t = await runStreaming(npm, ['test', '-w', 'dashboard', '--', '--reporter=verbose']);
      const r = result(t, countVitest(t.out));
      const tc = await runStreaming(npm, ['run', 'typecheck', '-w', 'dashboard']);
      if (tc.code === 0) r.passed += 1; // the typecheck counts as one check
      else {
        r.failed += 1;
        r.ok = false;
      }
      return r;
    },
  },
  e2e: {
    title: 'dashboard end-to-end in Chromium (tests/e2e, against the stack)',
    present: () => testFiles('tests/e2e').length > 0,
    async run() {
      const browser = await ensureChromium();
      if (!browser.ok) return { passed: 0, failed: 1, ok: false };
      const r = await runStreaming(node, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...testFiles('tests/e2e')], {
        env: { ...integrationEnv(), AIRL_DASHBOARD_URL: stack.DASHBOARD_URL },
      });
      return result(r, countNodeTest(r.out));
    },
  },
  pack: {
    title: 'SDK package smoke test (npm pack + install)',
    present: () => exists('sdk-js/package.json'),
    async run() {
      const r = await runStreaming(npm, ['run', 'test:pack', '-w', 'sdk-js']);
      const counts = countNodeTest(r.out);
      // A plain script (not node:test): its success is one passed check.
      if (r.code === 0 && counts.passed + counts.failed === 0) counts.passed = 1;
      return result(r, counts);
    },
  },
};

async function main() {
  const selected = parseArgs(process.argv.slice(2));
  const ctx = { stackUp: false, before: null };
  const rows = [];
  let interrupted = false;
  const cleanup = async () => {
    if (ctx.before && !ctx.before.has('worker')) {
      console.log('\n── stopping the services this run started');
      const started = ['dashboard', 'worker', 'mock', 'postgres'].filter((n) => !ctx.before.has(n));
      await stack.stop({ only: started }).catch((e) => console.error(`stop failed: ${e.message}`));
    }
  };
  process.on('SIGINT', () => {
    interrupted = true;
    cleanup().finally(() => process.exit(130));
  });
  try {
    for (const name of ALL) {
      if (interrupted) break;
      const st = STAGES[name];
      if (!selected.has(name)) continue;
      if (!st.present()) {
        rows.push({ name, status: 'skipped', passed: 0, failed: 0, ms: 0, note: 'folder not there yet' });
        continue;
      }
      if (NEEDS_STACK.has(name) && !ctx.stackUp) {
        rows.push({ name, status: 'skipped', passed: 0, failed: 0, ms: 0, note: 'stack is not up' });
        continue;
      }
      console.log(`\n══ ${name}: ${st.title}`);
      const t0 = Date.now();
      let r;
      try {
        r = await st.run(ctx);
      } catch (e) {
        console.error(`stage ${name} failed: ${e.message}`);
        r = { passed: 0, failed: 1, ok: false, note: e.message.slice(0, 60) };
      }
      rows.push({ name, status: r.ok ? 'ok' : 'FAILED', passed: r.passed, failed: r.failed, ms: Date.now() - t0, note: r.note || '' });
    }
  } finally {
    await cleanup();
  }

  const pass = rows.reduce((a, r) => a + r.passed, 0);
  const fail = rows.reduce((a, r) => a + r.failed, 0);
  console.log('\n── summary');
  console.log(`${'stage'.padEnd(16)} ${'status'.padEnd(8)} ${'passed'.padStart(6)} ${'failed'.padStart(6)} ${'time'.padStart(8)}  note`);
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(16)} ${r.status.padEnd(8)} ${String(r.passed).padStart(6)} ${String(r.failed).padStart(6)} ${`${(r.ms / 1000).toFixed(1)}s`.padStart(8)}  ${r.note}`,
    );
  }
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail > 0 || rows.some((r) => r.status === 'FAILED') ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
