// Integration tests against a running stack (Worker + mock provider).
// They run only when AIRL_BASE_URL and AIRL_PROJECT_KEY are set; the root test
// runner sets them and creates the project: tier `free` = 3 requests/day with
// limitMessage {message: "Upgrade now", deepLink: "myapp://upgrade"}, and a warn
// rule at >= 50 % requests on `free` ("Half used", "myapp://half"). The project
// uses the mock provider, whose `usage-<prompt>-<completion>` models report fixed usage.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, LimitExceededError } from '../dist/index.js';
import { checkExchange } from '../../tests/api-doc/validator.mjs';

const BASE_URL = process.env.AIRL_BASE_URL;
const PROJECT_KEY = process.env.AIRL_PROJECT_KEY;
const skip = !BASE_URL || !PROJECT_KEY ? 'AIRL_BASE_URL and AIRL_PROJECT_KEY are not set: skipping SDK integration tests (run them through the root test runner)' : false;

const MODEL = 'usage-10-5';
let n = 0;
const newIdentity = () => `sdk-${Date.now()}-${process.pid}-${n++}`;

// Every answer the SDK receives is checked against docs/openapi.yaml (in the
// background, so streams reach the SDK untouched); mismatches fail the file.
const pending = [];
async function checkedFetch(url, init = {}) {
  const res = await fetch(url, init);
  let requestBody;
  try {
    requestBody = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
  } catch {
    requestBody = undefined;
  }
  pending.push(
    res
      .clone()
      .text()
      .then(
        (text) => {
          const r = checkExchange({ method: init.method || 'GET', url: String(url), requestBody, status: res.status, headers: res.headers, text });
          return r.problems.length ? `${r.operation} → ${res.status}\n  ${r.problems.join('\n  ')}` : null;
        },
        () => null, // aborted by the test: a partial body is not checked
      ),
  );
  return res;
}
after(async () => {
  const problems = (await Promise.all(pending)).filter(Boolean);
  assert.deepEqual(problems, [], 'answers that disagree with docs/openapi.yaml');
});

const client = skip ? null : createClient({ baseUrl: BASE_URL, projectKey: PROJECT_KEY, timeout: 30_000, fetch: checkedFetch });
const ask = (identity, extra = {}) => ({ identity, tier: 'free', model: MODEL, messages: [{ role: 'user', content: 'Hello' }], ...extra });

describe('SDK against a running stack', { skip, timeout: 120_000 }, () => {
  test('chat returns the completion with the ratelimit body, headers and request id', async () => {
    const id = newIdentity();
    const res = await client.chat(ask(id));
    assert.equal(res.object, 'chat.completion');
    assert.equal(typeof res.choices[0].message.content, 'string');
    assert.ok(res.requestId, 'x-request-id present');
    assert.equal(res.ratelimit.tier, 'free');
    assert.equal(res.ratelimit.warning, null, 'no warning at 1/3');
    const day = res.ratelimit.limits.find((l) => l.limitType === 'requests' && l.period === 'day' && l.model === null);
    assert.ok(day, 'requests/day entry');
    assert.equal(day.limit, 3);
    assert.equal(day.used, 1);
    assert.equal(res.rateLimit.limit, 3);
    assert.equal(res.rateLimit.remaining, 2);
    assert.ok(res.rateLimit.reset >= 1);
  });

  test('stream yields text, then usage from the last chunk, and completes with [DONE]', async () => {
    const stream = client.chatStream(ask(newIdentity()));
    let text = '';
    for await (const piece of stream) text += piece;
    assert.equal(text, stream.finalText);
    assert.ok(text.length > 0, 'some text streamed');
    assert.equal(stream.completed, true);
    assert.ok(stream.usage, 'usage available after iteration');
    assert.ok(stream.usage.total_tokens > 0);
    assert.ok(stream.requestId);
    assert.equal(stream.rateLimit.limit, 3);
  });

  test('the second request of three surfaces the "Half used" warning in body, headers and stream', async () => {
    const id = newIdentity();
    const first = await client.chat(ask(id));
    assert.equal(first.ratelimit.warning, null);
    const second = await client.chat(ask(id));
    assert.equal(second.ratelimit.warning.message, 'Half used');
    assert.equal(second.ratelimit.warning.deepLink, 'myapp://half');
    assert.equal(second.rateLimit.warning, 'Half used');
    assert.equal(second.rateLimit.deepLink, 'myapp://half');
    const third = client.chatStream(ask(id));
    await third.text();
    assert.deepEqual(third.warning, { message: 'Half used', deepLink: 'myapp://half' });
  });

  test('the fourth request throws LimitExceededError with the tier message and deep link', async () => {
    const id = newIdentity();
    for (let i = 0; i < 3; i++) await client.chat(ask(id));
    const err = await client.chat(ask(id)).then(
      () => assert.fail('expected a 429'),
      (e) => e,
    );
    assert.ok(err instanceof LimitExceededError, `got ${err?.name}: ${err?.message}`);
    assert.equal(err.status, 429);
    assert.equal(err.code, 'limit_exceeded');
    assert.equal(err.response.message, 'Upgrade now');
    assert.equal(err.response.deepLink, 'myapp://upgrade');
    assert.equal(err.response.tier, 'free');
    assert.equal(err.response.limitType, 'requests');
    assert.equal(err.response.limit, 3);
    assert.equal(err.response.usage, 3);
    assert.equal(err.response.period, 'day');
    assert.ok(err.retryAfter > 0, 'retry-after parsed');
    assert.ok(!Number.isNaN(Date.parse(err.response.resetAt)));
    // A stream is refused the same way, before any event.
    await assert.rejects(() => client.chatStream(ask(id)).text(), (e) => e instanceof LimitExceededError && e.response.deepLink === 'myapp://upgrade');
  });

  test('usage() reports the requests used today for the identity', async () => {
    const id = newIdentity();
    await client.chat(ask(id));
    await client.chat(ask(id));
    const usage = await client.usage(id, { tier: 'free' });
    assert.equal(usage.identity, id);
    assert.equal(usage.tier, 'free');
    const day = usage.limits.find((l) => l.limitType === 'requests' && l.period === 'day' && l.model === null);
    assert.ok(day, 'requests/day entry');
    assert.equal(day.limit, 3);
    assert.equal(day.used, 2);
    assert.equal(day.remaining, 1);
  });

  test('a fresh identity has used nothing', async () => {
    const usage = await client.usage(newIdentity(), { tier: 'free' });
    const day = usage.limits.find((l) => l.limitType === 'requests' && l.period === 'day' && l.model === null);
    assert.equal(day.used, 0);
    assert.equal(day.remaining, 3);
  });

  test("a baseUrl ending in /api (the original product's form) reaches the same Worker", async () => {
    const legacy = createClient({ baseUrl: `${BASE_URL}/api/`, projectKey: PROJECT_KEY, timeout: 30_000, fetch: checkedFetch });
    const id = newIdentity();
    await legacy.chat(ask(id));
    const usage = await client.usage(id, { tier: 'free' });
    assert.equal(usage.limits.find((l) => l.limitType === 'requests' && l.model === null).used, 1);
  });
});
