// The proxy's errors (docs/API.md, "Errors",
// "POST /v1/chat/completions" and "Signed identities"): the 4xx table, OpenAI's
// envelope on /v1, the provider deadline, allowed origins, signed identities.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import {
  api,
  createProject,
  hexSuffix,
  identityUsage,
  login,
  mockRequests,
  proxyChat,
  proxyHeaderProblems,
  signJwt,
  uniqueId,
  usageEntry,
} from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const msgs = [{ role: 'user', content: 'hello' }];
const PROVIDER_KEY = `sk-err-${hexSuffix(8)}`;

let owner;
let project; // plain project: free 1/day (to get 429s), pro 1000/day
let key;

before(async () => {
  owner = await login();
  project = await createProject(owner, {
    providerApiKey: PROVIDER_KEY,
    tiers: {
      free: { requests: { limit: 1, period: 'day' }, limitMessage: { message: 'Upgrade now', deepLink: 'myapp://upgrade' } },
      pro: { requests: { limit: 1000, period: 'day' } },
    },
  });
  key = project.projectKey;
});

function assertError(res, status, code, extra = {}, { proxied = true } = {}) {
  assert.equal(res.status, status, `${res.status} ${res.text}`);
  assert.equal(res.body?.error, code, res.text);
  assert.equal(typeof res.body.message, 'string', res.text);
  for (const [k, v] of Object.entries(extra)) assert.deepEqual(res.body[k], v, `${k}: ${res.text}`);
  if (proxied) assert.ok(res.headers.get('x-request-id'), 'x-request-id on an error');
}

function assertEnvelope(res, status, type, code, extra = {}) {
  assert.equal(res.status, status, `${res.status} ${res.text}`);
  const e = res.body?.error;
  assert.equal(typeof e, 'object', res.text);
  assert.equal(typeof e.message, 'string', res.text);
  assert.equal(e.type, type, res.text);
  assert.equal(e.code, code, res.text);
  assert.ok('param' in e, `param missing: ${res.text}`);
  // The contract shows `param: null`; naming the offending field there (as OpenAI does) is tolerated.
  if (e.field !== undefined) assert.ok(e.param === null || e.param === e.field, `param: ${res.text}`);
  else assert.equal(e.param, null, res.text);
  for (const [k, v] of Object.entries(extra)) assert.deepEqual(e[k], v, `${k}: ${res.text}`);
}

describe('proxy 4xx table', () => {
  const chat = (body, opts) => proxyChat(key, body, opts);

  test('400 invalid_json for a body that is not JSON', async () => {
    const r = await api('/api/v1/proxy/chat', {
      body: '{"model": "x", ',
      headers: { 'x-project-key': key, 'content-type': 'application/json' },
    });
    assertError(r, 400, 'invalid_json');
  });

  test('400 invalid_request with `field` for missing or wrong fields', async () => {
    const identity = uniqueId('bad');
    const model = `usage-1-1-${hexSuffix()}`;
    const cases = [
      [{ identity, messages: msgs }, 'model'],
      [{ identity, model }, 'messages'],
      [{ identity, model, messages: [] }, 'messages'],
      [{ model, messages: msgs }, 'identity'],
      [{ identity: '', model, messages: msgs }, 'identity'],
      [{ identity: 'a'.repeat(257), model, messages: msgs }, 'identity'],
      [{ identity: 'bad\u0001id', model, messages: msgs }, 'identity'],
      [{ identity, model, messages: msgs, max_tokens: 0 }, 'max_tokens'],
      [{ identity, model, messages: msgs, max_tokens: -5 }, 'max_tokens'],
      [{ identity, model, messages: msgs, max_tokens: 1.5 }, 'max_tokens'],
      [{ identity, model, messages: msgs, max_tokens: 'ten' }, 'max_tokens'],
      [{ identity, model, messages: msgs, max_completion_tokens: 0 }, 'max_completion_tokens'],
      [{ identity, model, messages: msgs, tier: 'gold' }, 'tier'],
    ];
    for (const [body, field] of cases) {
      const r = await chat(body);
      assertError(r, 400, 'invalid_request', { field });
    }
    // Nothing was forwarded for any of them.
    assert.equal((await mockRequests(model)).length, 0);
  });

  test('401 missing_project_key / invalid_project_key (same body for unknown and malformed)', async () => {
    const body = { identity: uniqueId('k'), model: 'gpt-x', messages: msgs };
    assertError(await api('/api/v1/proxy/chat', { body }), 401, 'missing_project_key');
    const unknown = await proxyChat(`pk_${hexSuffix(16)}`, body);
    assertError(unknown, 401, 'invalid_project_key');
    const malformed = await proxyChat('not-a-key', body);
    assertError(malformed, 401, 'invalid_project_key');
    assert.equal(malformed.body.message, unknown.body.message);
    assert.deepEqual(Object.keys(malformed.body).sort(), Object.keys(unknown.body).sort());
    // /api/v1/usage too.
    assertError(await api(`/api/v1/usage?identity=x`), 401, 'missing_project_key', {}, { proxied: false });
    assertError(await api(`/api/v1/usage?identity=x`, { headers: { 'x-project-key': 'pk_nope' } }), 401, 'invalid_project_key', {}, { proxied: false });
  });

  test('413 payload_too_large for a body over 1 MiB', async () => {
    const big = JSON.stringify({ identity: uniqueId('big'), model: 'gpt-x', messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024 + 10) }] });
    const r = await api('/api/v1/proxy/chat', { body: big, headers: { 'x-project-key': key, 'content-type': 'application/json' } });
    assertError(r, 413, 'payload_too_large');
  });

  test('415 unsupported_media_type for text/plain', async () => {
    const r = await api('/api/v1/proxy/chat', {
      body: JSON.stringify({ identity: 'x', model: 'gpt-x', messages: msgs }),
      headers: { 'x-project-key': key, 'content-type': 'text/plain' },
    });
    assertError(r, 415, 'unsupported_media_type');
  });
});

