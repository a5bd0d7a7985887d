// Every rule condition and action through the live proxy (docs/API.md,
// "Warn, block and allow", "Limit exceeded (429)" and "Rules").
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  api,
  createProject,
  hexSuffix,
  identityUsage,
  login,
  mockRequests,
  proxyChat,
  sseEvents,
  uniqueId,
  usageEntry,
  waitFor,
} from './helpers.mjs';

let token;

before(async () => {
  // Another suite may be restarting `wrangler dev`: wait for it rather than fail.
  await waitFor(async () => (await api('/healthz', { timeoutMs: 3000 }).catch(() => null))?.status === 200, {
    timeoutMs: 120000,
    intervalMs: 500,
    message: 'worker /healthz',
  });
  token = await login();
});

const msgs = [{ role: 'user', content: 'hello' }];

async function project(tiers, rules = [], extra = {}) {
  const p = await createProject(token, { tiers, ...extra });
  const created = [];
  for (const rule of rules) {
    const res = await api(`/api/projects/${p.id}/rules`, { token, body: rule });
    assert.equal(res.status, 201, res.text);
    created.push(res.body);
  }
  return { ...p, rules: created };
}

async function addRule(p, rule) {
  const res = await api(`/api/projects/${p.id}/rules`, { token, body: rule });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function deleteRule(p, rule) {
  const res = await api(`/api/projects/${p.id}/rules/${rule.id}`, { token, method: 'DELETE' });
  assert.equal(res.status, 204, res.text);
}

function send(p, { identity, tier, model, stream = false, extra = {} }) {
  const body = { identity, model, messages: msgs, ...extra };
  if (tier) body.tier = tier;
  return proxyChat(p.projectKey, body, { path: stream ? '/api/v1/proxy/chat/stream' : '/api/v1/proxy/chat' });
}

const warningOf = (res) => {
  const h = res.headers.get('x-ratelimit-warning');
  return h === null ? null : decodeURIComponent(h);
};

function assertPlain200(res, what) {
  assert.equal(res.status, 200, `${what}: ${res.text}`);
  assert.equal(res.headers.get('x-ratelimit-warning'), null, `${what}: no warning header`);
  assert.equal(res.headers.get('x-ratelimit-deeplink'), null, `${what}: no deep-link header`);
  if (typeof res.body === 'object' && res.body.ratelimit) assert.equal(res.body.ratelimit.warning, null, what);
}

function assertRuleBlock(res, rule, what) {
  assert.equal(res.status, 429, `${what}: ${res.text}`);
  assert.equal(res.body.error, 'limit_exceeded', what);
  assert.deepEqual(res.body.rule, { id: rule.id, name: rule.name }, what);
}

const tomorrowUtc = () => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)).toISOString();
};

