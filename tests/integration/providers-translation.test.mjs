// Anthropic and Google Gemini projects through the whole stack (Worker →
// mock provider): the request the provider receives is in its exact wire
// format, the app receives OpenAI's format (ordinary answers and streams),
// and the counted tokens equal what the provider reported.
//
// Run: node --test --test-concurrency=1 tests/integration/providers-*.test.mjs

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { BASE, MOCK, api, checkAnswer, createProject, login, mockRequests, sql, uniqueId, waitFor } from './helpers.mjs';

const PROVIDER_KEY = 'sk-mock-prov-9876';
const HELLO = 'Hello from the mock!';
const UTF8 = 'héllo wörld 你好 🎉';
const TOKENS_LIMIT = 1_000_000;
const PROXY_FIELDS = ['identity', 'tier', 'identityToken', 'limitType', 'stream_options'];

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** A model-name suffix that contains none of the mock's behaviour words. */
function suffix() {
  return uniqueId('t').replace(/[^a-z0-9]/gi, '').toLowerCase();
}

/**
 * POST a proxy request and read the raw bytes (for streams: the exact event
 * text, decoded strictly so that a broken multi-byte sequence fails).
 */
async function rawPost(path, body, projectKey, headers = {}) {
  const res = await fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-project-key': projectKey, ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  checkAnswer({ method: 'POST', url: path, requestBody: body, status: res.status, headers: res.headers, text });
  return { status: res.status, headers: res.headers, text };
}

/** Split an SSE body into its `data:` payloads (strings, in order). */
function sseData(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/).filter((l) => l.startsWith('data:'));
    if (lines.length === 0) continue;
    out.push(lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n'));
  }
  return out;
}

/** Parse a successful OpenAI stream: chunks, text, tool calls, finish reason, usage. */
function parseOpenAIStream(text) {
  const data = sseData(text);
  assert.ok(data.length >= 2, `too few events:\n${text}`);
  assert.equal(data.at(-1), '[DONE]', `stream must end with [DONE]:\n${text}`);
  assert.equal(data.filter((d) => d === '[DONE]').length, 1, 'exactly one [DONE]');
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk', JSON.stringify(c));
    assert.equal(typeof c.id, 'string');
    assert.ok(Array.isArray(c.choices), JSON.stringify(c));
    assert.equal(c.error, undefined, JSON.stringify(c));
  }
  const last = chunks.at(-1);
  assert.ok(last.usage, `the last chunk carries usage: ${JSON.stringify(last)}`);
  assert.deepEqual(last.choices, [], 'the usage chunk has no choices');
  const usageChunks = chunks.filter((c) => c.usage);
  assert.equal(usageChunks.length, 1, 'exactly one chunk carries usage');
  let content = '';
  const toolCalls = [];
  const finishReasons = [];
  for (const c of chunks) {
    for (const ch of c.choices) {
      if (typeof ch.delta?.content === 'string') content += ch.delta.content;
      for (const tc of ch.delta?.tool_calls ?? []) {
        const i = tc.index ?? 0;
        toolCalls[i] ??= { id: undefined, type: undefined, name: '', arguments: '' };
        if (tc.id) toolCalls[i].id = tc.id;
        if (tc.type) toolCalls[i].type = tc.type;
        if (tc.function?.name) toolCalls[i].name += tc.function.name;
        if (tc.function?.arguments) toolCalls[i].arguments += tc.function.arguments;
      }
      if (ch.finish_reason) finishReasons.push(ch.finish_reason);
    }
  }
  return { chunks, content, toolCalls, finishReasons, usage: last.usage };
}

/** A stream that must end with exactly one provider_error event and no [DONE]. */
function assertStreamEndsWithProviderError(text) {
  const data = sseData(text);
  assert.ok(!data.includes('[DONE]'), `no [DONE] after a provider error:\n${text}`);
  const parsed = data.map((d) => JSON.parse(d));
  const errors = parsed.filter((p) => p.error);
  assert.equal(errors.length, 1, `exactly one error event:\n${text}`);
  assert.equal(parsed.at(-1), errors[0], 'the error event is the last one');
  assert.equal(errors[0].error.type, 'provider_error', JSON.stringify(errors[0]));
  assert.equal(typeof errors[0].error.message, 'string');
  assert.ok(errors[0].error.message.length > 0);
  for (const c of parsed.slice(0, -1)) assert.equal(c.object, 'chat.completion.chunk', JSON.stringify(c));
  return errors[0].error;
}

