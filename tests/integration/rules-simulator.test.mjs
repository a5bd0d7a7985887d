// The simulator (docs/API.md, "Rule simulator") gives the decision the
// live proxy gives for the same usage: a table of cases, each brought to its
// usage with real admitted requests, then simulated and sent once more.
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
  uniqueId,
  usageEntry,
  waitFor,
} from './helpers.mjs';

let token;
let project;
let rules; // by name
let reservation; // the token reservation of one request below (⌈prompt chars / 4⌉ + max_tokens)

const P = 200;
const C = 100; // every request uses 300 tokens
const MODEL = `usage-${P}-${C}-${hexSuffix()}`;
const MODEL_X = `usage-${P}-${C}-${hexSuffix()}`; // a model a rule names
const MAX_TOKENS = 16;
const msgs = [{ role: 'user', content: 'simulate me please' }];

const TIERS = {
  free: { requests: { limit: 5, period: 'day' }, limitMessage: { message: 'free limit {{usage}}/{{limit}}', deepLink: 'myapp://free' } },
  pro: { requests: { limit: 1000, period: 'day' } },
  unl: {},
  ent: { requests: { limit: 2, period: 'day' } },
  tok: { tokens: { limit: 1000, period: 'day' } },
  cap: { requests: { limit: 3, period: 'hour' } },
};

const RULES = [
  {
    name: 'free block >100%',
    priority: 0,
    condition: { type: 'all', conditions: [{ type: 'tier', tiers: ['free'] }, { type: 'usage_percent', metric: 'requests', operator: 'gt', threshold: 100 }] },
    action: { type: 'block', message: 'Free: {{usage}}/{{limit}} {{limitType}} per {{period}}', deepLink: 'myapp://upgrade?u={{usage}}' },
  },
  {
    name: 'free warn ≥80%',
    priority: 100,
    condition: { type: 'all', conditions: [{ type: 'tier', tiers: ['free'] }, { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: 80 }] },
    action: { type: 'warn', message: 'Free: {{usage}} of {{limit}}', deepLink: 'myapp://upgrade' },
  },
  {
    name: 'unl block >3',
    priority: 5,
    condition: { type: 'all', conditions: [{ type: 'tier', tiers: ['unl'] }, { type: 'usage_absolute', metric: 'requests', operator: 'gt', threshold: 3 }] },
    action: { type: 'block', message: 'unl {{usage}} {{period}}' },
  },
  {
    name: 'model X warn',
    priority: 50,
    condition: { type: 'model', models: [MODEL_X] },
    action: { type: 'warn', message: 'model X ({{tier}})' },
  },
  {
    name: 'ent allow',
    priority: -1,
    condition: { type: 'tier', tiers: ['ent'] },
    action: { type: 'allow' },
  },
  {
    name: 'tok warn ≥50%',
    priority: 10,
    condition: { type: 'all', conditions: [{ type: 'tier', tiers: ['tok'] }, { type: 'usage_percent', metric: 'tokens', operator: 'gte', threshold: 50 }] },
    action: { type: 'warn', message: 'tokens {{usage}}/{{limit}}' },
  },
  {
    name: 'tok block >90%',
    priority: 10,
    condition: { type: 'all', conditions: [{ type: 'tier', tiers: ['tok'] }, { type: 'usage_percent', metric: 'tokens', operator: 'gt', threshold: 90 }] },
    action: { type: 'block', message: 'tokens over 90%: {{usage}}/{{limit}}' },
  },
  {
    name: 'disabled block all',
    enabled: false,
    priority: -50,
    condition: { type: 'tier', tiers: ['free', 'pro', 'unl', 'ent', 'tok', 'cap'] },
    action: { type: 'block' },
  },
];

// [tier, model, prior admitted requests, expected decision, rule that decides or warns (name) | null]
const TABLE = [
  ['free', MODEL, 0, 'allow', null],
  ['free', MODEL, 2, 'allow', null], // 3/5 = 60%
  ['free', MODEL, 3, 'warn', 'free warn ≥80%'], // 4/5 = 80%
  ['free', MODEL, 4, 'warn', 'free warn ≥80%'], // 5/5 = 100%
  ['free', MODEL, 5, 'block', 'free block >100%'], // 6/5
  ['free', MODEL_X, 1, 'warn', 'model X warn'], // priority 50 < 100
  ['free', MODEL_X, 3, 'warn', 'model X warn'], // both warns match: the first by priority
  ['pro', MODEL, 3, 'allow', null],
  ['pro', MODEL_X, 0, 'warn', 'model X warn'],
  ['unl', MODEL, 2, 'allow', null], // 3 is not > 3
  ['unl', MODEL, 3, 'block', 'unl block >3'],
  ['ent', MODEL, 2, 'allow', 'ent allow'], // over the tier's cap of 2, lifted
  ['cap', MODEL, 2, 'allow', null], // 3/3
  ['cap', MODEL, 3, 'block', null], // the tier's own limit
  ['tok', MODEL, 1, 'allow', null], // 300 + reservation ≈ 31.7%
  ['tok', MODEL, 2, 'warn', 'tok warn ≥50%'], // ≈ 61.7%
  ['tok', MODEL, 3, 'block', 'tok block >90%'], // ≈ 91.7%
];

