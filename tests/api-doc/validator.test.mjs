// The checker the integration tests run on every answer (validator.mjs)
// really refuses answers that disagree with docs/openapi.yaml, and accepts
// the ones that agree. No stack needed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiDocument, assertExchange, checkExchange } from './validator.mjs';

const json = (extra = {}) => new Headers({ 'content-type': 'application/json', ...extra });
const proxyHeaders = (extra = {}) => json({ 'x-request-id': 'req_abc', 'x-ratelimit-overhead-ms': '3', ...extra });

function limitExceeded(overrides = {}) {
  const body = {
    error: 'limit_exceeded',
    message: 'Upgrade now',
    deepLink: 'myapp://upgrade',
    rule: null,
    tier: 'free',
    limitType: 'requests',
    limit: 3,
    usage: 3,
    period: 'day',
    resetAt: '2026-12-02T00:00:00Z',
    retryAfter: 3600,
    ...overrides,
  };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete body[k];
  return body;
}

const blocked = (body, headers = proxyHeaders({ 'retry-after': '3600' })) => ({
  method: 'POST',
  url: 'http://127.0.0.1:3000/api/v1/proxy/chat',
  status: 429,
  headers,
  text: JSON.stringify(body),
});

const usage = (remaining) => ({
  method: 'GET',
  url: '/api/v1/usage?identity=u1',
  status: 200,
  headers: json(),
  text: JSON.stringify({
    identity: 'u1',
    tier: 'free',
    limits: [{ limitType: 'requests', period: 'day', model: null, limit: 3, used: 1, remaining, resetAt: '2026-12-02T00:00:00Z' }],
  }),
});

