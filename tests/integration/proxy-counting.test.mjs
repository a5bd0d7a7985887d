// What is counted (docs/API.md, "What is counted"): real provider usage,
// exactly; nothing for a block or a provider error before the answer; at
// least the reservation for a stream that breaks or a client that leaves.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  BASE,
  checkAnswer,
  createProject,
  hexSuffix,
  identityUsage,
  login,
  mockRequests,
  proxyChat,
  proxyHeaderProblems,
  sql,
  sseEvents,
  uniqueId,
  usageEntry,
  waitFor,
} from './helpers.mjs';

const PROVIDER_KEY = `sk-count-${hexSuffix(8)}`;
let project;
let key;

before(async () => {
  const token = await login();
  project = await createProject(token, {
    providerApiKey: PROVIDER_KEY,
    tiers: {
      free: { requests: { limit: 100, period: 'day' }, tokens: { limit: 1000000, period: 'day' } },
      two: {
        requests: { limit: 2, period: 'day' },
        tokens: { limit: 1000000, period: 'day' },
        limitMessage: { message: '{{tier}}: {{usage}}/{{limit}} {{limitType}} per {{period}}', deepLink: 'myapp://upgrade?from={{tier}}' },
      },
    },
  });
  key = project.projectKey;
});

const msgs = (content = 'hello') => [{ role: 'user', content }];

async function usageOf(identity, tier) {
  const u = await identityUsage(key, identity, { tier });
  return { requests: usageEntry(u, 'requests').used, tokens: usageEntry(u, 'tokens').used, raw: u };
}

/** Poll until the identity's usage satisfies `pred`; returns it. */
function usageWhen(identity, pred, message, tier) {
  return waitFor(async () => {
    const u = await usageOf(identity, tier);
    return pred(u) ? u : false;
  }, { timeoutMs: 10000, message });
}

/** Poll Postgres until the settled request shows in the daily rollup (settlement, not just a reservation). */
function settledRow(identity, model) {
  return waitFor(async () => {
    const rows = await sql(
      'SELECT requests::int AS requests, input_tokens::int AS input, output_tokens::int AS output, blocked::int AS blocked FROM usage_daily WHERE project_id = $1 AND identity = $2 AND model = $3',
      [project.id, identity, model],
    );
    return rows.length && rows[0].requests >= 1 ? rows[0] : false;
  }, { timeoutMs: 15000, message: `usage_daily row for ${identity} / ${model}` });
}