before(async () => {
  await waitFor(async () => (await api('/healthz', { timeoutMs: 3000 }).catch(() => null))?.status === 200, {
    timeoutMs: 120000,
    intervalMs: 500,
    message: 'worker /healthz',
  });
  token = await login();
  project = await createProject(token, { tiers: TIERS });
  rules = {};
  for (const r of RULES) {
    const res = await api(`/api/projects/${project.id}/rules`, { token, body: r });
    assert.equal(res.status, 201, res.text);
    rules[r.name] = res.body;
  }
  // The reservation of one request: a fresh identity's token counter right after admission.
  const r = await send(uniqueId('calib'), 'tok', MODEL);
  assert.equal(r.status, 200, r.text);
  reservation = r.body.ratelimit.limits.find((l) => l.limitType === 'tokens').used;
  assert.equal(reservation, Math.ceil(msgs[0].content.length / 4) + MAX_TOKENS, 'reservation = ⌈chars/4⌉ + max_tokens');
});

function send(identity, tier, model) {
  return proxyChat(project.projectKey, { identity, tier, model, messages: msgs, max_tokens: MAX_TOKENS });
}

function simulate(body) {
  return api(`/api/projects/${project.id}/rules/simulate`, { token, body });
}

describe('simulator ⇔ live proxy', () => {
  for (const [tier, model, prior, expected, ruleName] of TABLE) {
    const label = `${tier} ${model === MODEL_X ? 'model X' : 'model'} after ${prior} → ${expected}${ruleName ? ` (${ruleName})` : ''}`;
    test(label, async () => {
      const identity = uniqueId(`sim-${tier}`);
      for (let i = 0; i < prior; i++) {
        const r = await send(identity, tier, model);
        assert.equal(r.status, 200, `setup request ${i + 1}: ${r.text}`);
      }
      // Wait until every setup request is settled: the counter then holds exactly this.
      const usage = { requests: prior, tokens: prior * (P + C) };
      await waitFor(
        async () => {
          const u = await identityUsage(project.projectKey, identity, { tier: 'pro' });
          const tok = await identityUsage(project.projectKey, identity, { tier: 'tok' });
          return usageEntry(u, 'requests').used === usage.requests && usageEntry(tok, 'tokens').used === usage.tokens;
        },
        { message: `${identity} settled at ${JSON.stringify(usage)}` },
      );

      const sim = await simulate({ tier, model, usage, requestTokens: reservation });
      assert.equal(sim.status, 200, sim.text);
      const before = (await mockRequests(model)).length;
      const live = await send(identity, tier, model);
      const forwarded = (await mockRequests(model)).length - before;

      // The table's expectation holds for the simulator…
      assert.equal(sim.body.decision, expected, JSON.stringify(sim.body));
      const expectedRule = ruleName ? { id: rules[ruleName].id, name: ruleName } : null;
      if (!(expected === 'allow' && ruleName)) assert.deepEqual(sim.body.matchedRule, expectedRule, 'matchedRule');
      // …and the live proxy gives the same decision.
      if (sim.body.decision === 'block') {
        assert.equal(live.status, 429, live.text);
        assert.equal(forwarded, 0, 'a blocked request is not forwarded');
        assert.deepEqual(live.body.rule, sim.body.matchedRule, 'the same rule (or null for the tier limit)');
        assert.equal(live.body.message, sim.body.message, 'the same message');
        assert.equal(live.body.deepLink ?? null, sim.body.deepLink ?? null, 'the same deep link');
      } else {
        assert.equal(live.status, 200, live.text);
        assert.equal(forwarded, 1);
        const header = live.headers.get('x-ratelimit-warning');
        if (sim.body.decision === 'warn') {
          assert.ok(header, 'warn ⇔ a warning header');
          assert.equal(decodeURIComponent(header), sim.body.message, 'the same warning message');
          assert.equal(live.body.ratelimit.warning.ruleId, sim.body.matchedRule.id);
          assert.equal(live.headers.get('x-ratelimit-deeplink'), sim.body.deepLink ?? null);
        } else {
          assert.equal(header, null, 'allow ⇔ no warning header');
          assert.equal(live.body.ratelimit.warning, null);
          assert.equal(sim.body.message, null);
        }
        if (ruleName && expected === 'allow') {
          // An allow rule lifts the tier's limits: no limit headers live.
          assert.equal(live.headers.get('x-ratelimit-limit'), null);
          assert.deepEqual(sim.body.matchedRule, { id: rules[ruleName].id, name: ruleName });
        }
      }
    });
  }
});