describe('warn', () => {
  test('usage_percent gte 80: the 4th of 5 requests is warned (header, deep link, body), never blocked', async () => {
    const p = await project(
      { free: { requests: { limit: 5, period: 'day' } } },
      [
        {
          name: 'Free 80%',
          condition: {
            type: 'all',
            conditions: [
              { type: 'tier', tiers: ['free'] },
              { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: 80 },
            ],
          },
          action: {
            type: 'warn',
            message: 'You’ve used {{usage}} of {{limit}} {{limitType}} per {{period}} — upgrade, {{identity}}!',
            deepLink: 'myapp://upgrade?from={{tier}}&used={{usage}}',
          },
        },
      ],
    );
    const [rule] = p.rules;
    const identity = uniqueId('warn');
    const model = `usage-3-2-${hexSuffix()}`;
    for (let i = 1; i <= 3; i++) assertPlain200(await send(p, { identity, model }), `request ${i}`);
    for (const n of [4, 5]) {
      const r = await send(p, { identity, model });
      assert.equal(r.status, 200, r.text);
      const message = `You’ve used ${n} of 5 requests per day — upgrade, ${identity}!`;
      const raw = r.headers.get('x-ratelimit-warning');
      assert.match(raw, /^[\x20-\x7e]+$/, 'the header is ASCII (percent-encoded)');
      assert.match(raw, /%E2%80%99/, 'the ’ is UTF-8 percent-encoded');
      assert.equal(decodeURIComponent(raw), message);
      assert.equal(r.headers.get('x-ratelimit-deeplink'), `myapp://upgrade?from=free&used=${n}`);
      assert.deepEqual(r.body.ratelimit.warning, { ruleId: rule.id, message, deepLink: `myapp://upgrade?from=free&used=${n}` });
      assert.equal(r.headers.get('x-ratelimit-limit'), '5');
      assert.equal(r.headers.get('x-ratelimit-remaining'), String(5 - n));
    }
    // The tier's own limit blocks the 6th: no rule.
    const blocked = await send(p, { identity, model });
    assert.equal(blocked.status, 429, blocked.text);
    assert.equal(blocked.body.rule, null);
    assert.equal(blocked.headers.get('x-ratelimit-warning'), null);
    assert.equal((await mockRequests(model)).length, 5);
  });

  test('streams carry the warning headers', async () => {
    const p = await project(
      { free: { requests: { limit: 5, period: 'day' } } },
      [
        {
          name: 'Free 80% stream',
          condition: { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: 80 },
          action: { type: 'warn', message: 'Almost out: {{usage}}/{{limit}}', deepLink: 'myapp://upgrade' },
        },
      ],
    );
    const identity = uniqueId('warns');
    const model = `usage-3-2-${hexSuffix()}`;
    const s1 = await send(p, { identity, model, stream: true });
    assert.equal(s1.status, 200, s1.text);
    assert.equal(s1.headers.get('x-ratelimit-warning'), null);
    for (let i = 2; i <= 3; i++) assertPlain200(await send(p, { identity, model }), `request ${i}`);
    const s4 = await send(p, { identity, model, stream: true });
    assert.equal(s4.status, 200, s4.text);
    assert.match(s4.headers.get('content-type') || '', /^text\/event-stream/);
    assert.equal(warningOf(s4), 'Almost out: 4/5');
    assert.equal(s4.headers.get('x-ratelimit-deeplink'), 'myapp://upgrade');
    const events = sseEvents(s4.text);
    assert.equal(events.at(-1), '[DONE]', 'the warned stream is served in full');
    // `"stream": true` on /chat too.
    const s5 = await send(p, { identity, model, extra: { stream: true } });
    assert.equal(s5.status, 200, s5.text);
    assert.equal(warningOf(s5), 'Almost out: 5/5');
    assert.equal((await mockRequests(model)).length, 5);
  });

  test('a warn rule without a deep link sends no x-ratelimit-deeplink; usage_percent on tokens sees settled usage', async () => {
    const p = await project(
      { free: { tokens: { limit: 10000, period: 'day' } } },
      [
        {
          name: 'Tokens half',
          condition: { type: 'usage_percent', metric: 'tokens', operator: 'gte', threshold: 50 },
          action: { type: 'warn', message: 'half of {{limit}} {{limitType}}' },
        },
      ],
    );
    const identity = uniqueId('warnt');
    const model = `usage-3000-0-${hexSuffix()}`;
    const extra = { max_tokens: 10 };
    // 1st: 0 + reservation; 2nd: 3000 + reservation (30%); 3rd: 6000 + reservation (60%).
    for (let i = 0; i < 2; i++) {
      assertPlain200(await send(p, { identity, model, extra }), `request ${i + 1}`);
      await waitFor(async () => usageEntry(await identityUsage(p.projectKey, identity), 'tokens').used === 3000 * (i + 1), {
        message: `settled ${3000 * (i + 1)} tokens`,
      });
    }
    const r3 = await send(p, { identity, model, extra });
    assert.equal(r3.status, 200, r3.text);
    assert.equal(warningOf(r3), 'half of 10000 tokens');
    assert.equal(r3.headers.get('x-ratelimit-deeplink'), null);
    assert.deepEqual(r3.body.ratelimit.warning, { ruleId: p.rules[0].id, message: 'half of 10000 tokens', deepLink: null });
  });
});