/** Stream a request; returns {status, headers, text, events}. */
async function stream(body, { signal } = {}) {
  const res = await fetch(`${BASE}/api/v1/proxy/chat/stream`, {
    method: 'POST',
    headers: { 'x-project-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: signal || AbortSignal.timeout(30000),
  });
  const text = await res.text();
  checkAnswer({ method: 'POST', url: '/api/v1/proxy/chat/stream', requestBody: body, status: res.status, headers: res.headers, text });
  return { status: res.status, headers: res.headers, text, events: sseEvents(text) };
}

describe('proxy counting', () => {
  test('non-stream: tokens counted equal the provider-reported usage exactly', async () => {
    const identity = uniqueId('cnt');
    const m1 = `usage-12-7-${hexSuffix()}`;
    const m2 = `usage-30-3-${hexSuffix()}`;
    const r1 = await proxyChat(key, { identity, model: m1, messages: msgs() });
    assert.equal(r1.status, 200, r1.text);
    assert.deepEqual(proxyHeaderProblems(r1), []);
    assert.equal(r1.body.object, 'chat.completion');
    assert.equal(r1.body.usage.total_tokens, 19);
    // The body's ratelimit block: `used` right after admission, reservation included.
    assert.equal(r1.body.ratelimit.tier, 'free');
    const rl = Object.fromEntries(r1.body.ratelimit.limits.map((l) => [l.limitType, l]));
    assert.equal(rl.requests.used, 1);
    assert.equal(rl.tokens.used, 2 + 1024, 'reservation = ⌈5/4⌉ + the default 1024');
    assert.equal(r1.body.ratelimit.warning, null);
    // The tightest window is in the headers: tokens 1026/1000000 vs requests 1/100 → requests.
    assert.equal(r1.headers.get('x-ratelimit-limit'), '100');
    assert.equal(r1.headers.get('x-ratelimit-remaining'), '99');
    assert.equal(r1.headers.get('x-ratelimit-policy'), '100;w=86400');

    const r2 = await proxyChat(key, { identity, model: m2, messages: msgs() });
    assert.equal(r2.status, 200, r2.text);
    assert.deepEqual(proxyHeaderProblems(r2), []);
    assert.equal(r2.headers.get('x-ratelimit-remaining'), '98');

    const u = await usageWhen(identity, (x) => x.tokens === 19 + 33, 'tokens = 19 + 33');
    assert.equal(u.requests, 2);
    assert.equal(u.raw.identity, identity);
    assert.equal(u.raw.tier, 'free');
    const tokens = usageEntry(u.raw, 'tokens');
    assert.equal(tokens.limit, 1000000);
    assert.equal(tokens.remaining, 1000000 - 52);
    assert.equal(tokens.period, 'day');
    assert.equal(tokens.model, null);
    assert.match(tokens.resetAt, /T00:00:00(\.000)?Z$/);

    // What the provider received: no proxy-only fields, our provider key, not the project key.
    const [rec] = await mockRequests(m1);
    assert.equal(rec.headers.authorization, `Bearer ${PROVIDER_KEY}`);
    for (const f of ['identity', 'tier', 'identityToken', 'limitType']) assert.ok(!(f in rec.body), `${f} forwarded`);
    assert.ok(!JSON.stringify(rec).includes(key), 'the project key reached the provider');
  });

  test('stream: tokens counted equal the provider-reported usage exactly; usage chunk then [DONE]', async () => {
    const identity = uniqueId('cnts');
    const model = `usage-20-5-${hexSuffix()}`;
    const r = await stream({ identity, model, messages: msgs() });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') || '', /^text\/event-stream/);
    assert.deepEqual(proxyHeaderProblems(r), []);
    assert.equal(r.events.at(-1), '[DONE]');
    const chunks = r.events.filter((e) => e !== '[DONE]');
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'), r.text);
    const text = chunks.map((c) => c.choices?.[0]?.delta?.content || '').join('');
    assert.equal(text, 'Hello from the mock!');
    assert.deepEqual(
      { p: chunks.at(-1).usage?.prompt_tokens, c: chunks.at(-1).usage?.completion_tokens, t: chunks.at(-1).usage?.total_tokens },
      { p: 20, c: 5, t: 25 },
      'the last chunk carries usage',
    );
    const [rec] = await mockRequests(model);
    assert.equal(rec.body.stream, true);
    assert.equal(rec.body.stream_options?.include_usage, true, 'include_usage is forced');

    const u = await usageWhen(identity, (x) => x.tokens === 25, 'tokens = 25');
    assert.equal(u.requests, 1);

    // And the stream's usage adds up with a non-stream one.
    const r2 = await proxyChat(key, { identity, model: `usage-4-4-${hexSuffix()}`, messages: msgs(), stream: true });
    assert.equal(r2.status, 200);
    assert.match(r2.headers.get('content-type') || '', /^text\/event-stream/, '`stream: true` on /chat streams');
    const u2 = await usageWhen(identity, (x) => x.tokens === 33, 'tokens = 25 + 8');
    assert.equal(u2.requests, 2);
  });

  test('a blocked request (429) counts nothing and is never forwarded', async () => {
    const identity = uniqueId('blk');
    const model = `usage-10-10-${hexSuffix()}`;
    for (let i = 0; i < 2; i += 1) {
      const r = await proxyChat(key, { identity, tier: 'two', model, messages: msgs() });
      assert.equal(r.status, 200, r.text);
    }
    const before = await usageWhen(identity, (x) => x.tokens === 40, 'tokens = 2 × 20', 'two');
    assert.equal(before.requests, 2);

    const blocked = await proxyChat(key, { identity, tier: 'two', model, messages: msgs() });
    assert.equal(blocked.status, 429, blocked.text);
    assert.deepEqual(proxyHeaderProblems(blocked), []);
    const b = blocked.body;
    assert.equal(b.error, 'limit_exceeded');
    assert.equal(b.message, 'two: 2/2 requests per day');
    assert.equal(b.deepLink, 'myapp://upgrade?from=two');
    assert.equal(b.rule, null);
    assert.equal(b.tier, 'two');
    assert.equal(b.limitType, 'requests');
    assert.equal(b.limit, 2);
    assert.equal(b.usage, 2);
    assert.equal(b.period, 'day');
    assert.match(b.resetAt, /^\d{4}-\d\d-\d\dT00:00:00(\.000)?Z$/);
    const untilReset = (Date.parse(b.resetAt) - Date.now()) / 1000;
    const retryAfter = Number(blocked.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `retry-after ${blocked.headers.get('retry-after')}`);
    assert.ok(Math.abs(retryAfter - untilReset) <= 3, `retry-after ${retryAfter} vs resetAt in ${untilReset}s`);
    assert.equal(blocked.headers.get('x-ratelimit-limit'), '2');
    assert.equal(blocked.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(blocked.headers.get('x-ratelimit-policy'), '2;w=86400');
    assert.ok(Math.abs(Number(blocked.headers.get('x-ratelimit-reset')) - untilReset) <= 3);

    // Blocked streams: a plain JSON 429 before any event.
    const bs = await stream({ identity, tier: 'two', model, messages: msgs() });
    assert.equal(bs.status, 429, bs.text);
    assert.match(bs.headers.get('content-type') || '', /application\/json/);
    assert.equal(JSON.parse(bs.text).error, 'limit_exceeded');

    assert.equal((await mockRequests(model)).length, 2, 'blocked requests reached the provider');
    const after = await usageOf(identity, 'two');
    assert.equal(after.requests, 2);
    assert.equal(after.tokens, 40);
  });

  test('a provider 500 answers 502 provider_error with status 500 and counts nothing', async () => {
    const identity = uniqueId('p500');
    const ok = await proxyChat(key, { identity, model: `usage-1-1-${hexSuffix()}`, messages: msgs() });
    assert.equal(ok.status, 200);
    await usageWhen(identity, (x) => x.tokens === 2, 'tokens = 2');

    const model = `error-500-${hexSuffix()}`;
    const r = await proxyChat(key, { identity, model, messages: msgs() });
    assert.equal(r.status, 502, r.text);
    assert.deepEqual(proxyHeaderProblems(r), []);
    assert.equal(r.body.error, 'provider_error');
    assert.equal(r.body.status, 500);
    assert.equal(r.body.provider, 'openai');
    assert.match(r.body.message, /mock upstream failure/, 'the provider message is passed on');
    assert.ok(!r.text.includes(PROVIDER_KEY), 'the provider key leaked into the error');

    const rs = await stream({ identity, model, messages: msgs() });
    assert.equal(rs.status, 502, rs.text);
    assert.equal(JSON.parse(rs.text).error, 'provider_error');

    assert.equal((await mockRequests(model)).length, 2);
    const u = await usageOf(identity);
    assert.equal(u.requests, 1, 'a provider error was counted');
    assert.equal(u.tokens, 2);
  });

  test('a stream cut by the provider is still counted and ends with an error event, no [DONE]', async () => {
    const identity = uniqueId('drop');
    const model = `drop-after-2-${hexSuffix()}`;
    const r = await stream({ identity, model, max_tokens: 50, messages: msgs('hello') });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(proxyHeaderProblems(r), []);
    assert.ok(!r.events.includes('[DONE]'), r.text);
    const last = r.events.at(-1);
    assert.equal(typeof last?.error?.message, 'string', r.text);
    assert.equal(last.error.type, 'provider_error');
    const text = r.events.map((c) => c.choices?.[0]?.delta?.content || '').join('');
    assert.equal(text, 'Hello from', 'the two chunks before the cut were passed through');

    const reservation = 2 + 50;
    await settledRow(identity, model);
    const u = await usageWhen(identity, (x) => x.requests === 1 && x.tokens >= reservation, `requests 1, tokens ≥ ${reservation}`);
    assert.ok(u.tokens >= reservation);
  });

  test('a mid-stream provider error ends the stream with the error event and is counted', async () => {
    const identity = uniqueId('mid');
    const model = `mid-error-${hexSuffix()}`;
    const r = await stream({ identity, model, max_tokens: 40, messages: msgs('hello') });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(proxyHeaderProblems(r), []);
    assert.ok(!r.events.includes('[DONE]'), r.text);
    const last = r.events.at(-1);
    assert.deepEqual(Object.keys(last || {}), ['error'], r.text);
    assert.equal(last.error.type, 'provider_error');
    assert.equal(typeof last.error.message, 'string');
    assert.equal(r.events.filter((e) => e.error).length, 1, 'exactly one error event');

    const reservation = 2 + 40;
    await settledRow(identity, model);
    const u = await usageWhen(identity, (x) => x.requests === 1 && x.tokens >= reservation, `requests 1, tokens ≥ ${reservation}`);
    assert.ok(u.tokens >= reservation);
  });

  test('a client that aborts mid-stream is counted exactly: the provider stream is read to its end after the client left', async () => {
    const identity = uniqueId('abort');
    const model = `slow-long-20-${hexSuffix()}`;
    const ac = new AbortController();
    const res = await fetch(`${BASE}/api/v1/proxy/chat/stream`, {
      method: 'POST',
      headers: { 'x-project-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ identity, model, max_tokens: 30, messages: msgs('hello') }),
      signal: ac.signal,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(proxyHeaderProblems(res), []);
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let seen = '';
    while (!/"content":"chunk0/.test(seen)) {
      const { value, done } = await reader.read();
      assert.ok(!done, `the stream ended before the first content chunk: ${seen}`);
      seen += dec.decode(value, { stream: true });
    }
    ac.abort();
    await reader.cancel().catch(() => {});

    // The mock reports 11 + 20 = 31 tokens at the end of its stream, below
    // the reservation (2 + 30): counted exactly, not at the estimate.
    // (A test stack's lease is short, 3 s + 2 s: when it expires first the
    // object counts the reservation and corrects it once the usage arrives.)
    const exact = 11 + 20;
    const u = await usageWhen(identity, (x) => x.requests === 1 && x.tokens === exact, `requests 1, tokens = ${exact}`);
    assert.equal(u.tokens, exact);
    const row = await waitFor(async () => {
      const r = await settledRow(identity, model);
      return r.input + r.output === exact ? r : false;
    }, { timeoutMs: 15000, message: `usage_daily at ${exact} tokens` });
    assert.equal(row.requests, 1);
    const [rec] = await mockRequests(model);
    assert.equal(rec.outcome, 'ok', 'the provider stream was read to its end');
  });
});
