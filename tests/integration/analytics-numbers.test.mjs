// Analytics equal the traffic the test sent (issue 6; docs/API.md, "Usage and analytics"): a known mix
// of admitted, warned, rule-blocked and limit-blocked requests for two
// identities on two tiers and two models, then every analytics route is
// polled (≤ 10 s) until it shows exactly those numbers.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { api, createProject, hexSuffix, login, proxyChat, uniqueId, waitFor } from './helpers.mjs';

let token;
let project;
let warnRule;
let blockRule;
const prefix = uniqueId('an');
const A = `${prefix}-a`;
const B = `${prefix}-b`;
const hex = hexSuffix();
const M1 = `usage-10-5-${hex}`; // 15 tokens
const M2 = `usage-7-3-${hex}`; // 10 tokens
const sent = []; // [identity, tier, model, expected status, warned?]

const todayUtc = () => new Date().toISOString().slice(0, 10);
const dayOffset = (n) => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + n)).toISOString().slice(0, 10);
};

/** Poll `read` until `check(value)` passes (≤ 10 s, as the contract says); the last failure is reported. */
async function eventually(read, check, message) {
  let lastErr;
  try {
    return await waitFor(
      async () => {
        const v = await read();
        try {
          check(v);
          return v;
        } catch (e) {
          lastErr = e;
          return false;
        }
      },
      { timeoutMs: 10000, intervalMs: 200, message },
    );
  } catch (e) {
    if (lastErr) {
      lastErr.message = `${message} (not within 10 s): ${lastErr.message}`;
      throw lastErr;
    }
    throw e;
  }
}

async function get(path) {
  const res = await api(`/api/projects/${project.id}${path}`, { token });
  assert.equal(res.status, 200, `${path}: ${res.text}`);
  return res.body;
}

