// Analytics from many identities reach Postgres in shared sessions: each
// identity's object hands its events to one of the project's relays, which
// writes what many identities sent in one session (an identity that wrote
// its own events cost a Postgres session per identity and flush). Every
// request is still counted exactly once in the rollups.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { BASE, createProject, login, proxyChat, sql, uniqueId, waitFor } from './helpers.mjs';

const IDENTITIES = 24;
const REQUESTS_EACH = 2;

let project;

before(async () => {
  const owner = await login();
  project = await createProject(owner, { tiers: { free: { requests: { limit: 100, period: 'day' } } }, defaultTier: 'free' });
});

/** The project's relays, summed (test stacks only). */
async function relays() {
  const res = await fetch(`${BASE}/__test/analytics-relay/${project.id}`);
  assert.equal(res.status, 200, 'the test stack serves the relay state');
  return res.json();
}

test(`${IDENTITIES} identities' usage is written in fewer Postgres sessions than identities, each request once`, { timeout: 60000 }, async () => {
  const ids = Array.from({ length: IDENTITIES }, () => uniqueId('relay'));
  for (let round = 0; round < REQUESTS_EACH; round += 1) {
    const answers = await Promise.all(ids.map((identity) => proxyChat(project.projectKey, { identity, model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })));
    assert.deepEqual(answers.map((a) => a.status), ids.map(() => 200));
  }
  const total = IDENTITIES * REQUESTS_EACH;
  const rows = await waitFor(async () => {
    const r = await sql('SELECT count(DISTINCT identity)::int AS identities, COALESCE(sum(requests), 0)::int AS requests FROM usage_daily WHERE project_id = $1', [project.id]);
    return r[0].requests >= total ? r[0] : null;
  }, { timeoutMs: 20000, intervalMs: 250, message: 'every request in the rollups' });
  assert.deepEqual(rows, { identities: IDENTITIES, requests: total }, 'each request counted once');
  const state = await waitFor(async () => {
    const s = await relays();
    return s.written >= total && s.pending === 0 ? s : null;
  }, { timeoutMs: 10000, message: 'the relays wrote every event' });
  assert.equal(state.written, total, 'the relays wrote exactly the usage events');
  assert.ok(state.sessions >= 1, 'the relays wrote them');
  assert.ok(state.sessions < IDENTITIES, `${state.sessions} Postgres sessions for ${IDENTITIES} identities`);
});
