// What a request reserves is what it asks the provider for (API section 3,
// "Admission"): the output budget is computed once from `max_tokens` /
// `max_completion_tokens` (conflicting values are a 400), the provider's own
// default where it needs one (Anthropic: 4096), times `n`; and the model is
// canonicalised once (Gemini's `models/x` is `x`), so a per-model cap cannot
// be bypassed by spelling the same model another way.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { MOCK, createProject, hexSuffix, identityUsage, login, mockRequests, proxyChat, uniqueId, usageEntry } from './helpers.mjs';

let token;

before(async () => {
  token = await login();
});

function tally(results) {
  const counts = {};
  for (const r of results) counts[r.status] = (counts[r.status] || 0) + 1;
  return counts;
}

/** `n` requests at once; the `slow` model keeps them all in flight together. */
function burst(projectKey, n, body) {
  return Promise.all(Array.from({ length: n }, () => proxyChat(projectKey, body, { timeoutMs: 60000 })));
}

describe('output budget', () => {
  test('conflicting max_tokens and max_completion_tokens are a 400 naming the field; nothing is forwarded', async () => {
    const project = await createProject(token, { tiers: { free: { tokens: { limit: 10000, period: 'day' } } } });
    const model = `budget-conflict-${hexSuffix()}`;
    const results = await burst(project.projectKey, 20, {
      identity: uniqueId('conflict'),
      model,
      max_tokens: 1,
      max_completion_tokens: 5000,
      messages: [{ role: 'user', content: 'hi' }],
    });
    for (const r of results) {
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error, 'invalid_request');
      assert.equal(r.body.field, 'max_completion_tokens');
    }
    assert.equal((await mockRequests(model)).length, 0);
  });

  test('n multiplies the reservation: 2 choices of 3000 under a 10,000-token cap admit 2 of 6 concurrent requests', async () => {
    const project = await createProject(token, { tiers: { free: { tokens: { limit: 10000, period: 'day' } } } });
    // Each reserves ⌈2/4⌉ + 3000 × 2 = 6001: admitted at 0 and 6001, blocked from 12002.
    // (Reserving 3001 each would admit 4: at 0, 3001, 6002 and 9003.)
    const model = `slow-budget-n-${hexSuffix()}`;
    const results = await burst(project.projectKey, 6, {
      identity: uniqueId('n'),
      model,
      n: 2,
      max_completion_tokens: 3000,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.deepEqual(tally(results), { 200: 2, 429: 4 }, results.map((r) => `${r.status} ${r.text.slice(0, 120)}`).join('\n'));
    for (const rec of await mockRequests(model)) {
      assert.equal(rec.body.max_completion_tokens, 3000);
      assert.equal(rec.body.n, 2);
    }
  });

  test("Anthropic's default 4096 is reserved, and that figure is what the provider is sent", async () => {
    const project = await createProject(token, {
      provider: 'anthropic',
      baseUrl: `${MOCK}/anthropic/v1`,
      tiers: { free: { tokens: { limit: 5000, period: 'day' } } },
    });
    // 4097 reserved each: admitted at 0 and 4097, blocked from 8194 (1025 each would admit 5).
    const model = `slow-budget-anthropic-${hexSuffix()}`;
    const results = await burst(project.projectKey, 6, {
      identity: uniqueId('anthropic'),
      model,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.deepEqual(tally(results), { 200: 2, 429: 4 }, results.map((r) => `${r.status} ${r.text.slice(0, 120)}`).join('\n'));
    const recs = await mockRequests(model);
    assert.equal(recs.length, 2);
    for (const rec of recs) assert.equal(rec.body.max_tokens, 4096);
  });
});

describe('canonical model', () => {
  test('a per-model cap on a Gemini model holds whether the app writes x or models/x', async () => {
    const model = `gemini-canon-${hexSuffix()}`;
    const project = await createProject(token, {
      provider: 'google',
      baseUrl: `${MOCK}/google/v1beta`,
      tiers: { free: { requests: { limit: 100, period: 'day' }, models: { [model]: { requests: { limit: 1, period: 'day' } } } } },
    });
    const identity = uniqueId('canon');
    const first = await proxyChat(project.projectKey, { identity, model, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(first.status, 200, first.text);
    const second = await proxyChat(project.projectKey, { identity, model: `models/${model}`, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(second.status, 429, second.text);
    assert.equal(second.body.limit, 1);
    // Counted once, under the one spelling; the provider saw one request for it.
    const usage = await identityUsage(project.projectKey, identity);
    assert.equal(usageEntry(usage, 'requests', model)?.used, 1);
    assert.equal((await mockRequests(model)).length, 1);
    // The answer names the canonical model.
    assert.equal(first.body.model.replace(/^models\//, ''), first.body.model);
  });
});