before(async () => {
  await waitFor(async () => (await api('/healthz', { timeoutMs: 3000 }).catch(() => null))?.status === 200, {
    timeoutMs: 120000,
    intervalMs: 500,
    message: 'worker /healthz',
  });
  token = await login();
  project = await createProject(token, {
    tiers: {
      free: { requests: { limit: 3, period: 'day' } },
      pro: { requests: { limit: 1000, period: 'day' } },
    },
  });
  const add = async (body) => {
    const res = await api(`/api/projects/${project.id}/rules`, { token, body });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };
  warnRule = await add({
    name: 'pro from 2',
    condition: { type: 'all', conditions: [{ type: 'tier', tiers: ['pro'] }, { type: 'usage_absolute', metric: 'requests', operator: 'gte', threshold: 2 }] },
    action: { type: 'warn', message: 'used {{usage}}' },
  });
  blockRule = await add({
    name: 'pro past 5',
    condition: { type: 'all', conditions: [{ type: 'tier', tiers: ['pro'] }, { type: 'usage_absolute', metric: 'requests', operator: 'gt', threshold: 5 }] },
    action: { type: 'block', message: 'stop at {{usage}}' },
  });
  // A rule that never matches: it must not show in the trigger stats.
  await add({ name: 'never', condition: { type: 'tier', tiers: ['nobody'] }, action: { type: 'warn' } });

  // The traffic, in order (usage counts are the identity's, whatever the tier).
  const plan = [
    [A, 'free', M1, 200, false], // A 1
    [A, 'free', M1, 200, false], // A 2
    [A, 'free', M2, 200, false], // A 3
    [A, 'free', M1, 429, false], // tier limit: not a trigger
    [A, 'free', M1, 429, false], // tier limit
    [A, 'pro', M1, 200, true], // A 4 on pro: warned (≥ 2)
    [B, 'pro', M1, 200, false], // B 1
    [B, 'pro', M2, 200, true], // B 2
    [B, 'pro', M2, 200, true], // B 3
    [B, 'pro', M2, 200, true], // B 4
    [B, 'pro', M2, 200, true], // B 5
    [B, 'pro', M2, 429, false], // B 6: the block rule
  ];
  for (const [identity, tier, model, status, warned] of plan) {
    const r = await proxyChat(project.projectKey, { identity, tier, model, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.status, status, `${identity} ${tier} ${model}: ${r.text}`);
    assert.equal(r.headers.get('x-ratelimit-warning') !== null, warned, `${identity} ${tier} ${model} warning`);
    if (status === 429) assert.deepEqual(r.body.rule, identity === B ? { id: blockRule.id, name: blockRule.name } : null);
    sent.push([identity, tier, model, status, warned]);
  }
});

// What the plan above adds up to (`blocked` and `warned` count per row too:
// a request blocked by the tier's cap or a rule lands on its identity × tier × model).
const EXPECTED_ROWS = [
  { identity: A, tier: 'free', model: M1, requests: 2, inputTokens: 20, outputTokens: 10, tokens: 30, blocked: 2, warned: 0, cost: 0 },
  { identity: A, tier: 'free', model: M2, requests: 1, inputTokens: 7, outputTokens: 3, tokens: 10, blocked: 0, warned: 0, cost: 0 },
  { identity: A, tier: 'pro', model: M1, requests: 1, inputTokens: 10, outputTokens: 5, tokens: 15, blocked: 0, warned: 1, cost: 0 },
  { identity: B, tier: 'pro', model: M1, requests: 1, inputTokens: 10, outputTokens: 5, tokens: 15, blocked: 0, warned: 0, cost: 0 },
  { identity: B, tier: 'pro', model: M2, requests: 4, inputTokens: 28, outputTokens: 12, tokens: 40, blocked: 1, warned: 4, cost: 0 },
].map((r) => ({ date: todayUtc(), ...r }));
const rowKey = (r) => `${r.identity}|${r.tier}|${r.model}`;

describe('analytics equal the traffic', () => {
  test('the plan is what was sent', () => {
    assert.equal(sent.length, 12);
    assert.equal(sent.filter((s) => s[3] === 200).length, 9);
  });

  test('usage/summary?period=day', async () => {
    const today = todayUtc();
    const summary = await eventually(
      () => get('/usage/summary?period=day'),
      (s) =>
        assert.deepEqual(
          { requests: s.requests, tokens: s.tokens, identities: s.identities, blocked: s.blocked, warned: s.warned, cost: s.cost, byTier: s.byTier },
          {
            requests: 9,
            tokens: { input: 75, output: 35, total: 110 },
            identities: 2,
            blocked: 3,
            warned: 5,
            cost: 0,
            byTier: { free: { requests: 3, tokens: 40, blocked: 2, cost: 0 }, pro: { requests: 6, tokens: 70, blocked: 1, cost: 0 } },
          },
        ),
      'summary',
    );
    assert.equal(summary.period, 'day');
    assert.equal(new Date(summary.from).toISOString(), `${today}T00:00:00.000Z`);
    assert.equal(new Date(summary.to).toISOString(), `${dayOffset(1)}T00:00:00.000Z`);
    // The week and month windows contain today.
    for (const period of ['week', 'month']) {
      const s = await get(`/usage/summary?period=${period}`);
      assert.equal(s.period, period);
      assert.equal(s.requests, 9, period);
      assert.equal(s.blocked, 3, period);
      assert.equal(s.warned, 5, period);
      assert.deepEqual(s.tokens, { input: 75, output: 35, total: 110 }, period);
    }
    const bad = await api(`/api/projects/${project.id}/usage/summary?period=year`, { token });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.field, 'period');
  });

  test('usage/by-identity paged one row at a time through nextCursor', async () => {
    const date = todayUtc();
    await eventually(
      () => get(`/usage/by-identity?date=${date}&limit=500`),
      (page) => {
        const rows = page.items.map((r) => ({ ...r }));
        assert.deepEqual(
          [...rows].sort((x, y) => rowKey(x).localeCompare(rowKey(y))),
          [...EXPECTED_ROWS].sort((x, y) => rowKey(x).localeCompare(rowKey(y))),
        );
        assert.equal(page.nextCursor, null);
      },
      'by-identity rows',
    );
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const q = new URLSearchParams({ date, limit: '1' });
      if (cursor) q.set('cursor', cursor);
      const page = await get(`/usage/by-identity?${q}`);
      pages++;
      assert.ok(page.items.length <= 1, JSON.stringify(page));
      seen.push(...page.items);
      cursor = page.nextCursor;
      assert.ok(pages <= EXPECTED_ROWS.length + 1, 'paging terminates');
    } while (cursor !== null);
    assert.equal(pages, EXPECTED_ROWS.length, 'one page per row, the last with nextCursor null');
    assert.equal(new Set(seen.map(rowKey)).size, seen.length, 'no row twice');
    assert.deepEqual(
      [...seen].sort((x, y) => rowKey(x).localeCompare(rowKey(y))),
      [...EXPECTED_ROWS].sort((x, y) => rowKey(x).localeCompare(rowKey(y))),
    );
    // Another day is empty.
    const other = await get(`/usage/by-identity?date=${dayOffset(-1)}`);
    assert.deepEqual(other, { items: [], nextCursor: null });
    const bad = await api(`/api/projects/${project.id}/usage/by-identity?date=yesterday`, { token });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.field, 'date');
  });

  test('usage/timeseries?days=3: three days, oldest first, today exact', async () => {
    await eventually(
      () => get('/usage/timeseries?days=3'),
      (series) =>
        assert.deepEqual(series, [
          { date: dayOffset(-2), requests: 0, tokens: 0, blocked: 0, cost: 0 },
          { date: dayOffset(-1), requests: 0, tokens: 0, blocked: 0, cost: 0 },
          { date: todayUtc(), requests: 9, tokens: 110, blocked: 3, cost: 0 },
        ]),
      'timeseries',
    );
    const thirty = await get('/usage/timeseries');
    assert.equal(thirty.length, 30, 'days defaults to 30');
  });

  test('analytics/rule-triggers?days=7: a tier-limit block is not a trigger', async () => {
    const res = await eventually(
      () => get('/analytics/rule-triggers?days=7'),
      (t) => {
        const stats = t.stats.map(({ lastTriggered, ...rest }) => rest);
        assert.deepEqual(
          [...stats].sort((x, y) => x.ruleName.localeCompare(y.ruleName)),
          [
            { ruleId: blockRule.id, ruleName: 'pro past 5', triggerCount: 1, uniqueIdentities: 1 },
            { ruleId: warnRule.id, ruleName: 'pro from 2', triggerCount: 5, uniqueIdentities: 2 },
          ].sort((x, y) => x.ruleName.localeCompare(y.ruleName)),
        );
        assert.equal(t.byDay.length, 7);
        assert.deepEqual(t.byDay.at(-1), { date: todayUtc(), count: 6 });
      },
      'rule-triggers',
    );
    assert.deepEqual(res.byDay.map((d) => d.date), [-6, -5, -4, -3, -2, -1, 0].map(dayOffset), 'oldest first');
    assert.ok(res.byDay.slice(0, 6).every((d) => d.count === 0));
    for (const s of res.stats) {
      const t = Date.parse(s.lastTriggered);
      assert.ok(Number.isFinite(t) && Math.abs(Date.now() - t) < 5 * 60_000, s.lastTriggered);
    }
  });

  test('analytics/recent-triggers?limit=50', async () => {
    const items = await eventually(
      () => get('/analytics/recent-triggers?limit=50'),
      (list) => assert.equal(list.length, 6, JSON.stringify(list)),
      'recent-triggers',
    );
    const simple = items.map(({ triggeredAt, usagePercent, ...rest }) => rest);
    const expected = [
      { ruleId: warnRule.id, ruleName: 'pro from 2', identity: A, tier: 'pro', action: 'warn' },
      ...Array(4).fill({ ruleId: warnRule.id, ruleName: 'pro from 2', identity: B, tier: 'pro', action: 'warn' }),
      { ruleId: blockRule.id, ruleName: 'pro past 5', identity: B, tier: 'pro', action: 'block' },
    ];
    const key = (x) => JSON.stringify([x.ruleId, x.ruleName, x.identity, x.tier, x.action, Object.keys(x).length]);
    assert.deepEqual(simple.map(key).sort(), expected.map(key).sort());
    // Usage percent of the pro tier's 1000/day, this request included: A at 4, B at 2…5, block at 6.
    const pct = (x) => Math.round(x.usagePercent * 1000) / 1000;
    const warnA = items.filter((x) => x.identity === A).map(pct);
    const warnB = items.filter((x) => x.identity === B && x.action === 'warn').map(pct).sort();
    const blockB = items.filter((x) => x.action === 'block').map(pct);
    assert.deepEqual(warnA, [0.4]);
    assert.deepEqual(warnB, [0.2, 0.3, 0.4, 0.5]);
    assert.deepEqual(blockB, [0.6]);
    // Newest first.
    const times = items.map((x) => Date.parse(x.triggeredAt));
    assert.ok(times.every((t) => Number.isFinite(t)));
    assert.deepEqual(times, [...times].sort((x, y) => y - x));
    // limit applies.
    assert.equal((await get('/analytics/recent-triggers?limit=2')).length, 2);
  });

  test('identities/:identity is live; reset zeroes it and the next request is admitted', async () => {
    const b = await get(`/identities/${encodeURIComponent(B)}?tier=pro`);
    assert.equal(b.identity, B);
    assert.equal(b.tier, 'pro');
    const bReq = b.limits.find((l) => l.limitType === 'requests');
    assert.equal(bReq.used, 5, 'admitted only');
    assert.equal(bReq.limit, 1000);
    assert.equal(bReq.remaining, 995);
    const a = await get(`/identities/${encodeURIComponent(A)}`);
    assert.equal(a.tier, 'free', 'the default tier');
    const aReq = a.limits.find((l) => l.limitType === 'requests');
    assert.equal(aReq.used, 4, 'the identity’s counter, across tiers');
    assert.equal(aReq.limit, 3);
    assert.equal(aReq.remaining, 0);
    // Same shape as /api/v1/usage.
    const pub = await api(`/api/v1/usage?identity=${encodeURIComponent(A)}`, { headers: { 'x-project-key': project.projectKey } });
    assert.equal(pub.status, 200, pub.text);
    assert.deepEqual(pub.body, a);

    const blocked = await proxyChat(project.projectKey, { identity: A, tier: 'free', model: M1, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(blocked.status, 429, blocked.text);

    const reset = await api(`/api/projects/${project.id}/identities/${encodeURIComponent(A)}/reset`, { token, method: 'POST' });
    assert.equal(reset.status, 200, reset.text);
    assert.equal(reset.body.limits.find((l) => l.limitType === 'requests').used, 0);
    const after = await get(`/identities/${encodeURIComponent(A)}`);
    assert.equal(after.limits.find((l) => l.limitType === 'requests').used, 0);
    const again = await proxyChat(project.projectKey, { identity: A, tier: 'free', model: M1, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers.get('x-ratelimit-remaining'), '2');
    const now = await get(`/identities/${encodeURIComponent(A)}`);
    assert.equal(now.limits.find((l) => l.limitType === 'requests').used, 1);
    // A reset leaves the analytics alone: the new request is added, nothing removed.
    await eventually(
      () => get('/usage/summary?period=day'),
      (s) => {
        assert.equal(s.requests, 10);
        assert.equal(s.blocked, 4);
        assert.deepEqual(s.tokens, { input: 85, output: 40, total: 125 });
      },
      'summary after reset',
    );
    const unknownTier = await api(`/api/projects/${project.id}/identities/${encodeURIComponent(A)}?tier=gold`, { token });
    assert.equal(unknownTier.status, 400, unknownTier.text);
    assert.equal(unknownTier.body.field, 'tier');
  });
});
