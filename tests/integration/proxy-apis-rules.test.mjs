// Rules and warnings on the Responses, Messages and embeddings routes behave
// as on chat (docs/API.md, "Warn, block and allow", "POST /v1/responses"):
// one shared counter, the warning in the limit headers, the block as each
// route's own 429.
//
// Run: node --test tests/integration/proxy-apis-rules.test.mjs

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, assertFetchedAnswersMatch, createProject, login, sseEvents, uniqueId, waitFor } from './helpers.mjs';

after(assertFetchedAnswersMatch);

let project;

before(async () => {
  await waitFor(async () => (await api('/healthz', { timeoutMs: 3000 }).catch(() => null))?.status === 200, {
    timeoutMs: 120000,
    intervalMs: 500,
    message: 'worker /healthz',
  });
  const token = await login();
  project = await createProject(token, {
    tiers: { free: { requests: { limit: 4, period: 'day' }, limitMessage: { message: 'Out of requests', deepLink: 'myapp://upgrade' } } },
  });
  const rule = await api(`/api/projects/${project.id}/rules`, {
    token,
    body: {
      name: 'Half used',
      condition: { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: 50 },
      action: { type: 'warn', message: 'Used {{usage}} of {{limit}}', deepLink: 'myapp://plans' },
    },
  });
  assert.equal(rule.status, 201, rule.text);
});

const warning = (res) => {
  const h = res.headers.get('x-ratelimit-warning');
  return h === null ? null : decodeURIComponent(h);
};

test('one counter across chat, Responses, Messages and embeddings; warnings in headers; the block in each route\'s shape', async () => {
  const identity = uniqueId('mix');
  const bearer = { authorization: `Bearer ${project.projectKey}`, 'x-identity': identity };
  const r1 = await api('/v1/responses', { headers: bearer, body: { model: `m-${uniqueId('a')}`, input: 'hi' } });
  assert.equal(r1.status, 200, r1.text);
  assert.equal(warning(r1), null);
  assert.equal(r1.headers.get('x-ratelimit-remaining'), '3');

  const r2 = await api('/v1/messages', {
    headers: { 'x-api-key': project.projectKey, 'x-identity': identity },
    body: { model: `m-${uniqueId('b')}`, max_tokens: 20, stream: true, messages: [{ role: 'user', content: 'hi' }] },
  });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(warning(r2), 'Used 2 of 4');
  assert.equal(r2.headers.get('x-ratelimit-deeplink'), 'myapp://plans');
  assert.equal(sseEvents(r2.text).at(-1).type, 'message_stop', 'the warned stream is served in full');

  const r3 = await api('/v1/embeddings', { headers: bearer, body: { model: `e-${uniqueId('c')}`, input: 'hi' } });
  assert.equal(r3.status, 200, r3.text);
  assert.equal(warning(r3), 'Used 3 of 4');

  const r4 = await api('/v1/chat/completions', { headers: bearer, body: { model: `m-${uniqueId('d')}`, messages: [{ role: 'user', content: 'hi' }] } });
  assert.equal(r4.status, 200, r4.text);
  assert.equal(r4.headers.get('x-ratelimit-remaining'), '0');

  const blockedMessages = await api('/v1/messages', {
    headers: { 'x-api-key': project.projectKey, 'x-identity': identity },
    body: { model: 'm', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] },
  });
  assert.equal(blockedMessages.status, 429);
  assert.equal(blockedMessages.body.type, 'error');
  assert.equal(blockedMessages.body.error.type, 'rate_limit_error');
  assert.equal(blockedMessages.body.error.message, 'Out of requests');
  assert.equal(blockedMessages.body.error.deepLink, 'myapp://upgrade');
  assert.ok(Number(blockedMessages.headers.get('retry-after')) > 0);

  const blockedResponses = await api('/v1/responses', { headers: bearer, body: { model: 'm', input: 'hi', stream: true } });
  assert.equal(blockedResponses.status, 429);
  assert.equal(blockedResponses.body.error.type, 'rate_limit_exceeded');
  assert.equal(blockedResponses.body.error.code, 'limit_exceeded');

  const blockedEmbeddings = await api('/api/v1/proxy/embeddings', { headers: { 'x-project-key': project.projectKey }, body: { identity, model: 'e', input: 'x' } });
  assert.equal(blockedEmbeddings.status, 429);
  assert.equal(blockedEmbeddings.body.error, 'limit_exceeded');
});
