// The fault matrix (docs/guarantees.md): each provider fault the mock can
// inject, what the app must get and what must be counted — printed as a
// table (case → expected → observed) after the run. The database faults
// (hung, down, back) are in faults-database.test.mjs, which prints its own.
//
// Counting rules (docs/API.md, "What is counted"): an error or timeout
// before the answer counts nothing; an answer without usable usage (none,
// `usage: {}`, a broken or malformed stream, a client that left) counts
// 1 request and the largest of partial usage, observed estimate and the
// reservation; a client that leaves mid-stream is counted exactly (the
// provider's stream is read to its end); a count out of range is not taken
// as reported — above 10,000,000 it is clamped, negative it is ignored — the
// answer is counted at least at its reservation, and it is flagged: the
// owner sees it in the analytics summary's `usageFlagged` (and on the
// dashboard's overview).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BASE,
  MOCK,
  api,
  checkAnswer,
  createProject,
  hexSuffix,
  identityUsage,
  login,
  printMatrix,
  proxyChat,
  sql,
  uniqueId,
  usageEntry,
  waitFor,
} from './helpers.mjs';

const MAX_TOKENS = 100;
const CONTENT = 'hello'; // ⌈5/4⌉ = 2 prompt-estimate tokens
const RESERVATION = 2 + MAX_TOKENS;
const CLAMP = 10_000_000;
const rows = [];
let key;
let projectId;
let token;

before(async () => {
  token = await login();
  const project = await createProject(token, {
    tiers: { free: { requests: { limit: 100000, period: 'day' }, tokens: { limit: 1_000_000_000, period: 'day' } } },
  });
  key = project.projectKey;
  projectId = project.id;
});

/** The identity's flagged answers, once its usage reached the rollups (the outbox flushed). */
async function flaggedOf(identity, requests) {
  const read = () =>
    sql('SELECT sum(requests)::int AS requests, sum(usage_flagged)::int AS flagged FROM usage_daily WHERE project_id = $1 AND identity = $2', [projectId, identity]);
  try {
    return (await waitFor(async () => {
      const [r] = await read();
      return r.requests === requests ? r : false;
    }, { timeoutMs: 30000, intervalMs: 250, message: 'rollup' })).flagged;
  } catch {
    return (await read())[0].flagged;
  }
}

after(() => printMatrix('fault matrix (provider faults)', rows));

/** Polls the identity's counter until it equals `want` (or the deadline) → what it is. */
async function counted(identity, want) {
  const read = async () => {
    const u = await identityUsage(key, identity);
    return { requests: usageEntry(u, 'requests').used, tokens: usageEntry(u, 'tokens').used };
  };
  try {
    return await waitFor(async () => {
      const c = await read();
      return c.requests === want.requests && c.tokens === want.tokens ? c : false;
    }, { timeoutMs: 10000, intervalMs: 150, message: 'counter' });
  } catch {
    return read();
  }
}

