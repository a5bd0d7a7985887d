import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createClient,
  AIRatelimitError,
  APIError,
  APIConnectionError,
  APIUserAbortError,
  AuthenticationError,
  InvalidRequestError,
  LimiterUnavailableError,
  LimitExceededError,
  PermissionDeniedError,
  ProjectBudgetExceededError,
  ProviderError,
  ProviderTimeoutError,
  ServiceUnavailableError,
  TimeoutError,
} from '../../dist/index.js';
import { fakeFetch, jsonResponse, completion } from '../helpers.mjs';

const opts = { identity: 'user-123', tier: 'free', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };

function client(fetch, extra = {}) {
  return createClient({ baseUrl: 'https://edge.test', projectKey: 'pk_test', fetch, minRetryDelay: 1, maxRetryDelay: 2, ...extra });
}

const BODY_429 = {
  error: 'limit_exceeded',
  message: 'Upgrade now',
  deepLink: 'myapp://upgrade',
  rule: null,
  tier: 'free',
  limitType: 'requests',
  limit: 3,
  usage: 3,
  period: 'day',
  resetAt: '2026-11-28T00:00:00Z',
};

test('chat posts the body to /api/v1/proxy/chat with x-project-key and returns the completion', async () => {
  const ratelimit = { tier: 'free', limits: [], warning: { ruleId: 'r1', message: 'Half used', deepLink: 'myapp://half' } };
  const f = fakeFetch(() =>
    jsonResponse(200, { ...completion('Hello!'), ratelimit }, {
      'x-request-id': 'req_1',
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '2',
      'x-ratelimit-reset': '100',
      'x-ratelimit-policy': '3;w=86400',
      'x-ratelimit-overhead-ms': '2',
    }),
  );
  const res = await client(f).chat({ ...opts, temperature: 0.2, max_tokens: 50, limitType: 'requests' });
  assert.equal(res.choices[0].message.content, 'Hello!');
  assert.deepEqual(res.ratelimit, ratelimit);
  assert.equal(res.requestId, 'req_1');
  assert.deepEqual(res.rateLimit, { limit: 3, remaining: 2, reset: 100, policy: '3;w=86400', warning: null, deepLink: null, overheadMs: 2 });
  const call = f.calls[0];
  assert.equal(call.url, 'https://edge.test/api/v1/proxy/chat');
  assert.equal(call.init.method, 'POST');
  assert.equal(call.headers.get('x-project-key'), 'pk_test');
  assert.equal(call.headers.get('content-type'), 'application/json');
  assert.deepEqual(call.body, { ...opts, temperature: 0.2, max_tokens: 50, limitType: 'requests' });
});

test('SDK-only options (signal, timeout, maxRetries, headers) are not sent in the body; per-call headers are', async () => {
  const f = fakeFetch(() => jsonResponse(200, completion()));
  await client(f, { headers: { 'x-app': 'a' } }).chat({ ...opts, signal: new AbortController().signal, timeout: 5000, maxRetries: 0, headers: { 'x-call': 'c' } });
  assert.deepEqual(f.calls[0].body, opts);
  assert.equal(f.calls[0].headers.get('x-app'), 'a');
  assert.equal(f.calls[0].headers.get('x-call'), 'c');
});

test('the client identityToken is sent and a per-call identityToken overrides it', async () => {
  const f = fakeFetch(() => jsonResponse(200, completion()));
  const c = client(f, { identityToken: 'tok_client' });
  await c.chat({ model: 'm', messages: [] });
  await c.chat({ model: 'm', messages: [], identityToken: 'tok_call' });
  assert.equal(f.calls[0].body.identityToken, 'tok_client');
  assert.equal(f.calls[1].body.identityToken, 'tok_call');
});

