// Identities the owner controls, in the dashboard (docs/API.md, "Identity
// records", "Tier trust", "Per-IP caps for unsigned traffic"), in Debian's
// Chromium: the tier-trust and per-IP settings are saved; an identity is
// blocked and gifted credits from its page, which the proxy applies to the
// next request; the identities page lists and searches it. axe-core finds no
// violation on the pages touched.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { api, createProject, hexSuffix, login, proxyChat, uniqueId, waitFor } from '../integration/helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DASH = (process.env.AIRL_DASHBOARD_URL || 'http://localhost:3001').replace(/\/$/, '');
const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const CHROMIUM = process.env.AIRL_CHROMIUM || '/usr/bin/chromium';

let browser;
let page;
let owner;
let project;

async function axe(name) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  assert.deepEqual(violations, [], `axe on ${name}: ${JSON.stringify(violations, null, 1)}`);
}

before(async () => {
  await waitFor(async () => (await fetch(`${DASH}/`).catch(() => null))?.status === 200, { timeoutMs: 30000, intervalMs: 300, message: `dashboard at ${DASH}` });
  owner = await login();
  project = await createProject(owner, { tiers: { free: { requests: { limit: 1, period: 'day' } }, pro: { requests: { limit: 100, period: 'day' } } } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${DASH}/signin`);
  await page.evaluate((t) => localStorage.setItem('airl.session', t), owner);
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
    await axe('settings');
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
    await axe('identity page');
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
    await axe('identities page');
  });
});