describe('OpenAI envelope on /v1/chat/completions', () => {
  const v1 = (body, headers = {}) => api('/v1/chat/completions', { body, headers, timeoutMs: 30000 });

  test('401 → authentication_error', async () => {
    const body = { model: 'gpt-x', messages: msgs };
    assertEnvelope(await v1(body, { 'x-identity': 'x' }), 401, 'authentication_error', 'missing_project_key');
    assertEnvelope(await v1(body, { authorization: 'Bearer pk_nope', 'x-identity': 'x' }), 401, 'authentication_error', 'invalid_project_key');
  });

  test('400/413/415 → invalid_request_error', async () => {
    const auth = { authorization: `Bearer ${key}` };
    const r = await v1({ model: 'gpt-x', messages: msgs }, auth); // no x-identity
    assertEnvelope(r, 400, 'invalid_request_error', 'invalid_request', { field: 'identity' });
    const j = await api('/v1/chat/completions', { body: '{', headers: { ...auth, 'content-type': 'application/json' } });
    assertEnvelope(j, 400, 'invalid_request_error', 'invalid_json');
    const t = await v1({ model: 'gpt-x', messages: msgs }, { ...auth, 'x-identity': 'x', 'x-tier': 'gold' });
    assertEnvelope(t, 400, 'invalid_request_error', 'invalid_request', { field: 'tier' });
    const p = await api('/v1/chat/completions', { body: 'hi', headers: { ...auth, 'content-type': 'text/plain' } });
    assertEnvelope(p, 415, 'invalid_request_error', 'unsupported_media_type');
    const big = JSON.stringify({ model: 'gpt-x', messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024 + 10) }] });
    const b = await api('/v1/chat/completions', { body: big, headers: { ...auth, 'x-identity': 'x', 'content-type': 'application/json' } });
    assertEnvelope(b, 413, 'invalid_request_error', 'payload_too_large');
  });

  test('429 → rate_limit_exceeded with the 429 fields inside `error`', async () => {
    const identity = uniqueId('env429');
    const model = `usage-2-2-${hexSuffix()}`;
    const headers = { authorization: `Bearer ${key}`, 'x-identity': identity };
    const ok = await v1({ model, messages: msgs }, headers);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(proxyHeaderProblems(ok), []);
    const r = await v1({ model, messages: msgs }, headers);
    assertEnvelope(r, 429, 'rate_limit_exceeded', 'limit_exceeded', {
      deepLink: 'myapp://upgrade',
      message: 'Upgrade now',
      tier: 'free',
      limitType: 'requests',
      limit: 1,
      usage: 1,
      period: 'day',
      rule: null,
    });
    assert.match(r.body.error.resetAt, /^\d{4}-\d\d-\d\dT00:00:00(\.000)?Z$/);
    assert.match(r.headers.get('retry-after') || '', /^\d+$/);
    assert.deepEqual(proxyHeaderProblems(r), []);
    assert.equal((await mockRequests(model)).length, 1);
  });

  test('502 → api_error with provider and status', async () => {
    const r = await v1({ model: `error-500-${hexSuffix()}`, messages: msgs }, { authorization: `Bearer ${key}`, 'x-identity': uniqueId('e'), 'x-tier': 'pro' });
    assertEnvelope(r, 502, 'api_error', 'provider_error', { status: 500, provider: 'openai' });
    assert.ok(!r.text.includes(PROVIDER_KEY));
  });
});

