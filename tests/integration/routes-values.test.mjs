// The route table and the shared value rules (docs/API.md, "Errors" and
// "Values"): a known path with another method is 405 with `allow`, an
// unknown one 404; tier messages and deep links follow the same rules as
// rules' messages and deep links; values substituted into a deep link are
// percent-encoded.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { api, createProject, login, proxyChat, uniqueId } from './helpers.mjs';

let owner;
before(async () => {
  owner = await login();
});

describe('405 and 404 from the route table', () => {
  test('a dashboard path with another method answers 405 with allow, before authentication', async () => {
    const res = await api('/api/projects', { method: 'PUT', body: {} });
    assert.equal(res.status, 405);
    assert.equal(res.body.error, 'method_not_allowed');
    assert.equal(res.headers.get('allow'), 'GET, POST, OPTIONS');
  });

  test('a rule path lists PATCH and DELETE', async () => {
    const res = await api('/api/projects/p1/rules/r1', { token: owner });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'PATCH, DELETE, OPTIONS');
  });

  test('GET on the OpenAI drop-in answers 405 in OpenAI envelope', async () => {
    const res = await api('/v1/chat/completions');
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
    assert.equal(res.body.error.code, 'method_not_allowed');
    assert.equal(res.body.error.type, 'invalid_request_error');
    assert.equal(res.body.error.param, null);
  });

  test('GET /healthz with DELETE is 405; unknown paths are 404 in each shape', async () => {
    const h = await api('/healthz', { method: 'DELETE' });
    assert.equal(h.status, 405);
    assert.equal(h.headers.get('allow'), 'GET, OPTIONS');
    const flat = await api('/api/nothing-here', { token: owner });
    assert.equal(flat.status, 404);
    assert.equal(flat.body.error, 'not_found');
    const openai = await api('/v1/models');
    assert.equal(openai.status, 404);
    assert.equal(openai.body.error.code, 'not_found');
  });
});

describe('one rule for deep links and messages', () => {
  const bad = [
    [{ message: 'Upgrade', deepLink: 'javascript:alert(document.cookie)' }, 'tiers.free.limitMessage.deepLink'],
    [{ message: 'Upgrade', deepLink: 'Data:text/html,<script>alert(1)</script>' }, 'tiers.free.limitMessage.deepLink'],
    [{ message: 'Upgrade', deepLink: 'myapp://up grade' }, 'tiers.free.limitMessage.deepLink'],
    [{ message: 'Upgrade\u001b[31m now' }, 'tiers.free.limitMessage.message'],
  ];
  for (const [limitMessage, field] of bad) {
    test(`a tier limitMessage ${JSON.stringify(limitMessage)} is refused naming ${field}`, async () => {
      const res = await api('/api/projects', {
        token: owner,
        body: { name: 'x', provider: 'openai', tiers: { free: { requests: { limit: 1, period: 'day' }, limitMessage } } },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_request');
      assert.equal(res.body.field, field);
    });
  }

  test('a rule refuses the same deep link, a tier name with a space in its condition too', async () => {
    const p = await createProject(owner);
    const link = await api(`/api/projects/${p.id}/rules`, {
      token: owner,
      body: { name: 'r', condition: { type: 'tier', tiers: ['free'] }, action: { type: 'block', deepLink: 'javascript:alert(1)' } },
    });
    assert.equal(link.status, 400);
    assert.equal(link.body.field, 'action.deepLink');
    const tier = await api(`/api/projects/${p.id}/rules`, {
      token: owner,
      body: { name: 'r', condition: { type: 'tier', tiers: ['free tier'] }, action: { type: 'warn' } },
    });
    assert.equal(tier.status, 400);
    assert.equal(tier.body.field, 'condition.tiers[0]');
  });

  test('the proxy refuses a tier name that no project could have, naming tier', async () => {
    const p = await createProject(owner);
    const res = await proxyChat(p.projectKey, {
      identity: 'u1',
      tier: 'free tier',
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.field, 'tier');
  });
});

describe('values substituted into deep links', () => {
  test('the identity in a 429 deep link is percent-encoded, the message keeps it as sent', async () => {
    const p = await createProject(owner, {
      tiers: {
        free: {
          requests: { limit: 1, period: 'day' },
          limitMessage: { message: 'Sorry {{identity}}', deepLink: 'myapp://upgrade?user={{identity}}&tier={{tier}}' },
        },
      },
    });
    const identity = `${uniqueId('u')}&plan=enterprise #x`;
    const body = { identity, model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
    assert.equal((await proxyChat(p.projectKey, body)).status, 200);
    const blocked = await proxyChat(p.projectKey, body);
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.message, `Sorry ${identity}`);
    assert.equal(blocked.body.deepLink, `myapp://upgrade?user=${encodeURIComponent(identity).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}&tier=free`);
    assert.ok(!blocked.body.deepLink.includes('&plan='), blocked.body.deepLink);
  });
});