/** The single recorded request for `model` (waits for it to be recorded and finished). */
async function recordedRequest(model) {
  const recs = await waitFor(
    async () => {
      const r = await mockRequests(model);
      return r.length > 0 && r.every((x) => x.outcome !== 'pending') ? r : null;
    },
    { message: `mock record for ${model}` },
  );
  assert.equal(recs.length, 1, `exactly one provider request for ${model}: ${JSON.stringify(recs)}`);
  return recs[0];
}

/** Usage of one identity's tier-wide windows, as the app sees it. */
async function usageOf(projectKey, identity) {
  const res = await api(`/api/v1/usage?identity=${encodeURIComponent(identity)}`, {
    headers: { 'x-project-key': projectKey },
  });
  assert.equal(res.status, 200, res.text);
  const pick = (type) => res.body.limits.find((l) => l.limitType === type && l.model === null);
  return { tokens: pick('tokens')?.used, requests: pick('requests')?.used };
}

/** Poll until the identity's counted tokens equal `expected` (settlement runs after the answer). */
async function waitForTokens(projectKey, identity, expected) {
  let last;
  await waitFor(
    async () => {
      last = await usageOf(projectKey, identity);
      return last.tokens === expected;
    },
    { timeoutMs: 15000, message: `tokens used == ${expected} (last ${JSON.stringify(last)})` },
  );
  return last;
}

/** The stack may be restarting (another suite can restart the Worker): poll /healthz first. */
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

function assertNoProxyFields(body) {
  for (const f of PROXY_FIELDS) assert.equal(body[f], undefined, `${f} must not be forwarded: ${JSON.stringify(body)}`);
  const raw = JSON.stringify(body);
  assert.ok(!raw.includes('pk_'), 'the project key never reaches the provider');
}

// ---------------------------------------------------------------- providers

const PROVIDERS = {
  anthropic: {
    baseUrl: `${MOCK}/anthropic/v1`,
    /** Exact Anthropic Messages request. */
    assertRequest(rec, { model, stream }) {
      assert.equal(rec.method, 'POST');
      assert.equal(rec.path, '/anthropic/v1/messages');
      assert.deepEqual(rec.query, {});
      assert.equal(rec.headers['x-api-key'], PROVIDER_KEY);
      assert.equal(typeof rec.headers['anthropic-version'], 'string');
      assert.match(rec.headers['anthropic-version'], /^\d{4}-\d{2}-\d{2}$/);
      assert.equal(rec.headers.authorization, undefined, 'no OpenAI bearer header');
      assert.equal(rec.headers['x-goog-api-key'], undefined);
      assert.equal(rec.body.model, model);
      if (stream) assert.equal(rec.body.stream, true);
      else assert.ok(rec.body.stream === undefined || rec.body.stream === false, JSON.stringify(rec.body));
      assertNoProxyFields(rec.body);
      for (const m of rec.body.messages) assert.ok(m.role === 'user' || m.role === 'assistant', JSON.stringify(m));
    },
  },
  google: {
    baseUrl: `${MOCK}/google/v1beta`,
    /** Exact Gemini generateContent / streamGenerateContent request. */
    assertRequest(rec, { model, stream }) {
      assert.equal(rec.method, 'POST');
      if (stream) {
        assert.equal(rec.path, `/google/v1beta/models/${model}:streamGenerateContent`);
        assert.deepEqual(rec.query, { alt: 'sse' });
      } else {
        assert.equal(rec.path, `/google/v1beta/models/${model}:generateContent`);
        assert.deepEqual(rec.query, {});
      }
      assert.equal(rec.headers['x-goog-api-key'], PROVIDER_KEY);
      assert.equal(rec.headers.authorization, undefined, 'no OpenAI bearer header');
      assert.equal(rec.headers['x-api-key'], undefined);
      assert.equal(rec.body.model, undefined, 'the model is in the URL, not the body');
      assert.equal(rec.body.messages, undefined);
      assert.equal(rec.body.stream, undefined);
      assertNoProxyFields(rec.body);
      assert.ok(Array.isArray(rec.body.contents));
      for (const c of rec.body.contents) {
        assert.ok(c.role === 'user' || c.role === 'model', `role ${c.role}`);
        assert.ok(Array.isArray(c.parts) && c.parts.length > 0, JSON.stringify(c));
      }
    },
  },
};

