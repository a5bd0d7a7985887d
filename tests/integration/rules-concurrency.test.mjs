// A block rule at N is as exact under concurrency as a limit (issue 6): 40
// concurrent requests for one identity admit exactly N, the provider sees
// exactly N, and warnings are decided from the usage the counter returns.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { api, createProject, hexSuffix, identityUsage, login, mockRequests, proxyChat, uniqueId, usageEntry, waitFor } from './helpers.mjs';

const CONCURRENCY = 40;
let token;

before(async () => {
  await waitFor(async () => (await api('/healthz', { timeoutMs: 3000 }).catch(() => null))?.status === 200, {
    timeoutMs: 120000,
    intervalMs: 500,
    message: 'worker /healthz',
  });
  token = await login();
});

async function projectWith(tiers, rules, defaultTier) {
  const p = await createProject(token, { tiers, defaultTier });
  const created = [];
  for (const r of rules) {
    const res = await api(`/api/projects/${p.id}/rules`, { token, body: r });
    assert.equal(res.status, 201, res.text);
    created.push(res.body);
  }
  return { ...p, rules: created };
}

async function burst(p, identity, model, tier) {
  return Promise.all(
    Array.from({ length: CONCURRENCY }, () =>
      proxyChat(p.projectKey, { identity, tier, model, messages: [{ role: 'user', content: 'hi' }] }, { timeoutMs: 60000 }),
    ),
  );
}

describe('block rules under concurrency', () => {
  test('usage_absolute requests gt 3 on a tier without a request limit admits exactly 3 of 40', async () => {
    const p = await projectWith({ open: {} }, [
      { name: 'three', condition: { type: 'usage_absolute', metric: 'requests', operator: 'gt', threshold: 3 }, action: { type: 'block', message: 'only {{usage}}' } },
    ], 'open');
    const identity = uniqueId('conc-abs');
    const model = `usage-2-2-${hexSuffix()}`;
    const results = await burst(p, identity, model);
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 3, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, CONCURRENCY - 3, statuses.join(','));
    for (const r of results.filter((x) => x.status === 429)) {
      assert.deepEqual(r.body.rule, { id: p.rules[0].id, name: 'three' });
      assert.equal(r.body.message, 'only 3');
      assert.equal(r.body.usage, 3);
    }
    assert.equal((await mockRequests(model)).length, 3, 'the provider saw exactly 3');
    // The counter holds 3 (blocked requests are not counted): the next one is blocked at usage 3.
    const next = await proxyChat(p.projectKey, { identity, model, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(next.status, 429, next.text);
    assert.equal(next.body.usage, 3, 'blocked requests were not counted');
  });

  test('usage_percent gt 100 (template) on 5/day admits exactly 5 of 40, and exactly 2 carry the 80% warning', async () => {
    const templates = (await api('/api/rule-templates', { token })).body;
    const block = templates.find((t) => t.id === 'free-tier-100-block').rule;
    const warn = templates.find((t) => t.id === 'free-tier-80-warning').rule;
    const p = await projectWith({ free: { requests: { limit: 5, period: 'day' } } }, [block, warn], 'free');
    const identity = uniqueId('conc-pct');
    const model = `usage-2-2-${hexSuffix()}`;
    const results = await burst(p, identity, model);
    const ok = results.filter((r) => r.status === 200);
    const blocked = results.filter((r) => r.status === 429);
    assert.equal(ok.length, 5, results.map((r) => r.status).join(','));
    assert.equal(blocked.length, CONCURRENCY - 5);
    for (const r of blocked) assert.deepEqual(r.body.rule, { id: p.rules[0].id, name: block.name }, r.text);
    // The 4th and 5th admitted are at 80% and 100%: warned, whatever order they ran in.
    const warned = ok.filter((r) => r.headers.get('x-ratelimit-warning') !== null);
    assert.equal(warned.length, 2, ok.map((r) => r.headers.get('x-ratelimit-remaining')).join(','));
    assert.deepEqual(
      warned.map((r) => r.headers.get('x-ratelimit-remaining')).sort(),
      ['0', '1'],
      'the warned ones are those admitted 4th and 5th',
    );
    assert.deepEqual(
      ok.map((r) => r.headers.get('x-ratelimit-remaining')).sort(),
      ['0', '1', '2', '3', '4'],
      'each admitted request saw its own usage',
    );
    assert.equal((await mockRequests(model)).length, 5, 'the provider saw exactly 5');
    const u = await identityUsage(p.projectKey, identity);
    assert.equal(usageEntry(u, 'requests').used, 5);
  });
});