async function streamRaw(body, { abortAfterFirstChunk = false } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 90000);
  const res = await fetch(`${BASE}/api/v1/proxy/chat/stream`, {
    method: 'POST',
    headers: { 'x-project-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  let text = '';
  try {
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      if (abortAfterFirstChunk && text.includes('\n\n')) {
        controller.abort();
        break;
      }
    }
  } catch (e) {
    if (!abortAfterFirstChunk) throw e;
  } finally {
    clearTimeout(timer);
  }
  if (!abortAfterFirstChunk) {
    checkAnswer({ method: 'POST', url: '/api/v1/proxy/chat/stream', requestBody: body, status: res.status, headers: res.headers, text });
  }
  return { status: res.status, text };
}

/** What the app saw, in a few words. */
function outcome(res, stream) {
  if (res.status !== 200) {
    const b = typeof res.body === 'object' ? res.body : {};
    return `${res.status} ${b.error ?? ''}${b.status ? `(${b.status})` : ''}`.trim();
  }
  if (!stream) return '200';
  if (/"error"/.test(res.text)) return '200 + error event';
  return res.text.includes('[DONE]') ? '200 + [DONE]' : '200, cut';
}

const CASES = [
  { name: 'provider 500 before the answer', model: 'error-500', stream: false, app: '502 provider_error(500)', count: [0, 0] },
  { name: 'provider 429 before the answer', model: 'error-429', stream: false, app: '502 provider_error(429)', count: [0, 0] },
  { name: 'provider hangs past the deadline', model: 'hang', stream: false, app: '504 provider_timeout', count: [0, 0] },
  { name: 'malformed JSON answer', model: 'malformed-sse', stream: false, app: '502 provider_error(502)', count: [0, 0] },
  { name: 'redirect 302 to an internal URL', model: 'redirect', stream: false, app: '502 provider_error(302)', count: [0, 0], notFollowed: true },
  { name: 'malformed SSE mid-stream', model: 'malformed-sse', stream: true, app: '200 + error event', count: [1, RESERVATION] },
  { name: 'provider drops mid-stream', model: 'drop-after-2', stream: true, app: '200 + error event', count: [1, RESERVATION] },
  { name: 'no usage (answer)', model: 'no-usage', stream: false, app: '200', count: [1, RESERVATION] },
  { name: 'no usage (stream)', model: 'no-usage', stream: true, app: '200 + [DONE]', count: [1, RESERVATION] },
  { name: 'usage: {} (answer)', model: 'empty-usage', stream: false, app: '200', count: [1, RESERVATION] },
  { name: 'usage: {} (stream)', model: 'empty-usage', stream: true, app: '200 + [DONE]', count: [1, RESERVATION] },
  { name: 'absurd usage 10^12 (clamped)', model: 'usage-1000000000000-5', stream: false, app: '200', count: [1, CLAMP + 5], flag: true },
  { name: 'negative usage -5 (ignored)', model: 'usage--5-7', stream: false, app: '200', count: [1, RESERVATION], flag: true },
  { name: 'negative usage (stream)', model: 'usage--5-7', stream: true, app: '200 + [DONE]', count: [1, RESERVATION], flag: true },
  { name: 'exact usage (control)', model: 'usage-12-7', stream: false, app: '200', count: [1, 19], flag: false },
  // The provider's stream is read to its end after the client left: the mock's 11 + 4 tokens, exactly.
  { name: 'client leaves mid-stream', model: 'slow', stream: true, app: '(client gone)', count: [1, 15], leave: true },
];

async function redirectHits() {
  return (await api(`${MOCK}/__mock/redirect-hits`, { validate: false })).body.hits;
}

describe('fault matrix: provider faults', () => {
  for (const c of CASES) {
    test(`${c.name}: app gets ${c.app}; counted ${c.count[0]} request(s), ${c.count[1]} tokens`, { timeout: 120000 }, async () => {
      const identity = uniqueId('fm');
      const model = `${c.model}-${hexSuffix()}`;
      const body = { identity, model, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: CONTENT }] };
      const hitsBefore = c.notFollowed ? await redirectHits() : 0;
      let seen;
      if (c.stream) {
        const res = await streamRaw(body, { abortAfterFirstChunk: c.leave });
        seen = c.leave ? '(client gone)' : outcome(res, true);
      } else {
        const res = await proxyChat(key, body, { timeoutMs: 90000 });
        seen = outcome(res, false);
      }
      const got = await counted(identity, { requests: c.count[0], tokens: c.count[1] });
      let extra = '';
      if (c.flag !== undefined) extra += (await flaggedOf(identity, c.count[0])) > 0 ? ', flagged' : ', not flagged';
      if (c.notFollowed) {
        const hits = await redirectHits();
        extra = hits === hitsBefore ? ', not followed' : `, FOLLOWED ${hits - hitsBefore}x`;
      }
      const expected = `${c.app}; ${c.count[0]} req, ${c.count[1]} tok${c.flag === undefined ? '' : c.flag ? ', flagged' : ', not flagged'}${c.notFollowed ? ', not followed' : ''}`;
      const observed = `${seen}; ${got.requests} req, ${got.tokens} tok${extra}`;
      rows.push({ name: c.name, expected, observed, ok: expected === observed });
      assert.equal(observed, expected);
    });
  }
});

describe('fault matrix: flagged usage reaches the owner', () => {
  test('the analytics summary counts every flagged answer of the project (usageFlagged)', async () => {
    const want = CASES.filter((c) => c.flag).length;
    const res = await waitFor(async () => {
      const r = await api(`/api/projects/${projectId}/usage/summary?period=day`, { token });
      return r.status === 200 && r.body.usageFlagged === want ? r : false;
    }, { timeoutMs: 30000, intervalMs: 500, message: `usageFlagged = ${want}` });
    rows.push({ name: 'owner sees flagged answers', expected: `usageFlagged ${want}`, observed: `usageFlagged ${res.body.usageFlagged}`, ok: true });
  });
});