describe('block', () => {
  test('usage_absolute block with a custom message and deep link → 429 with rule, rendered variables, nothing forwarded', async () => {
    const p = await project(
      { free: { requests: { limit: 100, period: 'day' }, limitMessage: { message: 'tier message', deepLink: 'myapp://tier' } } },
      [
        {
          name: 'Two only',
          condition: { type: 'usage_absolute', metric: 'requests', operator: 'gt', threshold: 2 },
          action: {
            type: 'block',
            message: '{{tier}} plan: {{usage}}/{{limit}} {{limitType}} per {{period}} for {{identity}}, again at {{resetAt}}; {{unknown}}',
            deepLink: 'myapp://upgrade?tier={{tier}}&used={{usage}}',
          },
        },
      ],
    );
    const [rule] = p.rules;
    const identity = uniqueId('blk');
    const model = `usage-4-4-${hexSuffix()}`;
    for (let i = 1; i <= 2; i++) assertPlain200(await send(p, { identity, model }), `request ${i}`);
    const resetAt = tomorrowUtc().replace('.000Z', 'Z');
    for (const stream of [false, true]) {
      const r = await send(p, { identity, model, stream });
      assertRuleBlock(r, rule, `stream=${stream}`);
      assert.match(r.headers.get('content-type') || '', /^application\/json/, 'a plain JSON 429, even for a stream');
      assert.equal(r.body.message, `free plan: 2/100 requests per day for ${identity}, again at ${resetAt}; {{unknown}}`);
      assert.equal(r.body.deepLink, 'myapp://upgrade?tier=free&used=2');
      assert.equal(r.body.tier, 'free');
      assert.equal(r.body.limitType, 'requests');
      assert.equal(r.body.limit, 100);
      assert.equal(r.body.usage, 2);
      assert.equal(r.body.period, 'day');
      assert.equal(new Date(r.body.resetAt).toISOString(), tomorrowUtc());
      assert.match(r.headers.get('retry-after') || '', /^\d+$/);
      assert.equal(r.headers.get('x-ratelimit-limit'), '100');
      assert.equal(r.headers.get('x-ratelimit-remaining'), '98');
      assert.equal(r.headers.get('x-ratelimit-policy'), '100;w=86400');
      assert.equal(r.headers.get('x-ratelimit-warning'), null);
    }
    assert.equal((await mockRequests(model)).length, 2, 'blocked requests are never forwarded');
    // Never counted either.
    const u = await identityUsage(p.projectKey, identity);
    assert.equal(usageEntry(u, 'requests').used, 2);
  });

  test('the free-tier 100% block template decides before the tier limit (rule set, its message and link)', async () => {
    const templates = (await api('/api/rule-templates', { token })).body;
    const tpl = templates.find((t) => t.id === 'free-tier-100-block');
    const p = await project(
      { free: { requests: { limit: 3, period: 'day' }, limitMessage: { message: 'tier message', deepLink: 'myapp://tier' } } },
      [tpl.rule],
    );
    const identity = uniqueId('tpl');
    const model = `usage-1-1-${hexSuffix()}`;
    for (let i = 1; i <= 3; i++) assertPlain200(await send(p, { identity, model }), `request ${i}`);
    const r = await send(p, { identity, model });
    assertRuleBlock(r, p.rules[0], 'the 4th');
    assert.equal(r.body.message, 'Free tier limit reached: 3/3 requests per day. Upgrade to Pro for more.');
    assert.equal(r.body.deepLink, 'myapp://upgrade?plan=pro');
    assert.equal(r.body.usage, 3);
    assert.equal(r.body.limit, 3);
    assert.equal((await mockRequests(model)).length, 3);
  });

  test('tier condition: only the listed tiers are blocked', async () => {
    const p = await project(
      { free: { requests: { limit: 100, period: 'day' } }, pro: { requests: { limit: 100, period: 'hour' } } },
      [{ name: 'No pro today', condition: { type: 'tier', tiers: ['pro'] }, action: { type: 'block', message: 'pro is paused ({{limit}}/{{period}})' } }],
    );
    const identity = uniqueId('tier');
    const model = `usage-1-1-${hexSuffix()}`;
    const pro = await send(p, { identity, tier: 'pro', model });
    assertRuleBlock(pro, p.rules[0], 'pro');
    // No metric: the tier's tightest window explains the 429.
    assert.equal(pro.body.message, 'pro is paused (100/hour)');
    assert.equal(pro.body.limitType, 'requests');
    assert.equal(pro.body.period, 'hour');
    assert.equal(pro.body.usage, 0);
    assert.equal(pro.headers.get('x-ratelimit-policy'), '100;w=3600');
    assertPlain200(await send(p, { identity, tier: 'free', model }), 'free');
    assertPlain200(await send(p, { identity, model }), 'default tier');
    assert.equal((await mockRequests(model)).length, 2);
  });

  test('model condition: only the listed models are blocked', async () => {
    const blockedModel = `usage-1-1-${hexSuffix()}`;
    const okModel = `usage-1-1-${hexSuffix()}`;
    const p = await project(
      { free: { requests: { limit: 100, period: 'day' } } },
      [{ name: 'No image model', condition: { type: 'model', models: [blockedModel, 'dall-e-3'] }, action: { type: 'block' } }],
    );
    const identity = uniqueId('model');
    const r = await send(p, { identity, model: blockedModel });
    assertRuleBlock(r, p.rules[0], 'listed model');
    assert.equal(typeof r.body.message, 'string');
    assert.ok(r.body.message.length > 0);
    assertPlain200(await send(p, { identity, model: okModel }), 'other model');
    assertPlain200(await send(p, { identity, model: blockedModel.toUpperCase() }), 'model ids are exact');
    assert.equal((await mockRequests(blockedModel)).length, 0);
    assert.equal((await mockRequests(okModel)).length, 1);
  });

  test('all / any, nested', async () => {
    const m1 = `usage-1-1-${hexSuffix()}`;
    const m2 = `usage-1-1-${hexSuffix()}`;
    const m3 = `usage-1-1-${hexSuffix()}`;
    const tiers = { free: { requests: { limit: 100, period: 'day' } }, pro: { requests: { limit: 100, period: 'day' } }, team: {} };
    const p = await project(tiers, [
      {
        name: 'any(m1, pro)',
        condition: { type: 'any', conditions: [{ type: 'model', models: [m1] }, { type: 'tier', tiers: ['pro'] }] },
        action: { type: 'block', message: 'any' },
      },
      {
        name: 'all(free, m2)',
        condition: { type: 'all', conditions: [{ type: 'tier', tiers: ['free'] }, { type: 'model', models: [m2] }] },
        action: { type: 'warn', message: 'all' },
      },
      {
        name: 'all(team, any(m2, m3), usage ≥ 2)',
        condition: {
          type: 'all',
          conditions: [
            { type: 'tier', tiers: ['team'] },
            { type: 'any', conditions: [{ type: 'model', models: [m2] }, { type: 'model', models: [m3] }] },
            { type: 'usage_absolute', metric: 'requests', operator: 'gte', threshold: 2 },
          ],
        },
        action: { type: 'block', message: 'nested' },
      },
    ]);
    const [anyRule, , nestedRule] = p.rules;
    const id = () => uniqueId('logic');
    assertRuleBlock(await send(p, { identity: id(), tier: 'free', model: m1 }), anyRule, 'free + m1');
    assertRuleBlock(await send(p, { identity: id(), tier: 'pro', model: m3 }), anyRule, 'pro + m3');
    const warned = await send(p, { identity: id(), tier: 'free', model: m2 });
    assert.equal(warned.status, 200, warned.text);
    assert.equal(warningOf(warned), 'all');
    assertPlain200(await send(p, { identity: id(), tier: 'free', model: m3 }), 'free + m3');
    const teamId = id();
    assertPlain200(await send(p, { identity: teamId, tier: 'team', model: m3 }), 'team + m3, 1st');
    assertRuleBlock(await send(p, { identity: teamId, tier: 'team', model: m2 }), nestedRule, 'team + m2, 2nd');
    assertPlain200(await send(p, { identity: teamId, tier: 'team', model: m1.replace('usage', 'other') }), 'team + other model, 2nd');
  });
});