test('README example: 429 → LimitExceededError with response.message, deepLink and retryAfter', async () => {
  const f = fakeFetch(() => jsonResponse(429, BODY_429, { 'retry-after': '3600', 'x-request-id': 'req_429' }));
  let caught;
  try {
    await client(f).chat(opts);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof LimitExceededError);
  assert.ok(caught instanceof APIError && caught instanceof AIRatelimitError);
  assert.equal(caught.response.message, 'Upgrade now');
  assert.equal(caught.response.deepLink, 'myapp://upgrade');
  assert.equal(caught.response.retryAfter, 3600);
  assert.equal(caught.response.limit, 3);
  assert.equal(caught.response.resetAt, '2026-11-28T00:00:00Z');
  assert.equal(caught.retryAfter, 3600);
  assert.equal(caught.deepLink, 'myapp://upgrade');
  assert.equal(caught.resetAt.toISOString(), '2026-11-28T00:00:00.000Z');
  assert.equal(caught.status, 429);
  assert.equal(caught.code, 'limit_exceeded');
  assert.equal(caught.requestId, 'req_429');
  assert.equal(caught.message, 'Upgrade now');
  assert.equal(caught.name, 'LimitExceededError');
});

test('429 project_budget_exceeded → ProjectBudgetExceededError (a LimitExceededError) naming the budget, in both envelopes', async () => {
  const body = {
    error: 'project_budget_exceeded',
    message: 'This app has used its day budget of 5 requests',
    budget: 'requests-day',
    limitType: 'requests',
    period: 'day',
    limit: 5,
    usage: 6,
    resetAt: '2026-11-28T00:00:00Z',
    retryAfter: 60,
  };
  const flat = fakeFetch(() => jsonResponse(429, body, { 'retry-after': '60' }));
  const caught = await client(flat).chat(opts).catch((e) => e);
  assert.ok(caught instanceof ProjectBudgetExceededError);
  assert.ok(caught instanceof LimitExceededError);
  assert.equal(caught.name, 'ProjectBudgetExceededError');
  assert.equal(caught.code, 'project_budget_exceeded');
  assert.equal(caught.budget, 'requests-day');
  assert.equal(caught.deepLink, null);
  assert.equal(caught.retryAfter, 60);
  const { error: code, ...inner } = body;
  const openai = fakeFetch(() => jsonResponse(429, { error: { ...inner, type: 'rate_limit_exceeded', code, param: null } }, { 'retry-after': '60' }));
  const viaOpenAi = await client(openai).chat(opts).catch((e) => e);
  assert.ok(viaOpenAi instanceof ProjectBudgetExceededError);
  assert.equal(viaOpenAi.budget, 'requests-day');
  assert.equal(flat.calls.length + openai.calls.length, 2, 'never retried');
});

test('429 is never retried', async () => {
  const f = fakeFetch(() => jsonResponse(429, BODY_429));
  await assert.rejects(() => client(f, { maxRetries: 5 }).chat(opts), LimitExceededError);
  assert.equal(f.calls.length, 1);
});

test('a 429 in the OpenAI error envelope is normalized too', async () => {
  const f = fakeFetch(() =>
    jsonResponse(429, { error: { message: 'Upgrade now', type: 'rate_limit_exceeded', code: 'limit_exceeded', param: null, deepLink: 'myapp://upgrade' } }),
  );
  await assert.rejects(() => client(f).chat(opts), (e) => e instanceof LimitExceededError && e.code === 'limit_exceeded' && e.response.deepLink === 'myapp://upgrade' && e.retryAfter === null);
});

test('status codes map to their error classes and are not retried below 500', async () => {
  const cases = [
    [400, { error: 'invalid_request', message: 'bad tier', field: 'tier' }, InvalidRequestError],
    [413, { error: 'payload_too_large', message: 'too big' }, InvalidRequestError],
    [415, { error: 'unsupported_media_type', message: 'json please' }, InvalidRequestError],
    [401, { error: 'invalid_project_key', message: 'nope' }, AuthenticationError],
    [403, { error: 'origin_not_allowed', message: 'origin' }, PermissionDeniedError],
  ];
  for (const [status, body, cls] of cases) {
    const f = fakeFetch(() => jsonResponse(status, body));
    await assert.rejects(() => client(f).chat(opts), (e) => e instanceof cls && e.status === status && e.code === body.error && e.message === body.message, String(status));
    assert.equal(f.calls.length, 1, `${status} not retried`);
  }
});

