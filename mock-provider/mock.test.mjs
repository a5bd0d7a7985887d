// Run: node --test mock-provider/
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, parseBehaviour } from './mock.mjs';

let mock;
let U;
before(async () => {
  mock = await startMock({ port: 0 });
  U = mock.url;
});
after(async () => {
  await mock.close();
});

let n = 0;
const uniq = (base) => `${base}-t${++n}`;

const OA = { authorization: 'Bearer sk-test', 'content-type': 'application/json' };
const AN = { 'x-api-key': 'sk-ant', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
const GG = { 'x-goog-api-key': 'g-key', 'content-type': 'application/json' };

const msgs = [
  { role: 'system', content: 'be brief' },
  { role: 'user', content: 'hi' },
];
const contents = [{ role: 'user', parts: [{ text: 'hi' }] }];

function post(path, headers, body) {
  return fetch(U + path, { method: 'POST', headers, body: JSON.stringify(body) });
}
const openai = (body, prefix = 'openai', headers = OA) => post(`/${prefix}/v1/chat/completions`, headers, body);
const anthropic = (body, headers = AN) => post('/anthropic/v1/messages', headers, { max_tokens: 100, ...body });
const gemini = (model, body, { stream = false, headers = GG, sse = true } = {}) =>
  post(
    `/google/v1beta/models/${encodeURIComponent(model)}:${stream ? 'streamGenerateContent' : 'generateContent'}${stream && sse ? '?alt=sse' : ''}`,
    headers,
    body,
  );

/** Parses an SSE body into [{event, data}] (data kept as a string). Accepts LF and CRLF. */
function parseSse(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    let event = null;
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    out.push({ event, data: data.join('\n') });
  }
  return out;
}
const json = (events) => events.map((e) => JSON.parse(e.data));

async function records(model) {
  const r = await fetch(`${U}/__mock/requests?model=${encodeURIComponent(model)}`);
  assert.equal(r.status, 200);
  return r.json();
}
async function lastRecord(model) {
  const rs = await records(model);
  assert.ok(rs.length > 0, `no record for ${model}`);
  return rs[rs.length - 1];
}

