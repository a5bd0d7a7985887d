// Browser checks shared by the end-to-end files: axe-core with zero
// violations, and full-page screenshots at desktop and phone width (nothing
// may overflow sideways at 390 px) in dashboard/screenshots/ (git-ignored).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
export const SHOTS = path.join(ROOT, 'dashboard', 'screenshots');

/** axe-core on the page: zero violations, with what is wrong in the message. */
export async function axe(page, name) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  assert.deepEqual(violations, [], `axe on ${name}: ${JSON.stringify(violations, null, 1)}`);
}

/** axe at desktop width, then screenshots (and axe) at 1280 and 390 px. */
export async function checkPage(page, name) {
  await axe(page, name);
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