describe('priority interplay', () => {
  test('warn and block both matching → 429 (block), whatever their priorities', async () => {
    const p = await project({ free: { requests: { limit: 100, period: 'day' } } }, [
      {
        name: 'warn at 2',
        priority: 0,
        condition: { type: 'usage_absolute', metric: 'requests', operator: 'gte', threshold: 2 },
        action: { type: 'warn', message: 'warned {{usage}}' },
      },
      {
        name: 'block past 2',
        priority: 10,
        condition: { type: 'usage_absolute', metric: 'requests', operator: 'gt', threshold: 2 },
        action: { type: 'block', message: 'blocked at {{usage}}' },
      },
    ]);
    const identity = uniqueId('prio');
    const model = `usage-1-1-${hexSuffix()}`;
    assertPlain200(await send(p, { identity, model }), '1st');
    const second = await send(p, { identity, model });
    assert.equal(second.status, 200, second.text);
    assert.equal(warningOf(second), 'warned 2');
    const third = await send(p, { identity, model });
    assertRuleBlock(third, p.rules[1], '3rd: both match');
    assert.equal(third.body.message, 'blocked at 2');
    assert.equal(third.headers.get('x-ratelimit-warning'), null, 'a 429 carries no warning');
    assert.equal((await mockRequests(model)).length, 2);
  });

  test('allow over an exhausted tier limit (enterprise unlimited template) → 200 without limit headers', async () => {
    const templates = (await api('/api/rule-templates', { token })).body;
    const ent = templates.find((t) => t.id === 'enterprise-unlimited').rule;
    const tiers = {
      free: { requests: { limit: 100, period: 'day' } },
      enterprise: { requests: { limit: 2, period: 'day' }, tokens: { limit: 10, period: 'day' } },
    };
    const p = await project(tiers, [ent]);
    const identity = uniqueId('ent');
    const model = `usage-50-50-${hexSuffix()}`;
    for (let i = 1; i <= 4; i++) {
      const r = await send(p, { identity, tier: 'enterprise', model });
      assertPlain200(r, `enterprise request ${i}`);
      for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-policy'])
        assert.equal(r.headers.get(h), null, `${h} on request ${i}`);
      assert.match(r.headers.get('x-request-id') || '', /\S/);
    }
    assert.equal((await mockRequests(model)).length, 4);
    // The same identity is over the tier's caps: without the allow rule it is blocked at once.
    await deleteRule(p, p.rules[0]);
    const r = await send(p, { identity, tier: 'enterprise', model });
    assert.equal(r.status, 429, r.text);
    assert.equal(r.body.rule, null);
    assert.equal((await mockRequests(model)).length, 4);
  });

  test('the first matching block/allow by priority decides; ties keep creation order', async () => {
    const tiers = { vip: { requests: { limit: 1, period: 'day' } } };
    const p = await project(tiers, [
      { name: 'block vip', priority: 5, condition: { type: 'tier', tiers: ['vip'] }, action: { type: 'block', message: 'no' } },
      { name: 'allow vip', priority: 1, condition: { type: 'tier', tiers: ['vip'] }, action: { type: 'allow' } },
    ], { defaultTier: 'vip' });
    const identity = uniqueId('vip');
    const model = `usage-1-1-${hexSuffix()}`;
    for (let i = 1; i <= 3; i++) assertPlain200(await send(p, { identity, tier: 'vip', model }), `allow first, ${i}`);
    // A block rule at the same priority as the allow, created later, does not win.
    const tie = await addRule(p, { name: 'block tie', priority: 1, condition: { type: 'tier', tiers: ['vip'] }, action: { type: 'block' } });
    assertPlain200(await send(p, { identity, tier: 'vip', model }), 'tie: creation order');
    // One with a lower priority does, at once.
    const early = await addRule(p, { name: 'block early', priority: 0, condition: { type: 'tier', tiers: ['vip'] }, action: { type: 'block' } });
    assertRuleBlock(await send(p, { identity, tier: 'vip', model }), early, 'lower priority block');
    await deleteRule(p, early);
    await deleteRule(p, p.rules[1]);
    // Now the tie block (priority 1) comes first.
    assertRuleBlock(await send(p, { identity, tier: 'vip', model }), tie, 'after deletes');
  });
});

