// The Responses, Messages and embeddings routes beyond the happy path
// (docs/API.md, "POST /v1/responses", "POST /v1/messages", "Embeddings"):
// errors in each route's own shape, conversation state refused where the
// proxy would have to keep content, the provider's storage passed through on
// OpenAI projects, mid-stream failures in each dialect, and embeddings
// metered (1 request + the input tokens reported, or estimated for Gemini)
// against the same tiers, per-model caps included.
//
// Run: node --test tests/integration/proxy-apis.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { MOCK, BASE, api, assertFetchedAnswersMatch, checkedFetch, createProject, identityUsage, login, mockRequests, sseEvents, uniqueId, usageEntry, waitFor } from './helpers.mjs';

after(assertFetchedAnswersMatch);

const projects = {};

before(async () => {
  const token = await login();
  for (const provider of ['openai', 'anthropic', 'google']) {
    const base = { openai: `${MOCK}/openai/v1`, anthropic: `${MOCK}/anthropic/v1`, google: `${MOCK}/google/v1beta` }[provider];
    projects[provider] = await createProject(token, {
      provider,
      baseUrl: base,
      providerApiKey: 'sk-mock-apis',
      tiers: {
        free: {
          requests: { limit: 100, period: 'day' },
          tokens: { limit: 1_000_000, period: 'day' },
          models: { 'embed-capped': { requests: { limit: 1, period: 'day' } } },
          limitMessage: { message: 'Upgrade for more', deepLink: 'myapp://upgrade' },
        },
      },
    });
  }
});

const sfx = () => uniqueId('t').replace(/[^a-z0-9]/gi, '').toLowerCase();
const drop = (provider, identity = uniqueId('api')) => ({
  authorization: `Bearer ${projects[provider].projectKey}`,
  'x-identity': identity,
});

async function tokensUsed(provider, identity, expected) {
  const u = await waitFor(
    async () => {
      const x = await identityUsage(projects[provider].projectKey, identity);
      return usageEntry(x, 'tokens').used === expected ? x : false;
    },
    { message: `tokens used = ${expected}` },
  );
  return u;
}

describe('POST /v1/responses', () => {
  test('conversation state is a 400 naming why on a non-OpenAI project, nothing forwarded', async () => {
    for (const provider of ['anthropic', 'google']) {
      const model = `${provider}-state-${sfx()}`;
      for (const extra of [{ previous_response_id: 'resp_abc' }, { store: true }]) {
        const res = await api('/v1/responses', { headers: drop(provider), body: { model, input: 'hi', ...extra } });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.body.error.type, 'invalid_request_error');
        assert.match(res.body.error.message, /never keeps prompts or answers/);
      }
      assert.equal((await mockRequests(model)).length, 0);
    }
  });

  test('on an OpenAI project previous_response_id and store are the provider\'s, forwarded as is', async () => {
    const model = `openai-state-${sfx()}`;
    const res = await api('/v1/responses', { headers: drop('openai'), body: { model, input: 'hi', previous_response_id: 'resp_abc', store: true } });
    assert.equal(res.status, 200, res.text);
    const [rec] = await mockRequests(model);
    assert.equal(rec.path, '/openai/v1/responses');
    assert.equal(rec.body.previous_response_id, 'resp_abc');
    assert.equal(rec.body.store, true);
    assert.ok(!rec.headers.authorization.includes(projects.openai.projectKey));
  });

  test('built-in tools cannot be translated: 400 on Gemini, input is required everywhere', async () => {
    const res = await api('/v1/responses', { headers: drop('google'), body: { model: `g-${sfx()}`, input: 'hi', tools: [{ type: 'web_search' }] } });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /cannot be translated/);
    const noInput = await api('/v1/responses', { headers: drop('openai'), body: { model: 'm' } });
    assert.equal(noInput.status, 400);
    assert.equal(noInput.body.error.field, 'input');
  });

  test('max_output_tokens sizes the reservation and reaches the provider', async () => {
    const model = `anthropic-max-${sfx()}`;
    const res = await api('/v1/responses', { headers: drop('anthropic'), body: { model, input: 'hi', max_output_tokens: 77 } });
    assert.equal(res.status, 200, res.text);
    const [rec] = await mockRequests(model);
    assert.equal(rec.body.max_tokens, 77);
  });

  for (const provider of ['openai', 'anthropic', 'google']) {
    test(`${provider}: a mid-stream provider failure ends the stream with an error event`, async () => {
      const identity = uniqueId('mid');
      const res = await api('/v1/responses', { headers: drop(provider, identity), body: { model: `${provider}-mid-error-${sfx()}`, input: 'hi', stream: true } });
      assert.equal(res.status, 200);
      const names = [...res.text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
      assert.equal(names.at(-1), 'error');
      assert.ok(!names.includes('response.completed'));
      assert.match(res.text, /mock upstream failure|ended before/);
      // Counted (at least the reservation), never lost.
      await waitFor(async () => usageEntry(await identityUsage(projects[provider].projectKey, identity), 'requests').used === 1, { message: 'counted once' });
    });
  }
});

