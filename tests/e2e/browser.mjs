// Browser plumbing shared by the end-to-end files: Debian's Chromium driven by
// playwright-core at 1280 × 900, the owner's session put where the dashboard
// looks for it, axe-core with zero violations, and full-page screenshots at
// desktop and phone width (nothing may overflow sideways at 390 px) in
// dashboard/screenshots/ (git-ignored).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { waitFor } from '../integration/helpers.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DASH = (process.env.AIRL_DASHBOARD_URL || 'http://localhost:3001').replace(/\/$/, '');
export const SHOTS = path.join(ROOT, 'dashboard', 'screenshots');
const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const CHROMIUM = process.env.AIRL_CHROMIUM || '/usr/bin/chromium';

/** Every axe check that passed in this test file (each file runs in its own process). */
export const axeChecks = [];

/** Waits until the built dashboard answers on its port. */
export async function waitForDashboard() {
  await waitFor(async () => (await fetch(`${DASH}/`).catch(() => null))?.status === 200, { timeoutMs: 30000, intervalMs: 300, message: `dashboard at ${DASH}` });
}

/** Chromium with one page at desktop width; page errors are logged. Close `browser` in `after`. */
export async function openBrowser({ timeout = 15000 } = {}) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(timeout);
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  return { browser, page };
}

/** Signs the page in as the owner whose session token is `token`. */
export async function signIn(page, token) {
  await page.goto(`${DASH}/signin`);
  await page.evaluate((t) => localStorage.setItem('airl.session', t), token);
}

/** axe-core on the page: zero violations, with what is wrong in the message. */
export async function axe(page, name) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  assert.deepEqual(violations, [], `axe on ${name}: ${JSON.stringify(violations, null, 1)}`);
  axeChecks.push(name);
}

/** Screenshots at 1280 and 390 px (and axe at 390 px); at phone width nothing may overflow sideways. */
export async function shoot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => document.documentElement.clientWidth <= 390);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  await axe(page, `${name} (phone)`);
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.ok(overflow <= 1, `${name} overflows sideways by ${overflow}px at 390px`);
}

/** axe at desktop width, then screenshots (and axe) at 1280 and 390 px. */
export async function checkPage(page, name) {
  await axe(page, name);
  await shoot(page, name);
}
