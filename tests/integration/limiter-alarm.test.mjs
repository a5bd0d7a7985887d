// A quiet identity's object is left with nothing to wake it: once its last
// request is settled and its events handed on, no alarm stays set. (An
// alarm left at the lease's expiry woke every quiet identity's object a
// lease time after its last request, reopening its storage if it had been
// evicted meanwhile, only to find nothing to do.) A request in flight keeps
// its alarm: the lease expiry is the backstop for a Worker that dies.

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

test('once its request is settled, a quiet identity has no alarm left', { timeout: 30000 }, async () => {
  const identity = uniqueId('quiet');
  const answer = await proxyChat(project.projectKey, { identity, model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(answer.status, 200);
  // Settled on its own about 2 s later (no further request carries it).
  const settled = await waitFor(async () => {
    const s = await objectState(identity);
    return s.leases === 0 ? s : null;
  }, { timeoutMs: 15000, intervalMs: 100, message: 'the lone settlement reached the object' });
  assert.equal(settled.alarmAt, null, `no alarm once nothing is due (alarm at ${settled.alarmAt}, ${settled.alarmAt - Date.now()} ms ahead)`);
});

test('a request in flight keeps the lease alarm as its backstop', { timeout: 30000 }, async () => {
  const identity = uniqueId('inflight');
  // A slow stream (the mock waits 200 ms between events): the lease is open while we look.
  const pending = proxyChat(project.projectKey, { identity, model: `slow-inflight-${identity}`, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const open = await waitFor(async () => {
    const s = await objectState(identity);
    return s.leases === 1 ? s : null;
  }, { timeoutMs: 5000, intervalMs: 50, message: 'the lease is open' });
  assert.ok(open.alarmAt > Date.now(), 'the lease expiry is armed');
  assert.equal((await pending).status, 200);
});
