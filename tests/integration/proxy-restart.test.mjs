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
