// Identities the owner controls (docs/API.md, "Identity records", "Tier
// trust", "Per-IP caps for unsigned traffic"): records set with the secret
// key or the dashboard session apply to the very next request, credits are
// exact under concurrency, a plain request cannot raise its own tier when
// tiers come from the server, and per-IP caps stop identity rotation.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { api, createProject, hexSuffix, login, proxyChat, signJwt, sql, uniqueId, waitFor } from './helpers.mjs';

let owner;
let project;

const hi = (identity, extra = {}) => ({ identity, model: `usage-3-2-${hexSuffix()}`, messages: [{ role: 'user', content: 'hi' }], ...extra });

/** The secret-key API: `Authorization: Bearer <key>`. */
function server(path, { key, method, body } = {}) {
  return api(`/api/v1/identities${path}`, { method, body, token: key === NONE ? undefined : (key ?? project.secretKey) });
}
const NONE = Symbol('no key');

const enc = encodeURIComponent;

before(async () => {
  owner = await login();
  project = await createProject(owner, {
    tiers: {
      free: { requests: { limit: 2, period: 'day' } },
      pro: { requests: { limit: 1000, period: 'day' } },
    },
  });
});

describe('the secret-key API refuses anything but the sk_ secret', () => {
  test('no key, a pk_, an owner session JWT, a signed identity JWT and an unknown sk_ are all 401', async () => {
    const identityJwt = signJwt({ sub: 'u', exp: Math.floor(Date.now() / 1000) + 600 }, project.secretKey);
    for (const key of [NONE, project.projectKey, owner, identityJwt, `sk_${'A'.repeat(43)}`]) {
      const res = await server('/someone', { key });
      assert.equal(res.status, 401, `${String(key).slice(0, 12)}… → ${res.text}`);
      assert.equal(res.body.error, 'unauthorized');
    }
    // The same with the publishable key in x-project-key (as apps send it).
    const viaHeader = await api('/api/v1/identities', { headers: { 'x-project-key': project.projectKey } });
    assert.equal(viaHeader.status, 401, viaHeader.text);
  });

  test('another project\'s secret cannot see this project\'s records', async () => {
    const other = await createProject(owner);
    const identity = uniqueId('iso');
    assert.equal((await server(`/${enc(identity)}`, { method: 'PATCH', body: { tier: 'pro' } })).status, 200);
    assert.equal((await server(`/${enc(identity)}`, { key: other.secretKey })).status, 404);
  });
});

