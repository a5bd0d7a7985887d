// The upgrade funnel (issue 15; docs/API.md, "Upgrade funnel"): with tracked
// redirects on, deep links in 429s and warnings point at GET /r/{token};
// following one records a click and answers 302 to the owner's link. The
// funnel report then equals exactly the traffic and clicks this test made:
// N warned, M blocked, K clicked, J later seen on a higher tier. Forged and
// expired links are refused with a page, never redirected; with the opt-in
// off the owner's deep links reach clients unchanged.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import { BASE, api, checkAnswer, createProject, hexSuffix, login, proxyChat, uniqueId, waitFor } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** JWT_SECRET of the running Worker: $JWT_SECRET, else `.dev.vars` (written by scripts/stack.mjs). */
function jwtSecret() {
  if (process.env.JWT_SECRET) return process.env.JWT_SECRET;
  try {
    const text = fs.readFileSync(path.join(ROOT, '.dev.vars'), 'utf8');
    const m = text.match(/^\s*JWT_SECRET\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))\s*$/m);
    return m ? m[1] ?? m[2] ?? m[3] : null;
  } catch {
    return null;
  }
}
const SECRET = jwtSecret();
const NO_SECRET = !SECRET && 'JWT_SECRET not found in $JWT_SECRET or .dev.vars';

