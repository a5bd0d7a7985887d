// Identities the owner controls, in the dashboard (docs/API.md, "Identity
// records", "Tier trust", "Per-IP caps for unsigned traffic"), in Debian's
// Chromium: the tier-trust and per-IP settings are saved; an identity is
// blocked and gifted credits from its page, which the proxy applies to the
// next request; the identities page lists and searches it. axe-core finds no
// violation on the pages touched.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, createProject, hexSuffix, login, proxyChat, uniqueId, waitFor } from '../integration/helpers.mjs';
import { axe, DASH, openBrowser, signIn, waitForDashboard } from './browser.mjs';

let browser;
let page;
let owner;
let project;

before(async () => {
  await waitForDashboard();
  owner = await login();
  project = await createProject(owner, { tiers: { free: { requests: { limit: 1, period: 'day' } }, pro: { requests: { limit: 100, period: 'day' } } } });
  ({ browser, page } = await openBrowser());
  await signIn(page, owner);
});

after(async () => {
  await browser?.close();
});

describe('identities in the dashboard', () => {
  test('tier trust and per-IP caps are saved from the settings page', async () => {
    await page.goto(`${DASH}/projects/${project.id}/settings`);
    await page.getByRole('heading', { name: 'Tier trust and anonymous traffic' }).waitFor();
    await page.getByLabel(/Only the server/).check();
    await page.getByLabel('Requests per IP').fill('30');
    await page.getByRole('button', { name: 'Save tier trust and per-IP caps' }).click();
    const outcome = page.locator('form[aria-labelledby="trust-title"]').locator('[role="status"], [role="alert"]');
    await outcome.waitFor();
    assert.equal(await outcome.innerText(), 'Saved. Applies within 30 s everywhere.');
    await axe(page, 'settings');
    const saved = await api(`/api/projects/${project.id}`, { token: owner });
    assert.equal(saved.body.tierSource, 'server');
    assert.deepEqual(saved.body.anonymousLimits, { requests: { limit: 30, period: 'minute' } });
  });

  test('an identity is blocked and gifted credits from its page; the proxy applies both to the next request', async () => {
    const identity = uniqueId('e2e-id');
    const chat = () => proxyChat(project.projectKey, { identity, model: `usage-3-2-${hexSuffix()}`, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'cf-connecting-ip': `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}` } });
    assert.equal((await chat()).status, 200);
    assert.equal((await chat()).status, 429);
    await page.goto(`${DASH}/projects/${project.id}/identities/${encodeURIComponent(identity)}`);
    await page.getByRole('heading', { name: 'Overrides' }).waitFor();
    await page.getByLabel('Gift requests').fill('2');
    await page.getByRole('button', { name: 'Gift credits' }).click();
    await page.getByText('Gifted 2 requests and 0 tokens.').waitFor();
    await page.getByTestId('record-credits').getByText('2 requests').waitFor();
    assert.equal((await chat()).status, 200, 'a gifted credit admits the next request past the cap');
    await page.getByLabel('Blocked', { exact: true }).check();
    await page.getByLabel('Message when blocked').fill('On hold by support');
    await page.getByRole('button', { name: 'Save overrides' }).click();
    await page.getByText('Saved. It applies to the next request.').waitFor();
    await axe(page, 'identity page');
    const blocked = await chat();
    assert.equal(blocked.status, 429, blocked.text);
    assert.equal(blocked.body.message, 'On hold by support');

    await page.goto(`${DASH}/projects/${project.id}/identities`);
    await page.getByLabel('Search').fill(identity);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByTestId('records-table').getByText(identity).waitFor();
    const row = await page.getByTestId('records-table').innerText();
    assert.match(row, /blocked/);
    assert.match(row, /credits 1 req/);
    await axe(page, 'identities page');
  });
});
