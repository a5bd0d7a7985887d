import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '../../dist/index.js';
import { fakeFetch, jsonResponse, completion } from '../helpers.mjs';

const chatOpts = { identity: 'user-1', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };
const usageBody = { identity: 'user-1', tier: 'free', limits: [] };

for (const baseUrl of ['http://localhost:3000/api', 'http://localhost:3000/api/', 'http://localhost:3000', 'http://localhost:3000/']) {
  test(`baseUrl ${baseUrl} reaches the Worker's routes at its root`, async () => {
    const fetch = fakeFetch((call) => (call.url.includes('/usage') ? jsonResponse(200, usageBody) : jsonResponse(200, completion())));
    const client = createClient({ baseUrl, projectKey: 'pk_test', fetch });
    assert.equal(client.baseUrl, 'http://localhost:3000');
    await client.chat(chatOpts);
    await client.usage('user-1');
    assert.equal(fetch.calls[0].url, 'http://localhost:3000/api/v1/proxy/chat');
    assert.match(fetch.calls[1].url, /^http:\/\/localhost:3000\/api\/v1\/usage\?/);
  });
}

test('a path that only starts with "api" is kept', async () => {
  const fetch = fakeFetch(() => jsonResponse(200, completion()));
  const client = createClient({ baseUrl: 'https://edge.test/apis', projectKey: 'pk_test', fetch });
  await client.chat(chatOpts);
  assert.equal(fetch.calls[0].url, 'https://edge.test/apis/api/v1/proxy/chat');
});
