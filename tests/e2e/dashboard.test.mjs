// The owner dashboard end to end (issue 11), in Debian's Chromium driven by
// playwright-core, against the real stack: the Worker, Postgres, the mock
// provider and the built dashboard served on its port.
//
// One owner's journey: sign in → create a project → set the free tier's cap →
// add the 80% warning from its template → simulate it → traffic through the
// proxy (from this test, with the project key) → the usage, the warning and
// the trigger in the dashboard's charts and tables → the what-if names the
// identity a lower cap would refuse. On every page: axe-core with zero
// violations, no horizontal overflow at phone width, and screenshots at
// 1280 and 390 px in dashboard/screenshots/ (git-ignored).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, hexSuffix, MOCK, proxyChat, uniqueId, waitFor } from '../integration/helpers.mjs';
import { axeChecks as checked, checkPage as checkPageOf, DASH, openBrowser, ROOT, SHOTS, waitForDashboard } from './browser.mjs';

const UI_TIMEOUT = 15000;

const email = `${uniqueId('e2e')}@example.com`;
const projectName = uniqueId('E2E shop');
const U = `${uniqueId('user')}-heavy`; // hits the cap
const V = `${uniqueId('user')}-light`; // one request
const MODEL = `usage-10-5-${hexSuffix()}`; // the mock answers 10 + 5 tokens

let browser;
let page;
let projectId;
let projectKey;
let previewFlat; // the 429 body the tier editor promised
let previewHeaders;
// `checked`: every axe check that passed in this file, for the last test.

/** The page's checks: axe at desktop width, then screenshots (and axe) at both widths. */
const checkPage = (name) => checkPageOf(page, name);

const text = (sel) => page.locator(sel).innerText();
async function waitText(sel, re, timeout = UI_TIMEOUT) {
  const loc = page.locator(sel);
  let seen = '';
  await waitFor(
    async () => {
      seen = await loc.innerText({ timeout: 2000 }).catch((e) => `(not readable: ${e.message.split('\n')[0]})`);
      return re.test(seen);
    },
    { timeoutMs: timeout, intervalMs: 200, message: `${sel} to match ${re}` },
  ).catch((e) => {
    throw new Error(`${e.message}; the text was: ${JSON.stringify(seen.slice(0, 600))}`);
  });
}

before(async () => {
  await waitFor(async () => (await api('/healthz', { timeoutMs: 3000 }).catch(() => null))?.status === 200, { timeoutMs: 120000, intervalMs: 500, message: 'worker /healthz' });
  await waitForDashboard();
  ({ browser, page } = await openBrowser({ timeout: UI_TIMEOUT }));
});

after(async () => {
  await browser?.close();
});

