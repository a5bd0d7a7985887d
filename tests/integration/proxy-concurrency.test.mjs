// Admission is exact under concurrency (docs/API.md, "Reservation and settlement"): the
// identity's Durable Object decides and reserves in one step, so N parallel
// requests against a cap of K admit exactly K, and the provider sees exactly K.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  createProject,
  hexSuffix,
  identityUsage,
  login,
  mockRequests,
  proxyChat,
  proxyHeaderProblems,
  uniqueId,
  usageEntry,
  waitFor,
} from './helpers.mjs';

let project;

before(async () => {
  const token = await login();
  project = await createProject(token, {
    tiers: {
      free: { requests: { limit: 5, period: 'day' } },
      one: { requests: { limit: 1, period: 'day' } },
      // Tokens: 100/day. Each request below reserves ⌈4/4⌉ + 10 = 11 tokens
      // and really uses 5 + 6 = 11, so the 10th admission happens at 99 < 100
      // and the 11th would start at 110: exactly 10, whatever the interleaving.
      tok: { requests: { limit: 1000, period: 'day' }, tokens: { limit: 100, period: 'day' } },
      // Same cap, real usage (2 + 3 = 5) below the reservation (11).
      tok2: { requests: { limit: 1000, period: 'day' }, tokens: { limit: 100, period: 'day' } },
      pro: { requests: { limit: 100000, period: 'day' } },
    },
  });
});

async function burst(n, body) {
  return Promise.all(Array.from({ length: n }, () => proxyChat(project.projectKey, body, { timeoutMs: 60000 })));
}

function tally(results) {
  const counts = {};
  for (const r of results) counts[r.status] = (counts[r.status] || 0) + 1;
  return counts;
}

async function settledMockCount(model, expected) {
  // The mock records a request when it arrives; all answers are back, so the
  // count is final — but poll briefly in case a record is still being written.
  return waitFor(async () => {
    const recs = await mockRequests(model);
    return recs.length === expected ? recs : false;
  }, { timeoutMs: 3000, message: `mock saw ${expected} for ${model}` }).catch(async () => mockRequests(model));
}