describe('POST /v1/messages', () => {
  test('errors come in Anthropic\'s envelope', async () => {
    const noMax = await api('/v1/messages', { headers: { 'x-api-key': projects.openai.projectKey, 'x-identity': 'u1' }, body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(noMax.status, 400);
    assert.equal(noMax.body.type, 'error');
    assert.equal(noMax.body.error.type, 'invalid_request_error');
    assert.equal(noMax.body.error.field, 'max_tokens');
    const badKey = await api('/v1/messages', { headers: { 'x-api-key': 'pk_nope', 'x-identity': 'u1' }, body: { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(badKey.status, 401);
    assert.equal(badKey.body.error.type, 'authentication_error');
    const provider = await api('/v1/messages', { headers: { 'x-api-key': projects.google.projectKey, 'x-identity': 'u1' }, body: { model: `g-error-500-${sfx()}`, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(provider.status, 502);
    assert.equal(provider.body.error.type, 'api_error');
    assert.equal(provider.body.error.code, 'provider_error');
  });

  test('an Anthropic project gets the body as is, max_tokens included', async () => {
    const model = `anthropic-native-${sfx()}`;
    const body = { model, max_tokens: 33, system: [{ type: 'text', text: 'Be brief' }], messages: [{ role: 'user', content: 'hi' }], metadata: { user_id: 'x' } };
    const res = await api('/v1/messages', { headers: { 'x-api-key': projects.anthropic.projectKey, 'x-identity': uniqueId('n') }, body });
    assert.equal(res.status, 200, res.text);
    const [rec] = await mockRequests(model);
    assert.deepEqual(rec.body, body);
    assert.equal(rec.headers['x-api-key'], 'sk-mock-apis');
  });

  test('blocks only Anthropic knows (a document) pass through natively and are a 400 elsewhere', async () => {
    const model = `anthropic-doc-${sfx()}`;
    const body = { model, max_tokens: 20, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'a note' } }] }] };
    const native = await api('/v1/messages', { headers: { 'x-api-key': projects.anthropic.projectKey, 'x-identity': uniqueId('doc') }, body });
    assert.equal(native.status, 200, native.text);
    assert.deepEqual((await mockRequests(model))[0].body, body);
    const translated = await api('/v1/messages', { headers: { 'x-api-key': projects.google.projectKey, 'x-identity': uniqueId('doc') }, body: { ...body, model: `g-doc-${sfx()}` } });
    assert.equal(translated.status, 400);
    assert.match(translated.body.error.message, /document.*cannot be translated/);
  });

  for (const provider of ['openai', 'anthropic', 'google']) {
    test(`${provider}: a mid-stream provider failure ends with an Anthropic error event`, async () => {
      const res = await api('/v1/messages', {
        headers: { 'x-api-key': projects[provider].projectKey, 'x-identity': uniqueId('mid') },
        body: { model: `${provider}-mid-error-${sfx()}`, max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] },
      });
      assert.equal(res.status, 200);
      const events = sseEvents(res.text).map((d) => (typeof d === "string" ? JSON.parse(d) : d));
      assert.equal(events.at(-1).type, 'error');
      assert.ok(!events.some((e) => e.type === 'message_stop'));
    });
  }
});

describe('embeddings', () => {
  const client = (provider, identity) =>
    new OpenAI({ baseURL: `${BASE}/v1`, apiKey: projects[provider].projectKey, defaultHeaders: { 'x-identity': identity }, maxRetries: 0, fetch: checkedFetch });

  test('openai SDK embeddings.create on an OpenAI project: vectors, 1 request + the reported input tokens', async () => {
    const identity = uniqueId('emb');
    const model = `embed-${sfx()}`;
    const r = await client('openai', identity).embeddings.create({ model, input: ['alpha', 'beta'] });
    assert.equal(r.data.length, 2);
    assert.equal(r.data[0].embedding.length, 8);
    assert.equal(typeof r.data[0].embedding[0], 'number');
    assert.equal(r.usage.prompt_tokens, 12);
    const [rec] = await mockRequests(model);
    assert.equal(rec.path, '/openai/v1/embeddings');
    const u = await tokensUsed('openai', identity, 12);
    assert.equal(usageEntry(u, 'requests').used, 1);
  });

  test('Gemini: batchEmbedContents translated (floats and the SDK\'s base64), the input estimate counted', async () => {
    const identity = uniqueId('emb');
    const model = `text-embedding-${sfx()}`;
    const input = ['abcdefgh', 'ijkl'];
    const r = await client('google', identity).embeddings.create({ model, input, dimensions: 5 });
    assert.equal(r.data.length, 2);
    assert.equal(r.data[1].embedding.length, 5);
    const [rec] = await mockRequests(model);
    assert.equal(rec.path, `/google/v1beta/models/${model}:batchEmbedContents`);
    assert.equal(rec.body.requests[0].content.parts[0].text, 'abcdefgh');
    assert.equal(rec.body.requests[0].outputDimensionality, 5);
    // ⌈12 characters / 4⌉ = 3, reported and counted.
    assert.equal(r.usage.prompt_tokens, 3);
    await tokensUsed('google', identity, 3);
    const floats = await api('/v1/embeddings', { headers: drop('google'), body: { model, input: 'abcd', encoding_format: 'float' } });
    assert.equal(floats.status, 200);
    assert.ok(Array.isArray(floats.body.data[0].embedding));
  });

  test('the proxy route takes identity in the body and answers errors flat; Anthropic has no embeddings', async () => {
    const identity = uniqueId('emb');
    const ok = await api('/api/v1/proxy/embeddings', { headers: { 'x-project-key': projects.openai.projectKey }, body: { identity, model: `embed-${sfx()}`, input: 'hello' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.object, 'list');
    await tokensUsed('openai', identity, 11);
    const bad = await api('/api/v1/proxy/embeddings', { headers: { 'x-project-key': projects.openai.projectKey }, body: { identity, model: 'e', input: [] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_request');
    assert.equal(bad.body.field, 'input');
    const anth = await api('/api/v1/proxy/embeddings', { headers: { 'x-project-key': projects.anthropic.projectKey }, body: { identity, model: 'e', input: 'x' } });
    assert.equal(anth.status, 400);
    assert.match(anth.body.message, /Anthropic has no embeddings API/);
  });

  test('a per-model cap naming the embedding model caps embeddings apart from chat', async () => {
    const identity = uniqueId('cap');
    const first = await api('/v1/embeddings', { headers: drop('openai', identity), body: { model: 'embed-capped', input: 'x' } });
    assert.equal(first.status, 200, first.text);
    const second = await api('/v1/embeddings', { headers: drop('openai', identity), body: { model: 'embed-capped', input: 'x' } });
    assert.equal(second.status, 429);
    assert.equal(second.body.error.code, 'limit_exceeded');
    assert.equal(second.body.error.message, 'Upgrade for more');
    // Chat still passes: the tier-wide windows are not exhausted.
    const chat = await api('/v1/responses', { headers: drop('openai', identity), body: { model: `chat-${sfx()}`, input: 'hi' } });
    assert.equal(chat.status, 200);
  });
});