describe('identity records', () => {
  test('set, read, list (with search) and delete with the secret key; the answer shape', async () => {
    const identity = `${uniqueId('rec')}/with space`;
    const set = await server(`/${enc(identity)}`, {
      method: 'PATCH',
      body: { tier: 'pro', credits: { requests: 3 }, metadata: { plan: 'team' }, blocked: false },
    });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.identity, identity);
    assert.equal(set.body.tier, 'pro');
    assert.deepEqual(set.body.credits, { requests: 3, tokens: 0, cost: 0 });
    assert.deepEqual(set.body.metadata, { plan: 'team' });
    const read = await server(`/${enc(identity)}`);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.tier, 'pro');
    const listed = await server(`?search=${enc(identity.slice(0, 12))}`);
    assert.equal(listed.status, 200, listed.text);
    assert.ok(listed.body.identities.some((r) => r.identity === identity), listed.text);
    const del = await server(`/${enc(identity)}`, { method: 'DELETE' });
    assert.equal(del.status, 204, del.text);
    assert.equal((await server(`/${enc(identity)}`)).status, 404);
    assert.equal((await server(`/${enc(identity)}`, { method: 'DELETE' })).status, 404);
    const after = await server(`?search=${enc(identity.slice(0, 12))}`);
    assert.ok(!after.body.identities.some((r) => r.identity === identity));
  });

  test('bad changes are 400 with the field', async () => {
    for (const [body, field] of [
      [{ tier: 'gold' }, 'tier'],
      [{ credits: { requests: -1 } }, 'credits.requests'],
      [{ unlimitedUntil: 'tomorrow' }, 'unlimitedUntil'],
      [{ metadata: 'x' }, 'metadata'],
      [{ colour: 'red' }, 'colour'],
    ]) {
      const res = await server('/someone', { method: 'PATCH', body });
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.text}`);
      assert.equal(res.body.field, field, res.text);
    }
  });

  test('the dashboard session sees and edits the same records; another owner gets 404', async () => {
    const identity = uniqueId('dash');
    const base = `/api/projects/${project.id}/identity-records`;
    const set = await api(`${base}/${enc(identity)}`, { method: 'PATCH', token: owner, body: { blocked: true, blockMessage: 'Paused' } });
    assert.equal(set.status, 200, set.text);
    assert.equal((await server(`/${enc(identity)}`)).body.blocked, true);
    const gift = await api(`${base}/${enc(identity)}/credits`, { token: owner, body: { requests: 4 } });
    assert.equal(gift.status, 200, gift.text);
    assert.equal(gift.body.credits.requests, 4);
    const list = await api(`${base}?search=${enc(identity)}`, { token: owner });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.identities.length, 1);
    const stranger = await login();
    assert.equal((await api(`${base}/${enc(identity)}`, { token: stranger })).status, 404);
    assert.equal((await api(base, { token: stranger })).status, 404);
  });
});

describe('records apply on the very next request', () => {
  test('50 concurrent requests with 10 gifted credits past the cap admit exactly 10 more; credits end at 0', async () => {
    const identity = uniqueId('gift');
    for (let i = 0; i < 2; i++) assert.equal((await proxyChat(project.projectKey, hi(identity))).status, 200);
    assert.equal((await proxyChat(project.projectKey, hi(identity))).status, 429);
    const gift = await server(`/${enc(identity)}/credits`, { body: { requests: 10 } });
    assert.equal(gift.status, 200, gift.text);
    const results = await Promise.all(Array.from({ length: 50 }, () => proxyChat(project.projectKey, hi(identity), { timeoutMs: 60000 })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 10, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 40, statuses.join(','));
    const after = await server(`/${enc(identity)}`);
    assert.deepEqual(after.body.credits, { requests: 0, tokens: 0, cost: 0 });
  });

  test('blocked refuses the next request with its message; unblocking lets the next one through', async () => {
    const identity = uniqueId('block');
    assert.equal((await proxyChat(project.projectKey, hi(identity))).status, 200);
    await server(`/${enc(identity)}`, { method: 'PATCH', body: { blocked: true, blockMessage: 'Account on hold' } });
    const blocked = await proxyChat(project.projectKey, hi(identity));
    assert.equal(blocked.status, 429, blocked.text);
    assert.equal(blocked.body.message, 'Account on hold');
    await server(`/${enc(identity)}`, { method: 'PATCH', body: { blocked: false } });
    assert.equal((await proxyChat(project.projectKey, hi(identity))).status, 200);
  });

  test('unlimitedUntil in the future admits past the cap; in the past it does not', async () => {
    const identity = uniqueId('unl');
    for (let i = 0; i < 2; i++) assert.equal((await proxyChat(project.projectKey, hi(identity))).status, 200);
    assert.equal((await proxyChat(project.projectKey, hi(identity))).status, 429);
    const future = new Date(Date.now() + 3600_000).toISOString();
    await server(`/${enc(identity)}`, { method: 'PATCH', body: { unlimitedUntil: future } });
    for (let i = 0; i < 3; i++) assert.equal((await proxyChat(project.projectKey, hi(identity))).status, 200);
    const past = new Date(Date.now() - 1000).toISOString();
    await server(`/${enc(identity)}`, { method: 'PATCH', body: { unlimitedUntil: past } });
    assert.equal((await proxyChat(project.projectKey, hi(identity))).status, 429);
  });

  test('the record\'s own limits replace the tier\'s', async () => {
    const identity = uniqueId('own');
    await server(`/${enc(identity)}`, { method: 'PATCH', body: { limits: { requests: { limit: 1, period: 'day' } } } });
    assert.equal((await proxyChat(project.projectKey, hi(identity))).status, 200);
    assert.equal((await proxyChat(project.projectKey, hi(identity))).status, 429);
    const usage = await api(`/api/v1/usage?identity=${enc(identity)}`, { headers: { 'x-project-key': project.projectKey } });
    assert.deepEqual(usage.body.limits.filter((l) => l.limitType === 'requests').map((l) => [l.limit, l.used]), [[1, 1]], usage.text);
  });
});

describe('tier trust', () => {
  let serverProject;
  before(async () => {
    serverProject = await createProject(owner, {
      tierSource: 'server',
      tiers: {
        free: { requests: { limit: 2, period: 'day' } },
        pro: { requests: { limit: 1000, period: 'day' } },
      },
    });
    assert.equal(serverProject.tierSource, 'server');
  });

  test('with tierSource "server" a plain request cannot raise its own tier; the answer reports the tier in force', async () => {
    const identity = uniqueId('climb');
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await proxyChat(serverProject.projectKey, hi(identity, { tier: 'pro' })));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 429], results.map((r) => r.text).join('\n'));
    assert.equal(results[0].body.ratelimit.tier, 'free', results[0].text);
    assert.equal(results[2].body.tier, 'free', results[2].text);
  });

  test('with tierSource "server" the record\'s tier applies, and a signed claim still wins', async () => {
    const identity = uniqueId('assigned');
    const set = await server(`/${enc(identity)}`, { key: serverProject.secretKey, method: 'PATCH', body: { tier: 'pro' } });
    assert.equal(set.status, 200, set.text);
    for (let i = 0; i < 4; i++) {
      const res = await proxyChat(serverProject.projectKey, hi(identity));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ratelimit.tier, 'pro');
    }
    // GET /api/v1/usage reports the same tier in force, whatever tier the app asks for.
    const usage = await api(`/api/v1/usage?identity=${enc(identity)}&tier=free`, { headers: { 'x-project-key': serverProject.projectKey } });
    assert.equal(usage.status, 200, usage.text);
    assert.equal(usage.body.tier, 'pro', usage.text);
    assert.equal(usage.body.limits.find((l) => l.limitType === 'requests').limit, 1000);
    const token = signJwt({ sub: identity, tier: 'free', exp: Math.floor(Date.now() / 1000) + 600 }, serverProject.secretKey);
    const signed = await proxyChat(serverProject.projectKey, hi(undefined, { identityToken: token }));
    assert.equal(signed.status, 429, signed.text);
    assert.equal(signed.body.tier, 'free');
  });

  test('with tierSource "request" (the default) the request names its tier, as before', async () => {
    const identity = uniqueId('req');
    for (let i = 0; i < 4; i++) assert.equal((await proxyChat(project.projectKey, hi(identity, { tier: 'pro' }))).status, 200);
  });
});

describe('per-IP caps for unsigned traffic', () => {
  test('rotating identity from one address is stopped at the per-IP cap; another address and signed requests are not', async () => {
    const p = await createProject(owner, {
      anonymousLimits: { requests: { limit: 3, period: 'minute' } },
      tiers: { free: { requests: { limit: 1000, period: 'day' } } },
    });
    assert.deepEqual(p.anonymousLimits, { requests: { limit: 3, period: 'minute' } });
    const ip = `203.0.113.${Math.floor(Math.random() * 200) + 1}`;
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const res = await proxyChat(p.projectKey, hi(uniqueId('rot')), { headers: { 'cf-connecting-ip': ip } });
      statuses.push(res.status);
      if (res.status === 429) assert.equal(res.body.tier, 'anonymous', res.text);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const other = await proxyChat(p.projectKey, hi(uniqueId('rot')), { headers: { 'cf-connecting-ip': '198.51.100.7' } });
    assert.equal(other.status, 200, other.text);
    const token = signJwt({ sub: uniqueId('signed'), exp: Math.floor(Date.now() / 1000) + 600 }, p.secretKey);
    const signed = await proxyChat(p.projectKey, hi(undefined, { identityToken: token }), { headers: { 'cf-connecting-ip': ip } });
    assert.equal(signed.status, 200, signed.text);
    // The address is never stored, and the per-IP counter writes no analytics
    // (its events, queued before the signed request's, would be flushed by now).
    await waitFor(async () => (await sql('SELECT 1 FROM usage_daily WHERE project_id = $1', [p.id])).length > 0, { timeoutMs: 15000, message: 'analytics flushed' });
    const rows = await sql('SELECT count(*)::int AS n FROM usage_daily WHERE identity = $1 OR project_id = $2', [ip, `${p.id}#anonymous-ip`]);
    assert.equal(rows[0].n, 0);
  });
});