describe('proxy concurrency', () => {
  test('60 concurrent requests against 5/day admit exactly 5; the provider sees exactly 5', async () => {
    const identity = uniqueId('conc5');
    const model = `usage-3-2-${hexSuffix()}`;
    const results = await burst(60, { identity, model, messages: [{ role: 'user', content: 'hi' }] });
    const counts = tally(results);
    assert.deepEqual(counts, { 200: 5, 429: 55 }, JSON.stringify(counts));

    for (const r of results) {
      assert.deepEqual(proxyHeaderProblems(r), [], `status ${r.status}: ${r.text.slice(0, 200)}`);
      if (r.status === 429) {
        assert.equal(r.body.error, 'limit_exceeded');
        assert.equal(r.body.limitType, 'requests');
        assert.equal(r.body.limit, 5);
        assert.equal(r.body.usage, 5);
        assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
        assert.match(r.headers.get('retry-after') || '', /^\d+$/);
      }
    }
    // Remaining after each admission is 4,3,2,1,0 — each exactly once.
    const remaining = results.filter((r) => r.status === 200).map((r) => Number(r.headers.get('x-ratelimit-remaining')));
    assert.deepEqual(remaining.sort(), [0, 1, 2, 3, 4]);

    const recs = await settledMockCount(model, 5);
    assert.equal(recs.length, 5, `the provider saw ${recs.length} requests`);

    const usage = await identityUsage(project.projectKey, identity);
    assert.equal(usageEntry(usage, 'requests').used, 5);
    assert.equal(usageEntry(usage, 'requests').remaining, 0);
  });

  test('40 concurrent requests against 1/day admit exactly 1; the provider sees exactly 1', async () => {
    const identity = uniqueId('conc1');
    const model = `usage-3-2-${hexSuffix()}`;
    const results = await burst(40, { identity, tier: 'one', model, messages: [{ role: 'user', content: 'hi' }] });
    const counts = tally(results);
    assert.deepEqual(counts, { 200: 1, 429: 39 }, JSON.stringify(counts));
    const recs = await settledMockCount(model, 1);
    assert.equal(recs.length, 1, `the provider saw ${recs.length} requests`);
    const usage = await identityUsage(project.projectKey, identity, { tier: 'one' });
    assert.equal(usageEntry(usage, 'requests').used, 1);
  });

  test('token cap under concurrency: reservations stop admission exactly (usage = reservation)', async () => {
    const identity = uniqueId('conctok');
    const model = `usage-5-6-${hexSuffix()}`;
    const results = await burst(30, {
      identity,
      tier: 'tok',
      model,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'abcd' }],
    });
    const counts = tally(results);
    assert.deepEqual(counts, { 200: 10, 429: 20 }, JSON.stringify(counts));
    for (const r of results.filter((x) => x.status === 429)) {
      assert.equal(r.body.limitType, 'tokens', r.text);
      assert.equal(r.body.limit, 100);
      assert.ok(r.body.usage >= 100, `429 usage ${r.body.usage} must be ≥ the cap`);
    }
    const recs = await settledMockCount(model, 10);
    assert.equal(recs.length, 10);
    const usage = await waitFor(async () => {
      const u = await identityUsage(project.projectKey, identity, { tier: 'tok' });
      return usageEntry(u, 'tokens').used === 110 ? u : false;
    }, { message: 'tokens used = 10 × 11' });
    assert.equal(usageEntry(usage, 'requests').used, 10);
  });

  test('token cap under concurrency: never passed by more than the last admission (usage < reservation)', async () => {
    const identity = uniqueId('conctok2');
    const model = `usage-2-3-${hexSuffix()}`;
    const results = await burst(40, {
      identity,
      tier: 'tok2',
      model,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'abcd' }],
    });
    const admitted = results.filter((r) => r.status === 200).length;
    assert.equal(admitted + results.filter((r) => r.status === 429).length, 40, JSON.stringify(tally(results)));
    // Each admission needs used < 100 where used ≥ 5 per earlier admitted
    // request (settled at 5 or still reserved at 11): (admitted − 1) × 5 < 100.
    assert.ok(admitted >= 10, `at least the 10 reservations that fit must be admitted, got ${admitted}`);
    assert.ok(admitted <= 20, `admitted ${admitted}: (admitted − 1) × 5 must stay below the cap of 100`);
    const recs = await settledMockCount(model, admitted);
    assert.equal(recs.length, admitted, 'the provider saw exactly the admitted requests');
    const usage = await waitFor(async () => {
      const u = await identityUsage(project.projectKey, identity, { tier: 'tok2' });
      return usageEntry(u, 'tokens').used === admitted * 5 ? u : false;
    }, { message: `tokens used = ${admitted} × 5` });
    assert.ok(usageEntry(usage, 'tokens').used < 100 + 5, 'the cap is passed by at most the last request');
    assert.equal(usageEntry(usage, 'requests').used, admitted);
  });

  test('waves of 64 concurrent requests on one identity: every one admitted, each counted once', async () => {
    // A wave's settlements reach the object together on the next wave's
    // calls: one call can carry dozens of endings, whose ledger and outbox
    // rows the object writes in as few statements as its storage's bound
    // values allow (a statement binding too many is refused, which was a
    // 503 limiter_unavailable here).
    const identity = uniqueId('waves');
    const waves = 4;
    for (let w = 0; w < waves; w += 1) {
      const results = await burst(64, { identity, tier: 'pro', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      assert.deepEqual(tally(results), { 200: 64 }, `wave ${w + 1}`);
    }
    await waitFor(async () => {
      const u = await identityUsage(project.projectKey, identity, { tier: 'pro' });
      return usageEntry(u, 'requests').used === waves * 64 ? u : false;
    }, { message: `requests used = ${waves * 64}` });
  });
});