const weatherOpenai = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
const weatherAnthropic = [{ name: 'get_weather', input_schema: { type: 'object' } }];
const weatherGemini = [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT' } }] }];

test('health', async () => {
  const r = await fetch(`${U}/__mock/health`);
  assert.deepEqual(await r.json(), { ok: true });
});

test('parseBehaviour tolerates unique test suffixes', () => {
  const b = parseBehaviour('gpt-4o-usage-10-5-test17');
  assert.deepEqual(b.usage, { prompt: 10, completion: 5 });
  assert.deepEqual(parseBehaviour('x-usage--5-7-t2').usage, { prompt: -5, completion: 7 });
  assert.equal(parseBehaviour('x-no-usage-t3').usage, null);
  assert.equal(parseBehaviour('x-no-usage-t3').noUsage, true);
  assert.equal(parseBehaviour('x-mid-error-t1').errorStatus, null);
  assert.equal(parseBehaviour('x-error-429-t1').errorStatus, 429);
  assert.equal(parseBehaviour('gpt-4o-slow').slow, true);
  assert.equal(parseBehaviour('long-7-t9').long, 7);
});

describe('openai', () => {
  test('non-stream chat.completion with usage = 10 + messages / chunks', async () => {
    const model = uniq('gpt-4o');
    const r = await openai({ model, messages: msgs });
    assert.equal(r.status, 200);
    const b = await r.json();
    assert.equal(b.object, 'chat.completion');
    assert.equal(b.model, model);
    assert.equal(b.choices[0].message.role, 'assistant');
    assert.equal(b.choices[0].message.content, 'Hello from the mock!');
    assert.equal(b.choices[0].finish_reason, 'stop');
    assert.equal(b.usage.prompt_tokens, 12);
    assert.equal(b.usage.completion_tokens, 4);
    assert.equal(b.usage.total_tokens, 16);
    const rec = await lastRecord(model);
    assert.deepEqual(rec.usage, { inputTokens: 12, outputTokens: 4, totalTokens: 16 });
    assert.equal(rec.headers.authorization, 'Bearer sk-test');
    assert.equal(rec.body.model, model);
    assert.equal(rec.outcome, 'ok');
  });

  test('stream with include_usage: chunks, usage chunk with empty choices, [DONE]', async () => {
    const model = uniq('gpt-4o');
    const r = await openai({ model, messages: msgs, stream: true, stream_options: { include_usage: true } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    const text = await r.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    const evs = parseSse(text);
    assert.equal(evs.at(-1).data, '[DONE]');
    const chunks = json(evs.slice(0, -1));
    for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(content, 'Hello from the mock!');
    const fin = chunks.at(-2);
    assert.equal(fin.choices[0].finish_reason, 'stop');
    const u = chunks.at(-1);
    assert.deepEqual(u.choices, []);
    assert.equal(u.usage.prompt_tokens, 12);
    assert.equal(u.usage.completion_tokens, 4);
    assert.equal(u.usage.total_tokens, 16);
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
    const rec = await lastRecord(model);
    assert.equal(rec.stream, true);
    assert.deepEqual(rec.usage, { inputTokens: 12, outputTokens: 4, totalTokens: 16 });
  });

  test('stream without include_usage has no usage chunk', async () => {
    const model = uniq('gpt-4o');
    const text = await (await openai({ model, messages: msgs, stream: true })).text();
    const chunks = json(parseSse(text).slice(0, -1));
    assert.ok(chunks.every((c) => !('usage' in c)));
    const rec = await lastRecord(model);
    assert.equal(rec.usage, null);
    assert.deepEqual(rec.plannedUsage, { inputTokens: 12, outputTokens: 4, totalTokens: 16 });
  });

  test('missing bearer → 401 in OpenAI error format', async () => {
    const r = await openai({ model: 'gpt-4o', messages: msgs }, 'openai', { 'content-type': 'application/json' });
    assert.equal(r.status, 401);
    const b = await r.json();
    assert.equal(typeof b.error.message, 'string');
    assert.equal(b.error.type, 'invalid_request_error');
  });

  test('xai and other routes behave like openai', async () => {
    for (const prefix of ['xai', 'other']) {
      const model = uniq(`grok-${prefix}`);
      const r = await openai({ model, messages: msgs }, prefix);
      assert.equal(r.status, 200);
      assert.equal((await r.json()).object, 'chat.completion');
      assert.equal((await lastRecord(model)).provider, prefix);
    }
  });

  test('tool call, non-stream and stream', async () => {
    const model = uniq('gpt-tool');
    const b = await (await openai({ model, messages: msgs, tools: weatherOpenai })).json();
    assert.equal(b.choices[0].finish_reason, 'tool_calls');
    const tc = b.choices[0].message.tool_calls[0];
    assert.equal(tc.type, 'function');
    assert.equal(tc.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(tc.function.arguments), { city: 'Paris' });
    assert.ok(tc.id);

    const text = await (await openai({ model, messages: msgs, tools: weatherOpenai, stream: true })).text();
    const chunks = json(parseSse(text).slice(0, -1));
    const first = chunks[0].choices[0].delta.tool_calls[0];
    assert.equal(first.index, 0);
    assert.ok(first.id);
    assert.equal(first.function.name, 'get_weather');
    let args = '';
    for (const c of chunks) for (const t of c.choices[0]?.delta?.tool_calls ?? []) args += t.function?.arguments ?? '';
    assert.equal(args, '{"city":"Paris"}');
    assert.ok(chunks.slice(1, -1).length >= 2, 'arguments arrive in several fragments');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
  });

  test('tools but model without "tool" → plain text', async () => {
    const b = await (await openai({ model: uniq('gpt-4o'), messages: msgs, tools: weatherOpenai })).json();
    assert.equal(b.choices[0].message.content, 'Hello from the mock!');
  });
});

describe('anthropic', () => {
  test('non-stream message object', async () => {
    const model = uniq('claude-3-5');
    const r = await anthropic({ model, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 200);
    const b = await r.json();
    assert.equal(b.type, 'message');
    assert.equal(b.role, 'assistant');
    assert.equal(b.model, model);
    assert.deepEqual(b.content, [{ type: 'text', text: 'Hello from the mock!' }]);
    assert.equal(b.stop_reason, 'end_turn');
    assert.equal(b.stop_sequence, null);
    assert.equal(b.usage.input_tokens, 11);
    assert.equal(b.usage.output_tokens, 4);
    assert.deepEqual((await lastRecord(model)).usage, { inputTokens: 11, outputTokens: 4, totalTokens: 15 });
  });

  test('auth: missing x-api-key → 401, missing anthropic-version → 400', async () => {
    const r1 = await anthropic({ model: 'c', messages: [] }, { 'anthropic-version': '2023-06-01' });
    assert.equal(r1.status, 401);
    const b1 = await r1.json();
    assert.equal(b1.type, 'error');
    assert.equal(b1.error.type, 'authentication_error');
    const r2 = await anthropic({ model: 'c', messages: [] }, { 'x-api-key': 'k' });
    assert.equal(r2.status, 400);
    assert.equal((await r2.json()).error.type, 'invalid_request_error');
  });

  test('stream: named events in order, usage in message_start and message_delta', async () => {
    const model = uniq('claude-3-5');
    const r = await anthropic({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    const evs = parseSse(await r.text());
    const names = evs.map((e) => e.event);
    assert.deepEqual(names, [
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const objs = json(evs);
    objs.forEach((o, i) => assert.equal(o.type, names[i]));
    assert.equal(objs[0].message.usage.input_tokens, 11);
    assert.equal(objs[0].message.usage.output_tokens, 1);
    assert.equal(objs[1].content_block.type, 'text');
    const text = objs.filter((o) => o.type === 'content_block_delta').map((o) => o.delta.text).join('');
    assert.equal(text, 'Hello from the mock!');
    assert.ok(objs.filter((o) => o.type === 'content_block_delta').every((o) => o.delta.type === 'text_delta'));
    assert.deepEqual(objs[8].delta, { stop_reason: 'end_turn', stop_sequence: null });
    assert.deepEqual(objs[8].usage, { output_tokens: 4 });
    const rec = await lastRecord(model);
    assert.deepEqual(rec.usage, { inputTokens: 11, outputTokens: 4, totalTokens: 15 });
    assert.deepEqual(rec.partialUsage, { inputTokens: 11, outputTokens: 1, totalTokens: 12 });
  });

  test('tool_use, non-stream and stream', async () => {
    const model = uniq('claude-tool');
    const b = await (await anthropic({ model, messages: [{ role: 'user', content: 'w?' }], tools: weatherAnthropic })).json();
    assert.equal(b.stop_reason, 'tool_use');
    assert.equal(b.content[0].type, 'tool_use');
    assert.equal(b.content[0].name, 'get_weather');
    assert.deepEqual(b.content[0].input, { city: 'Paris' });

    const evs = json(parseSse(await (await anthropic({ model, messages: [], tools: weatherAnthropic, stream: true })).text()));
    const start = evs.find((e) => e.type === 'content_block_start');
    assert.equal(start.content_block.type, 'tool_use');
    assert.equal(start.content_block.name, 'get_weather');
    assert.deepEqual(start.content_block.input, {});
    const deltas = evs.filter((e) => e.type === 'content_block_delta');
    assert.ok(deltas.length >= 2);
    assert.ok(deltas.every((d) => d.delta.type === 'input_json_delta'));
    assert.equal(deltas.map((d) => d.delta.partial_json).join(''), '{"city":"Paris"}');
    assert.equal(evs.find((e) => e.type === 'message_delta').delta.stop_reason, 'tool_use');
  });
});

describe('gemini', () => {
  test('non-stream generateContent', async () => {
    const model = uniq('gemini-2.0-flash');
    const r = await gemini(model, { contents });
    assert.equal(r.status, 200);
    const b = await r.json();
    assert.deepEqual(b.candidates[0].content, { role: 'model', parts: [{ text: 'Hello from the mock!' }] });
    assert.equal(b.candidates[0].finishReason, 'STOP');
    assert.equal(b.candidates[0].index, 0);
    assert.equal(b.usageMetadata.promptTokenCount, 11);
    assert.equal(b.usageMetadata.candidatesTokenCount, 4);
    assert.equal(b.usageMetadata.totalTokenCount, 15);
    assert.equal(b.modelVersion, model);
    const rec = await lastRecord(model);
    assert.equal(rec.model, model);
    assert.equal(rec.provider, 'google');
    assert.equal(rec.headers['x-goog-api-key'], 'g-key');
  });

  test('stream alt=sse uses CRLF framing, usage on the last event only', async () => {
    const model = uniq('gemini-2.0-flash');
    const r = await gemini(model, { contents }, { stream: true });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    const text = await r.text();
    assert.ok(text.startsWith('data: {'));
    assert.ok(text.endsWith('}\r\n\r\n'));
    assert.equal(text.split('\r\n\r\n').length - 1, 4);
    const objs = json(parseSse(text));
    assert.equal(objs.length, 4);
    assert.equal(objs.map((o) => o.candidates[0].content.parts[0].text).join(''), 'Hello from the mock!');
    for (const o of objs.slice(0, -1)) {
      assert.equal(o.usageMetadata, undefined);
      assert.equal(o.candidates[0].finishReason, undefined);
    }
    const last = objs.at(-1);
    assert.equal(last.candidates[0].finishReason, 'STOP');
    assert.deepEqual(
      [last.usageMetadata.promptTokenCount, last.usageMetadata.candidatesTokenCount, last.usageMetadata.totalTokenCount],
      [11, 4, 15],
    );
    assert.deepEqual((await lastRecord(model)).query, { alt: 'sse' });
  });

  test('stream without alt=sse is a JSON array', async () => {
    const r = await gemini(uniq('gemini'), { contents }, { stream: true, sse: false });
    const arr = await r.json();
    assert.equal(arr.length, 4);
    assert.equal(arr.at(-1).usageMetadata.totalTokenCount, 15);
  });

  test('missing x-goog-api-key → Google error format', async () => {
    const r = await gemini('gemini', { contents }, { headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 403);
    const b = await r.json();
    assert.equal(b.error.code, 403);
    assert.equal(b.error.status, 'PERMISSION_DENIED');
  });

  test('functionCall, non-stream and stream', async () => {
    const model = uniq('gemini-tool');
    const b = await (await gemini(model, { contents, tools: weatherGemini })).json();
    assert.deepEqual(b.candidates[0].content.parts[0].functionCall, { name: 'get_weather', args: { city: 'Paris' } });
    const objs = json(parseSse(await (await gemini(model, { contents, tools: weatherGemini }, { stream: true })).text()));
    assert.deepEqual(objs.at(-1).candidates[0].content.parts[0].functionCall, { name: 'get_weather', args: { city: 'Paris' } });
    assert.ok(objs.at(-1).usageMetadata);
  });
});

describe('behaviours', () => {
  test('empty-usage: OpenAI answers and streams carry usage {}', async () => {
    const model = uniq('m-empty-usage');
    const a = await (await openai({ model, messages: msgs })).json();
    assert.deepEqual(a.usage, {});
    const s = json(parseSse(await (await openai({ model, messages: msgs, stream: true, stream_options: { include_usage: true } })).text()).slice(0, -1));
    assert.deepEqual(s.at(-1).usage, {});
    for (const r of await records(model)) assert.equal(r.usage, null);
  });

  test('redirect: 302 to /__mock/redirected, which counts who followed it', async () => {
    const model = uniq('m-redirect');
    const r = await fetch(`${mock.url}/openai/v1/chat/completions`, { method: 'POST', headers: OA, body: JSON.stringify({ model, messages: msgs }), redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/__mock/redirected');
    const before = (await (await fetch(`${mock.url}/__mock/redirect-hits`)).json()).hits;
    await fetch(`${mock.url}/__mock/redirected`);
    assert.equal((await (await fetch(`${mock.url}/__mock/redirect-hits`)).json()).hits, before + 1);
  });

  test('usage-P-C on every provider, stream and not', async () => {
    const model = uniq('m-usage-123-45');
    const a = await (await openai({ model, messages: msgs })).json();
    assert.deepEqual([a.usage.prompt_tokens, a.usage.completion_tokens, a.usage.total_tokens], [123, 45, 168]);
    const s = json(parseSse(await (await openai({ model, messages: msgs, stream: true, stream_options: { include_usage: true } })).text()).slice(0, -1));
    assert.equal(s.at(-1).usage.completion_tokens, 45);
    const an = json(parseSse(await (await anthropic({ model, messages: [], stream: true })).text()));
    assert.equal(an[0].message.usage.input_tokens, 123);
    assert.equal(an.find((e) => e.type === 'message_delta').usage.output_tokens, 45);
    const g = await (await gemini(model, { contents })).json();
    assert.equal(g.usageMetadata.promptTokenCount, 123);
    assert.equal(g.usageMetadata.candidatesTokenCount, 45);
    const recs = await records(model);
    assert.equal(recs.length, 4);
    for (const r of recs) assert.deepEqual(r.usage, { inputTokens: 123, outputTokens: 45, totalTokens: 168 });
  });

  test('error-500 and error-429 in each native error format', async () => {
    const model = uniq('m-error-500');
    const o = await openai({ model, messages: msgs, stream: true });
    assert.equal(o.status, 500);
    const ob = await o.json();
    assert.equal(ob.error.message, 'mock upstream failure');
    assert.equal(ob.error.type, 'server_error');
    const a = await anthropic({ model, messages: [] });
    assert.equal(a.status, 500);
    assert.deepEqual(await a.json(), { type: 'error', error: { type: 'api_error', message: 'mock upstream failure' } });
    const g = await gemini(model, { contents });
    assert.equal(g.status, 500);
    assert.deepEqual(await g.json(), { error: { code: 500, message: 'mock upstream failure', status: 'INTERNAL' } });

    const m429 = uniq('m-error-429');
    const r = await anthropic({ model: m429, messages: [] });
    assert.equal(r.status, 429);
    assert.equal((await r.json()).error.type, 'rate_limit_error');
    const rec = await lastRecord(m429);
    assert.equal(rec.status, 429);
    assert.equal(rec.usage, null);
  });

  test('drop-after-2: client body read fails, no usage recorded', async () => {
    const model = uniq('m-drop-after-2');
    for (const call of [
      () => openai({ model, messages: msgs, stream: true, stream_options: { include_usage: true } }),
      () => anthropic({ model, messages: [], stream: true }),
      () => gemini(model, { contents }, { stream: true }),
    ]) {
      const r = await call();
      assert.equal(r.status, 200);
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let got = '';
      await assert.rejects(async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          got += dec.decode(value, { stream: true });
        }
      });
      assert.ok(!got.includes('[DONE]') && !got.includes('message_stop') && !got.includes('usageMetadata'));
      assert.ok(got.includes('Hello') && got.includes(' from') && !got.includes(' the'));
    }
    const recs = await records(model);
    assert.equal(recs.length, 3);
    for (const r of recs) {
      assert.equal(r.outcome, 'dropped');
      assert.equal(r.usage, null);
    }
  });

  test('no-usage: nothing reported anywhere', async () => {
    const model = uniq('m-no-usage');
    const s = json(parseSse(await (await openai({ model, messages: msgs, stream: true, stream_options: { include_usage: true } })).text()).slice(0, -1));
    assert.ok(s.every((c) => c.usage === undefined && c.choices.length === 1));
    const an = json(parseSse(await (await anthropic({ model, messages: [], stream: true })).text()));
    assert.equal(an[0].message.usage, undefined);
    assert.equal(an.find((e) => e.type === 'message_delta').usage, undefined);
    const g = await (await gemini(model, { contents })).json();
    assert.equal(g.usageMetadata, undefined);
    for (const r of await records(model)) assert.equal(r.usage, null);
  });

  test('malformed-sse: one good event then a broken data line', async () => {
    const model = uniq('m-malformed-sse');
    const evs = parseSse(await (await openai({ model, messages: msgs, stream: true })).text());
    assert.equal(evs.length, 2);
    JSON.parse(evs[0].data);
    assert.equal(evs[1].data, '{not json');
    const g = await (await gemini(model, { contents }, { stream: true })).text();
    assert.ok(g.endsWith('data: {not json\r\n\r\n'));
  });

  test('mid-error: one chunk then the provider stream error', async () => {
    const model = uniq('m-mid-error');
    const o = json(parseSse(await (await openai({ model, messages: msgs, stream: true })).text()));
    assert.deepEqual(o.at(-1).error, { message: 'mock upstream failure', type: 'server_error', param: null, code: null });
    assert.equal(o.length, 3); // role chunk, one content chunk, error
    const aEvs = parseSse(await (await anthropic({ model, messages: [], stream: true })).text());
    assert.equal(aEvs.at(-1).event, 'error');
    assert.deepEqual(JSON.parse(aEvs.at(-1).data), { type: 'error', error: { type: 'overloaded_error', message: 'mock upstream failure' } });
    const g = json(parseSse(await (await gemini(model, { contents }, { stream: true })).text()));
    assert.equal(g.length, 2);
    assert.equal(g[1].error.code, 500);
  });

  test('long-N and utf8', async () => {
    const model = uniq('m-long-50');
    const chunks = json(parseSse(await (await openai({ model, messages: msgs, stream: true, stream_options: { include_usage: true } })).text()).slice(0, -1));
    assert.equal(chunks.filter((c) => c.choices[0]?.delta?.content).length, 50);
    assert.equal(chunks.at(-1).usage.completion_tokens, 50);
    const u = await (await anthropic({ model: uniq('m-utf8'), messages: [] })).json();
    assert.equal(u.content[0].text, 'héllo wörld 你好 🎉');
    const g = json(parseSse(await (await gemini(uniq('m-utf8'), { contents }, { stream: true })).text()));
    assert.equal(g.map((o) => o.candidates[0].content.parts[0].text).join(''), 'héllo wörld 你好 🎉');
  });

  test('slow: ~200 ms between chunks', async () => {
    const t0 = Date.now();
    await (await openai({ model: uniq('m-slow'), messages: msgs, stream: true })).text();
    assert.ok(Date.now() - t0 >= 800, 'four content chunks and the finale are paced');
    const t1 = Date.now();
    await (await gemini(uniq('m-slow'), { contents })).json();
    assert.ok(Date.now() - t1 >= 180);
  });

  test('hang: never answers; client abort is recorded', async () => {
    const model = uniq('m-hang');
    const ac = new AbortController();
    const p = openai({ model, messages: msgs, stream: true }).then(
      () => 'answered',
      (e) => e.name,
    );
    // openai() has no signal; use a raw fetch with one instead.
    const q = fetch(`${U}/anthropic/v1/messages`, {
      method: 'POST',
      headers: AN,
      body: JSON.stringify({ model, max_tokens: 5, messages: [] }),
      signal: ac.signal,
    }).then(
      () => 'answered',
      (e) => e.name,
    );
    const winner = await Promise.race([q, new Promise((r) => setTimeout(() => r('timeout'), 300))]);
    assert.equal(winner, 'timeout');
    ac.abort();
    assert.equal(await q, 'AbortError');
    await new Promise((r) => setTimeout(r, 50));
    const recs = await records(model);
    assert.equal(recs.length, 2);
    assert.ok(recs.some((r) => r.outcome === 'client-closed'));
    void p; // left pending; mock.close() ends it
  });
});

describe('recording', () => {
  test('records, filter by model, clear', async () => {
    const model = uniq('rec');
    await openai({ model, messages: msgs });
    await gemini(model, { contents });
    const rs = await records(model);
    assert.equal(rs.length, 2);
    const [o, g] = rs;
    assert.equal(o.method, 'POST');
    assert.equal(o.path, '/openai/v1/chat/completions');
    assert.equal(o.headers['content-type'], 'application/json');
    assert.deepEqual(o.body.messages, msgs);
    assert.ok(!Number.isNaN(Date.parse(o.timestamp)));
    assert.equal(g.path, `/google/v1beta/models/${model}:generateContent`);
    assert.deepEqual(g.body, { contents });

    const del = await fetch(`${U}/__mock/requests`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    const all = await (await fetch(`${U}/__mock/requests`)).json();
    assert.ok(all.every((r) => r.model !== model));
  });

  test('records are capped, oldest dropped', async () => {
    const small = await startMock({ port: 0, maxRecords: 3 });
    try {
      for (let i = 0; i < 5; i++) {
        await fetch(`${small.url}/openai/v1/chat/completions`, {
          method: 'POST',
          headers: OA,
          body: JSON.stringify({ model: `cap-${i}`, messages: [] }),
        });
      }
      const all = await (await fetch(`${small.url}/__mock/requests`)).json();
      assert.deepEqual(
        all.map((r) => r.model),
        ['cap-2', 'cap-3', 'cap-4'],
      );
    } finally {
      await small.close();
    }
  });
});

describe('openai responses', () => {
  const responses = (body, headers = OA) => post('/openai/v1/responses', headers, body);

  test('non-stream response object with usage = 10 + input items / chunks', async () => {
    const model = uniq('gpt-resp');
    const res = await responses({ model, input: [{ role: 'user', content: 'hi' }, { role: 'user', content: 'again' }] });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, 'response');
    assert.equal(body.output[0].content[0].text, 'Hello from the mock!');
    assert.deepEqual([body.usage.input_tokens, body.usage.output_tokens, body.usage.total_tokens], [12, 4, 16]);
    const rec = mock.records().find((r) => r.model === model);
    assert.equal(rec.api, 'responses');
    assert.deepEqual(rec.usage, { inputTokens: 12, outputTokens: 4, totalTokens: 16 });
  });

  test('stream: named events, text deltas, response.completed with usage', async () => {
    const model = uniq('gpt-resp-usage-7-3');
    const res = await responses({ model, input: 'hi', stream: true });
    const text = await res.text();
    const names = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    assert.equal(names[0], 'response.created');
    assert.equal(names.filter((n) => n === 'response.output_text.delta').length, 4);
    assert.equal(names.at(-1), 'response.completed');
    const last = JSON.parse(text.trim().split('\n').at(-1).replace(/^data: /, ''));
    assert.equal(last.response.usage.input_tokens, 7);
    assert.equal(last.response.usage.output_tokens, 3);
  });

  test('missing bearer → 401; missing input → 400', async () => {
    assert.equal((await responses({ model: 'm', input: 'x' }, { 'content-type': 'application/json' })).status, 401);
    const bad = await responses({ model: 'm' });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.message, /input/);
  });
});

describe('embeddings', () => {
  test('openai: floats or base64 float32, usage = 10 + inputs', async () => {
    const model = uniq('emb');
    const res = await post('/openai/v1/embeddings', OA, { model, input: ['a', 'b'] });
    const body = await res.json();
    assert.equal(body.object, 'list');
    assert.equal(body.data.length, 2);
    assert.equal(body.data[1].embedding.length, 8);
    assert.deepEqual(body.usage, { prompt_tokens: 12, total_tokens: 12 });
    const b64 = await (await post('/openai/v1/embeddings', OA, { model, input: 'a', encoding_format: 'base64', dimensions: 4 })).json();
    const floats = new Float32Array(Uint8Array.from(Buffer.from(b64.data[0].embedding, 'base64')).buffer);
    assert.equal(floats.length, 4);
    assert.equal(mock.records().find((r) => r.model === model).api, 'embeddings');
  });

  test('gemini batchEmbedContents and embedContent, no usage', async () => {
    const batch = await post('/google/v1beta/models/text-embedding-004:batchEmbedContents', GG, {
      requests: [{ model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] } }, { content: { parts: [{ text: 'b' }] }, outputDimensionality: 3 }],
    });
    const b = await batch.json();
    assert.equal(b.embeddings.length, 2);
    assert.equal(b.embeddings[1].values.length, 3);
    assert.equal(b.usageMetadata, undefined);
    const one = await (await post('/google/v1beta/models/text-embedding-004:embedContent', GG, { content: { parts: [{ text: 'a' }] } })).json();
    assert.deepEqual(one.embedding.values, b.embeddings[0].values);
  });
});

describe('cached input (cached-K)', () => {
  test('every format reports K cached prompt tokens in its own field', async () => {
    const oa = await (await openai({ model: uniq('m-usage-100-20-cached-30'), messages: msgs })).json();
    assert.equal(oa.usage.prompt_tokens, 100);
    assert.equal(oa.usage.prompt_tokens_details.cached_tokens, 30);
    const an = await (await anthropic({ model: uniq('c-usage-100-20-cached-30'), messages: msgs })).json();
    // Anthropic's input_tokens leave the cache reads out.
    assert.deepEqual([an.usage.input_tokens, an.usage.cache_read_input_tokens], [70, 30]);
    const gg = await (await gemini(uniq('g-usage-100-20-cached-30'), { contents })).json();
    assert.deepEqual([gg.usageMetadata.promptTokenCount, gg.usageMetadata.cachedContentTokenCount], [100, 30]);
    const plain = await (await openai({ model: uniq('m-usage-5-5'), messages: msgs })).json();
    assert.equal(plain.usage.prompt_tokens_details.cached_tokens, 0);
  });
});