describe('the answer checker', () => {
  test('a 429 with every documented field passes; without resetAt it is refused with the operation and the ajv error', () => {
    assert.deepEqual(checkExchange(blocked(limitExceeded())).problems, []);
    assert.throws(
      () => assertExchange(blocked(limitExceeded({ resetAt: undefined }))),
      (e) => /POST \/api\/v1\/proxy\/chat \(proxyChat\)/.test(e.message) && /status: 429/.test(e.message) && /must have required property 'resetAt'/.test(e.message),
    );
  });

  test('an error may not grow undocumented fields', () => {
    assert.match(checkExchange(blocked(limitExceeded({ quota: 5 }))).problems.join('\n'), /unevaluated properties.*quota/);
    const unauthorized = { method: 'GET', url: '/api/projects', status: 401, headers: json() };
    assert.deepEqual(checkExchange({ ...unauthorized, text: '{"error":"unauthorized","message":"Sign in"}' }).problems, []);
    assert.notDeepEqual(checkExchange({ ...unauthorized, text: '{"error":"unauthorized","message":"Sign in","stack":"at …"}' }).problems, []);
  });

  test('a 429 without retry-after is refused', () => {
    const r = checkExchange(blocked(limitExceeded(), proxyHeaders()));
    assert.match(r.problems.join('\n'), /required header `retry-after` is missing/);
  });

  test("the OpenAI envelope's 429 needs type rate_limit_exceeded and the 429 fields inside `error`", () => {
    const inner = { ...limitExceeded(), message: 'Upgrade now', type: 'rate_limit_exceeded', code: 'limit_exceeded', param: null };
    delete inner.error;
    const ex = (e) => ({ ...blocked({ error: e }), url: '/v1/chat/completions' });
    assert.deepEqual(checkExchange(ex(inner)).problems, []);
    assert.notDeepEqual(checkExchange(ex({ ...inner, type: 'invalid_request_error' })).problems, []);
    const { resetAt: _r, ...withoutReset } = inner;
    assert.notDeepEqual(checkExchange(ex(withoutReset)).problems, []);
    // The flat shape is not accepted on /v1/.
    assert.notDeepEqual(checkExchange({ ...blocked(limitExceeded()), url: '/v1/chat/completions' }).problems, []);
  });

  test('a usage answer with `remaining` as a string is refused, as an integer accepted', () => {
    assert.deepEqual(checkExchange(usage(2)).problems, []);
    const r = checkExchange(usage('2'));
    assert.match(r.problems.join('\n'), /\/limits\/0\/remaining must be integer,null/);
  });

  test('a status the operation does not document is refused', () => {
    const r = checkExchange({ method: 'GET', url: '/api/auth/me', status: 404, headers: json(), text: '{"error":"not_found","message":"x"}' });
    assert.match(r.problems.join('\n'), /status 404 is not documented/);
  });

  test('a documented error code is checked: 401 on the owner API must be `unauthorized`', () => {
    const ok = { method: 'GET', url: '/api/projects', status: 401, headers: json(), text: '{"error":"unauthorized","message":"Sign in"}' };
    assert.deepEqual(checkExchange(ok).problems, []);
    assert.notDeepEqual(checkExchange({ ...ok, text: '{"error":"invalid_project_key","message":"x"}' }).problems, []);
  });

  test('each event of a stream is checked against the chunk schema', () => {
    const chunk = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] };
    const stream = (events) => ({
      method: 'POST',
      url: '/api/v1/proxy/chat/stream',
      status: 200,
      headers: proxyHeaders({ 'content-type': 'text/event-stream; charset=utf-8' }),
      text: events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join(''),
    });
    assert.deepEqual(checkExchange(stream([chunk, '[DONE]'])).problems, []);
    assert.deepEqual(checkExchange(stream([chunk, { error: { message: 'boom', type: 'provider_error' } }])).problems, []);
    const r = checkExchange(stream([{ ...chunk, object: 'chat.completion' }, '[DONE]']));
    assert.match(r.problems.join('\n'), /event 0 does not match/);
  });

  test('a request body the server accepted but the document refuses is reported', () => {
    const answer = { method: 'POST', url: '/api/projects/prj_1/rules', status: 201, headers: json() };
    const rule = { name: 'r', condition: { type: 'tier', tiers: ['free'] }, action: { type: 'warn' } };
    const created = { ...answer, text: JSON.stringify({ id: 'rule_1', enabled: true, priority: 0, ...rule }) };
    assert.deepEqual(checkExchange({ ...created, requestBody: rule }).problems, []);
    const r = checkExchange({ ...created, requestBody: { ...rule, colour: 'red' } });
    assert.match(r.problems.join('\n'), /accepted a request body the document refuses/);
    // A refused request (4xx) is never held against the document.
    const refused = { ...answer, status: 400, text: '{"error":"invalid_request","message":"x","field":"colour"}' };
    assert.deepEqual(checkExchange({ ...refused, requestBody: { ...rule, colour: 'red' } }).problems, []);
  });

  test('query parameters of an accepted request must be documented and valid by their schema', () => {
    const days = (q) => ({ method: 'GET', url: `/api/projects/prj_1/usage/timeseries${q}`, status: 200, headers: json(), text: '[]' });
    assert.deepEqual(checkExchange(days('?days=7')).problems, []);
    assert.match(checkExchange(days('?days=0')).problems.join('\n'), /accepted `days=0`/);
    assert.match(checkExchange(days('?colour=red')).problems.join('\n'), /query parameter `colour`/);
    // A refused request is not held against the document.
    const refused = { ...days('?days=0'), status: 400, text: '{"error":"invalid_request","message":"x","field":"days"}' };
    assert.deepEqual(checkExchange(refused).problems, []);
  });

  test('a 204 must have no body, and a project answer may not grow undocumented fields', () => {
    assert.deepEqual(checkExchange({ method: 'DELETE', url: '/api/projects/prj_1', status: 204, headers: new Headers(), text: '' }).problems, []);
    assert.notDeepEqual(checkExchange({ method: 'DELETE', url: '/api/projects/prj_1', status: 204, headers: new Headers(), text: '{}' }).problems, []);
    const project = {
      id: 'prj_1', name: 'p', provider: 'openai', baseUrl: 'https://api.openai.com/v1', baseUrlOverride: null, providerApiKeyHint: null,
      projectKey: 'pk_x', defaultTier: 'free', tiers: { free: { requests: { limit: 3, period: 'day' } } }, requireSignedIdentity: false,
      allowedOrigins: [], tierSource: 'request', anonymousLimits: null, modelPrices: {}, tierPrices: {},
      upgradeFunnel: { trackedRedirect: false, tierOrder: [] }, createdAt: '2026-12-01T00:00:00Z', updatedAt: '2026-12-01T00:00:00Z',
    };
    const get = (body) => ({ method: 'GET', url: '/api/projects/prj_1', status: 200, headers: json(), text: JSON.stringify(body) });
    assert.deepEqual(checkExchange(get(project)).problems, []);
    assert.notDeepEqual(checkExchange(get({ ...project, secretKey: 'sk_leak' })).problems, []);
  });

  test('unknown paths must answer the generic 404 (OpenAI envelope under /v1/); the mock is never checked by the helpers', () => {
    assert.deepEqual(checkExchange({ method: 'GET', url: '/nope', status: 404, headers: json(), text: '{"error":"not_found","message":"Route not found"}' }).problems, []);
    assert.notDeepEqual(checkExchange({ method: 'GET', url: '/nope', status: 200, headers: json(), text: '{}' }).problems, []);
    const v1 = { method: 'GET', url: '/v1/models', status: 404, headers: json() };
    assert.deepEqual(checkExchange({ ...v1, text: '{"error":{"message":"Route not found","type":"not_found_error","code":"not_found","param":null}}' }).problems, []);
    assert.notDeepEqual(checkExchange({ ...v1, text: '{"error":"not_found","message":"x"}' }).problems, []);
    assert.match(checkExchange({ method: 'PUT', url: '/api/projects', status: 405, headers: json(), text: '{"error":"method_not_allowed","message":"x"}' }).problems.join('\n'), /allow/);
  });
});