/** The provider deadline the running Worker uses (env override, .dev.vars, wrangler.toml). */
function configuredProviderTimeoutMs() {
  if (process.env.AIRL_PROVIDER_TIMEOUT_MS) return Number(process.env.AIRL_PROVIDER_TIMEOUT_MS);
  try {
    const m = /^\s*PROVIDER_TIMEOUT_MS\s*=\s*"?(\d+)"?/m.exec(fs.readFileSync(path.join(ROOT, '.dev.vars'), 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // no .dev.vars
  }
  const toml = fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
  const vars = toml.split(/^\[(?!vars\])/m)[0];
  const m = /^\s*PROVIDER_TIMEOUT_MS\s*=\s*"?(\d+)"?/m.exec(vars.slice(vars.indexOf('[vars]')));
  return m ? Number(m[1]) : 60000;
}

const TIMEOUT_MS = configuredProviderTimeoutMs();
const TIMEOUT_SKIP =
  TIMEOUT_MS > 15000
    ? `PROVIDER_TIMEOUT_MS is ${TIMEOUT_MS} ms for the running Worker (wrangler.toml [vars]); a 504 test needs the stack started with a short deadline (e.g. AIRL_PROVIDER_TIMEOUT_MS=3000 passed to wrangler dev as --var)`
    : false;

describe('provider deadline', () => {
  test('504 provider_timeout when the provider never answers; not counted', { skip: TIMEOUT_SKIP }, async () => {
    const identity = uniqueId('hang');
    const model = `hang-${hexSuffix()}`;
    const t0 = Date.now();
    const r = await proxyChat(key, { identity, tier: 'pro', model, messages: msgs }, { timeoutMs: TIMEOUT_MS + 20000 });
    const took = Date.now() - t0;
    assertError(r, 504, 'provider_timeout');
    assert.ok(took >= TIMEOUT_MS - 50, `answered after ${took} ms, before the ${TIMEOUT_MS} ms deadline`);
    assert.ok(took < TIMEOUT_MS + 10000, `answered after ${took} ms`);
    assert.deepEqual(proxyHeaderProblems(r), []);
    const env = await api('/v1/chat/completions', {
      body: { model, messages: msgs },
      headers: { authorization: `Bearer ${key}`, 'x-identity': identity, 'x-tier': 'pro' },
      timeoutMs: TIMEOUT_MS + 20000,
    });
    assertEnvelope(env, 504, 'api_error', 'provider_timeout');
    const u = await identityUsage(key, identity, { tier: 'pro' });
    assert.equal(usageEntry(u, 'requests').used, 0, 'a timed-out request was counted');
  });
});

describe('allowed origins', () => {
  test('an origin not listed gets 403 origin_not_allowed; a listed one gets CORS headers', async () => {
    const p = await createProject(owner, { allowedOrigins: ['https://app.example.com'] });
    const body = { identity: uniqueId('o'), tier: 'pro', model: `usage-1-1-${hexSuffix()}`, messages: msgs };
    const bad = await proxyChat(p.projectKey, body, { headers: { origin: 'https://evil.example.com' } });
    assertError(bad, 403, 'origin_not_allowed');
    assert.equal(bad.headers.get('access-control-allow-origin'), null);
    assert.equal((await mockRequests(body.model)).length, 0);

    const good = await proxyChat(p.projectKey, body, { headers: { origin: 'https://app.example.com' } });
    assert.equal(good.status, 200, good.text);
    assert.equal(good.headers.get('access-control-allow-origin'), 'https://app.example.com');
    // No Origin (server-side callers) is fine.
    const none = await proxyChat(p.projectKey, body);
    assert.equal(none.status, 200, none.text);
    const v1 = await api('/v1/chat/completions', {
      body: { model: body.model, messages: msgs },
      headers: { authorization: `Bearer ${p.projectKey}`, 'x-identity': body.identity, 'x-tier': 'pro', origin: 'https://evil.example.com' },
    });
    assertEnvelope(v1, 403, v1.body?.error?.type, 'origin_not_allowed');
  });
});

describe('signed identities', () => {
  const now = () => Math.floor(Date.now() / 1000);

  test('a valid token sets identity and tier; body identity/tier are ignored', async () => {
    const sub = uniqueId('signed');
    const decoy = uniqueId('decoy');
    const token = signJwt({ sub, tier: 'pro', exp: now() + 600, iat: now() }, project.secretKey);
    const model = `usage-3-3-${hexSuffix()}`;
    const r = await proxyChat(key, { identity: decoy, tier: 'free', identityToken: token, model, messages: msgs });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ratelimit.tier, 'pro');
    assert.equal(r.headers.get('x-ratelimit-limit'), '1000');
    const [rec] = await mockRequests(model);
    assert.ok(!('identityToken' in rec.body), 'identityToken forwarded');
    // Counted for `sub`, under pro; nothing for the decoy.
    const u = await api('/api/v1/usage', { headers: { 'x-project-key': key, 'x-identity-token': token } });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.body.identity, sub);
    assert.equal(u.body.tier, 'pro');
    assert.equal(usageEntry(u.body, 'requests').used, 1);
    assert.equal(usageEntry(await identityUsage(key, decoy), 'requests').used, 0);

    // A token without `tier` gets the default tier; via /v1 headers, without any identity.
    const t2 = signJwt({ sub: uniqueId('signed2'), exp: now() + 600 }, project.secretKey);
    const r2 = await api('/v1/chat/completions', {
      body: { model, messages: msgs },
      headers: { authorization: `Bearer ${key}`, 'x-identity-token': t2, 'x-tier': 'pro' },
    });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.body.ratelimit.tier, 'free');
  });

  test('forged, expired or malformed tokens → 401 invalid_identity_token (even where not required)', async () => {
    const sub = uniqueId('forged');
    const model = `usage-1-1-${hexSuffix()}`;
    const tokens = {
      forged: signJwt({ sub, tier: 'pro', exp: now() + 600 }, `sk_${hexSuffix(16)}`),
      expired: signJwt({ sub, tier: 'pro', exp: now() - 3600 }, project.secretKey),
      tooLong: signJwt({ sub, tier: 'pro', exp: now() + 3 * 86400 }, project.secretKey),
      noExp: signJwt({ sub, tier: 'pro' }, project.secretKey),
      none: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub, tier: 'pro', exp: now() + 600 })).toString('base64url')}.`,
      garbage: 'not.a.jwt',
    };
    for (const [name, token] of Object.entries(tokens)) {
      const r = await proxyChat(key, { identityToken: token, identity: sub, model, messages: msgs });
      assert.equal(r.status, 401, `${name}: ${r.text}`);
      assert.equal(r.body.error, 'invalid_identity_token', `${name}: ${r.text}`);
    }
    const v1 = await api('/v1/chat/completions', {
      body: { model, messages: msgs },
      headers: { authorization: `Bearer ${key}`, 'x-identity-token': tokens.forged },
    });
    assertEnvelope(v1, 401, 'authentication_error', 'invalid_identity_token');
    const u = await api('/api/v1/usage', { headers: { 'x-project-key': key, 'x-identity-token': tokens.expired } });
    assertError(u, 401, 'invalid_identity_token', {}, { proxied: false });
    assert.equal((await mockRequests(model)).length, 0);
  });

  test('requireSignedIdentity: no token → 401; a plain identity is not enough; a token tier not in tiers → 400 field tier', async () => {
    const p = await createProject(owner, { requireSignedIdentity: true });
    const model = `usage-1-1-${hexSuffix()}`;
    const sub = uniqueId('req');
    const none = await proxyChat(p.projectKey, { identity: sub, model, messages: msgs });
    assertError(none, 401, 'invalid_identity_token');
    const usageNone = await api(`/api/v1/usage?identity=${sub}`, { headers: { 'x-project-key': p.projectKey } });
    assertError(usageNone, 401, 'invalid_identity_token', {}, { proxied: false });

    const gold = signJwt({ sub, tier: 'gold', exp: now() + 600 }, p.secretKey);
    const r = await proxyChat(p.projectKey, { identityToken: gold, model, messages: msgs });
    assertError(r, 400, 'invalid_request', { field: 'tier' });

    const good = signJwt({ sub, tier: 'pro', exp: now() + 600 }, p.secretKey);
    const ok = await proxyChat(p.projectKey, { identityToken: good, model, messages: msgs });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.ratelimit.tier, 'pro');
    assert.equal((await mockRequests(model)).length, 1);
  });
});
