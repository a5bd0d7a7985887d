// Webhooks in the dashboard (docs/API.md, "Webhooks"), in Debian's
// Chromium: an endpoint is added and its signing secret shown once behind
// "I saved it"; a test-send to an endpoint that is down ends in the dead
// letter after every attempt; "Redeliver" gets it through with the same
// event id once the endpoint is up; a real cap reached shows up in the
// delivery log. Every request the receiver got verifies with the secret
// the page showed. axe-core finds no violation; screenshots at both widths.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createProject, login, proxyChat, uniqueId, waitFor } from '../integration/helpers.mjs';
import { startReceiver, verify } from '../integration/webhook-receiver.mjs';
import { checkPage, DASH, openBrowser, signIn, waitForDashboard } from './browser.mjs';

let browser;
let page;
let owner;
let project;
let receiver;
let up = false;

before(async () => {
  await waitForDashboard();
  receiver = await startReceiver();
  receiver.plans.set('/e2e-hook', () => (up ? 200 : 500));
  owner = await login();
  project = await createProject(owner, { tiers: { free: { requests: { limit: 1, period: 'day' } } }, defaultTier: 'free' });
  ({ browser, page } = await openBrowser({ timeout: 20000 }));
  await signIn(page, owner);
});

after(async () => {
  await browser?.close();
  await receiver?.close();
});

const rows = () => page.getByTestId('deliveries-table').locator('tbody tr');

describe('webhooks in the dashboard', () => {
  test('add an endpoint, see the secret once, test-send into the dead letter, redeliver, and see a real cap event', { timeout: 240000 }, async () => {
    await page.goto(`${DASH}/projects/${project.id}/webhooks`);
    await page.getByRole('heading', { name: 'Webhook endpoints' }).waitFor();
    await page.getByText('No endpoint yet. Add one below.').waitFor();

    await page.getByLabel('URL').fill(`${receiver.url}/e2e-hook`);
    await page.getByLabel('Description (optional)').fill('Billing service');
    await page.getByLabel(/An identity crossed a warn rule/).check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
    const secret = (await page.getByTestId('secret-key').innerText()).trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(await page.getByRole('button', { name: 'Done' }).isDisabled(), true, 'not before "I saved it"');
    await checkPage(page, 'webhooks-secret');
    await page.getByLabel('I saved it').check();
    await page.getByRole('button', { name: 'Done' }).click();

    const table = page.getByTestId('endpoints-table');
    await table.getByText(`${receiver.url}/e2e-hook`).waitFor();
    const endpointRow = await table.innerText();
    assert.match(endpointRow, /identity\.warned/);
    assert.match(endpointRow, /identity\.limit_reached/);
    assert.match(endpointRow, /Billing service/);
    assert.ok(!(await page.content()).includes(secret), 'the secret is not on the page any more');

    // Down: every attempt fails, the test event ends in the dead letter.
    await page.getByRole('button', { name: `Send test to ${receiver.url}/e2e-hook` }).click();
    await page.getByText(/Test event evt_\w+ queued/).waitFor();
    await waitFor(async () => /dead letter/.test(await rows().first().innerText().catch(() => '')), {
      timeoutMs: 90000,
      intervalMs: 300,
      message: 'the test event in the dead letter',
    });
    await page.getByLabel('Dead letter').check();
    await rows().first().getByText('10 / 10').waitFor();
    const dead = await rows().first().innerText();
    assert.match(dead, /webhook\.test/);
    assert.match(dead, /500/);
    const attemptsDown = receiver.received.length;
    assert.equal(attemptsDown, 10, 'ten attempts, then the dead letter');
    await checkPage(page, 'webhooks-dead-letter');

    // Up: redeliver from the dead letter; the same event id gets through.
    up = true;
    await rows().first().getByRole('button', { name: /^Redeliver evt_/ }).click();
    await page.getByText(/is queued again/).waitFor();
    await page.getByLabel('All').check();
    await waitFor(async () => /delivered/.test(await rows().first().innerText().catch(() => '')), { timeoutMs: 45000, intervalMs: 300, message: 'redelivered' });
    await page.getByRole('button', { name: 'Refresh' }).click();
    await rows().first().getByText('1 / 10').waitFor();
    assert.equal(receiver.received.length, attemptsDown + 1);
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    assert.equal(ids.size, 1, 'the redelivery carries the same event id');

    // A real cap: the second request of the day is refused, the owner's backend hears of it.
    const identity = uniqueId('e2e-hooked');
    assert.equal((await proxyChat(project.projectKey, { identity, model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })).status, 200);
    assert.equal((await proxyChat(project.projectKey, { identity, model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })).status, 429);
    await waitFor(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return /identity\.limit_reached[\s\S]*delivered/.test(await rows().first().innerText().catch(() => ''));
    }, { timeoutMs: 45000, intervalMs: 500, message: 'the cap event delivered' });
    await rows().first().locator('summary').click();
    const payload = await rows().first().locator('pre').innerText();
    assert.match(payload, new RegExp(`"identity": "${identity}"`));
    assert.match(payload, /"limit": 1/);
    for (const r of receiver.received) assert.ok(verify(secret, r), 'every request verifies with the secret shown');
    await checkPage(page, 'webhooks');
  });
});