for (const [provider, spec] of Object.entries(PROVIDERS)) {
  describe(`${provider} project through the stack`, () => {
    let project;
    const key = () => project.projectKey;
    const chat = (body, extraHeaders) => rawPost('/api/v1/proxy/chat', body, key(), extraHeaders);
    const stream = (body, extraHeaders) => rawPost('/api/v1/proxy/chat/stream', body, key(), extraHeaders);
    const base = (model, identity, extra = {}) => ({
      identity,
      model,
      messages: [{ role: 'user', content: 'Say hello' }],
      ...extra,
    });

    before(async () => {
      await workerReady();
      const token = await login();
      project = await createProject(token, {
        provider,
        baseUrl: spec.baseUrl,
        providerApiKey: PROVIDER_KEY,
        tiers: {
          free: { tokens: { limit: TOKENS_LIMIT, period: 'day' }, requests: { limit: 10000, period: 'day' } },
          pro: { requests: { limit: 1000, period: 'day' } },
        },
      });
      assert.equal(project.provider, provider);
    });

    // ------------------------------------------------------- request format

    test('non-stream request arrives in the exact provider format', async () => {
      const model = `${provider}-fmt-${suffix()}`;
      const res = await chat({
        identity: uniqueId('u'),
        tier: 'free',
        limitType: 'tokens',
        model,
        temperature: 0.25,
        top_p: 0.5,
        max_completion_tokens: 77,
        stop: ['END', 'STOP!'],
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'first' },
          { role: 'user', content: 'second' },
          { role: 'assistant', content: 'an answer' },
          { role: 'user', content: 'third' },
        ],
      });
      assert.equal(res.status, 200, res.text);
      const rec = await recordedRequest(model);
      spec.assertRequest(rec, { model, stream: false });
      const b = rec.body;
      if (provider === 'anthropic') {
        assert.equal(b.system, 'You are terse.');
        assert.equal(b.max_tokens, 77, 'max_completion_tokens → max_tokens');
        assert.equal(b.max_completion_tokens, undefined);
        assert.deepEqual(b.stop_sequences, ['END', 'STOP!']);
        assert.equal(b.stop, undefined);
        assert.equal(b.temperature, 0.25);
        assert.equal(b.top_p, 0.5);
        assert.deepEqual(
          b.messages.map((m) => m.role),
          ['user', 'assistant', 'user'],
          'system removed and consecutive user messages merged',
        );
        const textOf = (m) => (typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('\n'));
        assert.match(textOf(b.messages[0]), /first[\s\S]*second/);
        assert.equal(textOf(b.messages[1]), 'an answer');
        assert.equal(textOf(b.messages[2]), 'third');
        assert.ok(!JSON.stringify(b.messages).includes('You are terse.'), 'system not left among messages');
      } else {
        assert.deepEqual(b.systemInstruction, { parts: [{ text: 'You are terse.' }] });
        assert.deepEqual(b.generationConfig, {
          temperature: 0.25,
          topP: 0.5,
          maxOutputTokens: 77,
          stopSequences: ['END', 'STOP!'],
        });
        const roles = b.contents.map((c) => c.role);
        const texts = b.contents.map((c) => c.parts.map((p) => p.text).join('\n'));
        // Gemini accepts consecutive same-role turns; merged or not, the order and text must survive.
        assert.match(texts.join('|'), /first[\s\S]*second[\s\S]*an answer[\s\S]*third/);
        assert.equal(roles.at(-1), 'user');
        assert.ok(roles.includes('model'));
        assert.ok(!JSON.stringify(b.contents).includes('You are terse.'), 'system not left among contents');
      }
    });

    test('stream request arrives in the exact provider format', async () => {
      const model = `${provider}-sfmt-${suffix()}`;
      const res = await stream({
        identity: uniqueId('u'),
        model,
        max_tokens: 64,
        stop: 'HALT',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
      });
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get('content-type'), /^text\/event-stream/);
      parseOpenAIStream(res.text);
      const rec = await recordedRequest(model);
      spec.assertRequest(rec, { model, stream: true });
      if (provider === 'anthropic') {
        assert.equal(rec.body.system, 'Be brief.');
        assert.equal(rec.body.max_tokens, 64);
        assert.deepEqual(rec.body.stop_sequences, ['HALT']);
      } else {
        assert.deepEqual(rec.body.systemInstruction, { parts: [{ text: 'Be brief.' }] });
        assert.equal(rec.body.generationConfig.maxOutputTokens, 64);
        assert.deepEqual(rec.body.generationConfig.stopSequences, ['HALT']);
      }
    });

    test('`stream: true` on /chat streams too, with the provider stream endpoint', async () => {
      const model = `${provider}-flag-${suffix()}`;
      const res = await chat(base(model, uniqueId('u'), { stream: true }));
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get('content-type'), /^text\/event-stream/);
      assert.equal(parseOpenAIStream(res.text).content, HELLO);
      spec.assertRequest(await recordedRequest(model), { model, stream: true });
    });

    if (provider === 'anthropic') {
      test('anthropic: max_tokens defaults to 4096 when absent', async () => {
        const model = `${provider}-deftok-${suffix()}`;
        const res = await chat(base(model, uniqueId('u')));
        assert.equal(res.status, 200, res.text);
        const rec = await recordedRequest(model);
        spec.assertRequest(rec, { model, stream: false });
        assert.equal(rec.body.max_tokens, 4096);
        assert.equal(rec.body.system, undefined, 'no system field without a system message');
        assert.equal(rec.body.stop_sequences, undefined);
      });
    } else {
      test('google: no generationConfig fields invented when absent', async () => {
        const model = `${provider}-defcfg-${suffix()}`;
        const res = await chat(base(model, uniqueId('u')));
        assert.equal(res.status, 200, res.text);
        const rec = await recordedRequest(model);
        spec.assertRequest(rec, { model, stream: false });
        assert.equal(rec.body.systemInstruction, undefined);
        const cfg = rec.body.generationConfig ?? {};
        assert.equal(cfg.stopSequences, undefined);
        assert.equal(cfg.temperature, undefined);
        assert.deepEqual(rec.body.contents, [{ role: 'user', parts: [{ text: 'Say hello' }] }]);
      });
    }

    test('image content parts are translated', async () => {
      const model = `${provider}-img-${suffix()}`;
      const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
      const res = await chat(
        base(model, uniqueId('u'), {
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'What is this?' },
                { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
              ],
            },
          ],
        }),
      );
      assert.equal(res.status, 200, res.text);
      const rec = await recordedRequest(model);
      spec.assertRequest(rec, { model, stream: false });
      if (provider === 'anthropic') {
        assert.deepEqual(rec.body.messages[0].content, [
          { type: 'text', text: 'What is this?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
        ]);
      } else {
        assert.deepEqual(rec.body.contents[0].parts, [
          { text: 'What is this?' },
          { inlineData: { mimeType: 'image/png', data: png } },
        ]);
      }
    });

    // ------------------------------------------------- answer + exact usage

    test('non-stream: OpenAI chat.completion and exact provider-reported tokens counted', async () => {
      const identity = uniqueId('u');
      const model = `${provider}-usage-123-45-${suffix()}`;
      const res = await chat(base(model, identity));
      assert.equal(res.status, 200, res.text);
      const body = JSON.parse(res.text);
      assert.equal(body.object, 'chat.completion');
      assert.equal(typeof body.id, 'string');
      assert.equal(typeof body.created, 'number');
      assert.equal(body.model, model);
      assert.equal(body.choices.length, 1);
      assert.equal(body.choices[0].index, 0);
      assert.equal(body.choices[0].message.role, 'assistant');
      assert.equal(body.choices[0].message.content, HELLO);
      assert.equal(body.choices[0].finish_reason, 'stop');
      assert.deepEqual(body.usage, { prompt_tokens: 123, completion_tokens: 45, total_tokens: 168 });
      const rec = await recordedRequest(model);
      spec.assertRequest(rec, { model, stream: false });
      assert.deepEqual(rec.usage, { inputTokens: 123, outputTokens: 45, totalTokens: 168 });
      const used = await waitForTokens(key(), identity, 168);
      assert.equal(used.requests, 1);
    });

    test('stream: OpenAI chunks, usage chunk, [DONE], and exact provider-reported tokens counted', async () => {
      const identity = uniqueId('u');
      const model = `${provider}-usage-31-9-${suffix()}`;
      const res = await stream(base(model, identity));
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get('content-type'), /^text\/event-stream/);
      const s = parseOpenAIStream(res.text);
      assert.equal(s.content, HELLO);
      assert.deepEqual(s.finishReasons, ['stop']);
      assert.deepEqual(s.usage, { prompt_tokens: 31, completion_tokens: 9, total_tokens: 40 });
      for (const c of s.chunks) assert.equal(c.model, model);
      const ids = new Set(s.chunks.map((c) => c.id));
      assert.equal(ids.size, 1, 'one id for the whole stream');
      const rec = await recordedRequest(model);
      spec.assertRequest(rec, { model, stream: true });
      assert.deepEqual(rec.usage, { inputTokens: 31, outputTokens: 9, totalTokens: 40 });
      const used = await waitForTokens(key(), identity, 40);
      assert.equal(used.requests, 1);
    });

    test('usage accumulates exactly over a stream and a non-stream request', async () => {
      const identity = uniqueId('u');
      const sfx = suffix();
      const a = await chat(base(`${provider}-usage-7-3-${sfx}`, identity));
      assert.equal(a.status, 200, a.text);
      const b = await stream(base(`${provider}-usage-50-20-${sfx}`, identity));
      assert.equal(b.status, 200, b.text);
      parseOpenAIStream(b.text);
      const used = await waitForTokens(key(), identity, 10 + 70);
      assert.equal(used.requests, 2);
    });

    // ------------------------------------------------------------- tools

    test('tools: declared in provider format, tool call comes back as OpenAI tool_calls (non-stream)', async () => {
      const model = `${provider}-tool-${suffix()}`;
      const res = await chat(base(model, uniqueId('u'), { tools: [WEATHER_TOOL], tool_choice: 'auto' }));
      assert.equal(res.status, 200, res.text);
      const body = JSON.parse(res.text);
      assert.equal(body.object, 'chat.completion');
      const choice = body.choices[0];
      assert.equal(choice.finish_reason, 'tool_calls');
      assert.equal(choice.message.role, 'assistant');
      assert.ok(choice.message.content === null || choice.message.content === '', JSON.stringify(choice));
      assert.equal(choice.message.tool_calls.length, 1);
      const tc = choice.message.tool_calls[0];
      assert.equal(tc.type, 'function');
      assert.equal(typeof tc.id, 'string');
      assert.ok(tc.id.length > 0);
      assert.equal(tc.function.name, 'get_weather');
      assert.equal(typeof tc.function.arguments, 'string', 'arguments is a JSON string');
      assert.deepEqual(JSON.parse(tc.function.arguments), { city: 'Paris' });
      assert.equal(body.usage.completion_tokens, 3);

      const rec = await recordedRequest(model);
      spec.assertRequest(rec, { model, stream: false });
      if (provider === 'anthropic') {
        assert.deepEqual(rec.body.tools, [
          {
            name: 'get_weather',
            description: 'Current weather for a city',
            input_schema: WEATHER_TOOL.function.parameters,
          },
        ]);
        assert.deepEqual(rec.body.tool_choice, { type: 'auto' });
      } else {
        assert.deepEqual(rec.body.tools, [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                description: 'Current weather for a city',
                parameters: WEATHER_TOOL.function.parameters,
              },
            ],
          },
        ]);
      }
    });

    test('tools: streamed tool call arrives as OpenAI tool_calls deltas', async () => {
      const model = `${provider}-tool-s-${suffix()}`;
      const res = await stream(base(model, uniqueId('u'), { tools: [WEATHER_TOOL] }));
      assert.equal(res.status, 200, res.text);
      const s = parseOpenAIStream(res.text);
      assert.deepEqual(s.finishReasons, ['tool_calls']);
      assert.equal(s.toolCalls.length, 1, JSON.stringify(s.toolCalls));
      assert.equal(s.toolCalls[0].name, 'get_weather');
      assert.equal(s.toolCalls[0].type, 'function');
      assert.ok(s.toolCalls[0].id);
      assert.deepEqual(JSON.parse(s.toolCalls[0].arguments), { city: 'Paris' });
      assert.equal(s.content, '');
      assert.equal(s.usage.completion_tokens, 3);
      spec.assertRequest(await recordedRequest(model), { model, stream: true });
    });

    test('tools: an assistant tool call and a tool result are sent back in provider format', async () => {
      const model = `${provider}-rt-${suffix()}`;
      const res = await chat(
        base(model, uniqueId('u'), {
          tools: [WEATHER_TOOL],
          messages: [
            { role: 'user', content: 'Weather in Paris?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              ],
            },
            { role: 'tool', tool_call_id: 'call_abc', content: '{"temp":21}' },
          ],
        }),
      );
      assert.equal(res.status, 200, res.text);
      assert.equal(JSON.parse(res.text).choices[0].message.content, HELLO);
      const rec = await recordedRequest(model);
      spec.assertRequest(rec, { model, stream: false });
      if (provider === 'anthropic') {
        const [u, a, t] = rec.body.messages;
        assert.equal(rec.body.messages.length, 3);
        assert.equal(a.role, 'assistant');
        assert.deepEqual(
          a.content.filter((p) => p.type === 'tool_use'),
          [{ type: 'tool_use', id: 'call_abc', name: 'get_weather', input: { city: 'Paris' } }],
        );
        assert.equal(u.role, 'user');
        assert.equal(t.role, 'user', 'tool results are user turns for Anthropic');
        assert.equal(t.content.length, 1);
        const tr = t.content[0];
        assert.equal(tr.type, 'tool_result');
        assert.equal(tr.tool_use_id, 'call_abc');
        const trText = typeof tr.content === 'string' ? tr.content : tr.content.map((p) => p.text).join('');
        assert.equal(trText, '{"temp":21}');
      } else {
        const [, m, f] = rec.body.contents;
        assert.equal(rec.body.contents.length, 3);
        assert.equal(m.role, 'model');
        assert.deepEqual(m.parts, [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }]);
        assert.equal(f.role, 'user');
        assert.equal(f.parts.length, 1);
        assert.equal(f.parts[0].functionResponse.name, 'get_weather');
        assert.deepEqual(f.parts[0].functionResponse.response, { temp: 21 });
      }
    });

    // ------------------------------------------------------------- UTF-8

    test('multi-byte UTF-8 arrives intact (non-stream)', async () => {
      const model = `${provider}-utf8-${suffix()}`;
      const res = await chat(base(model, uniqueId('u')));
      assert.equal(res.status, 200, res.text);
      const body = JSON.parse(res.text);
      assert.equal(body.choices[0].message.content, UTF8);
      assert.ok(!res.text.includes('\uFFFD'));
    });

    test('multi-byte UTF-8 arrives intact (stream)', async () => {
      const model = `${provider}-utf8-s-${suffix()}`;
      const res = await stream(base(model, uniqueId('u')));
      assert.equal(res.status, 200, res.text);
      assert.ok(!res.text.includes('\uFFFD'), 'no replacement characters');
      const s = parseOpenAIStream(res.text);
      assert.equal(s.content, UTF8);
      assert.deepEqual(s.finishReasons, ['stop']);
    });

    // ------------------------------------------------------------ errors

    test('provider 500 → 502 provider_error with the provider message, not counted', async () => {
      const identity = uniqueId('u');
      const sfx = suffix();
      const model = `${provider}-error-500-${sfx}`;
      const res = await chat(base(model, identity));
      assert.equal(res.status, 502, res.text);
      const body = JSON.parse(res.text);
      assert.equal(body.error, 'provider_error');
      assert.equal(body.provider, provider);
      assert.equal(body.status, 500);
      assert.match(body.message, /mock upstream failure/);
      assert.ok(!res.text.includes(PROVIDER_KEY), 'the provider key is never passed on');
      const rec = await recordedRequest(model);
      spec.assertRequest(rec, { model, stream: false });
      assert.equal(rec.status, 500);

      // Streams: a provider error before the first byte is the same 502, not an event stream.
      const smodel = `${provider}-error-500-s-${sfx}`;
      const sres = await stream(base(smodel, identity));
      assert.equal(sres.status, 502, sres.text);
      const sbody = JSON.parse(sres.text);
      assert.equal(sbody.error, 'provider_error');
      assert.equal(sbody.provider, provider);
      assert.equal(sbody.status, 500);
      assert.match(sbody.message, /mock upstream failure/);

      // Not counted: after one good request the counters hold exactly that request.
      const ok = await chat(base(`${provider}-usage-4-2-${sfx}`, identity));
      assert.equal(ok.status, 200, ok.text);
      const used = await waitForTokens(key(), identity, 6);
      assert.equal(used.requests, 1, 'the failed requests are not counted');
    });

    test('mid-stream provider error ends the stream with one provider_error event, no [DONE]', async () => {
      const model = `${provider}-mid-error-${suffix()}`;
      const res = await stream(base(model, uniqueId('u')));
      assert.equal(res.status, 200, res.text);
      const err = assertStreamEndsWithProviderError(res.text);
      assert.ok(!JSON.stringify(err).includes(PROVIDER_KEY));
      const chunks = sseData(res.text).map((d) => JSON.parse(d)).filter((c) => !c.error);
      const text = chunks.flatMap((c) => c.choices).map((ch) => ch.delta?.content ?? '').join('');
      assert.equal(text, 'Hello', 'the content sent before the error is passed on');
      const rec = await recordedRequest(model);
      assert.equal(rec.outcome, 'mid-error');
      spec.assertRequest(rec, { model, stream: true });

      const next = await chat(base(`${provider}-after-mid-${suffix()}`, uniqueId('u')));
      assert.equal(next.status, 200, `the Worker keeps serving: ${next.text}`);
      assert.equal(JSON.parse(next.text).choices[0].message.content, HELLO);
    });

    test('malformed stream event ends the stream with one provider_error event and no panic', async () => {
      const model = `${provider}-malformed-sse-${suffix()}`;
      const res = await stream(base(model, uniqueId('u')));
      assert.equal(res.status, 200, res.text);
      assertStreamEndsWithProviderError(res.text);
      const rec = await recordedRequest(model);
      assert.equal(rec.outcome, 'malformed');

      const next = await stream(base(`${provider}-after-bad-${suffix()}`, uniqueId('u')));
      assert.equal(next.status, 200, `the Worker keeps serving: ${next.text}`);
      assert.equal(parseOpenAIStream(next.text).content, HELLO);
      const health = await api('/healthz');
      assert.equal(health.status, 200, health.text);
    });

    // Contract: a stream that breaks after the provider started answering is
    // counted with what was used, at least its reservation. Settlement is
    // observed through the analytics rollup row it writes (requests = 1).
    for (const behaviour of ['mid-error', 'drop-after-2', 'malformed-sse']) {
      test(`broken stream (${behaviour}) is counted at least its reservation`, async () => {
        const identity = uniqueId('u');
        const model = `${provider}-${behaviour}-rsv-${suffix()}`;
        const maxTokens = 500;
        const res = await stream(base(model, identity, { max_tokens: maxTokens }));
        assert.equal(res.status, 200, res.text);
        assertStreamEndsWithProviderError(res.text);
        const row = await waitFor(
          async () => {
            const rows = await sql(
              'SELECT requests, input_tokens, output_tokens FROM usage_daily WHERE project_id = $1 AND identity = $2',
              [project.id, identity],
            );
            return rows.length === 1 && Number(rows[0].requests) === 1 ? rows[0] : null;
          },
          { timeoutMs: 20000, intervalMs: 200, message: `settled analytics row for ${identity}` },
        );
        const settled = Number(row.input_tokens) + Number(row.output_tokens);
        const used = await usageOf(key(), identity);
        assert.equal(used.requests, 1);
        assert.ok(
          used.tokens >= maxTokens,
          `counted ${used.tokens} tokens (analytics ${settled}: ${JSON.stringify(row)}), reservation ≥ ${maxTokens}`,
        );
        assert.ok(settled >= maxTokens, `analytics row ${JSON.stringify(row)} below the reservation`);
      });
    }

    test('malformed non-stream answer → 502 provider_error and no panic', async () => {
      const model = `${provider}-malformed-sse-ns-${suffix()}`;
      const res = await chat(base(model, uniqueId('u')));
      assert.equal(res.status, 502, res.text);
      const body = JSON.parse(res.text);
      assert.equal(body.error, 'provider_error');
      assert.equal(body.provider, provider);
      const next = await chat(base(`${provider}-after-badns-${suffix()}`, uniqueId('u')));
      assert.equal(next.status, 200, next.text);
    });
  });
}