test('400 invalid_request exposes the offending field', async () => {
  const f = fakeFetch(() => jsonResponse(400, { error: 'invalid_request', message: 'max_tokens must be positive', field: 'max_tokens' }));
  await assert.rejects(() => client(f).chat(opts), (e) => e instanceof InvalidRequestError && e.field === 'max_tokens');
});

test('502, 503 and 504 map to ProviderError, LimiterUnavailableError / ServiceUnavailableError and ProviderTimeoutError after retries', async () => {
  const cases = [
    [502, 'provider_error', ProviderError],
    [503, 'limiter_unavailable', LimiterUnavailableError],
    [503, 'service_unavailable', ServiceUnavailableError],
    [504, 'provider_timeout', ProviderTimeoutError],
  ];
  for (const [status, code, cls] of cases) {
    const f = fakeFetch(() => jsonResponse(status, { error: code, message: code }));
    await assert.rejects(() => client(f).chat(opts), (e) => e instanceof cls && e.status === status && e.code === code);
    assert.equal(f.calls.length, 3, `${status}: 1 try + 2 retries by default`);
  }
});

test('5xx is retried up to maxRetries then succeeds if the proxy recovers', async () => {
  const f = fakeFetch((_c, i) => (i < 2 ? jsonResponse(503, { error: 'limiter_unavailable', message: 'x' }) : jsonResponse(200, completion('ok'))));
  const res = await client(f).chat(opts);
  assert.equal(res.choices[0].message.content, 'ok');
  assert.equal(f.calls.length, 3);
});

test('maxRetries: 0 makes a single attempt', async () => {
  const f = fakeFetch(() => jsonResponse(502, { error: 'provider_error', message: 'x' }));
  await assert.rejects(() => client(f, { maxRetries: 0 }).chat(opts), ProviderError);
  assert.equal(f.calls.length, 1);
});

test('a network error is retried and then surfaces as APIConnectionError', async () => {
  const f = fakeFetch(() => {
    throw new TypeError('fetch failed');
  });
  await assert.rejects(() => client(f, { maxRetries: 3 }).chat(opts), (e) => e instanceof APIConnectionError && !(e instanceof TimeoutError) && /fetch failed/.test(e.message));
  assert.equal(f.calls.length, 4);
});

test('a network error followed by success returns the completion', async () => {
  const f = fakeFetch((_c, i) => {
    if (i === 0) throw new TypeError('ECONNRESET');
    return jsonResponse(200, completion('second try'));
  });
  assert.equal((await client(f).chat(opts)).choices[0].message.content, 'second try');
});

test('a slow answer past the timeout aborts the fetch and throws TimeoutError (not retried)', async () => {
  let sawAbort = false;
  const f = fakeFetch(
    (call) =>
      new Promise((_resolve, reject) => {
        call.init.signal.addEventListener('abort', () => {
          sawAbort = true;
          reject(new DOMException('aborted', 'AbortError'));
        });
      }),
  );
  const started = Date.now();
  await assert.rejects(() => client(f, { timeout: 30 }).chat(opts), TimeoutError);
  assert.ok(Date.now() - started < 1000);
  assert.equal(sawAbort, true);
  assert.equal(f.calls.length, 1);
});

test('the timeout fires even when the fetch ignores its signal', async () => {
  const f = fakeFetch(() => new Promise(() => {}));
  await assert.rejects(() => client(f, { timeout: 20 }).chat(opts), TimeoutError);
});

