// Shared helpers for the integration tests. They talk HTTP to the running
// stack (`npm test` starts it and sets the variables below; or run
// `npm start` and then `node --test tests/integration/`).
//
//   AIRL_BASE_URL     the Worker            (default http://127.0.0.1:3000)
//   AIRL_MOCK_URL     the mock provider     (default http://127.0.0.1:3100)
//   DATABASE_URL      Postgres, for assertions on stored rows
//   AIRL_STACK        command that runs scripts/stack.mjs (for restart-worker)

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertExchange } from '../api-doc/validator.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const BASE = (process.env.AIRL_BASE_URL || 'http://127.0.0.1:3000').replace(/\/$/, '');
export const MOCK = (process.env.AIRL_MOCK_URL || 'http://127.0.0.1:3100').replace(/\/$/, '');
export const DATABASE_URL =
  process.env.DATABASE_URL || 'postgres://postgres:postgres@127.0.0.1:54329/ai_ratelimit';
export const STACK = process.env.AIRL_STACK || `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(ROOT, 'scripts', 'stack.mjs'))}`;

/** A unique id for names, identities and emails: `prefix-<time>-<random>`. */
export function uniqueId(prefix = 'id') {
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
}

/**
 * Checks an answer of the Worker against docs/openapi.yaml (status, required
 * headers, body schema; the request body too when the server accepted a JSON
 * object) and throws a readable error on a mismatch. Calls to other hosts
 * (the mock provider) are not checked.
 */
export function checkAnswer({ method = 'GET', url, requestBody, status, headers, text, partial = false }) {
  const full = /^https?:\/\//.test(url) ? url : `${BASE}${url}`;
  if (!full.startsWith(`${BASE}/`)) return;
  const r = assertExchange({ method, url: full, requestBody, status, headers, text, partial });
  // AIRL_API_DOC_LOG=<file>: one line per checked answer, to see which
  // documented answers the tests exercise.
  if (process.env.AIRL_API_DOC_LOG && r.checked) fs.appendFileSync(process.env.AIRL_API_DOC_LOG, `${r.operation}\t${status}\n`);
}

const pendingChecks = [];

/**
 * A `fetch` for clients under test (the OpenAI SDK): it returns the answer
 * untouched and checks a copy of it against docs/openapi.yaml in the
 * background; `assertFetchedAnswersMatch()` (in an `after` hook) reports
 * every mismatch.
 */
export async function checkedFetch(input, init = {}) {
  const res = await fetch(input, init);
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const method = init.method || (typeof input === 'object' && !(input instanceof URL) ? input.method : 'GET') || 'GET';
  let requestBody;
  if (typeof init.body === 'string') {
    try {
      requestBody = JSON.parse(init.body);
    } catch {
      requestBody = undefined;
    }
  }
  const copy = res.clone();
  pendingChecks.push(
    copy.text().then(
      (text) => {
        try {
          checkAnswer({ method, url, requestBody, status: res.status, headers: res.headers, text });
          return null;
        } catch (e) {
          return e.message;
        }
      },
      () => null, // the client aborted: a partial body is not checked
    ),
  );
  return res;
}

/** Waits for the background checks of `checkedFetch` and throws if any answer disagreed with the document. */
export async function assertFetchedAnswersMatch() {
  const problems = (await Promise.all(pendingChecks.splice(0))).filter(Boolean);
  if (problems.length) throw new Error(problems.join('\n\n'));
}

/**
 * Call the Worker (or any absolute URL). `body` objects are sent as JSON;
 * strings and buffers as they are. Never throws on an HTTP status, but every
 * answer of the Worker is checked against docs/openapi.yaml (`validate: false`
 * opts out, for the rare test that needs a non-conforming exchange).
 * @returns {Promise<{status:number, headers:Headers, body:any, text:string}>}
 */