/** A tracked link signed as the Worker signs them (key derived from JWT_SECRET). */
function signLink(claims, secret = SECRET) {
  const key = crypto.createHmac('sha256', secret).update('ai-ratelimit:tracked-link:v1').digest('hex');
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${crypto.createHmac('sha256', key).update(input).digest('base64url')}`;
}

const TIER_LINK = 'myapp://upgrade?u={{identity}}&t={{tier}}';
const RULE_LINK = 'https://example.com/pricing?from={{tier}}';
const tiers = {
  free: { requests: { limit: 3, period: 'day' }, limitMessage: { message: 'Upgrade now', deepLink: TIER_LINK } },
  pro: { requests: { limit: 1000, period: 'day' } },
  team: { requests: { limit: 1000, period: 'day' } },
};
const warnRuleBody = {
  name: 'free from 2',
  condition: { type: 'all', conditions: [{ type: 'tier', tiers: ['free'] }, { type: 'usage_absolute', metric: 'requests', operator: 'gte', threshold: 2 }] },
  action: { type: 'warn', message: 'Almost out: {{usage}}/{{limit}}', deepLink: RULE_LINK },
};

let token;
let tracked; // project with tracked redirects
let plain; // project without
let warnRule;
const prefix = uniqueId('fn');
const model = `gpt-4o-mini-${hexSuffix()}`;
const ids = ['u1', 'u2', 'u3', 'u4'].map((u) => `${prefix}-${u}`);
/** Tracked links seen, per identity: { warn: [url, …], block: [url, …] }. */
const links = Object.fromEntries(ids.map((id) => [id, { warn: [], block: [] }]));

function chat(project, identity, tier) {
  return proxyChat(project.projectKey, { identity, tier, model, messages: [{ role: 'user', content: 'hi' }] });
}

/** GET a tracked link without following it; the answer is checked against docs/openapi.yaml. */
async function follow(url) {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(30000) });
  const text = await res.text();
  checkAnswer({ method: 'GET', url, status: res.status, headers: res.headers, text });
  return { status: res.status, location: res.headers.get('location'), type: res.headers.get('content-type') ?? '', text };
}

async function funnel(project) {
  const res = await api(`/api/projects/${project.id}/analytics/funnel?days=7`, { token });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

/** Poll until `check` passes (≤ 15 s); the last failure is reported. */
async function eventually(read, check, message) {
  let last;
  try {
    return await waitFor(
      async () => {
        const v = await read();
        try {
          check(v);
          return v;
        } catch (e) {
          last = e;
          return false;
        }
      },
      { timeoutMs: 15000, intervalMs: 250, message },
    );
  } catch (e) {
    throw last ?? e;
  }
}

before(async () => {
  await waitFor(async () => (await api('/healthz', { timeoutMs: 3000 }).catch(() => null))?.status === 200, {
    timeoutMs: 120000,
    intervalMs: 500,
    message: 'worker /healthz',
  });
  token = await login();
  tracked = await createProject(token, { tiers, upgradeFunnel: { trackedRedirect: true, tierOrder: ['free', 'pro', 'team'] } });
  plain = await createProject(token, { tiers });
  for (const p of [tracked, plain]) {
    const res = await api(`/api/projects/${p.id}/rules`, { token, body: warnRuleBody });
    assert.equal(res.status, 201, res.text);
    if (p === tracked) warnRule = res.body;
  }
});

describe('tracked redirects and the funnel', () => {
  test('the setting round-trips and is validated', async () => {
    assert.deepEqual(tracked.upgradeFunnel, { trackedRedirect: true, tierOrder: ['free', 'pro', 'team'] });
    assert.deepEqual(plain.upgradeFunnel, { trackedRedirect: false, tierOrder: [] });
    const bad = await api(`/api/projects/${plain.id}`, { method: 'PATCH', token, body: { upgradeFunnel: { tierOrder: ['free', 'gold'] } } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.field, 'upgradeFunnel.tierOrder');
    const bad2 = await api(`/api/projects/${plain.id}`, { method: 'PATCH', token, body: { upgradeFunnel: { trackedRedirect: 'yes' } } });
    assert.equal(bad2.status, 400, bad2.text);
    assert.equal(bad2.body.field, 'upgradeFunnel.trackedRedirect');
  });

  test('warnings and 429s carry tracked links; the funnel equals the traffic and clicks', async () => {
    // Each identity on free: 1 allowed, 2 warned (usage ≥ 2), 1 blocked by the tier's limit.
    for (const id of ids) {
      assert.equal((await chat(tracked, id, 'free')).status, 200);
      for (let i = 0; i < 2; i++) {
        const r = await chat(tracked, id, 'free');
        assert.equal(r.status, 200, r.text);
        const header = r.headers.get('x-ratelimit-deeplink');
        assert.ok(header?.startsWith(`${BASE}/r/`), `warning link is tracked: ${header}`);
        assert.equal(r.body.ratelimit.warning.deepLink, header);
        links[id].warn.push(header);
      }
      const blocked = await chat(tracked, id, 'free');
      assert.equal(blocked.status, 429, blocked.text);
      assert.ok(blocked.body.deepLink.startsWith(`${BASE}/r/`), blocked.text);
      links[id].block.push(blocked.body.deepLink);
    }
    const [u1, u2, u3] = ids;
    // Clicks: u1's block link (twice: one click), u2's block link, u1's first warning link.
    const toTier = await follow(links[u1].block[0]);
    assert.equal(toTier.status, 302);
    assert.equal(toTier.location, `myapp://upgrade?u=${encodeURIComponent(u1)}&t=free`);
    assert.equal((await follow(links[u1].block[0])).status, 302);
    assert.equal((await follow(links[u2].block[0])).location, `myapp://upgrade?u=${encodeURIComponent(u2)}&t=free`);
    const toRule = await follow(links[u1].warn[0]);
    assert.equal(toRule.status, 302);
    assert.equal(toRule.location, 'https://example.com/pricing?from=free');
    // Later on a higher tier: u1 on pro (converts), then team (nothing left to convert);
    // u2 on team; u3 back on free (blocked again: shown again, no conversion).
    assert.equal((await chat(tracked, u1, 'pro')).status, 200);
    assert.equal((await chat(tracked, u1, 'team')).status, 200);
    assert.equal((await chat(tracked, u2, 'team')).status, 200);
    assert.equal((await chat(tracked, u3, 'free')).status, 429);

    const N = 8; // warned: 2 × 4 identities
    const M = 5; // blocked: 4 + u3 again
    const K = 3; // clicks: u1 block, u2 block, u1 warn
    const J = 2; // u1 (free → pro), u2 (free → team)
    const f = await eventually(
      () => funnel(tracked),
      (f) => {
        const free = f.tiers.find((t) => t.tier === 'free');
        assert.deepEqual(
          { warned: free.warned, blocked: free.blocked, linked: free.linked, clicked: free.clicked, upgraded: free.upgraded },
          { warned: N, blocked: M, linked: N + M, clicked: K, upgraded: J },
        );
      },
      'funnel per tier',
    );
    assert.equal(f.trackedRedirect, true);
    assert.deepEqual(f.tierOrder, ['free', 'pro', 'team']);
    assert.deepEqual(f.tiers.map((t) => [t.tier, t.rank]), [['free', 0], ['pro', 1], ['team', 2]]);
    for (const t of f.tiers.filter((t) => t.tier !== 'free')) {
      assert.deepEqual([t.warned, t.blocked, t.clicked, t.upgraded], [0, 0, 0, 0], t.tier);
    }
    assert.equal(f.tiers[0].clickThroughRate, K / (N + M));
    assert.deepEqual(f.rules, [
      { ruleId: warnRule.id, ruleName: warnRule.name, warned: N, blocked: 0, linked: N, clicked: 1, upgraded: 0, clickThroughRate: 1 / N },
    ]);
    const byKind = Object.fromEntries(f.messages.map((m) => [m.kind, m]));
    assert.equal(f.messages.length, 2, JSON.stringify(f.messages));
    assert.deepEqual(
      { ...byKind.warn, messageHash: undefined },
      { tier: 'free', kind: 'warn', origin: 'rule', ruleId: warnRule.id, ruleName: warnRule.name, messageHash: undefined, message: 'Almost out: {{usage}}/{{limit}}', shown: N, linked: N, clicks: 1, upgrades: 0, clickThroughRate: 1 / N },
    );
    assert.deepEqual(
      { ...byKind.block, messageHash: undefined },
      { tier: 'free', kind: 'block', origin: 'tier', ruleId: null, ruleName: null, messageHash: undefined, message: 'Upgrade now', shown: M, linked: M, clicks: 2, upgrades: J, clickThroughRate: 2 / M },
    );
  });

  test('expired, forged and malformed links are refused with a page, never redirected', { skip: NO_SECRET }, async () => {
    const good = links[ids[3]].block[0];
    const tokenOf = (url) => url.slice(`${BASE}/r/`.length);
    const [header, payload, sig] = tokenOf(good).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    assert.equal(claims.p, tracked.id);
    assert.equal(claims.kind, 'block');
    assert.equal(claims.tier, 'free');
    assert.match(claims.i, /^[0-9a-f]{32}$/, 'a keyed hash, not the identity');
    assert.ok(!JSON.stringify({ ...claims, u: '' }).includes(ids[3]), 'the identity travels only inside the owner\'s own link');

    const expired = await follow(`${BASE}/r/${signLink({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 })}`);
    assert.equal(expired.status, 410);
    assert.equal(expired.location, null);
    assert.match(expired.type, /text\/html/);
    assert.match(expired.text, /expired/);

    const evil = Buffer.from(JSON.stringify({ ...claims, u: 'https://evil.example/' })).toString('base64url');
    const cases = {
      'another target under the original signature': `${header}.${evil}.${sig}`,
      'signed with another key': signLink({ ...claims, u: 'https://evil.example/' }, crypto.randomBytes(32).toString('hex')),
      'a truncated signature': good.slice(0, -3),
      'not a token': 'hello',
      'a session-like token': `${header}.${payload}`,
    };
    for (const [what, t] of Object.entries(cases)) {
      const r = await follow(t.startsWith('http') ? t : `${BASE}/r/${t}`);
      assert.equal(r.status, 400, what);
      assert.equal(r.location, null, what);
      assert.match(r.text, /not valid/, what);
    }
    // A target that deep links refuse is refused even when signed.
    const js = await follow(`${BASE}/r/${signLink({ ...claims, u: 'javascript:alert(1)' })}`);
    assert.equal(js.status, 400);
    assert.equal(js.location, null);
    // The genuine link still works.
    assert.equal((await follow(good)).status, 302);
  });

  test('with the opt-in off, deep links reach clients unchanged', async () => {
    const id = `${prefix}-plain`;
    assert.equal((await chat(plain, id, 'free')).status, 200);
    const warned = await chat(plain, id, 'free');
    assert.equal(warned.headers.get('x-ratelimit-deeplink'), 'https://example.com/pricing?from=free');
    assert.equal(warned.body.ratelimit.warning.deepLink, 'https://example.com/pricing?from=free');
    assert.equal((await chat(plain, id, 'free')).status, 200);
    const blocked = await chat(plain, id, 'free');
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.deepLink, `myapp://upgrade?u=${encodeURIComponent(id)}&t=free`);
    // Shown messages are still counted (no tracked link: linked 0, no CTR).
    await eventually(
      () => funnel(plain),
      (f) => {
        const free = f.tiers.find((t) => t.tier === 'free');
        assert.deepEqual([free.warned, free.blocked, free.linked, free.clicked, free.clickThroughRate], [2, 1, 0, 0, null]);
      },
      'untracked funnel',
    );
  });

  test('another owner cannot read the funnel', async () => {
    const other = await login();
    const res = await api(`/api/projects/${tracked.id}/analytics/funnel`, { token: other });
    assert.equal(res.status, 404, res.text);
    const bad = await api(`/api/projects/${tracked.id}/analytics/funnel?days=0`, { token });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.field, 'days');
  });
});