describe('the owner dashboard, end to end', () => {
  test('the bundle is served as an SPA: any path gets the app, a missing asset is a 404', async () => {
    const deep = await fetch(`${DASH}/projects/anything/rules`);
    assert.equal(deep.status, 200);
    assert.match(await deep.text(), /<div id="app">/);
    assert.equal((await fetch(`${DASH}/assets/missing.js`)).status, 404);
  });

  test('signed out, any page leads to sign-in; a bad link says so', async () => {
    await page.goto(`${DASH}/projects`);
    await page.waitForURL(/\/signin/);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await checkPage('signin');
    await page.goto(`${DASH}/auth/verify?token=not-a-real-token`);
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /did not work/);
    await checkPage('verify-failed');
  });

  test('sign in with the magic link (development devLink) → the empty project list', async () => {
    await page.goto(`${DASH}/signin`);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByRole('button', { name: 'Open the sign-in link' }).click();
    await page.waitForURL(/\/projects$/);
    await page.getByText('You have no project yet').waitFor();
    await page.getByText(email).waitFor();
    await checkPage('projects-empty');
  });

  test('create a project pointed at the mock; the sk_ is shown once', async () => {
    await page.getByRole('link', { name: 'New project' }).click();
    await page.getByLabel('Project name').fill(projectName);
    await page.getByLabel('Provider', { exact: true }).selectOption('openai');
    await page.getByLabel('API base URL (optional override)').fill(`${MOCK}/openai/v1`);
    await page.getByLabel('Provider API key').fill('sk-mock-1234');
    await page.getByLabel('Free: requests per day').fill('10');
    await checkPage('project-new');
    await page.getByRole('button', { name: 'Create project' }).click();
    const secret = await page.getByTestId('secret-key').innerText();
    assert.match(secret, /^sk_/);
    const go = page.getByRole('button', { name: `Go to ${projectName}` });
    assert.equal(await go.isDisabled(), true, 'cannot leave before confirming the secret is saved');
    await checkPage('project-created-secret');
    await page.getByLabel('I saved it').check();
    await go.click();
    await page.waitForURL(/\/projects\/[^/]+$/);
    projectId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]);
    // No traffic yet: snippets with the real project key.
    await page.getByRole('heading', { name: /No traffic yet/ }).waitFor();
    const snippet = await text('pre[aria-label="curl example"]');
    projectKey = /x-project-key: (pk_\S+)'/.exec(snippet)?.[1];
    assert.ok(projectKey, `curl snippet has the project key: ${snippet}`);
    assert.match(await text('pre[aria-label="OpenAI SDK (Python) example"]'), /x-identity/);
    assert.match(await text('pre[aria-label="Vercel AI SDK example"]'), new RegExp(`apiKey: '${projectKey}'[\\s\\S]*openai\\('gpt-4o-mini'\\)`));
    assert.match(await text('pre[aria-label="Anthropic SDK (Node) example"]'), new RegExp(`apiKey: '${projectKey}'[\\s\\S]*messages\\.create`));
    await checkPage('overview-empty');
  });

  test('set the free tier to 5 requests a day, with an upgrade message; the 429 preview follows', async () => {
    await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name: 'Tiers' }).click();
    await page.locator('#cap-requests-limit').fill('5');
    await page.getByLabel('Message in the 429').fill('You used ');
    // A variable chip puts the caret after what it inserted before the click's
    // task ends, not a frame later: on a loaded machine a late frame moved the
    // caret back into typed text, or took the focus from the next field. Frames
    // are held here, so only the click's own task can have done it.
    await page.evaluate(() => {
      window.heldFrame = window.requestAnimationFrame;
      window.requestAnimationFrame = () => 0;
    });
    await page.getByRole('button', { name: '{{usage}}' }).click();
    const caret = await page.evaluate(() => ({ id: document.activeElement?.id, at: document.activeElement?.selectionStart, value: document.activeElement?.value }));
    await page.evaluate(() => {
      window.requestAnimationFrame = window.heldFrame;
    });
    assert.deepEqual(caret, { id: 'limit-msg', at: 'You used {{usage}}'.length, value: 'You used {{usage}}' });
    await page.getByLabel('Message in the 429').press('End');
    await page.getByLabel('Message in the 429').pressSequentially(' of ');
    await page.getByRole('button', { name: '{{limit}}' }).click();
    await page.getByLabel('Deep link (optional)').fill('myapp://upgrade');
    await waitText('[data-testid=preview-flat]', /"message": "You used 5 of 5"/);
    previewFlat = JSON.parse(await text('[data-testid=preview-flat]'));
    assert.equal(previewFlat.limit, 5);
    previewHeaders = Object.fromEntries(
      (await text('pre[aria-label="Response headers"]')).split('\n').slice(1).map((l) => l.split(': ')),
    );
    await page.getByRole('button', { name: 'Save tiers' }).click();
    await page.getByText('Saved. Applies within 30 s everywhere.').waitFor();
    const saved = await api(`/api/projects/${projectId}`, { token: await page.evaluate(() => localStorage.getItem('airl.session')) });
    assert.deepEqual(saved.body.tiers.free.requests, { limit: 5, period: 'day' });
    assert.deepEqual(saved.body.tiers.free.limitMessage, { message: 'You used {{usage}} of {{limit}}', deepLink: 'myapp://upgrade' });
    await checkPage('tiers');
  });

  test('add the 80% warning from its template, simulate it, save it', async () => {
    await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name: 'Rules' }).click();
    await page.getByText('No rules yet').waitFor();
    await page.getByRole('button', { name: 'Use template: Free tier 80% warning' }).click();
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Free tier 80% warning');
    // 3 used before: the request being decided is the 4th of 5 = 80%.
    await page.getByLabel('Requests used').fill('3');
    await page.getByRole('button', { name: 'Simulate', exact: true }).click();
    await waitText('[data-testid=sim-result]', /Decision: warn by “Free tier 80% warning”/);
    assert.match(await text('[data-testid=sim-result]'), /You've used 4 of your 5 requests this day/);
    // 2 used: the 3rd is 60%, no warning.
    await page.getByLabel('Requests used').fill('2');
    await page.getByRole('button', { name: 'Simulate', exact: true }).click();
    await waitText('[data-testid=sim-result]', /Decision: allow/);
    await checkPage('rules-editor');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('list', { name: 'Rules' }).getByText('1. Free tier 80% warning').waitFor();
    await page.getByTestId('lint-ok').waitFor();
    await checkPage('rules');
  });

  test('traffic through the proxy: 4th and 5th warned, 6th refused with the tier message', async () => {
    const send = (identity) => proxyChat(projectKey, { identity, tier: 'free', model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    const statuses = [];
    for (let i = 1; i <= 6; i++) {
      const r = await send(U);
      statuses.push(r.status);
      if (i === 4 || i === 5) assert.match(decodeURIComponent(r.headers.get('x-ratelimit-warning') || ''), /You've used \d of your 5 requests/, `request ${i}`);
      if (i === 6) {
        // Exactly the 429 the tier editor previewed, body and headers.
        const { retryAfter, ...body } = r.body;
        const { retryAfter: previewRetry, ...preview } = previewFlat;
        assert.deepEqual(body, preview);
        assert.ok(Math.abs(retryAfter - previewRetry) < 120, `retryAfter ${retryAfter} vs ${previewRetry}`);
        for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-policy', 'x-ratelimit-deeplink']) {
          assert.equal(r.headers.get(h), previewHeaders[h] ?? null, h);
        }
        assert.ok(Math.abs(Number(r.headers.get('retry-after')) - Number(previewHeaders['retry-after'])) < 120, 'retry-after');
      }
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    assert.equal((await send(V)).status, 200);
  });

  test('the overview shows the warning live, then the usage in its charts and tables', async () => {
    await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name: 'Overview' }).click();
    // Recent triggers refresh live (every 3 s): the flush reaches them within ~10 s.
    await waitText('[data-testid=recent-triggers]', new RegExp(U), 30000);
    const recent = await text('[data-testid=recent-triggers]');
    assert.match(recent, /Free tier 80% warning/);
    assert.match(recent, new RegExp(U));
    assert.match(recent, /warn/);
    // The summary refreshes too: 6 admitted, 1 blocked, 2 warned, 2 identities.
    await waitText('[data-testid=summary]', /Requests\s*6\s*Tokens\s*90\s*Identities\s*2\s*Blocked\s*1\s*Warned\s*2\s*Provider cost\s*\$/, 30000);
    await page.reload();
    await page.getByRole('heading', { name: 'Requests over 30 days' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: /No traffic yet/ }).count(), 0, 'the snippets give way to the data');
    const today = new Date().toISOString().slice(0, 10);
    const chart = page.locator('figure', { hasText: 'Requests and blocked per day' });
    assert.match(await chart.locator('figcaption').innerText(), /Requests: 6 in total.*Blocked: 1 in total/);
    await chart.getByText('Data table').click();
    assert.match(await chart.locator('tbody tr', { hasText: today }).innerText(), new RegExp(`${today}\\s+6\\s+1`));
    assert.equal(await chart.locator('canvas').count() > 0, true, 'uPlot drew the chart');
    assert.match(await page.locator('table', { hasText: 'Admitted requests per tier' }).innerText(), /free\s+6/);
    assert.match(await page.locator('table', { hasText: 'Rule triggers in the last 7 days' }).innerText(), /Free tier 80% warning\s+2/);
    // Live updates can be paused.
    await page.getByRole('button', { name: 'Pause live updates' }).click();
    await page.getByText('Paused').waitFor();
    await page.getByRole('button', { name: 'Resume live updates' }).click();
    await checkPage('overview');
  });

  test('identities: per-identity rows with blocked and warned; the inspector shows the live window', async () => {
    await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name: 'Identities' }).click();
    const row = page.getByTestId('identities-table').locator('tr', { hasText: U });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(`${U}\\s+free\\s+${MODEL}\\s+5\\s+50\\s+25\\s+1\\s+2`));
    await checkPage('identities');
    // The last 7 days at once (from/to): each row says its day.
    await page.getByLabel('A range (up to 31 days)').check();
    const today = new Date().toISOString().slice(0, 10);
    await waitText('[data-testid=identities-table]', new RegExp(`${today}\\s+${U}\\s+free`));
    await page.getByLabel('One day').check();
    await row.getByRole('link', { name: U }).click();
    await page.getByText('requests per day: 5 of 5 (100%)').waitFor();
    assert.match(await page.locator('main').innerText(), /Resets in \d+ (h|min|s)/);
    await page.getByRole('button', { name: "Simulate this identity's next request" }).click();
    await page.getByText('Decision: block').waitFor();
    // The breadcrumb leads back up and ends in the identity (the current page), not in a bare "/".
    const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' }).locator('li');
    assert.deepEqual((await crumbs.allInnerTexts()).map((t) => t.trim()), ['Projects', projectName, 'Identities', U]);
    assert.equal(await crumbs.last().getAttribute('aria-current'), 'page');
    assert.equal(await crumbs.last().evaluate((li) => getComputedStyle(li, '::after').content), 'none', 'nothing after the last item');
    assert.equal(await page.locator('main p', { hasText: /\/\s*$/ }).count(), 0, 'no line of the page ends in a bare "/"');
    await checkPage('identity');
  });

  test('what-if: a cap of 3 a day would have refused the heavy identity, not the light one; upgrade candidates as CSV', async () => {
    await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name: 'Tiers' }).click();
    // At the saved cap (5), the replay refuses what was really refused: U's 6th.
    await waitText('[data-testid=whatif-summary]', /1 identity would have been refused; 1 of 7 requests would have been refused/);
    await page.locator('#cap-requests-limit').fill('3');
    await waitText('[data-testid=whatif-summary]', /1 identity would have been refused; 3 of 7 requests would have been refused/);
    const table = await text('[data-testid=whatif-table]');
    assert.match(table, new RegExp(`${U}\\s+3\\s+1`));
    assert.doesNotMatch(table, new RegExp(V));
    // A cap per hour cannot be replayed from daily rows, and says so.
    await page.locator('#cap-requests-period').selectOption('hour');
    await page.getByText('finer than the daily rows').waitFor();
    await page.locator('#cap-requests-period').selectOption('day');
    // Upgrade candidates (saved cap, 5 a day): the heavy identity was at it today.
    await page.getByLabel(/At the 5\/day cap on at least/).selectOption('1');
    const candidates = page.locator('table', { hasText: 'Days at cap' });
    assert.match(await candidates.innerText(), new RegExp(`${U}\\s+1\\s+5\\s+1`));
    assert.doesNotMatch(await candidates.innerText(), new RegExp(V));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    assert.equal(csv, `identity,tier,days_at_cap,requests,blocked\r\n${U},free,1,5,1\r\n`);
    await checkPage('tiers-whatif');
    await page.getByRole('button', { name: 'Discard changes' }).click();
  });

  test('settings: key, signed identities checked in the browser before they are required; then the project card', async () => {
    await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name: 'Settings' }).click();
    assert.equal(await page.getByTestId('project-key').innerText(), projectKey);
    assert.equal(await page.getByRole('button', { name: 'Require signed identities' }).isDisabled(), true);
    await checkPage('settings');
    // Signed identities: a token minted in the page (WebCrypto, HS256) must
    // verify against the proxy before requiring them is possible.
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Rotate sk_ secret…' }).click();
    const sk = await page.getByTestId('secret-key').innerText();
    assert.match(sk, /^sk_/);
    await page.getByLabel('sk_ secret').fill(`${sk}-wrong`);
    await page.getByRole('button', { name: 'Mint a token and verify it' }).click();
    await page.getByText(/The proxy answered 401/).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Require signed identities' }).isDisabled(), true);
    await page.getByLabel('sk_ secret').fill(sk);
    await page.getByRole('button', { name: 'Mint a token and verify it' }).click();
    await page.getByText('Verified: the proxy read identity “user-123” on tier “free” from the token.').waitFor();
    await page.getByRole('button', { name: 'Require signed identities' }).click();
    await page.getByText('Signed identities required').waitFor();
    const unsigned = await proxyChat(projectKey, { identity: V, model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(unsigned.status, 401, unsigned.text);
    assert.equal(unsigned.body.error, 'invalid_identity_token');
    await page.getByRole('button', { name: 'Stop requiring them' }).click();
    await page.getByRole('button', { name: 'Require signed identities' }).waitFor();
    await page.getByLabel('I saved it').check();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('link', { name: 'AI Ratelimit' }).click();
    const card = page.locator('li.card', { hasText: projectName });
    await waitText(`li.card:has-text("${projectName}") dl`, /Requests today\s*6\s*Blocked\s*1\s*Identities\s*2/);
    assert.ok(await card.isVisible());
    await checkPage('projects');
  });

  test('rules: a block trialled as a warning then promoted, keyboard reordering, lint with a proof', async () => {
    await page.getByRole('link', { name: projectName }).click();
    await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name: 'Rules' }).click();
    const list = page.getByRole('list', { name: 'Rules' });
    await list.getByText('1. Free tier 80% warning').waitFor();
    // Trial: the 100% block saved as a warning first.
    await page.getByRole('button', { name: 'Use template: Free tier 100% block' }).click();
    await page.getByRole('button', { name: 'Save as a warning trial first' }).click();
    const trial = list.locator('li', { hasText: '[trial] Free tier 100% block' });
    await trial.waitFor();
    assert.match(await trial.innerText(), /warn/);
    // It has priority 0, so it is checked first; Alt+↓ moves it below the warning.
    await waitText('ol.rules > li:nth-child(1)', /\[trial\]/);
    await trial.focus();
    await page.keyboard.press('Alt+ArrowDown');
    await page.getByText('Moved “[trial] Free tier 100% block” to position 2.').waitFor();
    await waitText('ol.rules > li:nth-child(1)', /1\. Free tier 80% warning[\s\S]*priority 10/);
    await waitText('ol.rules > li:nth-child(2)', /2\. \[trial\] Free tier 100% block[\s\S]*priority 20/);
    // Promote: it blocks now, under its own name.
    await list.locator('li', { hasText: '[trial]' }).getByRole('button', { name: 'Promote to block' }).click();
    await list.getByText('2. Free tier 100% block').waitFor();
    await waitText('ol.rules > li:nth-child(2)', /block[\s\S]*priority 20/);
    // A second warning with the same condition after the first can never attach its message.
    await page.getByRole('button', { name: 'Use template: Free tier 80% warning' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Second warning');
    await page.getByRole('button', { name: 'Save rule' }).click();
    const finding = page.locator('li.warnbox', { hasText: '“Second warning” is shadowed' });
    await finding.waitFor();
    await finding.getByRole('button', { name: 'Prove it' }).click();
    await waitText('[data-testid=sim-result]', /Decision: warn by “Free tier 80% warning”/);
    const trace = await text('[data-testid=sim-result] table');
    assert.match(trace, /Second warning\s+yes/, 'the shadowed rule matches too, but the first warning wins');
    await checkPage('rules-lint');
  });

  test('funnel: tracked links on, a 429 link followed, an upgrade; the page shows what the API counts', async () => {
    await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name: 'Funnel' }).click();
    await page.getByRole('heading', { name: 'Tracked upgrade links' }).waitFor();
    await page.getByTestId('tracked-redirect').check();
    await page.getByRole('button', { name: '+ free' }).click();
    await page.getByRole('button', { name: '+ pro' }).click();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved. Applies within 30 s everywhere.').waitFor();
    const session = await page.evaluate(() => localStorage.getItem('airl.session'));
    const saved = await api(`/api/projects/${projectId}`, { token: session });
    assert.deepEqual(saved.body.upgradeFunnel, { trackedRedirect: true, tierOrder: ['free', 'pro'] });
    // A new identity on free until refused: the 429 carries a tracked link to the tier's deep link.
    const W = `${uniqueId('user')}-upgrades`;
    const send = (tier) => proxyChat(projectKey, { identity: W, tier, model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    let refused;
    for (let i = 0; i < 8 && !refused; i++) {
      const r = await send('free');
      if (r.status === 429) refused = r;
    }
    assert.ok(refused, 'refused within the cap');
    assert.match(refused.body.deepLink, /\/r\//, refused.text);
    const followed = await fetch(refused.body.deepLink, { redirect: 'manual' });
    assert.equal(followed.status, 302);
    // The 100% block rule refused it: its own deep link.
    assert.equal(followed.headers.get('location'), 'myapp://upgrade?plan=pro');
    assert.equal((await send('pro')).status, 200, 'seen on a higher tier');
    const funnel = await waitFor(
      async () => {
        const f = (await api(`/api/projects/${projectId}/analytics/funnel?days=30`, { token: session })).body;
        const free = f.tiers?.find((t) => t.tier === 'free');
        return free && free.clicked === 1 && free.upgraded === 1 ? f : false;
      },
      { timeoutMs: 30000, intervalMs: 300, message: 'the click and the upgrade in the funnel' },
    );
    await page.reload();
    const free = funnel.tiers.find((t) => t.tier === 'free');
    await waitText('[data-testid=funnel-tiers]', new RegExp(`free\\s+0\\s+${free.warned}\\s+${free.blocked}\\s+1\\s+1\\s+${(free.clickThroughRate * 100).toFixed(1)}%`));
    const messages = await text('[data-testid=funnel-messages]');
    assert.match(messages, /Free tier limit reached: \{\{usage\}\}\/\{\{limit\}\}[^\n]*\s+block\s+free\s+rule: Free tier 100% block\s+1\s+1\s+1\s+100\.0%\s+1/);
    assert.match(await text('[data-testid=funnel-rules]'), /Free tier 100% block\s+0\s+1\s+1\s+1\s+100\.0%/);
    await checkPage('funnel');
  });

  test('a provider reporting impossible usage: the overview flags it', async () => {
    // The mock reports prompt_tokens -5: not taken as reported, counted at the reservation, flagged.
    const r = await proxyChat(projectKey, { identity: uniqueId('user-flagged'), tier: 'free', model: `usage--5-7-${hexSuffix()}`, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 200, r.text);
    await page.goto(`${DASH}/projects/${projectId}`);
    await waitText('[data-testid=summary]', /Flagged usage\s*1/, 30000);
    assert.match(await text('[data-testid=usage-flagged]'), /1 answer in this window reported token counts that cannot be right/);
    await checkPage('overview-flagged');
  });

  test('a lost session (401) sends the owner back to sign-in', async () => {
    await page.evaluate(() => localStorage.setItem('airl.session', 'not-a-valid-token'));
    await page.goto(`${DASH}/projects/${projectId}`);
    await page.waitForURL(/\/signin\?expired=1/);
    await page.getByText('Your session ended').waitFor();
  });

  test('every page passed axe-core with zero violations at both widths', () => {
    const pages = [...new Set(checked.map((c) => c.replace(/ \(phone\)$/, '')))];
    assert.deepEqual(pages.sort(), ['funnel', 'identities', 'identity', 'overview', 'overview-empty', 'overview-flagged', 'project-created-secret', 'project-new', 'projects', 'projects-empty', 'rules', 'rules-editor', 'rules-lint', 'settings', 'signin', 'tiers', 'tiers-whatif', 'verify-failed']);
    assert.equal(checked.length, pages.length * 2);
    console.log(`axe-core: 0 violations on ${checked.length} checks (${pages.length} pages × 2 widths); screenshots in ${path.relative(ROOT, SHOTS)}/`);
  });
});
