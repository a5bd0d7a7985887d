// What the dashboard needs from usage/by-identity (issue 11): `date`,
// `blocked` and `warned` on every row, and a day range (`from`/`to`) as an
// alternative to `date`, paged in (day, identity, tier, model) order and
// validated with a 400 that names the field.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { api, createProject, hexSuffix, login, proxyChat, sql, uniqueId, waitFor } from './helpers.mjs';

let token;
let project;
const prefix = uniqueId('dash');
const A = `${prefix}-a`;
const B = `${prefix}-b`;
const OLD = `${prefix}-old`;
const M = `usage-10-5-${hexSuffix()}`; // 15 tokens a request

const day = (n) => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + n)).toISOString().slice(0, 10);
};
const TODAY = day(0);
const YESTERDAY = day(-1);

async function get(path) {
  const res = await api(`/api/projects/${project.id}${path}`, { token });
  assert.equal(res.status, 200, `${path}: ${res.text}`);
  return res.body;
}

before(async () => {
  await waitFor(async () => (await api('/healthz', { timeoutMs: 3000 }).catch(() => null))?.status === 200, {
    timeoutMs: 120000,
    intervalMs: 500,
    message: 'worker /healthz',
  });
  token = await login();
  project = await createProject(token, { tiers: { free: { requests: { limit: 3, period: 'day' } } } });
  const rule = await api(`/api/projects/${project.id}/rules`, {
    token,
    body: {
      name: 'from the 2nd',
      condition: { type: 'usage_absolute', metric: 'requests', operator: 'gte', threshold: 2 },
      action: { type: 'warn', message: 'careful' },
    },
  });
  assert.equal(rule.status, 201, rule.text);
  // A: 3 admitted (the 2nd and 3rd warned), then 1 refused by the tier's cap. B: 1 admitted.
  const plan = [[A, 200], [A, 200], [A, 200], [A, 429], [B, 200]];
  for (const [identity, status] of plan) {
    const r = await proxyChat(project.projectKey, { identity, model: M, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.status, status, `${identity}: ${r.text}`);
  }
  // A row of yesterday, as the identity's object would have flushed it then.
  await sql(
    `INSERT INTO usage_daily (project_id, identity, tier, model, day, requests, input_tokens, output_tokens, blocked, warned)
     VALUES ($1, $2, 'free', $3, $4::date, 7, 70, 35, 4, 2)`,
    [project.id, OLD, M, YESTERDAY],
  );
});

const rowA = { date: TODAY, identity: A, tier: 'free', model: M, requests: 3, inputTokens: 30, outputTokens: 15, tokens: 45, blocked: 1, warned: 2, cost: 0 };
const rowB = { date: TODAY, identity: B, tier: 'free', model: M, requests: 1, inputTokens: 10, outputTokens: 5, tokens: 15, blocked: 0, warned: 0, cost: 0 };
const rowOld = { date: YESTERDAY, identity: OLD, tier: 'free', model: M, requests: 7, inputTokens: 70, outputTokens: 35, tokens: 105, blocked: 4, warned: 2, cost: 0 };

describe('usage/by-identity for the dashboard', () => {
  test('each row carries its date and its blocked and warned counts', async () => {
    const page = await waitFor(
      async () => {
        const p = await get(`/usage/by-identity?date=${TODAY}`);
        const a = p.items.find((r) => r.identity === A);
        return a && a.requests === 3 && a.blocked === 1 && a.warned === 2 && p.items.some((r) => r.identity === B) ? p : false;
      },
      { timeoutMs: 10000, intervalMs: 200, message: 'today’s rows flushed' },
    );
    assert.deepEqual(page, { items: [rowA, rowB], nextCursor: null });
  });

  test('from/to returns every day of the range, oldest day first', async () => {
    const page = await get(`/usage/by-identity?from=${YESTERDAY}&to=${TODAY}`);
    assert.deepEqual(page, { items: [rowOld, rowA, rowB], nextCursor: null });
    // A one-day range is the same as date=; a range that misses the days is empty.
    assert.deepEqual(await get(`/usage/by-identity?from=${TODAY}&to=${TODAY}`), { items: [rowA, rowB], nextCursor: null });
    assert.deepEqual(await get(`/usage/by-identity?from=${YESTERDAY}&to=${YESTERDAY}`), { items: [rowOld], nextCursor: null });
    assert.deepEqual(await get(`/usage/by-identity?from=${day(-30)}&to=${day(-2)}`), { items: [], nextCursor: null });
  });

  test('a range pages one row at a time across the day boundary, each row once', async () => {
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const q = new URLSearchParams({ from: YESTERDAY, to: TODAY, limit: '1' });
      if (cursor) q.set('cursor', cursor);
      const page = await get(`/usage/by-identity?${q}`);
      pages++;
      assert.equal(page.items.length, 1, JSON.stringify(page));
      seen.push(...page.items);
      cursor = page.nextCursor;
      assert.ok(pages <= 4, 'paging terminates');
    } while (cursor !== null);
    assert.deepEqual(seen, [rowOld, rowA, rowB]);
  });

  test('bad ranges are 400 invalid_request naming the field', async () => {
    const cases = [
      [`from=${TODAY}`, 'to'],
      [`to=${TODAY}`, 'from'],
      [`date=${TODAY}&from=${TODAY}&to=${TODAY}`, 'date'],
      [`date=${TODAY}&to=${TODAY}`, 'date'],
      [`from=${TODAY}&to=${YESTERDAY}`, 'to'],
      [`from=${day(-31)}&to=${TODAY}`, 'to'], // 32 days
      [`from=2026-02-30&to=${TODAY}`, 'from'],
      [`from=${TODAY}&to=tomorrow`, 'to'],
      ['from=&to=', 'from'],
      [`from=${YESTERDAY}&to=${TODAY}&cursor=${Buffer.from(JSON.stringify([A, 'free', M])).toString('base64url')}`, 'cursor'],
      [`from=${YESTERDAY}&to=${TODAY}&cursor=${Buffer.from(JSON.stringify(['not-a-day', A, 'free', M])).toString('base64url')}`, 'cursor'],
    ];
    for (const [q, field] of cases) {
      const res = await api(`/api/projects/${project.id}/usage/by-identity?${q}`, { token });
      assert.equal(res.status, 400, `${q}: ${res.text}`);
      assert.equal(res.body.error, 'invalid_request', q);
      assert.equal(res.body.field, field, q);
      assert.equal(typeof res.body.message, 'string', q);
    }
    // 31 days, both ends included, is the longest range.
    const ok = await api(`/api/projects/${project.id}/usage/by-identity?from=${day(-30)}&to=${TODAY}`, { token });
    assert.equal(ok.status, 200, ok.text);
  });

  test('another owner gets 404 for the range form too', async () => {
    const other = await login();
    const res = await api(`/api/projects/${project.id}/usage/by-identity?from=${YESTERDAY}&to=${TODAY}`, { token: other });
    assert.equal(res.status, 404, res.text);
  });
});

describe('GET /api/v1/usage from the browser (the settings page verifies a signed token)', () => {
  test('a refused token answers 401 with CORS for the calling origin, so the page can read why', async () => {
    const origin = 'http://localhost:3001';
    const res = await api('/api/v1/usage', { headers: { 'x-project-key': project.projectKey, 'x-identity-token': 'a.b.c', origin } });
    assert.equal(res.status, 401, res.text);
    assert.equal(res.body.error, 'invalid_identity_token');
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    // The same for a good answer, and none for an origin the project does not allow.
    const ok = await api(`/api/v1/usage?identity=${encodeURIComponent(B)}`, { headers: { 'x-project-key': project.projectKey, origin } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get('access-control-allow-origin'), origin);
    const patched = await api(`/api/projects/${project.id}`, { method: 'PATCH', token, body: { allowedOrigins: ['https://app.example.com'] } });
    assert.equal(patched.status, 200, patched.text);
    const other = await api('/api/v1/usage', { headers: { 'x-project-key': project.projectKey, 'x-identity-token': 'a.b.c', origin } });
    assert.equal(other.status, 403, other.text);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});