export async function api(p, { method, body, token, headers = {}, timeoutMs = 30000, validate = true } = {}) {
  const url = /^https?:\/\//.test(p) ? p : `${BASE}${p}`;
  const h = { ...headers };
  let payload = body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    payload = JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  }
  if (token) h.authorization = `Bearer ${token}`;
  const verb = method || (body === undefined ? 'GET' : 'POST');
  const res = await fetch(url, {
    method: verb,
    headers: h,
    body: payload,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (validate) checkAnswer({ method: verb, url, requestBody: body, status: res.status, headers: res.headers, text });
  let parsed = text;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Magic-link login (development: the answer carries `devLink`) → accessToken. */
export async function login(email = `${uniqueId('owner')}@example.com`) {
  const link = await api('/api/auth/magic-link', { body: { email } });
  if (link.status !== 202 && link.status !== 200) throw new Error(`magic-link → ${link.status} ${link.text}`);
  const devLink = link.body?.devLink;
  if (!devLink) throw new Error(`magic-link answer has no devLink (ENVIRONMENT must be development): ${link.text}`);
  const token = new URL(devLink, BASE).searchParams.get('token');
  const verified = await api('/api/auth/verify', { body: { token } });
  if (verified.status !== 200) throw new Error(`verify → ${verified.status} ${verified.text}`);
  return verified.body.accessToken;
}

/** Project defaults: OpenAI-compatible, pointed at the mock, free 3/day + pro 1000/day. */
export function projectDefaults() {
  return {
    name: uniqueId('proj'),
    provider: 'openai',
    baseUrl: `${MOCK}/openai/v1`,
    providerApiKey: 'sk-mock-1234',
    defaultTier: 'free',
    tiers: {
      free: { requests: { limit: 3, period: 'day' }, limitMessage: { message: 'Upgrade now', deepLink: 'myapp://upgrade' } },
      pro: { requests: { limit: 1000, period: 'day' } },
    },
  };
}

/** Create a project (201) and return its answer (`id`, `projectKey`, `secretKey`, …). */
export async function createProject(token, overrides = {}) {
  const res = await api('/api/projects', { token, body: { ...projectDefaults(), ...overrides } });
  if (res.status !== 201) throw new Error(`create project → ${res.status} ${res.text}`);
  return res.body;
}

/** What the mock received (optionally only for one model), oldest first. */
export async function mockRequests(model) {
  const q = model ? `?model=${encodeURIComponent(model)}` : '';
  const res = await api(`${MOCK}/__mock/requests${q}`);
  if (res.status !== 200) throw new Error(`mock requests → ${res.status} ${res.text}`);
  return Array.isArray(res.body) ? res.body : (res.body?.requests ?? []);
}

/**
 * Poll `fn` until it returns a truthy value (which is returned) or the
 * deadline passes (the last error or value is reported). Never a fixed sleep.
 */
export async function waitFor(fn, { timeoutMs = 10000, intervalMs = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
      lastErr = undefined;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() >= deadline) {
      const why = lastErr ? `last error: ${lastErr.message}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`waitFor(${message}) timed out after ${timeoutMs} ms; ${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

let pool;
/** Run SQL against DATABASE_URL (pooled; closed automatically at exit) → rows. */
export async function sql(query, params = []) {
  if (!pool) {
    const { default: pg } = await import('pg');
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, idleTimeoutMillis: 1000, allowExitOnIdle: true });
    // An idle connection cut by a database restart (tests/integration/faults-*.test.mjs) is not an error of the test.
    pool.on('error', () => {});
  }
  const res = await pool.query(query, params);
  return res.rows;
}

/** Run a `scripts/stack.mjs` subcommand through $AIRL_STACK; resolves with its output. */
export function stackCommand(sub, { timeoutMs = 300000, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(`${STACK} ${sub}`, { shell: true, cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`${sub} timed out after ${timeoutMs} ms\n${out}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`stack ${sub} exited ${code}\n${out}`));
    });
  });
}

/** Stop and start only `wrangler dev` (Durable Object state stays on disk); waits for /healthz. */
export function restartWorker() {
  return stackCommand('restart-worker');
}

// ---------------------------------------------------------------------------
// Proxy helpers (used by tests/integration/proxy-*.test.mjs)

/** A suffix of hex digits only, so that it never contains a mock behaviour word. */
export function hexSuffix(bytes = 5) {
  return `t${crypto.randomBytes(bytes).toString('hex')}`;
}

/** POST a chat request to a proxy route with `x-project-key`; returns api()'s answer. */
export function proxyChat(projectKey, body, { path: p = '/api/v1/proxy/chat', headers = {}, timeoutMs, validate } = {}) {
  return api(p, { body, headers: { 'x-project-key': projectKey, ...headers }, timeoutMs, validate });
}

/** Parse an SSE text into its `data:` payloads (`[DONE]` kept as the string). */
export function sseEvents(text) {
  return text
    .split(/\r?\n\r?\n/)
    .map((block) =>
      block
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((d) => d.length > 0)
    .map((d) => {
      if (d === '[DONE]') return d;
      try {
        return JSON.parse(d);
      } catch {
        return { unparsable: d };
      }
    });
}

/** `GET /api/v1/usage` for an identity (optionally a tier) → the parsed answer (throws unless 200). */
export async function identityUsage(projectKey, identity, { tier, headers = {} } = {}) {
  const q = new URLSearchParams({ identity });
  if (tier) q.set('tier', tier);
  const res = await api(`/api/v1/usage?${q}`, { headers: { 'x-project-key': projectKey, ...headers } });
  if (res.status !== 200) throw new Error(`usage → ${res.status} ${res.text}`);
  return res.body;
}

/** The tier-wide entry of a usage answer for `limitType` (`requests` | `tokens`). */
export function usageEntry(usage, limitType, model = null) {
  return usage.limits.find((l) => l.limitType === limitType && (l.model ?? null) === model);
}

/** An HS256 JWT signed with `secret` (the project's `sk_…` string bytes). */
export function signJwt(claims, secret, header = { alg: 'HS256', typ: 'JWT' }) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64(header)}.${b64(claims)}`;
  const sig = crypto.createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}

/**
 * The headers of docs/API.md ("Limit headers") on a proxied answer: `x-request-id` and
 * `x-ratelimit-overhead-ms` always; the four limit headers when `limits`.
 * Returns a list of problems (empty when all is well).
 */
export function proxyHeaderProblems(res, { limits = true } = {}) {
  const h = (n) => res.headers.get(n);
  const problems = [];
  if (!/^\S+$/.test(h('x-request-id') || '')) problems.push(`x-request-id: ${h('x-request-id')}`);
  if (!/^\d+$/.test(h('x-ratelimit-overhead-ms') || '')) problems.push(`x-ratelimit-overhead-ms: ${h('x-ratelimit-overhead-ms')}`);
  if (limits) {
    if (!/^\d+$/.test(h('x-ratelimit-limit') || '')) problems.push(`x-ratelimit-limit: ${h('x-ratelimit-limit')}`);
    if (!/^\d+$/.test(h('x-ratelimit-remaining') || '')) problems.push(`x-ratelimit-remaining: ${h('x-ratelimit-remaining')}`);
    const reset = h('x-ratelimit-reset');
    if (!/^\d+$/.test(reset || '') || Number(reset) < 1) problems.push(`x-ratelimit-reset: ${reset}`);
    const policy = h('x-ratelimit-policy') || '';
    const m = /^(\d+);w=(\d+)$/.exec(policy);
    if (!m) problems.push(`x-ratelimit-policy: ${policy}`);
    else {
      if (m[1] !== h('x-ratelimit-limit')) problems.push(`x-ratelimit-policy ${policy} vs limit ${h('x-ratelimit-limit')}`);
      if (!['60', '3600', '86400', '604800', '2592000'].includes(m[2])) problems.push(`x-ratelimit-policy window: ${policy}`);
    }
    if (/^\d+$/.test(h('x-ratelimit-remaining') || '') && Number(h('x-ratelimit-remaining')) > Number(h('x-ratelimit-limit')))
      problems.push('x-ratelimit-remaining > x-ratelimit-limit');
  }
  return problems;
}

/**
 * Prints a fault matrix: rows of {name, expected, observed, ok} as a table
 * (case → expected → observed → ok/FAIL), under `title`.
 */
export function printMatrix(title, rows) {
  const head = ['case', 'expected', 'observed', ''];
  const cells = rows.map((r) => [r.name, r.expected, r.observed, r.ok ? 'ok' : 'FAIL']);
  const width = head.map((_, i) => Math.max(...[head, ...cells].map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(width[i])).join(' | ')} |`;
  const table = [line(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)];
  console.log(`\n${title}\n${table.join('\n')}\n`);
}
