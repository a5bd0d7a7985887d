// Canary test (docs/API.md, "Privacy"): plant unique
// strings in prompts, send them through every proxy path, let analytics
// flush, then look for them — and for the answers and the provider key — in
// a dump of every Postgres table, in the Durable Object state files and in
// the Worker's log. Positive controls make sure each search can find things.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BASE, api, createProject, hexSuffix, login, proxyChat, sql, uniqueId, waitFor } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKER_LOG = process.env.AIRL_WORKER_LOG || path.join(ROOT, '.stack', 'logs', 'worker.log');

function doStateDir() {
  if (process.env.AIRL_DO_STATE_DIR) return process.env.AIRL_DO_STATE_DIR;
  const dir = path.join(ROOT, '.wrangler', 'state', 'v3', 'do');
  return fs.existsSync(dir) ? dir : path.join(ROOT, '.wrangler', 'state');
}

function filesUnder(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Every row of every table in `public`, as text. */
async function postgresDump() {
  const tables = await sql(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
  );
  assert.ok(tables.length > 0, 'no tables in public');
  const parts = [];
  for (const { table_name: t } of tables) {
    const rows = await sql(`SELECT x::text AS row FROM public."${t.replace(/"/g, '""')}" x`);
    for (const r of rows) parts.push(`${t}: ${r.row}`);
  }
  return parts.join('\n');
}

/** Which of `needles` occur in `haystack` (a string or a Buffer). */
function found(haystack, needles) {
  return needles.filter((n) => (typeof haystack === 'string' ? haystack.includes(n) : haystack.indexOf(Buffer.from(n, 'utf8')) !== -1));
}

test('prompts, answers and the provider key reach neither Postgres, nor Durable Object state, nor the log', { timeout: 120000 }, async () => {
  const tag = hexSuffix(8);
  const CANARY = `CANARYPROMPT${tag}`; // in the prompts
  const SYSTEM_CANARY = `CANARYSYSTEM${tag}`;
  const TOOL_CANARY = `CANARYTOOL${tag}`;
  const PROVIDER_KEY = `sk-canarykey-${hexSuffix(12)}`;
  const identity = uniqueId('privacy');

  const token = await login();
  const project = await createProject(token, {
    providerApiKey: PROVIDER_KEY,
    tiers: { free: { requests: { limit: 100, period: 'day' }, tokens: { limit: 1000000, period: 'day' } } },
  });
  const key = project.projectKey;
  const messages = [
    { role: 'system', content: `You are a helper. ${SYSTEM_CANARY}` },
    { role: 'user', content: `Please remember ${CANARY} and say hello.` },
    { role: 'assistant', content: `I will remember ${CANARY}.` },
    { role: 'user', content: [{ type: 'text', text: `Again: ${CANARY}` }] },
  ];
  const tools = [
    { type: 'function', function: { name: 'lookup', description: TOOL_CANARY, parameters: { type: 'object', properties: {} } } },
  ];
  const models = {
    plain: `usage-21-4-${hexSuffix()}`,
    stream: `usage-22-4-${hexSuffix()}`,
    v1: `usage-23-4-${hexSuffix()}`,
    tool: `tool-usage-24-3-${hexSuffix()}`,
    err: `error-500-${hexSuffix()}`,
    drop: `drop-after-2-${hexSuffix()}`,
    mid: `mid-error-${hexSuffix()}`,
  };
  const answerMarkers = new Set();

  // Non-stream: the answer's completion id is unique to this answer.
  const plain = await proxyChat(key, { identity, model: models.plain, messages });
  assert.equal(plain.status, 200, plain.text);
  answerMarkers.add(plain.body.id);

  const s = await proxyChat(key, { identity, model: models.stream, messages }, { path: '/api/v1/proxy/chat/stream' });
  assert.equal(s.status, 200, s.text);
  assert.match(s.text, /\[DONE\]/);

  const v1 = await api('/v1/chat/completions', {
    body: { model: models.v1, messages },
    headers: { authorization: `Bearer ${key}`, 'x-identity': identity },
  });
  assert.equal(v1.status, 200, v1.text);
  answerMarkers.add(v1.body.id);

  const tool = await proxyChat(key, { identity, model: models.tool, messages, tools });
  assert.equal(tool.status, 200, tool.text);
  answerMarkers.add(tool.body.id);
  const toolCallId = tool.body.choices?.[0]?.message?.tool_calls?.[0]?.id;
  if (toolCallId) answerMarkers.add(toolCallId);

  // Error paths must not log the request either.
  const err = await proxyChat(key, { identity, model: models.err, messages });
  assert.equal(err.status, 502, err.text);
  const drop = await proxyChat(key, { identity, model: models.drop, messages }, { path: '/api/v1/proxy/chat/stream' });
  assert.equal(drop.status, 200, drop.text);
  const mid = await proxyChat(key, { identity, model: models.mid, messages }, { path: '/api/v1/proxy/chat/stream' });
  assert.equal(mid.status, 200, mid.text);
  const badJson = await api('/api/v1/proxy/chat', {
    body: `{"identity":"${identity}","model":"x","messages":[{"role":"user","content":"${CANARY}"}]`,
    headers: { 'x-project-key': key, 'content-type': 'application/json' },
  });
  assert.equal(badJson.status, 400);
  const badRole = await proxyChat(key, { identity, model: 'x', messages: [{ role: 'wizard', content: CANARY }] });
  assert.equal(badRole.status, 400);

  // Wait for analytics to flush: every admitted request settled into usage_daily.
  const counted = [models.plain, models.stream, models.v1, models.tool, models.drop, models.mid];
  await waitFor(
    async () => {
      const rows = await sql('SELECT model, requests::int AS requests FROM usage_daily WHERE project_id = $1 AND identity = $2', [
        project.id,
        identity,
      ]);
      const byModel = Object.fromEntries(rows.map((r) => [r.model, r.requests]));
      return counted.every((m) => byModel[m] >= 1);
    },
    { timeoutMs: 20000, intervalMs: 250, message: 'usage_daily rows for every admitted request' },
  );

  const secrets = [CANARY, SYSTEM_CANARY, TOOL_CANARY, PROVIDER_KEY, 'Hello from the mock!', ...answerMarkers];

  // 1. Postgres: every row of every table.
  const dump = await postgresDump();
  assert.ok(dump.includes(identity), 'positive control: the identity is in the dump');
  assert.ok(dump.includes(models.plain), 'positive control: the model id is in the dump');
  assert.deepEqual(found(dump, secrets), [], 'found in the Postgres dump');

  // 2. Durable Object state: every file, as bytes.
  const dir = doStateDir();
  assert.ok(fs.existsSync(dir), `no Durable Object state at ${dir}`);
  const files = filesUnder(dir);
  assert.ok(files.length > 0, `no files under ${dir}`);
  let identitySeen = false;
  const hits = [];
  for (const f of files) {
    let bytes;
    try {
      bytes = fs.readFileSync(f);
    } catch (e) {
      if (e.code === 'ENOENT') continue; // a -wal/-shm file that went away
      throw e;
    }
    if (found(bytes, [identity]).length) identitySeen = true;
    for (const n of found(bytes, secrets)) hits.push(`${path.relative(ROOT, f)}: ${n}`);
  }
  assert.ok(identitySeen, `positive control: the identity is in the Durable Object state under ${dir}`);
  assert.deepEqual(hits, [], 'found in the Durable Object state');

  // 3. The Worker's log.
  assert.ok(fs.existsSync(WORKER_LOG), `no Worker log at ${WORKER_LOG}`);
  await waitFor(() => fs.readFileSync(WORKER_LOG, 'utf8').includes('/api/v1/proxy/chat/stream'), {
    timeoutMs: 5000,
    message: 'positive control: the Worker log shows the proxy requests',
  });
  const log = fs.readFileSync(WORKER_LOG);
  assert.deepEqual(found(log, secrets), [], `found in ${WORKER_LOG}`);
  assert.ok(!BASE.includes(CANARY));
});
