// Cost (docs/API.md, "Cost"): each settled request costs exactly its
// reported usage × the model's price (micro-dollars, rounded up once), on
// the three provider formats; a cost cap admits a request only when its
// reservation (the token reservation at the model's dearest price) fits, so
// it holds exactly under 50 concurrent requests; the analytics' cost is the
// sum of the requests' costs.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  MOCK,
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

const BIG = 9_000_000_000_000; // a cost cap that never binds, so usage reports the cost window

/** ⌈((input − cached) × in + cached × cachedIn + output × out) / 1e6⌉, exactly (BigInt). */
function expectedCost(price, { input, cached, output }) {
  const micro =
    BigInt(input - cached) * BigInt(price.input) + BigInt(cached) * BigInt(price.cachedInput) + BigInt(output) * BigInt(price.output);
  return Number((micro + 999_999n) / 1_000_000n);
}

async function costUsed(projectKey, identity) {
  const u = await identityUsage(projectKey, identity);
  return usageEntry(u, 'cost').used;
}

/** Polls until the identity's cost window settles at a value that stays (settlement is after the answer). */
async function settledCost(projectKey, identity, expected) {
  return waitFor(async () => ((await costUsed(projectKey, identity)) === expected ? expected : false), {
    timeoutMs: 15000,
    message: `cost of ${identity} = ${expected}`,
  }).catch(async () => costUsed(projectKey, identity));
}

const PROVIDERS = {
  openai: { baseUrl: `${MOCK}/openai/v1`, family: 'gpt-4o' },
  anthropic: { baseUrl: `${MOCK}/anthropic/v1`, family: 'claude-sonnet-4-5' },
  google: { baseUrl: `${MOCK}/google/v1beta`, family: 'gemini-2.5-flash' },
};

let token;
let table;
before(async () => {
  token = await login();
});