describe('the document', () => {
  // The routes the Worker serves (method, path template).
  const ROUTES = `
    GET /healthz
    POST /api/v1/proxy/chat
    POST /api/v1/proxy/chat/stream
    POST /v1/chat/completions
    POST /v1/responses
    POST /v1/messages
    POST /v1/embeddings
    POST /api/v1/proxy/embeddings
    GET /api/v1/usage
    GET /r/{token}
    POST /api/auth/magic-link
    POST /api/auth/verify
    GET /api/auth/me
    POST /api/auth/sign-out-all
    GET,POST /api/projects
    GET,PATCH,DELETE /api/projects/{id}
    POST /api/projects/{id}/keys/rotate
    POST /api/projects/{id}/secret/rotate
    GET /api/rule-templates
    GET,POST /api/projects/{id}/rules
    POST /api/projects/{id}/rules/simulate
    PATCH,DELETE /api/projects/{id}/rules/{ruleId}
    GET /api/projects/{id}/usage/summary
    GET /api/projects/{id}/usage/by-identity
    GET /api/projects/{id}/usage/timeseries
    GET /api/projects/{id}/analytics/rule-triggers
    GET /api/projects/{id}/analytics/recent-triggers
    GET /api/projects/{id}/analytics/costs
    GET /api/projects/{id}/prices
    GET /api/projects/{id}/analytics/funnel
    GET /api/projects/{id}/identities/{identity}
    POST /api/projects/{id}/identities/{identity}/reset
    GET /api/v1/identities
    GET,PATCH,DELETE /api/v1/identities/{identity}
    POST /api/v1/identities/{identity}/credits
    GET /api/projects/{id}/identity-records
    GET,PATCH,DELETE /api/projects/{id}/identity-records/{identity}
    POST /api/projects/{id}/identity-records/{identity}/credits
    GET,POST /api/projects/{id}/webhooks
    PATCH,DELETE /api/projects/{id}/webhooks/{webhookId}
    POST /api/projects/{id}/webhooks/{webhookId}/secret/rotate
    POST /api/projects/{id}/webhooks/{webhookId}/test
    GET /api/projects/{id}/webhook-deliveries
    POST /api/projects/{id}/webhook-deliveries/{deliveryId}/redeliver
    GET,POST /api/projects/{id}/budgets
    DELETE /api/projects/{id}/budgets/{budgetId}`
    .trim()
    .split('\n')
    .flatMap((line) => {
      const [methods, p] = line.trim().split(/\s+/);
      return methods.split(',').map((m) => [m.toLowerCase(), p]);
    });

  test('documents every route, and only those, each with an operationId and a 2xx (or, for a redirect, 3xx) answer', () => {
    const doc = apiDocument().doc;
    const documented = Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.keys(item)
        .filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
        .map((m) => [m, p]),
    );
    const key = ([m, p]) => `${m.toUpperCase()} ${p}`;
    assert.deepEqual(documented.map(key).sort(), ROUTES.map(key).sort());
    for (const [m, p] of documented) {
      const op = doc.paths[p][m];
      assert.ok(op.operationId, `${key([m, p])} has an operationId`);
      assert.ok(Object.keys(op.responses).some((s) => /^[23]/.test(s)), `${key([m, p])} documents a success`);
    }
  });

  test('every schema of the document compiles, and every $ref resolves', () => {
    const d = apiDocument();
    for (const name of Object.keys(d.doc.components.schemas)) {
      assert.doesNotThrow(() => d.validator(`#/components/schemas/${name}`, { $ref: `#/components/schemas/${name}` }), name);
    }
    const refs = [];
    const walk = (o) => {
      if (Array.isArray(o)) o.forEach(walk);
      else if (o && typeof o === 'object') {
        if (typeof o.$ref === 'string') refs.push(o.$ref);
        Object.values(o).forEach(walk);
      }
    };
    walk(d.doc);
    for (const ref of refs) assert.ok(d.resolve({ $ref: ref }), `${ref} resolves`);
  });

  test('every error code the server uses is documented with its status', () => {
    const text = JSON.stringify(apiDocument().doc);
    for (const code of [
      'invalid_json', 'invalid_request', 'missing_project_key', 'invalid_project_key', 'invalid_identity_token', 'unauthorized',
      'invalid_token', 'origin_not_allowed', 'not_found', 'method_not_allowed', 'payload_too_large', 'unsupported_media_type',
      'limit_exceeded', 'rate_limited', 'internal_error', 'provider_error', 'limiter_unavailable', 'provider_timeout',
    ]) {
      assert.ok(text.includes(`"${code}"`), code);
    }
  });
});
