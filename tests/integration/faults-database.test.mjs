// The database failing (docs/guarantees.md, "Failure policy"): every
// Postgres use has a deadline; a project this Worker has seen keeps being
// served from memory (stale-if-error), a project never seen gets
// 503 service_unavailable, the owner API answers 503 (never 500, never a
// hang), /healthz names the failing part within its own deadline, and what
// was admitted meanwhile reaches the rollups once the database is back.
//
// "Hung" = the embedded PostgreSQL's whole process group stopped (SIGSTOP):
// the kernel still accepts connections, nothing answers. "Down" = it is shut
// down. Both are always undone (finally), and the test waits for /healthz.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { api, createProject, hexSuffix, login, printMatrix, proxyChat, sql, stackCommand, uniqueId, waitFor } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The embedded PostgreSQL this stack started ({pid, port}), or null (external DATABASE_URL). */
function embeddedPostgres() {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(ROOT, '.stack', 'state.json'), 'utf8'));
    const pg = state.services?.postgres;
    return pg?.pid && !pg.external ? pg : null;
  } catch {
    return null;
  }
}

const PG = embeddedPostgres();
const skip = PG ? false : 'needs the embedded PostgreSQL of `npm start` (DATABASE_URL is external)';

// The Worker's deadlines (worker/src/store/mod.rs, worker/src/health.rs) plus slack for a busy machine.
const CONNECT_DEADLINE_MS = 3000;
const HEALTH_DEADLINE_MS = 2000;
const SLACK_MS = 4000;

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Starts the embedded PostgreSQL again (the stack's own command; DATABASE_URL would make it "external"). */
function restartPostgres() {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  return stackCommand('start', { timeoutMs: 300000, env });
}

async function timed(fn) {
  const t0 = Date.now();
  const res = await fn();
  return { res, ms: Date.now() - t0 };
}

const msgs = [{ role: 'user', content: 'hello' }];
const matrix = [];
/** One row of the printed matrix; the assertions themselves stay below it. */
function row(name, expected, observed) {
  matrix.push({ name, expected, observed, ok: expected === observed });
}
let token;
let seen; // a project the Worker has served (in its cache)
let fresh; // a project it never served

async function waitHealthy() {
  await waitFor(async () => (await api('/healthz', { timeoutMs: 10000 })).status === 200, {
    timeoutMs: 60000,
    intervalMs: 250,
    message: '/healthz 200 after the database is back',
  });
}

/** What a database outage must look like from outside, whichever kind it is. */
async function assertOutageAnswers(kind) {
  const identity = uniqueId(`stale-${kind}`);
  const model = `usage-11-5-${hexSuffix()}`;
  // The seen project: served from memory, the request forwarded and counted.
  const stale = await timed(() => proxyChat(seen.projectKey, { identity, model, messages: msgs }, { timeoutMs: 30000 }));
  const within = (t, ms) => (t.ms < ms ? 'in time' : `after ${t.ms} ms`);
  row(`postgres ${kind}: seen project`, '200 (from memory), in time', `${stale.res.status}${stale.res.status === 200 ? ' (from memory)' : ''}, ${within(stale, CONNECT_DEADLINE_MS + SLACK_MS)}`);
  assert.equal(stale.res.status, 200, `${kind}: a seen project is served from memory: ${stale.res.text}`);
  assert.ok(stale.ms < CONNECT_DEADLINE_MS + SLACK_MS, `${kind}: took ${stale.ms} ms`);
  // Within the retry pause the next request does not wait for the database again.
  const again = await timed(() => proxyChat(seen.projectKey, { identity, model, messages: msgs }, { timeoutMs: 30000 }));
  assert.equal(again.res.status, 200, again.res.text);
  assert.ok(again.ms < 2000, `${kind}: the second request waited ${again.ms} ms for the database`);

  // A project never seen: 503 in the contract's shape (and OpenAI's on /v1), within the deadline.
  const unseen = await timed(() => proxyChat(fresh.projectKey, { identity, model, messages: msgs }, { timeoutMs: 30000 }));
  row(`postgres ${kind}: unseen project`, '503 service_unavailable, in time', `${unseen.res.status} ${unseen.res.body?.error}, ${within(unseen, CONNECT_DEADLINE_MS + SLACK_MS)}`);
  assert.equal(unseen.res.status, 503, unseen.res.text);
  assert.equal(unseen.res.body.error, 'service_unavailable');
  assert.ok(unseen.ms < CONNECT_DEADLINE_MS + SLACK_MS, `${kind}: took ${unseen.ms} ms`);
  const openai = await api('/v1/chat/completions', {
    body: { model, messages: msgs },
    headers: { authorization: `Bearer ${fresh.projectKey}`, 'x-identity': identity },
    timeoutMs: 30000,
  });
  assert.equal(openai.status, 503, openai.text);
  assert.equal(openai.body.error.code, 'service_unavailable');

  // The owner API: 503, never 500, never a hang.
  const owner = await timed(() => api('/api/projects', { token, timeoutMs: 30000 }));
  row(`postgres ${kind}: owner API`, '503 service_unavailable, in time', `${owner.res.status} ${owner.res.body?.error}, ${within(owner, CONNECT_DEADLINE_MS + SLACK_MS)}`);
  assert.equal(owner.res.status, 503, owner.res.text);
  assert.equal(owner.res.body.error, 'service_unavailable');
  assert.ok(owner.ms < CONNECT_DEADLINE_MS + SLACK_MS, `${kind}: owner API took ${owner.ms} ms`);

  // /healthz names the database, within its own deadline.
  const health = await timed(() => api('/healthz', { timeoutMs: 30000 }));
  row(`postgres ${kind}: /healthz`, '503 failing [db], in time', `${health.res.status} failing [${health.res.body?.failing}], ${within(health, HEALTH_DEADLINE_MS + SLACK_MS)}`);
  assert.equal(health.res.status, 503, health.res.text);
  assert.deepEqual(health.res.body.failing, ['db']);
  assert.equal(health.res.body.limiter, 'ok');
  assert.ok(health.ms < HEALTH_DEADLINE_MS + SLACK_MS, `${kind}: /healthz took ${health.ms} ms`);
  return { identity, model };
}

/** After the outage: the requests admitted meanwhile are in the rollups (the outbox kept them). */
async function assertCountedAfterwards(kind, { identity, model }) {
  const rows = await waitFor(async () => {
    const r = await sql(
      'SELECT requests::int AS requests, input_tokens::int AS input, output_tokens::int AS output FROM usage_daily WHERE project_id = $1 AND identity = $2 AND model = $3',
      [seen.id, identity, model],
    );
    return r.length && r[0].requests === 2 ? r : false;
  }, { timeoutMs: 60000, intervalMs: 500, message: 'the outage requests in usage_daily' });
  row(`postgres back after ${kind}: rollups`, '2 req, 22 in, 10 out', `${rows[0].requests} req, ${rows[0].input} in, ${rows[0].output} out`);
  assert.deepEqual(rows[0], { requests: 2, input: 22, output: 10 });
  // And the project never seen is served now.
  const ok = await proxyChat(fresh.projectKey, { identity: uniqueId('back'), model: `ok-${hexSuffix()}`, messages: msgs });
  row(`postgres back after ${kind}: unseen project`, '200', String(ok.status));
  assert.equal(ok.status, 200, ok.text);
}

/** Expires the seen project's cache entry (a settings change made here), as a TTL would; and creates a project never served. */
async function expireSeen() {
  fresh = await createProject(token, { tiers: { free: { requests: { limit: 1000, period: 'day' } } } });
  const res = await api(`/api/projects/${seen.id}`, { method: 'PATCH', token, body: { name: uniqueId('renamed') } });
  assert.equal(res.status, 200, res.text);
}

describe('database faults', { skip }, () => {
  before(async () => {
    token = await login();
    seen = await createProject(token, { tiers: { free: { requests: { limit: 1000, period: 'day' } } } });
    const warm = await proxyChat(seen.projectKey, { identity: uniqueId('warm'), model: `ok-${hexSuffix()}`, messages: msgs });
    assert.equal(warm.status, 200, warm.text);
  });

  after(async () => {
    printMatrix('fault matrix (database faults)', matrix);
    // Whatever happened, leave a running database behind for the next test file.
    try {
      process.kill(-PG.pgid, 'SIGCONT');
    } catch {
      /* not stopped */
    }
    if (!(await portOpen(PG.port))) await restartPostgres();
    await waitHealthy();
  });

  test('hung database: a seen project is served, an unseen one and the owner API get 503, /healthz names db, all within the deadlines', async () => {
    const KIND = 'hung';
    await expireSeen();
    process.kill(-PG.pgid, 'SIGSTOP');
    let outage;
    try {
      outage = await assertOutageAnswers('hung');
    } finally {
      process.kill(-PG.pgid, 'SIGCONT');
    }
    await waitHealthy();
    await assertCountedAfterwards(KIND, outage);
  });

  test('database down: the same answers, and what was admitted reaches the rollups once it is back', async () => {
    const KIND = 'down';
    await expireSeen();
    process.kill(PG.pid, 'SIGINT'); // fast shutdown
    let outage;
    try {
      await waitFor(async () => !(await portOpen(PG.port)), { timeoutMs: 30000, message: 'postgres down' });
      outage = await assertOutageAnswers('down');
    } finally {
      await restartPostgres();
    }
    await waitHealthy();
    await assertCountedAfterwards(KIND, outage);
  });
});
