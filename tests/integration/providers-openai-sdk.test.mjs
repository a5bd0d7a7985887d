// The official `openai` npm SDK, unchanged, streaming through the OpenAI
// drop-in route (`${BASE}/v1`) from an Anthropic project and from a Google
// Gemini project: the text equals the mock's answer, the final chunk carries
// usage, the provider got its own wire format, and the tokens are counted.
//
// Run: node --test --test-concurrency=1 tests/integration/providers-*.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { BASE, MOCK, api, assertFetchedAnswersMatch, checkedFetch, createProject, login, mockRequests, uniqueId, waitFor } from './helpers.mjs';

// Every answer the SDK received matched docs/openapi.yaml.
after(assertFetchedAnswersMatch);

const PROVIDER_KEY = 'sk-mock-sdk-4242';
const HELLO = 'Hello from the mock!';

function suffix() {
  return uniqueId('t').replace(/[^a-z0-9]/gi, '').toLowerCase();
}

async function workerReady() {
  await waitFor(
    async () => {
      try {
        return (await api('/healthz', { timeoutMs: 3000 })).status === 200;
      } catch {
        return false;
      }
    },
    { timeoutMs: 120000, intervalMs: 500, message: 'Worker /healthz 200' },
  );
}

async function recordedRequest(model) {
  const recs = await waitFor(
    async () => {
      const r = await mockRequests(model);
      return r.length > 0 && r.every((x) => x.outcome !== 'pending') ? r : null;
    },
    { message: `mock record for ${model}` },
  );
  assert.equal(recs.length, 1, JSON.stringify(recs));
  return recs[0];
}

async function waitForTokens(projectKey, identity, expected) {
  let last;
  await waitFor(
    async () => {
      const res = await api(`/api/v1/usage?identity=${encodeURIComponent(identity)}`, {
        headers: { 'x-project-key': projectKey },
      });
      last = res.body;
      const tokens = res.body?.limits?.find((l) => l.limitType === 'tokens' && l.model === null);
      return tokens?.used === expected;
    },
    { timeoutMs: 15000, message: `tokens used == ${expected} (last ${JSON.stringify(last)})` },
  );
}

const PROVIDERS = {
  anthropic: {
    baseUrl: `${MOCK}/anthropic/v1`,
    assertRequest(rec, model) {
      assert.equal(rec.path, '/anthropic/v1/messages');
      assert.equal(rec.headers['x-api-key'], PROVIDER_KEY);
      assert.ok(rec.headers['anthropic-version']);
      assert.equal(rec.headers.authorization, undefined);
      assert.equal(rec.body.model, model);
      assert.equal(rec.body.stream, true);
      assert.equal(rec.body.system, 'You are a test.');
      assert.equal(rec.body.max_tokens, 4096);
      assert.equal(rec.body.stream_options, undefined, 'OpenAI-only stream_options not forwarded');
      assert.deepEqual(
        rec.body.messages.map((m) => m.role),
        ['user'],
      );
    },
  },
  google: {
    baseUrl: `${MOCK}/google/v1beta`,
    assertRequest(rec, model) {
      assert.equal(rec.path, `/google/v1beta/models/${model}:streamGenerateContent`);
      assert.deepEqual(rec.query, { alt: 'sse' });
      assert.equal(rec.headers['x-goog-api-key'], PROVIDER_KEY);
      assert.equal(rec.headers.authorization, undefined);
      assert.equal(rec.body.model, undefined);
      assert.equal(rec.body.stream_options, undefined, 'OpenAI-only stream_options not forwarded');
      assert.deepEqual(rec.body.systemInstruction, { parts: [{ text: 'You are a test.' }] });
      assert.deepEqual(rec.body.contents, [{ role: 'user', parts: [{ text: 'Say hello' }] }]);
    },
  },
};

