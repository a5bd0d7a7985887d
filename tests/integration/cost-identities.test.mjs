// Cost where the owner decides per identity and in rules (docs/API.md,
// "Cost"): an identity record's own cost cap, spend credits past it (each
// consuming the request's cost reservation, never below zero), a rule on
// `cost`, and the cost window in the limit headers.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { api, createProject, hexSuffix, identityUsage, login, proxyChat, uniqueId, usageEntry, waitFor } from './helpers.mjs';

let token;
before(async () => {
  token = await login();
});

// Every request below: reservation ⌈2/4⌉ + 99 = 100 tokens × $10/M = 1000 µUSD,
// real usage 0 in / 100 out at gpt-4o's $10/M = 1000 µUSD.
const body = (identity, extra = {}) => ({
  identity,
  model: `gpt-4o-usage-0-100-${hexSuffix()}`,
  max_tokens: 99,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

async function settled(projectKey, identity, cost) {
  return waitFor(async () => usageEntry(await identityUsage(projectKey, identity), 'cost').used === cost, {
    timeoutMs: 15000,
    message: `${identity} spent ${cost}`,
  });
}

describe('cost per identity and in rules', () => {
  test("an identity's own cost cap, then spend credits past it, down to exactly zero", async () => {
    const project = await createProject(token, { tiers: { free: { cost: { limit: 1_000_000, period: 'day' } } }, defaultTier: 'free' });
    const identity = uniqueId('rec-cost');
    const path = `/api/projects/${project.id}/identity-records/${encodeURIComponent(identity)}`;
    const set = await api(path, { token, method: 'PATCH', body: { limits: { cost: { limit: 2000, period: 'day' } } } });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.body.limits, { cost: { limit: 2000, period: 'day' } });
    const send = () => proxyChat(project.projectKey, body(identity));
    for (let i = 0; i < 2; i++) {
      assert.equal((await send()).status, 200);
      await settled(project.projectKey, identity, (i + 1) * 1000);
    }
    const refused = await send();
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.body.limitType, 'cost');
    assert.equal(refused.body.limit, 2000);
    assert.equal(refused.headers.get('x-ratelimit-limit'), '2000', 'the headers describe the cost window in µUSD');
    // 1500 µUSD of credits: 1000 for the first request past the cap, the last 500 for the second.
    const gift = await api(`${path}/credits`, { token, body: { cost: 1500 } });
    assert.equal(gift.status, 200, gift.text);
    assert.equal(gift.body.credits.cost, 1500);
    assert.equal((await send()).status, 200);
    assert.equal((await send()).status, 200);
    assert.equal((await send()).status, 429);
    const after = await api(path, { token });
    assert.equal(after.body.credits.cost, 0);
    await settled(project.projectKey, identity, 4000);
  });

  test('a rule on cost: usage_absolute > 2500 µUSD blocks the third request', async () => {
    const project = await createProject(token, { tiers: { free: { requests: { limit: 1000, period: 'day' } } }, defaultTier: 'free' });
    const rule = await api(`/api/projects/${project.id}/rules`, {
      token,
      body: {
        name: 'Spend guard',
        condition: { type: 'usage_absolute', metric: 'cost', operator: 'gt', threshold: 2500 },
        action: { type: 'block', message: 'Spend limit reached' },
      },
    });
    assert.equal(rule.status, 201, rule.text);
    const identity = uniqueId('rule-cost');
    // The rule sees the spend including this request's reservation: 1000, 2000, then 3000 > 2500.
    for (let i = 0; i < 2; i++) {
      assert.equal((await proxyChat(project.projectKey, body(identity))).status, 200);
      // Settle each, so the next request is decided on the exact spend.
      await waitFor(async () => {
        const r = await api(`/api/projects/${project.id}/usage/by-identity?limit=10`, { token });
        return r.body.items.filter((x) => x.identity === identity).reduce((a, x) => a + x.cost, 0) === (i + 1) * 1000;
      }, { timeoutMs: 30000, message: 'cost in the analytics' });
    }
    const blocked = await proxyChat(project.projectKey, body(identity));
    assert.equal(blocked.status, 429, blocked.text);
    assert.equal(blocked.body.rule?.id, rule.body.id);
    assert.equal(blocked.body.message, 'Spend limit reached');
    assert.equal(blocked.body.limitType, 'cost');
  });
});
