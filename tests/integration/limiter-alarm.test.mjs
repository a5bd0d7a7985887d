// A request in flight keeps its identity's lease alarm set: the lease
// expiry is the backstop that settles a request whose Worker died. Once it
// is settled and nothing else is due, no alarm is left: a leftover one woke
// every quiet identity's object a lease time later, after the runtime had
// evicted it, only to find nothing to do. Read through a test stack's view
// of the object (its alarm and open leases).

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { BASE, createProject, login, proxyChat, uniqueId, waitFor } from './helpers.mjs';

let project;

before(async () => {
  const owner = await login();
  project = await createProject(owner, { tiers: { free: { requests: { limit: 100, period: 'day' } } }, defaultTier: 'free' });
});

/** The identity's object: its alarm and open leases (test stacks only). */
async function objectState(identity) {
  const res = await fetch(`${BASE}/__test/identity-limiter/${project.id}/${identity}`);
  assert.equal(res.status, 200, 'the test stack serves the object state');
  return res.json();
}

test('a request in flight keeps the lease alarm as its backstop; once settled, no alarm is left', { timeout: 30000 }, async () => {
  const identity = uniqueId('inflight');
  // A slow stream (the mock waits 200 ms between events): the lease is open while we look.
  const pending = proxyChat(project.projectKey, { identity, model: `slow-inflight-${identity}`, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const open = await waitFor(async () => {
    const s = await objectState(identity);
    return s.leases === 1 ? s : null;
  }, { timeoutMs: 5000, intervalMs: 50, message: 'the lease is open' });
  assert.ok(open.alarmAt > Date.now(), 'the lease expiry is armed');
  assert.equal((await pending).status, 200);
  // Settled on its own about 2 s later (no further request carries it).
  const settled = await waitFor(async () => {
    const s = await objectState(identity);
    return s.leases === 0 ? s : null;
  }, { timeoutMs: 15000, intervalMs: 100, message: 'the settlement closed the lease' });
  // The lease would have expired about 5 s after the request on a test
  // stack (3 s provider deadline + 2 s grace); the settlement came ~2 s in.
  assert.equal(settled.alarmAt, null, `no alarm once nothing is due (alarm ${settled.alarmAt - Date.now()} ms ahead)`);
});
