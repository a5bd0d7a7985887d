// The limiter fails closed (docs/guarantees.md, G10): when the identity's
// counter cannot be reached or answers an error, the app gets
// 503 limiter_unavailable (OpenAI's envelope on /v1) and nothing reaches the
// provider. The fault is injected on a test stack (`FAULT_INJECTION=1`,
// never in production): the Worker's call goes to a path the object does
// not serve, so what is tested is the real failure path of the real call.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { api, createProject, hexSuffix, identityUsage, login, mockRequests, proxyChat, uniqueId, usageEntry } from './helpers.mjs';

const INJECT = { 'x-fault-inject': 'limiter' };
let key;
let injecting = false;

before(async () => {
  const token = await login();
  key = (await createProject(token)).projectKey;
  // Is fault injection on in this stack? (A stack started by `npm test` has it.)
  const probe = await proxyChat(key, { identity: uniqueId('probe'), model: `ok-${hexSuffix()}`, messages: [{ role: 'user', content: 'hi' }] }, { headers: INJECT });
  injecting = probe.status === 503;
});

describe('limiter faults', () => {
  test('limiter unreachable: 503 limiter_unavailable on every proxy route, nothing forwarded, nothing counted', async (t) => {
    if (!injecting) return t.skip('this stack runs without FAULT_INJECTION=1 (npm test starts one with it)');
    const identity = uniqueId('closed');
    const model = `fail-closed-${hexSuffix()}`;
    const body = { identity, model, messages: [{ role: 'user', content: 'hello' }] };
    const chat = await proxyChat(key, body, { headers: INJECT });
    assert.equal(chat.status, 503, chat.text);
    assert.equal(chat.body.error, 'limiter_unavailable');
    const stream = await proxyChat(key, body, { path: '/api/v1/proxy/chat/stream', headers: INJECT });
    assert.equal(stream.status, 503, stream.text);
    assert.equal(stream.body.error, 'limiter_unavailable');
    const openai = await api('/v1/chat/completions', {
      body: { model, messages: body.messages },
      headers: { authorization: `Bearer ${key}`, 'x-identity': identity, ...INJECT },
    });
    assert.equal(openai.status, 503, openai.text);
    assert.equal(openai.body.error.code, 'limiter_unavailable');
    assert.deepEqual(await mockRequests(model), [], 'the provider received nothing');
    const u = await identityUsage(key, identity);
    assert.equal(usageEntry(u, 'requests').used, 0);
  });

  test('the same request without the fault is admitted and forwarded (the control)', async () => {
    const model = `fail-closed-control-${hexSuffix()}`;
    const res = await proxyChat(key, { identity: uniqueId('open'), model, messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(res.status, 200, res.text);
    assert.equal((await mockRequests(model)).length, 1);
  });
});