describe('enabled flag and changes', () => {
  test('a disabled rule is ignored', async () => {
    const p = await project({ free: { requests: { limit: 100, period: 'day' } } }, [
      { name: 'off block', enabled: false, condition: { type: 'tier', tiers: ['free'] }, action: { type: 'block' } },
      { name: 'off warn', enabled: false, condition: { type: 'tier', tiers: ['free'] }, action: { type: 'warn', message: 'x' } },
    ]);
    const identity = uniqueId('off');
    assertPlain200(await send(p, { identity, model: `usage-1-1-${hexSuffix()}` }), 'disabled rules');
  });

  test('a rule change applies at once (create, delete)', async () => {
    const p = await project({ free: { requests: { limit: 100, period: 'day' } } });
    const identity = uniqueId('chg');
    const model = `usage-1-1-${hexSuffix()}`;
    assertPlain200(await send(p, { identity, model }), 'no rules');
    const warn = await addRule(p, { name: 'w', condition: { type: 'tier', tiers: ['free'] }, action: { type: 'warn', message: 'now warned' } });
    const w = await send(p, { identity, model });
    assert.equal(warningOf(w), 'now warned', w.text);
    const block = await addRule(p, { name: 'b', condition: { type: 'model', models: [model] }, action: { type: 'block' } });
    assertRuleBlock(await send(p, { identity, model }), block, 'after adding a block');
    await deleteRule(p, block);
    const w2 = await send(p, { identity, model });
    assert.equal(w2.status, 200, w2.text);
    assert.equal(warningOf(w2), 'now warned');
    await deleteRule(p, warn);
    assertPlain200(await send(p, { identity, model }), 'all deleted');
  });

  test('PATCH enabled / action applies at once', async () => {
    const p = await project({ free: { requests: { limit: 100, period: 'day' } } }, [
      { name: 'toggle', enabled: false, condition: { type: 'tier', tiers: ['free'] }, action: { type: 'block', message: 'stop' } },
    ]);
    const [rule] = p.rules;
    const identity = uniqueId('patch');
    const model = `usage-1-1-${hexSuffix()}`;
    assertPlain200(await send(p, { identity, model }), 'disabled');
    const on = await api(`/api/projects/${p.id}/rules/${rule.id}`, { token, method: 'PATCH', body: { enabled: true } });
    assert.equal(on.status, 200, on.text);
    assertRuleBlock(await send(p, { identity, model }), rule, 'enabled');
    const warn = await api(`/api/projects/${p.id}/rules/${rule.id}`, { token, method: 'PATCH', body: { action: { type: 'warn', message: 'careful' } } });
    assert.equal(warn.status, 200, warn.text);
    const r = await send(p, { identity, model });
    assert.equal(warningOf(r), 'careful');
  });
});

