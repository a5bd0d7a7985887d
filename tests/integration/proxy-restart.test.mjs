// Counters live in the identity's Durable Object (SQLite storage), so they
// survive a restart of the dev server. Kept in its own file: it restarts
// `wrangler dev`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  api,
  createProject,
  hexSuffix,
  identityUsage,
  login,
  mockRequests,
  proxyChat,
  restartWorker,
  sql,
  uniqueId,
  usageEntry,
  waitFor,
} from './helpers.mjs';

test('counters survive a restart of the dev server: 2 of 3 used, restart, exactly 1 more admitted', { timeout: 600000 }, async () => {
  const token = await login();
  const project = await createProject(token, {
    tiers: { free: { requests: { limit: 3, period: 'day' }, tokens: { limit: 100000, period: 'day' } } },
  });
  const identity = uniqueId('restart');
  const model = `usage-6-4-${hexSuffix()}`;
  const body = { identity, model, messages: [{ role: 'user', content: 'hi' }] };

  for (let i = 0; i < 2; i += 1) {
    const r = await proxyChat(project.projectKey, body);
    assert.equal(r.status, 200, r.text);
  }
  // Both settled (real usage, not reservations) before the restart.
  await waitFor(async () => usageEntry(await identityUsage(project.projectKey, identity), 'tokens').used === 20, {
    message: 'tokens = 2 × 10 before the restart',
  });

  await restartWorker();
  await waitFor(async () => (await api('/healthz')).status === 200, { timeoutMs: 60000, message: 'healthz after restart' });

  const u = await identityUsage(project.projectKey, identity);
  assert.equal(usageEntry(u, 'requests').used, 2, 'requests used after the restart');
  assert.equal(usageEntry(u, 'tokens').used, 20, 'tokens used after the restart');

  const results = [];
  for (let i = 0; i < 3; i += 1) results.push(await proxyChat(project.projectKey, body));
  assert.deepEqual(
    results.map((r) => r.status),
    [200, 429, 429],
    results.map((r) => `${r.status} ${r.text.slice(0, 120)}`).join('\n'),
  );
  assert.equal(results[0].headers.get('x-ratelimit-remaining'), '0');
  assert.equal(results[1].body.usage, 3);
  assert.equal((await mockRequests(model)).length, 3);
});

// G3: a Worker that dies mid-request never settles it; the identity's object
// then counts the reservation when the lease expires (its alarm). Runs on a
// test stack whose lease is short (scripts/test.mjs starts one with
// AIRL_PROVIDER_TIMEOUT_MS and AIRL_LEASE_GRACE_MS).
const leaseMs = Number(process.env.AIRL_PROVIDER_TIMEOUT_MS || 0) + Number(process.env.AIRL_LEASE_GRACE_MS || 0);
const LEASE_SKIP =
  !process.env.AIRL_LEASE_GRACE_MS || !process.env.AIRL_PROVIDER_TIMEOUT_MS || leaseMs > 20000
    ? 'needs a stack started with short AIRL_PROVIDER_TIMEOUT_MS and AIRL_LEASE_GRACE_MS (npm test does that when it starts the stack)'
    : false;

test('a request whose Worker dies mid-flight is counted at its reservation when the lease expires', { skip: LEASE_SKIP, timeout: 600000 }, async () => {
  const token = await login();
  const project = await createProject(token, {
    tiers: { free: { requests: { limit: 10, period: 'day' }, tokens: { limit: 100000, period: 'day' } } },
  });
  const identity = uniqueId('evicted');
  const model = `hang-${hexSuffix()}`;
  // Prompt "hi" is ⌈2/4⌉ = 1 token; with max_tokens 300 the reservation is 301.
  const inFlight = proxyChat(project.projectKey, {
    identity,
    model,
    max_tokens: 300,
    messages: [{ role: 'user', content: 'hi' }],
  }).catch((e) => ({ status: 0, text: String(e) }));
  await waitFor(async () => (await mockRequests(model)).length === 1, { message: 'the provider received the request' });
  const during = await identityUsage(project.projectKey, identity);
  assert.equal(usageEntry(during, 'requests').used, 1, 'reserved while in flight');
  assert.equal(usageEntry(during, 'tokens').used, 301, 'the reservation is in the counter');

  // The Worker dies before its provider deadline: nothing will settle or release this request.
  await restartWorker();
  const lost = await inFlight;
  assert.notEqual(lost.status, 200, 'the in-flight request did not complete');

  const row = await waitFor(
    async () => {
      const rows = await sql(
        'SELECT requests, input_tokens, output_tokens FROM usage_daily WHERE project_id = $1 AND identity = $2',
        [project.id, identity],
      );
      return rows.length === 1 && Number(rows[0].requests) === 1 ? rows[0] : null;
    },
    { timeoutMs: leaseMs + 60000, intervalMs: 250, message: 'the lease alarm settled the request into analytics' },
  );
  assert.equal(Number(row.input_tokens) + Number(row.output_tokens), 301, 'counted at the reservation');
  const after = await identityUsage(project.projectKey, identity);
  assert.equal(usageEntry(after, 'requests').used, 1);
  assert.equal(usageEntry(after, 'tokens').used, 301);
});