describe('cost of each request', () => {
  const projects = {};
  const expected = {}; // provider → {model → total µUSD}
  before(async () => {
    for (const [provider, spec] of Object.entries(PROVIDERS)) {
      projects[provider] = await createProject(token, {
        provider,
        baseUrl: spec.baseUrl,
        tiers: { metered: { cost: { limit: BIG, period: 'month' } } },
        defaultTier: 'metered',
      });
    }
    const prices = await api(`/api/projects/${projects.openai.id}/prices`, { token });
    assert.equal(prices.status, 200, prices.text);
    table = prices.body.table;
    assert.match(table.date, /^\d{4}-\d{2}-\d{2}$/);
    assert.match(table.source, /OpenAI.*Anthropic.*Google.*xAI/);
  });

  for (const provider of Object.keys(PROVIDERS)) {
    test(`${provider}: usage × the shipped price, cached input at its own price, stream and not`, async () => {
      const p = projects[provider];
      const family = PROVIDERS[provider].family;
      const price = table.models.find((m) => m.model === family);
      assert.ok(price, `${family} is in the shipped table`);
      const cases = [
        { input: 1000, cached: 100, output: 500 },
        { input: 1237, cached: 0, output: 333 },
        { input: 7, cached: 3, output: 1 },
      ];
      expected[provider] = {};
      for (const [i, c] of cases.entries()) {
        for (const stream of [false, true]) {
          const model = `${family}-usage-${c.input}-${c.output}${c.cached ? `-cached-${c.cached}` : ''}-${hexSuffix()}`;
          const identity = uniqueId(`cost-${provider}`);
          const res = await proxyChat(
            p.projectKey,
            { identity, model, messages: [{ role: 'user', content: 'price me' }] },
            { path: stream ? '/api/v1/proxy/chat/stream' : '/api/v1/proxy/chat' },
          );
          assert.equal(res.status, 200, res.text);
          const want = expectedCost(price, c);
          const got = await settledCost(p.projectKey, identity, want);
          assert.equal(got, want, `${provider} case ${i} stream=${stream}: ${JSON.stringify(c)} at ${JSON.stringify(price)}`);
          expected[provider][model] = want;
          console.log(`# ${provider} ${stream ? 'stream' : 'answer'} in=${c.input} cached=${c.cached} out=${c.output} → ${got} µUSD`);
        }
      }
      // A fixed point, so the formula above is not only checked against itself.
      if (provider === 'openai') assert.equal(expectedCost(price, cases[0]), 900 * 2.5 + 100 * 1.25 + 500 * 10);
      if (provider === 'google') assert.equal(expectedCost(price, cases[0]), Math.ceil(900 * 0.3 + 100 * 0.075 + 500 * 2.5));
    });
  }

  test('a model without a price costs 0 and is listed as unpriced until the project prices it', async () => {
    const p = projects.openai;
    const model = `mystery-usage-400-100-${hexSuffix()}`;
    const first = uniqueId('unpriced');
    assert.equal((await proxyChat(p.projectKey, { identity: first, model, messages: [{ role: 'user', content: 'x' }] })).status, 200);
    const listed = await waitFor(
      async () => {
        const r = await api(`/api/projects/${p.id}/prices`, { token });
        return r.body.models.find((m) => m.model === model);
      },
      { timeoutMs: 20000, message: 'unpriced model listed' },
    );
    assert.equal(listed.priced, false);
    assert.equal(listed.cost, 0);
    assert.equal(await costUsed(p.projectKey, first), 0);
    const patch = await api(`/api/projects/${p.id}`, {
      token,
      method: 'PATCH',
      body: { modelPrices: { [model]: { input: 3_000_000, output: 7_000_001, cachedInput: 1 } } },
    });
    assert.equal(patch.status, 200, patch.text);
    assert.equal(patch.body.modelPrices[model].output, 7_000_001);
    const second = uniqueId('priced');
    assert.equal((await proxyChat(p.projectKey, { identity: second, model, messages: [{ role: 'user', content: 'x' }] })).status, 200);
    // 400 × 3 + 100 × 7.000001 = 1900.0001 → 1901 (rounded up once).
    assert.equal(await settledCost(p.projectKey, second, 1901), 1901);
    expected.openai[model] = 1901;
    const bad = await api(`/api/projects/${p.id}`, { token, method: 'PATCH', body: { modelPrices: { [model]: { input: -1, output: 1 } } } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.field, /^modelPrices\./);
  });

  test('analytics: the cost per model, tier, identity and day is the sum of the request costs', async () => {
    for (const provider of Object.keys(PROVIDERS)) {
      const p = projects[provider];
      const models = expected[provider];
      const total = Object.values(models).reduce((a, b) => a + b, 0);
      const costs = await waitFor(
        async () => {
          const r = await api(`/api/projects/${p.id}/analytics/costs?period=month`, { token });
          return r.status === 200 && r.body.cost === total ? r.body : false;
        },
        { timeoutMs: 30000, message: `${provider} analytics cost = ${total}` },
      );
      for (const [model, cost] of Object.entries(models)) {
        const row = costs.byModel.find((m) => m.model === model);
        assert.equal(row?.cost, cost, `${provider} ${model}`);
        assert.equal(row.priced, true);
      }
      assert.equal(costs.byTier.find((t) => t.tier === 'metered').cost, total);
      assert.equal(costs.byIdentity.reduce((a, r) => a + r.cost, 0), total);
      const summary = await api(`/api/projects/${p.id}/usage/summary?period=month`, { token });
      assert.equal(summary.body.cost, total);
      const days = await api(`/api/projects/${p.id}/usage/timeseries?days=2`, { token });
      assert.equal(days.body.at(-1).cost, total);
      console.log(`# ${provider}: ${Object.keys(models).length} models, analytics cost ${costs.cost} µUSD = sum of request costs ${total}`);
    }
  });
});

describe('cost caps under concurrency', () => {
  let project;
  let price;
  // Per-model caps match the canonical model id exactly.
  const mini = `gpt-4o-mini-usage-0-5000-${hexSuffix()}`;
  before(async () => {
    project = await createProject(token, {
      tiers: {
        // Each request below reserves (⌈2/4⌉ + 99) tokens × $10/M = 1000 µUSD.
        exact: { cost: { limit: 5500, period: 'day' } },
        loose: { cost: { limit: 5000, period: 'day' } },
        modelcap: { models: { [mini]: { cost: { limit: 3000, period: 'day' } } } },
      },
      defaultTier: 'exact',
    });
    price = (await api(`/api/projects/${project.id}/prices`, { token })).body.table.models.find((m) => m.model === 'gpt-4o');
  });

  const burst = (n, body) => Promise.all(Array.from({ length: n }, () => proxyChat(project.projectKey, body, { timeoutMs: 60000 })));
  const tally = (rs) => rs.reduce((t, r) => ({ ...t, [r.status]: (t[r.status] || 0) + 1 }), {});

  test('50 concurrent requests whose cost equals their reservation: exactly ⌊5500 / 1000⌋ = 5 are admitted', async () => {
    const identity = uniqueId('capx');
    const model = `gpt-4o-usage-0-100-${hexSuffix()}`; // 100 output tokens × 10 µUSD = 1000 = the reservation
    assert.equal(expectedCost(price, { input: 0, cached: 0, output: 100 }), 1000);
    const results = await burst(50, { identity, tier: 'exact', model, max_tokens: 99, messages: [{ role: 'user', content: 'hi' }] });
    const t = tally(results);
    assert.deepEqual(t, { 200: 5, 429: 45 }, JSON.stringify(t));
    const blocked = results.find((r) => r.status === 429).body;
    assert.equal(blocked.limitType, 'cost');
    assert.equal(blocked.limit, 5500);
    assert.equal(await settledCost(project.projectKey, identity, 5000), 5000);
    assert.equal((await mockRequests(model)).length, 5, 'the provider saw exactly the admitted requests');
    console.log(`# cost cap 5500 µUSD, 50 concurrent × 1000 µUSD: ${JSON.stringify(t)}, spent 5000`);
  });

  test('50 concurrent requests costing less than reserved: never more than the cap, filled until no reservation fits', async () => {
    const identity = uniqueId('capl');
    const model = `gpt-4o-usage-20-30-${hexSuffix()}`; // 20 × 2.5 + 30 × 10 = 350 µUSD, reserved 1000
    const each = expectedCost(price, { input: 20, cached: 0, output: 30 });
    assert.equal(each, 350);
    const body = { identity, tier: 'loose', model, max_tokens: 99, messages: [{ role: 'user', content: 'hi' }] };
    const results = await burst(50, body);
    let admitted = results.filter((r) => r.status === 200).length;
    assert.ok(admitted >= 5, `at least ⌊5000 / 1000⌋ fit at once: ${admitted}`);
    await settledCost(project.projectKey, identity, admitted * each);
    // Then one at a time until refused: a request is admitted iff used + 1000 ≤ 5000.
    for (;;) {
      const r = await proxyChat(project.projectKey, body);
      if (r.status === 429) break;
      assert.equal(r.status, 200, r.text);
      admitted += 1;
      await settledCost(project.projectKey, identity, admitted * each);
    }
    const used = await costUsed(project.projectKey, identity);
    assert.equal(used, admitted * each, 'the window holds exactly the sum of the admitted requests’ costs');
    assert.ok(used <= 5000, `never above the cap: ${used}`);
    assert.ok(used + 1000 > 5000, `refused only when the next reservation no longer fits: ${used}`);
    assert.equal((await mockRequests(model)).length, admitted);
    console.log(`# cost cap 5000 µUSD, 50 concurrent × 350 (reserved 1000): ${admitted} admitted, spent ${used}`);
  });

  test('a per-model cost cap stops only its model, and the 429 names the cost window', async () => {
    const identity = uniqueId('capm');
    const body = (model) => ({ identity, tier: 'modelcap', model, max_tokens: 99, messages: [{ role: 'user', content: 'hi' }] });
    // gpt-4o-mini (priced as its family): dearest $0.60/M → 100 tokens reserve 60 µUSD; real usage 0 in / 5000 out = 3000 µUSD.
    assert.equal((await proxyChat(project.projectKey, body(mini))).status, 200);
    await settledCost(project.projectKey, identity, 3000);
    const refused = await proxyChat(project.projectKey, body(mini));
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.body.limitType, 'cost');
    assert.equal(refused.body.usage, 3000);
    assert.equal((await proxyChat(project.projectKey, body(`gpt-4o-usage-1-1-${hexSuffix()}`))).status, 200);
  });
});