for (const [provider, spec] of Object.entries(PROVIDERS)) {
  describe(`openai SDK through /v1, provider ${provider}`, () => {
    let project;
    before(async () => {
      await workerReady();
      const token = await login();
      project = await createProject(token, {
        provider,
        baseUrl: spec.baseUrl,
        providerApiKey: PROVIDER_KEY,
        tiers: {
          free: { tokens: { limit: 1_000_000, period: 'day' }, requests: { limit: 1000, period: 'day' } },
        },
      });
    });

    const client = (identity) =>
      new OpenAI({
        baseURL: `${BASE}/v1`,
        apiKey: project.projectKey,
        defaultHeaders: { 'x-identity': identity },
        maxRetries: 0,
        timeout: 30000,
        fetch: checkedFetch,
      });

    test('stream: text equals the mock answer, final chunk has usage, tokens counted exactly', async () => {
      const identity = uniqueId('sdk');
      const model = `${provider}-sdk-usage-21-8-${suffix()}`;
      const stream = await client(identity).chat.completions.create({
        model,
        stream: true,
        stream_options: { include_usage: true },
        messages: [
          { role: 'system', content: 'You are a test.' },
          { role: 'user', content: 'Say hello' },
        ],
      });
      const chunks = [];
      let text = '';
      for await (const chunk of stream) {
        chunks.push(chunk);
        assert.equal(chunk.object, 'chat.completion.chunk');
        text += chunk.choices[0]?.delta?.content ?? '';
      }
      assert.equal(text, HELLO);
      const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean);
      assert.deepEqual(finishes, ['stop']);
      const last = chunks.at(-1);
      assert.deepEqual(last.usage, { prompt_tokens: 21, completion_tokens: 8, total_tokens: 29 });
      assert.deepEqual(last.choices, []);

      spec.assertRequest(await recordedRequest(model), model);
      await waitForTokens(project.projectKey, identity, 29);
    });

    test('stream without include_usage still ends with a usage chunk', async () => {
      const identity = uniqueId('sdk');
      const model = `${provider}-sdk-plain-${suffix()}`;
      const stream = await client(identity).chat.completions.create({
        model,
        stream: true,
        messages: [{ role: 'user', content: 'Say hello' }],
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), HELLO);
      const u = chunks.at(-1).usage;
      assert.ok(u, 'the final chunk has usage');
      assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
      assert.equal(u.completion_tokens, 4);
    });

    test('non-stream through the SDK: chat.completion with content and usage', async () => {
      const identity = uniqueId('sdk');
      const model = `${provider}-sdk-usage-5-6-${suffix()}`;
      const c = await client(identity).chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Say hello' }],
      });
      assert.equal(c.object, 'chat.completion');
      assert.equal(c.choices[0].message.content, HELLO);
      assert.equal(c.choices[0].finish_reason, 'stop');
      assert.deepEqual(c.usage, { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 });
      await waitForTokens(project.projectKey, identity, 11);
    });

    test('mid-stream provider error makes the SDK iteration throw after the first text', async () => {
      const identity = uniqueId('sdk');
      const model = `${provider}-sdk-mid-error-${suffix()}`;
      const stream = await client(identity).chat.completions.create({
        model,
        stream: true,
        messages: [{ role: 'user', content: 'Say hello' }],
      });
      let text = '';
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
        })(),
        (err) => {
          assert.ok(err instanceof OpenAI.APIError, String(err));
          assert.match(err.message, /mock upstream failure/);
          return true;
        },
      );
      assert.equal(text, 'Hello');
      // The Worker keeps serving.
      const again = await client(identity).chat.completions.create({
        model: `${provider}-sdk-after-${suffix()}`,
        messages: [{ role: 'user', content: 'Say hello' }],
      });
      assert.equal(again.choices[0].message.content, HELLO);
    });

    test('provider error surfaces as an SDK APIError (502, api_error, provider message)', async () => {
      const identity = uniqueId('sdk');
      const model = `${provider}-sdk-error-500-${suffix()}`;
      await assert.rejects(
        client(identity).chat.completions.create({
          model,
          stream: true,
          messages: [{ role: 'user', content: 'Say hello' }],
        }),
        (err) => {
          assert.ok(err instanceof OpenAI.APIError, String(err));
          assert.equal(err.status, 502);
          assert.equal(err.error?.type, 'api_error');
          assert.equal(err.error?.code, 'provider_error');
          assert.match(err.message, /mock upstream failure/);
          return true;
        },
      );
    });
  });
}