describe('simulator details', () => {
  test('trace lists every saved rule in evaluation order; disabled ones are not matched', async () => {
    const res = await simulate({ tier: 'free', model: MODEL, usage: { requests: 3, tokens: 0 } });
    assert.equal(res.status, 200, res.text);
    const order = [...RULES].map((r, i) => ({ ...r, i })).sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0) || a.i - b.i);
    assert.deepEqual(res.body.trace.map((t) => t.ruleId), order.map((r) => rules[r.name].id));
    const byId = Object.fromEntries(res.body.trace.map((t) => [t.ruleId, t]));
    assert.deepEqual(byId[rules['disabled block all'].id], { ruleId: rules['disabled block all'].id, matched: false, reason: 'disabled' });
    assert.equal(byId[rules['free warn ≥80%'].id].matched, true);
    assert.equal(byId[rules['free block >100%'].id].matched, false);
    assert.equal(byId[rules['ent allow'].id].matched, false);
    for (const t of res.body.trace) assert.equal(typeof t.reason, 'string');
    assert.match(byId[rules['free warn ≥80%'].id].reason, /80/);
    assert.equal(res.body.decision, 'warn');
    assert.equal(res.body.message, 'Free: 4 of 5');
    assert.equal(res.body.deepLink, 'myapp://upgrade');
  });

  test('a draft rules array is simulated, not saved; its ids are given or draft-<index>', async () => {
    const rulesBefore = (await api(`/api/projects/${project.id}/rules`, { token })).body;
    const draft = [
      {
        name: 'draft warn',
        priority: 2,
        condition: { type: 'usage_absolute', metric: 'requests', operator: 'gte', threshold: 2 },
        action: { type: 'warn', message: 'draft {{usage}}' },
      },
      {
        id: 'my-block',
        name: 'draft block',
        priority: 1,
        condition: { type: 'all', conditions: [{ type: 'tier', tiers: ['pro'] }, { type: 'usage_absolute', metric: 'requests', operator: 'gt', threshold: 4 }] },
        action: { type: 'block', message: 'draft blocked at {{usage}}', deepLink: 'myapp://d' },
      },
      { name: 'draft off', enabled: false, condition: { type: 'tier', tiers: ['pro'] }, action: { type: 'block' } },
    ];
    // 1 prior: the request is the 2nd → warn by the draft only (saved rules ignored).
    const w = await simulate({ tier: 'pro', usage: { requests: 1, tokens: 0 }, rules: draft });
    assert.equal(w.status, 200, w.text);
    assert.equal(w.body.decision, 'warn');
    assert.deepEqual(w.body.matchedRule, { id: 'draft-0', name: 'draft warn' });
    assert.equal(w.body.message, 'draft 2');
    assert.deepEqual(w.body.trace.map((t) => [t.ruleId, t.matched]), [
      ['draft-2', false],
      ['my-block', false],
      ['draft-0', true],
    ]);
    assert.equal(w.body.trace[0].reason, 'disabled');
    // 4 prior: the 5th is > 4 → the draft block.
    const b = await simulate({ tier: 'pro', usage: { requests: 4, tokens: 0 }, rules: draft });
    assert.equal(b.body.decision, 'block');
    assert.deepEqual(b.body.matchedRule, { id: 'my-block', name: 'draft block' });
    assert.equal(b.body.message, 'draft blocked at 4');
    assert.equal(b.body.deepLink, 'myapp://d');
    assert.deepEqual(b.body.trace.map((t) => [t.ruleId, t.matched]), [
      ['draft-2', false],
      ['my-block', true],
      ['draft-0', true],
    ]);
    // An empty draft: only the tier decides, even where saved rules would block.
    const e = await simulate({ tier: 'unl', usage: { requests: 10, tokens: 0 }, rules: [] });
    assert.equal(e.body.decision, 'allow');
    assert.deepEqual(e.body.trace, []);
    assert.equal(e.body.matchedRule, null);
    // Nothing was saved.
    const rulesAfter = (await api(`/api/projects/${project.id}/rules`, { token })).body;
    assert.deepEqual(rulesAfter, rulesBefore);
  });

  test('simulator validation', async () => {
    const cases = [
      [{ tier: 'gold', usage: { requests: 0, tokens: 0 } }, 'tier'],
      [{ tier: 'free', usage: { requests: -1, tokens: 0 } }, 'usage.requests'],
      [{ tier: 'free', usage: { requests: 0, tokens: 1.5 } }, 'usage.tokens'],
      [{ tier: 'free', usage: { requests: 0, tokens: 0 }, extra: 1 }, 'extra'],
      [{ tier: 'free', usage: { requests: 0, tokens: 0 }, rules: {} }, 'rules'],
      [
        { tier: 'free', usage: { requests: 0, tokens: 0 }, rules: [{ name: 'x', condition: { type: 'tier', tiers: [] }, action: { type: 'warn' } }] },
        'rules[0].condition.tiers',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await simulate(body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error, 'invalid_request');
      assert.equal(res.body.field, field, res.text);
    }
  });
});
