// Money in the dashboard (docs/API.md, "Cost"), in Debian's Chromium: the
// overview shows the provider cost; a tier gets a cost cap in dollars that
// the proxy then enforces; the costs page takes tier prices and shows the
// tier economics and an identity that costs more than its tier pays; the
// prices page warns about a model with no price and prices it; the identity
// page shows its cost. Each page: axe-core finds nothing, no sideways
// overflow at 390 px, screenshots in dashboard/screenshots/ (git-ignored).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, createProject, hexSuffix, login, proxyChat, uniqueId, waitFor } from '../integration/helpers.mjs';
import { checkPage, DASH, openBrowser, signIn, waitForDashboard } from './browser.mjs';

let browser;
let page;
let owner;
let project;
const heavy = uniqueId('heavy');
const light = uniqueId('light');
const unpricedModel = `inhouse-usage-50-50-${hexSuffix()}`;
// gpt-4o at the list price: 2000 × $2.50/M + 3000 × $10/M = $0.035 per request.
const dearModel = `gpt-4o-usage-2000-3000-${hexSuffix()}`;

const chat = (identity, model, tier = 'free') =>
  proxyChat(project.projectKey, { identity, tier, model, max_tokens: 4000, messages: [{ role: 'user', content: 'hi' }] });

before(async () => {
  await waitForDashboard();
  owner = await login();
  project = await createProject(owner, {
    tiers: { free: { requests: { limit: 1000, period: 'day' } }, pro: { requests: { limit: 1000, period: 'day' } } },
  });
  // Traffic: `heavy` spends 3 × $0.035 on free; `light` one request on pro; one unpriced request.
  for (let i = 0; i < 3; i++) assert.equal((await chat(heavy, dearModel)).status, 200);
  assert.equal((await chat(light, `gpt-4o-mini-usage-100-100-${hexSuffix()}`, 'pro')).status, 200);
  assert.equal((await chat(light, unpricedModel, 'pro')).status, 200);
  await waitFor(
    async () => {
      const r = await api(`/api/projects/${project.id}/analytics/costs?period=month`, { token: owner });
      return r.body?.cost === 3 * 35_000 + 75 && r.body.byModel.length === 3;
    },
    { timeoutMs: 30000, message: 'costs in the analytics' },
  );
  ({ browser, page } = await openBrowser());
  await signIn(page, owner);
});

after(async () => {
  await browser?.close();
});

describe('money in the dashboard', () => {
  test('the overview shows the provider cost of the window', async () => {
    await page.goto(`${DASH}/projects/${project.id}`);
    await page.getByLabel('Window').selectOption('month');
    await page.getByTestId('summary-cost').getByText('$0.105075').waitFor();
    await page.getByRole('heading', { name: 'Provider cost over 30 days (US$)' }).waitFor();
    await checkPage(page, 'costs-overview');
  });

  test('tier prices give the economics; an identity that costs more than its tier pays is flagged', async () => {
    await page.goto(`${DASH}/projects/${project.id}/costs`);
    await page.getByTestId('cost-summary').getByText('$0.105075').waitFor();
    await page.getByTestId('unpriced-warning').getByText(unpricedModel).waitFor();
    await page.getByLabel('free (US$ / month)').fill('0.10');
    await page.getByLabel('pro (US$ / month)').fill('9.99');
    await page.getByRole('button', { name: 'Save tier prices' }).click();
    await page.getByText('Tier prices saved.').waitFor();
    const saved = await api(`/api/projects/${project.id}`, { token: owner });
    assert.deepEqual(saved.body.tierPrices, { free: 100_000, pro: 9_990_000 });
    // heavy: $0.105 of cost against $0.10 paid → −$0.005.
    const row = page.getByTestId('identity-costs').getByRole('row', { name: new RegExp(heavy) });
    await row.getByText('costs more than it pays').waitFor();
    assert.match(await row.innerText(), /−\$0\.005/);
    const free = page.getByTestId('tier-economics').getByRole('row', { name: /^free/ });
    assert.match(await free.innerText(), /\$0\.105/);
    await checkPage(page, 'costs-economics');
  });

  test('the prices page warns about a model without a price, and prices it', async () => {
    await page.goto(`${DASH}/projects/${project.id}/prices`);
    await page.getByTestId('unpriced-models').getByText(unpricedModel, { exact: true }).waitFor();
    assert.match(await page.getByTestId('table-source').innerText(), /as of \d{4}-\d{2}-\d{2}/);
    await page.getByRole('button', { name: `Price ${unpricedModel}` }).click();
    const i = await page.locator('input[id^="pm-"]').count();
    await page.locator(`#pi-${i - 1}`).fill('1.50');
    await page.locator(`#po-${i - 1}`).fill('6');
    await page.getByRole('button', { name: 'Save prices' }).click();
    await page.getByText(/Prices saved/).waitFor();
    const saved = await api(`/api/projects/${project.id}`, { token: owner });
    assert.deepEqual(saved.body.modelPrices[unpricedModel], { input: 1_500_000, output: 6_000_000 });
    await page.getByTestId('models-used').getByRole('row', { name: new RegExp(unpricedModel) }).getByText('your price').waitFor();
    // The next request of that model costs 50 × 1.5 + 50 × 6 = 375 µUSD.
    const id = uniqueId('priced-now');
    await waitFor(async () => (await chat(id, unpricedModel)).status === 200 && true, { message: 'priced request' });
    await checkPage(page, 'costs-prices');
  });

  test('a cost cap typed in dollars on the tiers page is enforced by the proxy', async () => {
    await page.goto(`${DASH}/projects/${project.id}/tiers`);
    await page.getByLabel('Tier to edit').selectOption('free');
    const cost = page.getByRole('group', { name: 'Cost (provider spend)' });
    await cost.getByLabel('Cap').check();
    await cost.getByLabel('Limit (US$)').fill('0.05');
    await cost.getByLabel('Limit (US$)').press('Tab');
    await cost.getByLabel('per').selectOption('day');
    await page.getByRole('button', { name: 'Save tiers' }).click();
    await page.getByText('Saved. Applies within 30 s everywhere.').waitFor();
    const saved = await api(`/api/projects/${project.id}`, { token: owner });
    assert.deepEqual(saved.body.tiers.free.cost, { limit: 50_000, period: 'day' });
    await checkPage(page, 'costs-tier-cap');
    // A new identity: $0.035 spent, the next reservation (≈ 4001 tokens × $10/M ≈ $0.04) no longer fits $0.05.
    const capped = uniqueId('capped');
    const first = await waitFor(async () => {
      const r = await chat(capped, dearModel);
      return r.status === 200 ? r : false;
    }, { message: 'first request admitted' });
    assert.equal(first.status, 200);
    const refused = await waitFor(async () => {
      const r = await chat(capped, dearModel);
      return r.status === 429 ? r : false;
    }, { timeoutMs: 40000, message: 'the cost cap refuses (the project cache refreshes within 30 s)' });
    assert.equal(refused.body.limitType, 'cost');
    assert.equal(refused.body.limit, 50_000);
  });

  test('the identity page shows its cost and its margin', async () => {
    await page.goto(`${DASH}/projects/${project.id}/identities/${encodeURIComponent(heavy)}`);
    const spend = page.getByTestId('identity-spend');
    await spend.getByText('$0.105').waitFor();
    assert.match(await spend.innerText(), /−\$0\.005/);
    await checkPage(page, 'costs-identity');
  });
});
