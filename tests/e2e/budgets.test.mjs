// Project budgets in the dashboard (docs/API.md, "Project budgets"), in
// Debian's Chromium: a budget is set from the budgets page, the project's
// traffic fills its bar, and once the proxy refuses requests the page shows
// it closed; a budget is changed and removed. axe-core finds no violation;
// screenshots at 1280 and 390 px in dashboard/screenshots/ (git-ignored).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, createProject, login, proxyChat, uniqueId, waitFor } from '../integration/helpers.mjs';
import { axe, DASH, openBrowser, shoot, signIn, waitForDashboard } from './browser.mjs';

let browser;
let page;
let owner;
let project;

before(async () => {
  await waitForDashboard();
  owner = await login();
  project = await createProject(owner, { tiers: { free: { requests: { limit: 1000, period: 'day' } } } });
  ({ browser, page } = await openBrowser());
  page.on('dialog', (d) => d.accept());
  await signIn(page, owner);
});

after(async () => {
  await browser?.close();
});

describe('project budgets in the dashboard', () => {
  test('a budget set on the page fills with the project traffic and shows closed when the proxy refuses', async () => {
    await page.goto(`${DASH}/projects/${project.id}/budgets`);
    await page.getByRole('heading', { name: 'Project budgets' }).waitFor();
    await page.getByText('No budget yet').waitFor();
    await page.getByLabel('Limit').fill('4');
    await page.getByLabel('Metric').selectOption('requests');
    await page.getByLabel('per').selectOption('day');
    await page.getByRole('button', { name: 'Save budget' }).click();
    await page.getByText('Saved: at most 4 requests per day for the whole project.').waitFor();
    const row = page.locator('tr[data-budget="requests-day"]');
    assert.match(await row.innerText(), /requests per day\s+0\s+4/);

    // Four identities, one request each: the budget's four requests.
    for (const who of ['a', 'b', 'c', 'd']) {
      const res = await proxyChat(project.projectKey, { identity: uniqueId(who), model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(res.status, 200, res.text);
    }
    await waitFor(async () => (await api(`/api/projects/${project.id}/budgets`, { token: owner })).body.budgets[0].used === 4, { message: 'four requests counted' });
    // The proxy refuses the next one (the isolate's state refreshes within a second).
    const refused = await waitFor(async () => {
      const res = await proxyChat(project.projectKey, { identity: uniqueId('late'), model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      return res.status === 429 ? res : null;
    }, { message: 'a refusal once the budget is used up' });
    assert.equal(refused.body.error, 'project_budget_exceeded');
    await page.reload();
    await page.getByTestId('budget-closed').waitFor();
    assert.match(await row.innerText(), /Closed/);
    assert.ok(Number(await row.getByRole('meter').getAttribute('aria-valuenow')) >= 100, 'the bar is full');
    await axe(page, 'budgets (closed)');
    await shoot(page, 'budgets-closed');
  });

  test('a budget is changed and removed from the page', async () => {
    await page.goto(`${DASH}/projects/${project.id}/budgets`);
    const row = page.locator('tr[data-budget="requests-day"]');
    await row.waitFor();
    await row.getByRole('button', { name: 'Change' }).click();
    assert.equal(await page.getByLabel('Limit').inputValue(), '4');
    await page.getByLabel('Limit').fill('100');
    await page.getByRole('button', { name: 'Save budget' }).click();
    await page.getByText('Saved: at most 100 requests per day for the whole project.').waitFor();
    await row.getByText('Open').waitFor();
    // A cost budget is typed in dollars and stored in micro-dollars.
    await page.getByLabel('Limit').fill('500');
    await page.getByLabel('Metric').selectOption('cost');
    await page.getByLabel('per').selectOption('month');
    await page.getByRole('button', { name: 'Save budget' }).click();
    const costRow = page.locator('tr[data-budget="cost-month"]');
    await costRow.waitFor();
    assert.match(await costRow.innerText(), /\$500\.00/);
    const stored = await api(`/api/projects/${project.id}/budgets`, { token: owner });
    assert.equal(stored.body.budgets.find((b) => b.id === 'cost-month').limit, 500_000_000);
    assert.equal(await page.getByTestId('budget-closed').count(), 0);
    await shoot(page, 'budgets-open');
    await costRow.getByRole('button', { name: 'Remove' }).click();
    await costRow.waitFor({ state: 'detached' });
    const listed = await api(`/api/projects/${project.id}/budgets`, { token: owner });
    assert.deepEqual(listed.body.budgets.map((b) => [b.id, b.limit]), [['requests-day', 100]]);
  });
});
