// Projects API (docs/API.md, "Projects"): create, list, get, patch, delete,
// key and secret rotation, validation (no mass assignment, safe integer
// limits, SSRF guard), authentication, Cache-Control and CORS.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import { BASE, MOCK, api, createProject, login, projectDefaults, sql, uniqueId } from './helpers.mjs';

const DASHBOARD_ORIGIN = process.env.AIRL_CORS_ORIGIN || 'http://localhost:3001';

function chat(projectKey, identity = uniqueId('user'), extra = {}) {
  return api('/api/v1/proxy/chat', {
    headers: { 'x-project-key': projectKey },
    body: { identity, model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], ...extra },
  });
}

function identityToken(secret, sub, tier = 'free') {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, tier, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function assertInvalid(res, field, what = '') {
  assert.equal(res.status, 400, `${what} → ${res.status} ${res.text}`);
  assert.equal(res.body.error, 'invalid_request', `${what} → ${res.text}`);
  if (typeof field === 'function') assert.ok(field(res.body.field), `${what}: field ${res.body.field}`);
  else assert.equal(res.body.field, field, `${what} → ${res.text}`);
}

function assertNoSecrets(body, text, providerApiKey) {
  assert.equal(body.providerApiKey, undefined);
  assert.ok(!Object.keys(body).some((k) => /enc$|Enc$/.test(k)), `no sealed columns: ${Object.keys(body)}`);
  if (providerApiKey) assert.ok(!text.includes(providerApiKey), 'the provider key must never be returned');
}

const post = (token, body) => api('/api/projects', { token, body });

let owner;
before(async () => {
  owner = await login();
});

describe('POST /api/projects', () => {
  test('201 with projectKey pk_…, secretKey sk_… (once), providerApiKeyHint sk-…abcd and no provider key', async () => {
    const providerApiKey = `sk-proj-${crypto.randomBytes(12).toString('hex')}wxyz`;
    const input = { ...projectDefaults(), providerApiKey, requireSignedIdentity: false, allowedOrigins: ['https://app.example.com'] };
    const res = await post(owner, input);
    assert.equal(res.status, 201, res.text);
    const p = res.body;
    assert.match(p.id, /\S/);
    assert.match(p.projectKey, /^pk_[A-Za-z0-9_-]{40,}$/, 'high-entropy publishable key');
    assert.match(p.secretKey, /^sk_[A-Za-z0-9_-]{40,}$/);
    assert.equal(p.providerApiKeyHint, 'sk-…wxyz');
    assertNoSecrets(p, res.text, providerApiKey);
    assert.equal(p.name, input.name);
    assert.equal(p.provider, 'openai');
    assert.equal(p.baseUrl, input.baseUrl);
    assert.equal(p.defaultTier, 'free');
    assert.deepEqual(p.tiers, input.tiers);
    assert.equal(p.requireSignedIdentity, false);
    assert.deepEqual(p.allowedOrigins, ['https://app.example.com']);
    // secretKey is shown once: never again on GET or in the list.
    const got = await api(`/api/projects/${p.id}`, { token: owner });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.secretKey, undefined);
    assert.ok(!got.text.includes(p.secretKey));
    assertNoSecrets(got.body, got.text, providerApiKey);
    const list = await api('/api/projects', { token: owner });
    assert.ok(!list.text.includes(p.secretKey) && !list.text.includes(providerApiKey));
    // two projects never share keys
    const other = await createProject(owner);
    assert.notEqual(other.projectKey, p.projectKey);
    assert.notEqual(other.secretKey, p.secretKey);
  });

  test('201 with defaults: provider base URL, free/pro tiers, defaultTier free; limits up to 2^53-1 and null accepted', async () => {
    const res = await post(owner, { name: uniqueId('minimal'), provider: 'anthropic' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.baseUrl, 'https://api.anthropic.com/v1');
    assert.equal(res.body.defaultTier, 'free');
    assert.ok(res.body.tiers.free, res.text);
    assert.equal(res.body.providerApiKeyHint ?? null, null);
    const big = await post(owner, {
      ...projectDefaults(),
      tiers: { free: { requests: { limit: Number.MAX_SAFE_INTEGER, period: 'month' }, tokens: { limit: null, period: 'day' } } },
    });
    assert.equal(big.status, 201, big.text);
    assert.equal(big.body.tiers.free.requests.limit, Number.MAX_SAFE_INTEGER);
    assert.equal(big.body.tiers.free.tokens.limit, null);
  });

  test('201 for a loopback baseUrl in development', async () => {
    for (const baseUrl of [`${MOCK}/openai/v1`, 'http://localhost:11434/v1', 'http://[::1]:8080/v1']) {
      const res = await post(owner, { ...projectDefaults(), provider: 'other', baseUrl });
      assert.equal(res.status, 201, `${baseUrl} → ${res.text}`);
    }
  });

  test('400 with field for unknown fields (no mass assignment)', async () => {
    for (const field of ['owner_id', 'ownerId', 'id', 'projectKey', 'secretKey', 'providerApiKeyHint', 'createdAt', 'project_key', '__proto__']) {
      const body = JSON.stringify({ ...projectDefaults(), [field]: field === 'projectKey' ? 'pk_chosen_by_attacker' : 'acct_someone_else' });
      const res = await api('/api/projects', { token: owner, method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assertInvalid(res, field, field);
    }
    const nested = await post(owner, { ...projectDefaults(), tiers: { free: { requests: { limit: 3, period: 'day', ownerId: 'x' } } } });
    assertInvalid(nested, (f) => f?.startsWith('tiers.free'), 'unknown field inside a tier');
    const rows = await sql("SELECT 1 FROM projects WHERE project_key = 'pk_chosen_by_attacker'");
    assert.equal(rows.length, 0);
  });

  test('400 with field for negative, fractional, unsafe or non-numeric limits', async () => {
    const cases = [-1, 1.5, 0.1, 2 ** 53, 1e300, '5', true];
    for (const limit of cases) {
      for (const where of ['requests', 'tokens']) {
        const res = await post(owner, { ...projectDefaults(), tiers: { free: { [where]: { limit, period: 'day' } } } });
        assertInvalid(res, (f) => f?.startsWith('tiers.free'), `${where} limit ${JSON.stringify(limit)}`);
      }
    }
    const perModel = await post(owner, { ...projectDefaults(), tiers: { free: { models: { 'gpt-4o': { requests: { limit: -5, period: 'day' } } } } } });
    assertInvalid(perModel, (f) => f?.startsWith('tiers.free'), 'per-model negative limit');
    const maxTokens = await post(owner, { ...projectDefaults(), tiers: { free: { defaultMaxTokens: 0 } } });
    assertInvalid(maxTokens, (f) => f?.startsWith('tiers.free'), 'defaultMaxTokens 0');
  });

  test('400 with field for a bad period', async () => {
    for (const period of ['year', 'Day', '', 86400, null]) {
      const res = await post(owner, { ...projectDefaults(), tiers: { free: { requests: { limit: 3, period } } } });
      assertInvalid(res, (f) => f?.startsWith('tiers.free'), `period ${JSON.stringify(period)}`);
    }
  });

  test('400 field defaultTier when the default tier is not one of the tiers', async () => {
    const res = await post(owner, { ...projectDefaults(), defaultTier: 'gold' });
    assertInvalid(res, 'defaultTier');
  });

  test('400 field provider for an unknown provider; field baseUrl for provider other without baseUrl', async () => {
    assertInvalid(await post(owner, { ...projectDefaults(), provider: 'azure' }), 'provider');
    const { baseUrl, ...noBase } = projectDefaults();
    assertInvalid(await post(owner, { ...noBase, provider: 'other' }), 'baseUrl');
    assertInvalid(await post(owner, { ...noBase, provider: 'other', baseUrl: null }), 'baseUrl');
  });

  test('400 field name for a missing or bad name; 400 for a body that is not an object', async () => {
    const { name, ...noName } = projectDefaults();
    assertInvalid(await post(owner, noName), 'name');
    assertInvalid(await post(owner, { ...noName, name: '' }), 'name');
    assertInvalid(await post(owner, { ...noName, name: 'x'.repeat(101) }), 'name');
    const arr = await post(owner, [projectDefaults()]);
    assert.equal(arr.status, 400, arr.text);
    assert.equal(arr.body.error, 'invalid_request');
  });

  test('400 field baseUrl for link-local and metadata addresses in every spelling (even in development)', async () => {
    const urls = [
      'http://169.254.169.254/',
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.169.254./',
      'http://[fe80::1]/',
      'http://[fe80::1%25eth0]/',
      'http://metadata.google.internal/',
      'http://metadata.google.internal./computeMetadata/v1/',
      'http://METADATA/',
      'http://2852039166/',
      'http://0xa9fea9fe/',
      'http://0xA9FEA9FE/',
      'http://0xa9.0xfe.0xa9.0xfe/',
      'http://0251.0376.0251.0376/',
      'http://169.254.43518/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[64:ff9b::169.254.169.254]/',
      'http://[fd00:ec2::254]/',
      'http://169.254.170.2/v2/credentials',
      'http://100.100.100.200/',
      'https://169.254.169.254/',
      'http://user:pass@169.254.169.254/',
      'http://api.openai.com@169.254.169.254/',
      'file:///etc/passwd',
      'gopher://127.0.0.1/',
      'not a url',
    ];
    for (const baseUrl of urls) {
      const res = await post(owner, { ...projectDefaults(), provider: 'other', baseUrl });
      assertInvalid(res, 'baseUrl', baseUrl);
    }
  });

  test('401 without a session', async () => {
    const res = await api('/api/projects', { body: projectDefaults() });
    assert.equal(res.status, 401, res.text);
    const bad = await api('/api/projects', { body: projectDefaults(), token: 'garbage' });
    assert.equal(bad.status, 401, bad.text);
  });

  test('400 invalid_json / 415 for bodies that are not JSON', async () => {
    const res = await api('/api/projects', { token: owner, method: 'POST', body: '{"name":', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error, 'invalid_json');
    const form = await api('/api/projects', { token: owner, method: 'POST', body: 'name=x', headers: { 'content-type': 'text/plain' } });
    assert.equal(form.status, 415, form.text);
    assert.equal(form.body.error, 'unsupported_media_type');
  });
});

describe('GET /api/projects', () => {
  test('200 bare array of the caller\'s projects only', async () => {
    const a = await login();
    const b = await login();
    const a1 = await createProject(a);
    const a2 = await createProject(a);
    const b1 = await createProject(b);
    const res = await api('/api/projects', { token: a });
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.body), res.text);
    assert.deepEqual(res.body.map((p) => p.id).sort(), [a1.id, a2.id].sort());
    for (const p of res.body) {
      assert.match(p.projectKey, /^pk_/);
      assert.equal(p.secretKey, undefined);
    }
    assert.ok(!res.text.includes(b1.id) && !res.text.includes(b1.projectKey));
    const empty = await api('/api/projects', { token: await login() });
    assert.deepEqual(empty.body, []);
  });

  test('401 without a session', async () => {
    const res = await api('/api/projects');
    assert.equal(res.status, 401, res.text);
  });
});

describe('GET /api/projects/:id', () => {
  test('200 with the project (no secretKey)', async () => {
    const p = await createProject(owner);
    const res = await api(`/api/projects/${p.id}`, { token: owner });
    assert.equal(res.status, 200, res.text);
    const { secretKey, ...withoutSecret } = p;
    assert.deepEqual(res.body, withoutSecret);
  });

  test('404 not_found for an unknown id', async () => {
    for (const id of ['prj_000000000000000000000000', 'nope', "x' OR '1'='1"]) {
      const res = await api(`/api/projects/${encodeURIComponent(id)}`, { token: owner });
      assert.equal(res.status, 404, `${id} → ${res.text}`);
      assert.equal(res.body.error, 'not_found');
    }
  });

  test('401 without a session', async () => {
    const p = await createProject(owner);
    assert.equal((await api(`/api/projects/${p.id}`)).status, 401);
  });
});

describe('PATCH /api/projects/:id', () => {
  test('200: a partial update changes only the given fields and never returns secretKey', async () => {
    const p = await createProject(owner);
    const res = await api(`/api/projects/${p.id}`, { token: owner, method: 'PATCH', body: { name: 'Renamed', requireSignedIdentity: true } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.name, 'Renamed');
    assert.equal(res.body.requireSignedIdentity, true);
    assert.equal(res.body.secretKey, undefined);
    for (const k of ['id', 'provider', 'baseUrl', 'providerApiKeyHint', 'projectKey', 'defaultTier', 'tiers', 'allowedOrigins', 'createdAt']) {
      assert.deepEqual(res.body[k], p[k], k);
    }
    const got = await api(`/api/projects/${p.id}`, { token: owner });
    assert.deepEqual(got.body, res.body);
  });

  test('200: a new providerApiKey changes only the hint; new tiers and defaultTier together', async () => {
    const p = await createProject(owner);
    const key = `sk-new-${crypto.randomBytes(8).toString('hex')}9876`;
    const res = await api(`/api/projects/${p.id}`, { token: owner, method: 'PATCH', body: { providerApiKey: key } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.providerApiKeyHint, 'sk-…9876');
    assertNoSecrets(res.body, res.text, key);
    const tiers = { gold: { requests: { limit: 10, period: 'hour' } } };
    const t = await api(`/api/projects/${p.id}`, { token: owner, method: 'PATCH', body: { tiers, defaultTier: 'gold' } });
    assert.equal(t.status, 200, t.text);
    assert.deepEqual(t.body.tiers, tiers);
    assert.equal(t.body.defaultTier, 'gold');
    assert.equal(t.body.providerApiKeyHint, 'sk-…9876');
  });

  test('400 with field (unknown field, defaultTier not in tiers, SSRF baseUrl, bad limit, invalid JSON) and nothing changes', async () => {
    const p = await createProject(owner);
    const path = `/api/projects/${p.id}`;
    assertInvalid(await api(path, { token: owner, method: 'PATCH', body: { owner_id: 'acct_other' } }), 'owner_id');
    assertInvalid(await api(path, { token: owner, method: 'PATCH', body: { projectKey: 'pk_mine' } }), 'projectKey');
    assertInvalid(await api(path, { token: owner, method: 'PATCH', body: { defaultTier: 'gold' } }), 'defaultTier');
    assertInvalid(await api(path, { token: owner, method: 'PATCH', body: { tiers: { gold: {} } } }), 'defaultTier', 'tiers without the default tier');
    assertInvalid(await api(path, { token: owner, method: 'PATCH', body: { baseUrl: 'http://169.254.169.254/' } }), 'baseUrl');
    assertInvalid(await api(path, { token: owner, method: 'PATCH', body: { tiers: { free: { requests: { limit: -1, period: 'day' } } } } }), (f) => f?.startsWith('tiers.free'));
    assertInvalid(await api(path, { token: owner, method: 'PATCH', body: { name: 'ok', provider: 'other', baseUrl: null } }), 'baseUrl');
    const bad = await api(path, { token: owner, method: 'PATCH', body: '{', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.error, 'invalid_json');
    const got = await api(path, { token: owner });
    const { secretKey, ...unchanged } = p;
    assert.deepEqual(got.body, unchanged);
  });

  test('404 for an unknown id; 401 without a session', async () => {
    const res = await api('/api/projects/prj_000000000000000000000000', { token: owner, method: 'PATCH', body: { name: 'x' } });
    assert.equal(res.status, 404, res.text);
    const p = await createProject(owner);
    const anon = await api(`/api/projects/${p.id}`, { method: 'PATCH', body: { name: 'x' } });
    assert.equal(anon.status, 401, anon.text);
  });
});

describe('DELETE /api/projects/:id', () => {
  test('204, then GET 404, DELETE again 404, and its project key stops working on the proxy', async () => {
    const p = await createProject(owner);
    const warm = await chat(p.projectKey);
    assert.equal(warm.status, 200, warm.text);
    const res = await api(`/api/projects/${p.id}`, { token: owner, method: 'DELETE' });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');
    assert.equal((await api(`/api/projects/${p.id}`, { token: owner })).status, 404);
    assert.equal((await api(`/api/projects/${p.id}`, { token: owner, method: 'DELETE' })).status, 404);
    const after = await chat(p.projectKey);
    assert.equal(after.status, 401, after.text);
    assert.equal(after.body.error, 'invalid_project_key');
  });

  test('401 without a session', async () => {
    const p = await createProject(owner);
    assert.equal((await api(`/api/projects/${p.id}`, { method: 'DELETE' })).status, 401);
    assert.equal((await api(`/api/projects/${p.id}`, { token: owner })).status, 200);
  });
});

describe('POST /api/projects/:id/keys/rotate', () => {
  test('200 with a new projectKey; the old key is 401 invalid_project_key on the proxy at once', async () => {
    const p = await createProject(owner);
    const warm = await chat(p.projectKey); // the key is now cached in the isolate
    assert.equal(warm.status, 200, warm.text);
    const res = await api(`/api/projects/${p.id}/keys/rotate`, { token: owner, method: 'POST' });
    assert.equal(res.status, 200, res.text);
    assert.match(res.body.projectKey, /^pk_[A-Za-z0-9_-]{40,}$/);
    assert.notEqual(res.body.projectKey, p.projectKey);
    assert.equal(res.body.id, p.id);
    assert.equal(res.body.secretKey, undefined);
    const old = await chat(p.projectKey);
    assert.equal(old.status, 401, old.text);
    assert.equal(old.body.error, 'invalid_project_key');
    const fresh = await chat(res.body.projectKey);
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal((await api(`/api/projects/${p.id}`, { token: owner })).body.projectKey, res.body.projectKey);
  });

  test('404 for an unknown id; 401 without a session', async () => {
    assert.equal((await api('/api/projects/prj_000000000000000000000000/keys/rotate', { token: owner, method: 'POST' })).status, 404);
    const p = await createProject(owner);
    assert.equal((await api(`/api/projects/${p.id}/keys/rotate`, { method: 'POST' })).status, 401);
    assert.equal((await api(`/api/projects/${p.id}`, { token: owner })).body.projectKey, p.projectKey);
  });
});

describe('POST /api/projects/:id/secret/rotate', () => {
  test('200 {secretKey} with a new sk_; signed identities made with the old one are refused', async () => {
    const p = await createProject(owner);
    const identity = uniqueId('signed');
    const before = await chat(p.projectKey, undefined, { identityToken: identityToken(p.secretKey, identity) });
    assert.equal(before.status, 200, before.text);
    const res = await api(`/api/projects/${p.id}/secret/rotate`, { token: owner, method: 'POST' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body), ['secretKey']);
    assert.match(res.body.secretKey, /^sk_[A-Za-z0-9_-]{40,}$/);
    assert.notEqual(res.body.secretKey, p.secretKey);
    const old = await chat(p.projectKey, undefined, { identityToken: identityToken(p.secretKey, identity) });
    assert.equal(old.status, 401, old.text);
    assert.equal(old.body.error, 'invalid_identity_token');
    const fresh = await chat(p.projectKey, undefined, { identityToken: identityToken(res.body.secretKey, identity) });
    assert.equal(fresh.status, 200, fresh.text);
    const got = await api(`/api/projects/${p.id}`, { token: owner });
    assert.ok(!got.text.includes(res.body.secretKey));
  });

  test('404 for an unknown id; 401 without a session', async () => {
    assert.equal((await api('/api/projects/prj_000000000000000000000000/secret/rotate', { token: owner, method: 'POST' })).status, 404);
    const p = await createProject(owner);
    assert.equal((await api(`/api/projects/${p.id}/secret/rotate`, { method: 'POST' })).status, 401);
  });
});

describe('dashboard answers: Cache-Control and CORS', () => {
  test('Cache-Control: no-store on successes and errors', async () => {
    const p = await createProject(owner);
    const answers = [
      await api('/api/projects', { token: owner }),
      await api(`/api/projects/${p.id}`, { token: owner }),
      await post(owner, projectDefaults()),
      await api('/api/projects/prj_000000000000000000000000', { token: owner }),
      await api('/api/projects'),
      await api('/api/auth/me', { token: owner }),
      await api('/api/auth/magic-link', { body: { email: `${uniqueId('cc')}@example.com` } }),
    ];
    for (const res of answers) assert.match(res.headers.get('cache-control') ?? '', /no-store/, `${res.status} ${res.text.slice(0, 80)}`);
  });

  test(`CORS: Origin ${DASHBOARD_ORIGIN} gets access-control-allow-origin, another origin does not`, async () => {
    const ok = await api('/api/projects', { token: owner, headers: { origin: DASHBOARD_ORIGIN } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), DASHBOARD_ORIGIN);
    for (const origin of ['https://evil.example', 'http://localhost:3001.evil.example', 'null']) {
      const res = await api('/api/projects', { token: owner, headers: { origin } });
      assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
    }
    // preflight
    const pre = await fetch(`${BASE}/api/projects`, {
      method: 'OPTIONS',
      headers: { origin: DASHBOARD_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.ok(pre.status === 204 || pre.status === 200, `preflight ${pre.status}`);
    assert.equal(pre.headers.get('access-control-allow-origin'), DASHBOARD_ORIGIN);
    assert.match((pre.headers.get('access-control-allow-headers') ?? '').toLowerCase(), /authorization/);
    const evil = await fetch(`${BASE}/api/projects`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.notEqual(evil.headers.get('access-control-allow-origin'), '*');
  });
});