test('aborting the signal of chat() throws APIUserAbortError', async () => {
  const f = fakeFetch(() => new Promise(() => {}));
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(() => client(f).chat({ ...opts, signal: ac.signal }), APIUserAbortError);
});

test('usage() builds GET /api/v1/usage?identity=…&tier=… with the project key', async () => {
  const body = { identity: 'user 1/é', tier: 'free', limits: [{ limitType: 'requests', period: 'day', model: null, limit: 3, used: 1, remaining: 2, resetAt: '2026-01-01T00:00:00Z' }] };
  const f = fakeFetch(() => jsonResponse(200, body));
  const res = await client(f).usage('user 1/é', { tier: 'free' });
  assert.deepEqual(res, body);
  const url = new URL(f.calls[0].url);
  assert.equal(url.pathname, '/api/v1/usage');
  assert.equal(url.searchParams.get('identity'), 'user 1/é');
  assert.equal(url.searchParams.get('tier'), 'free');
  assert.equal(f.calls[0].init.method, 'GET');
  assert.equal(f.calls[0].headers.get('x-project-key'), 'pk_test');
  assert.equal(f.calls[0].init.body, undefined);
});

test('usage() with an identity token sends x-identity-token and no identity query', async () => {
  const f = fakeFetch(() => jsonResponse(200, { identity: 'u', tier: 'pro', limits: [] }));
  await client(f).usage(null, { identityToken: 'jwt.tok.en' });
  assert.equal(f.calls[0].url, 'https://edge.test/api/v1/usage');
  assert.equal(f.calls[0].headers.get('x-identity-token'), 'jwt.tok.en');
});

test('usage() without identity or token throws before any request', async () => {
  const f = fakeFetch(() => jsonResponse(200, {}));
  await assert.rejects(() => client(f).usage(), AIRatelimitError);
  assert.equal(f.calls.length, 0);
});

test('a trailing slash in baseUrl is ignored', async () => {
  const f = fakeFetch(() => jsonResponse(200, completion()));
  await createClient({ baseUrl: 'https://edge.test///', projectKey: 'pk', fetch: f }).chat(opts);
  assert.equal(f.calls[0].url, 'https://edge.test/api/v1/proxy/chat');
});

test('createClient without baseUrl or projectKey throws', () => {
  assert.throws(() => createClient({ projectKey: 'pk' }), AIRatelimitError);
  assert.throws(() => createClient({ baseUrl: 'https://x' }), AIRatelimitError);
});

test('a non-JSON error body still yields the mapped error class', async () => {
  const f = fakeFetch(() => new Response('Bad Gateway', { status: 502 }));
  await assert.rejects(() => client(f, { maxRetries: 0 }).chat(opts), (e) => e instanceof ProviderError && e.status === 502);
});

test('chat surfaces the warning from the body and the percent-decoded warning header', async () => {
  const warning = { ruleId: 'r1', message: 'Half used — ½', deepLink: 'myapp://half' };
  const f = fakeFetch(() =>
    jsonResponse(200, { ...completion(), ratelimit: { tier: 'free', limits: [], warning } }, {
      'x-ratelimit-warning': encodeURIComponent('Half used — ½'),
      'x-ratelimit-deeplink': 'myapp://half',
    }),
  );
  const res = await client(f).chat(opts);
  assert.deepEqual(res.ratelimit.warning, warning);
  assert.equal(res.rateLimit.warning, 'Half used — ½');
  assert.equal(res.rateLimit.deepLink, 'myapp://half');
});

test('an unlimited answer without limit headers gives nulls, not NaN', async () => {
  const res = await client(fakeFetch(() => jsonResponse(200, completion()))).chat(opts);
  assert.deepEqual(res.rateLimit, { limit: null, remaining: null, reset: null, policy: null, warning: null, deepLink: null, overheadMs: null });
  assert.equal(res.ratelimit, null);
});
