// Mock LLM provider for integration tests: OpenAI chat completions, Anthropic
// Messages and Google Gemini generateContent, streaming included, on their real
// wire formats. Behaviour is picked by substrings of the model name (see
// README.md). Zero dependencies: plain Node.js >= 20, `node:http`.

import http from 'node:http';

export const DEFAULT_TEXT = 'Hello from the mock!';
export const UTF8_TEXT = 'héllo wörld 你好 🎉';
export const TOOL_ARGS = '{"city":"Paris"}';
/** Fragments of TOOL_ARGS as streamed by OpenAI/Anthropic (joined, they give TOOL_ARGS). */
export const TOOL_ARG_FRAGMENTS = ['{"ci', 'ty":"', 'Paris"}'];
export const FAILURE_MESSAGE = 'mock upstream failure';
export const SLOW_MS = 200;
export const DEFAULT_MAX_RECORDS = 10_000;

// ---------------------------------------------------------------------------
// Behaviour from the model name
// ---------------------------------------------------------------------------

/** Parses the behaviour flags out of a model name (substring matching). */
export function parseBehaviour(model) {
  const m = typeof model === 'string' ? model : '';
  // usage-P-C; a count may be negative (`usage--5-7`), as a broken provider's.
  const usage = /(?<!no-)usage-(-?\d+)-(-?\d+)/.exec(m);
  const err = /(?<!mid-)error-(\d{3})/.exec(m);
  const drop = /drop-after-(\d+)/.exec(m);
  const long = /long-(\d+)/.exec(m);
  const cached = /cached-(\d+)/.exec(m);
  const status = err ? Number(err[1]) : null;
  return {
    usage: usage ? { prompt: Number(usage[1]), completion: Number(usage[2]) } : null,
    slow: m.includes('slow'),
    hang: m.includes('hang'),
    stall: m.includes('stall'),
    errorStatus: status !== null && status >= 400 && status <= 599 ? status : null,
    dropAfter: drop ? Number(drop[1]) : null,
    noUsage: m.includes('no-usage'),
    malformed: m.includes('malformed-sse'),
    midError: m.includes('mid-error'),
    long: long ? Math.max(1, Math.min(Number(long[1]), 100_000)) : null,
    utf8: m.includes('utf8'),
    tool: m.includes('tool'),
    redirect: m.includes('redirect'),
    emptyUsage: m.includes('empty-usage'),
    // `cached-K`: K of the prompt tokens are reported as read from the prompt cache.
    cached: cached ? Number(cached[1]) : 0,
  };
}

/** The answer text split into stream chunks; completion tokens = chunks.length. */
export function answerChunks(b) {
  if (b.long !== null) {
    return Array.from({ length: b.long }, (_, i) => (i === 0 ? 'chunk0' : ` chunk${i}`));
  }
  const text = b.utf8 ? UTF8_TEXT : DEFAULT_TEXT;
  return text.split(' ').map((w, i) => (i === 0 ? w : ` ${w}`));
}

function countMessages(provider, body) {
  if (provider === 'google') return Array.isArray(body?.contents) ? body.contents.length : 0;
  if (provider === 'responses') return typeof body?.input === 'string' ? 1 : Array.isArray(body?.input) ? body.input.length : 0;
  return Array.isArray(body?.messages) ? body.messages.length : 0;
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

let idCounter = 0;
function newId(prefix) {
  idCounter += 1;
  return `${prefix}${Date.now().toString(36)}${idCounter.toString(36).padStart(6, '0')}`;
}

function sendJson(res, status, obj, extraHeaders = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...extraHeaders,
  });
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Per-request context: knows when the client left, cancellable sleeps, flushed writes. */
function makeCtx(res, record) {
  const ctx = {
    closed: false,
    timers: new Set(),
    wakers: new Set(),
    sleep(ms) {
      return new Promise((resolve) => {
        if (ctx.closed) return resolve();
        if (ms <= 0) return setImmediate(resolve);
        const t = setTimeout(() => {
          ctx.timers.delete(t);
          ctx.wakers.delete(resolve);
          resolve();
        }, ms);
        ctx.timers.add(t);
        ctx.wakers.add(resolve);
      });
    },
    write(str) {
      return new Promise((resolve) => {
        if (ctx.closed || res.destroyed) return resolve(false);
        res.write(str, (err) => resolve(!err));
      });
    },
  };
  res.on('close', () => {
    ctx.closed = true;
    for (const t of ctx.timers) clearTimeout(t);
    ctx.timers.clear();
    for (const w of ctx.wakers) w();
    ctx.wakers.clear();
    if (!res.writableFinished && ['pending', 'hung', 'stalled'].includes(record.outcome)) record.outcome = 'client-closed';
    if (!record.finishedAt) record.finishedAt = new Date().toISOString();
  });
  return ctx;
}

function usageObj(p, c, k = 0) {
  return k ? { inputTokens: p, outputTokens: c, totalTokens: p + c, cachedInputTokens: k } : { inputTokens: p, outputTokens: c, totalTokens: p + c };
}

// ---------------------------------------------------------------------------
// Provider error bodies
// ---------------------------------------------------------------------------

function openaiError(status, message) {
  const table = {
    400: ['invalid_request_error', null],
    401: ['invalid_request_error', 'invalid_api_key'],
    403: ['invalid_request_error', 'unsupported_country_region_territory'],
    404: ['invalid_request_error', 'model_not_found'],
    429: ['requests', 'rate_limit_exceeded'],
  };
  const [type, code] = table[status] ?? (status >= 500 ? ['server_error', null] : ['invalid_request_error', null]);
  return { error: { message, type, param: null, code } };
}

function anthropicErrorType(status) {
  return (
    {
      400: 'invalid_request_error',
      401: 'authentication_error',
      403: 'permission_error',
      404: 'not_found_error',
      413: 'request_too_large',
      429: 'rate_limit_error',
      529: 'overloaded_error',
    }[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error')
  );
}

function anthropicError(status, message) {
  return { type: 'error', error: { type: anthropicErrorType(status), message } };
}

function googleStatus(status) {
  return (
    {
      400: 'INVALID_ARGUMENT',
      401: 'UNAUTHENTICATED',
      403: 'PERMISSION_DENIED',
      404: 'NOT_FOUND',
      429: 'RESOURCE_EXHAUSTED',
      500: 'INTERNAL',
      503: 'UNAVAILABLE',
      504: 'DEADLINE_EXCEEDED',
    }[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION')
  );
}

function googleError(status, message) {
  return { error: { code: status, message, status: googleStatus(status) } };
}

function providerError(provider, status, message) {
  if (provider === 'anthropic') return anthropicError(status, message);
  if (provider === 'responses') return openaiError(status, message);
  if (provider === 'google') return googleError(status, message);
  return openaiError(status, message);
}

// ---------------------------------------------------------------------------
// Stream plans. Every provider builds {preamble, content, finale} lists of
// events; one runner applies the behaviours (slow, drop, mid-error, ...).
// An event is {obj, name?, usage?, partialUsage?} - `usage` is recorded as the
// reported usage just before the event is written.
// ---------------------------------------------------------------------------

function sseEncoder(provider, arrayMode) {
  if (provider === 'anthropic' || provider === 'responses') {
    return {
      contentType: 'text/event-stream; charset=utf-8',
      event: (ev) => `event: ${ev.name}\ndata: ${JSON.stringify(ev.obj)}\n\n`,
      raw: (line) => `${line}\n\n`,
      end: () => '',
    };
  }
  if (provider === 'google') {
    if (arrayMode) {
      // streamGenerateContent without alt=sse: one JSON array, streamed element by element.
      let first = true;
      return {
        contentType: 'application/json; charset=UTF-8',
        event: (ev) => {
          const s = `${first ? '[' : ',\r\n'}${JSON.stringify(ev.obj)}`;
          first = false;
          return s;
        },
        raw: (line) => `${first ? '[' : ',\r\n'}${line.replace(/^data: /, '')}`,
        end: () => (first ? '[]' : ']'),
      };
    }
    return {
      contentType: 'text/event-stream',
      event: (ev) => `data: ${JSON.stringify(ev.obj)}\r\n\r\n`,
      raw: (line) => `${line}\r\n\r\n`,
      end: () => '',
    };
  }
  return {
    contentType: 'text/event-stream; charset=utf-8',
    event: (ev) => (ev.done ? 'data: [DONE]\n\n' : `data: ${JSON.stringify(ev.obj)}\n\n`),
    raw: (line) => `${line}\n\n`,
    end: () => '',
  };
}

function midErrorEvent(provider) {
  if (provider === 'responses') {
    return { name: 'error', obj: { type: 'error', code: 'server_error', message: FAILURE_MESSAGE, param: null } };
  }
  if (provider === 'anthropic') {
    return { name: 'error', obj: { type: 'error', error: { type: 'overloaded_error', message: FAILURE_MESSAGE } } };
  }
  if (provider === 'google') return { obj: googleError(500, FAILURE_MESSAGE) };
  return { obj: { error: { message: FAILURE_MESSAGE, type: 'server_error', param: null, code: null } } };
}

async function runStream({ res, ctx, record, provider, b, plan, enc, headers }) {
  res.writeHead(200, {
    'content-type': enc.contentType,
    'cache-control': 'no-cache',
    ...headers,
  });
  res.flushHeaders();
  const delay = b.slow ? SLOW_MS : 0;
  const emit = async (ev) => {
    if (ev.partialUsage) record.partialUsage = ev.partialUsage;
    if (ev.usage) record.usage = ev.usage;
    return ctx.write(enc.event(ev));
  };
  const finish = async (outcome) => {
    const tail = enc.end();
    if (tail) await ctx.write(tail);
    record.outcome = outcome;
    if (!ctx.closed) res.end();
  };

  // malformed-sse: one good event, then a line that is not JSON, then end.
  if (b.malformed) {
    const first = plan.preamble[0] ?? plan.content[0] ?? plan.finale[0];
    if (first) await emit(first);
    await ctx.sleep(delay);
    await ctx.write(enc.raw('data: {not json'));
    return finish('malformed');
  }

  for (const ev of plan.preamble) {
    if (!(await emit(ev))) return;
  }
  let sent = 0;
  for (const ev of plan.content) {
    if (b.dropAfter !== null && sent >= b.dropAfter) break;
    if (b.midError && sent >= 1) break;
    if (b.stall && sent >= 1) break;
    await ctx.sleep(delay);
    if (ctx.closed || !(await emit(ev))) return;
    sent += 1;
  }
  if (ctx.closed) return;
  if (b.dropAfter !== null) {
    record.outcome = 'dropped';
    res.socket?.destroy();
    return;
  }
  if (b.midError) {
    await emit(midErrorEvent(provider));
    return finish('mid-error');
  }
  if (b.stall) {
    // Headers and one chunk sent; now never answer again until the client leaves.
    record.outcome = 'stalled';
    return;
  }
  await ctx.sleep(delay);
  if (ctx.closed) return;
  for (const ev of plan.finale) {
    if (!(await emit(ev))) return;
  }
  return finish('ok');
}

// ----- OpenAI ---------------------------------------------------------------

function openaiFirstToolName(body) {
  const t = Array.isArray(body.tools) ? body.tools.find((x) => x?.function?.name || x?.name) : null;
  return t ? (t.function?.name ?? t.name) : null;
}

function openaiPlan({ body, model, chunks, toolName, p, c, reportUsage, emptyUsage, k = 0 }) {
  const id = newId('chatcmpl-mock');
  const created = Math.floor(Date.now() / 1000);
  const includeUsage = body.stream_options?.include_usage === true && (reportUsage || emptyUsage);
  const base = (choices) => {
    const o = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock', choices };
    if (includeUsage) o.usage = null;
    return o;
  };
  const choice = (delta, finish = null) => ({ index: 0, delta, logprobs: null, finish_reason: finish });
  const preamble = [];
  const content = [];
  if (toolName) {
    preamble.push({
      obj: base([
        choice({
          role: 'assistant',
          content: null,
          tool_calls: [{ index: 0, id: newId('call_mock'), type: 'function', function: { name: toolName, arguments: '' } }],
          refusal: null,
        }),
      ]),
    });
    for (const frag of TOOL_ARG_FRAGMENTS) {
      content.push({ obj: base([choice({ tool_calls: [{ index: 0, function: { arguments: frag } }] })]) });
    }
  } else {
    preamble.push({ obj: base([choice({ role: 'assistant', content: '', refusal: null })]) });
    for (const text of chunks) content.push({ obj: base([choice({ content: text })]) });
  }
  const finale = [{ obj: base([choice({}, toolName ? 'tool_calls' : 'stop')]) }];
  if (includeUsage && emptyUsage) {
    const o = base([]);
    o.usage = {};
    finale.push({ obj: o });
  } else if (includeUsage) {
    const o = base([]);
    o.usage = {
      prompt_tokens: p,
      completion_tokens: c,
      total_tokens: p + c,
      prompt_tokens_details: { cached_tokens: k, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    finale.push({ obj: o, usage: usageObj(p, c, k) });
  }
  finale.push({ done: true });
  return { preamble, content, finale };
}

function openaiMessage({ model, chunks, toolName, p, c, reportUsage, emptyUsage, k = 0 }) {
  const message = toolName
    ? {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: newId('call_mock'), type: 'function', function: { name: toolName, arguments: TOOL_ARGS } }],
        refusal: null,
      }
    : { role: 'assistant', content: chunks.join(''), refusal: null };
  const o = {
    id: newId('chatcmpl-mock'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: toolName ? 'tool_calls' : 'stop' }],
  };
  if (emptyUsage) {
    o.usage = {};
  } else if (reportUsage) {
    o.usage = {
      prompt_tokens: p,
      completion_tokens: c,
      total_tokens: p + c,
      prompt_tokens_details: { cached_tokens: k, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
  }
  o.system_fingerprint = 'fp_mock';
  return o;
}

// ----- Anthropic ------------------------------------------------------------

function anthropicFirstToolName(body) {
  const t = Array.isArray(body.tools) ? body.tools.find((x) => x?.name) : null;
  return t ? t.name : null;
}

function anthropicUsage(p, c, k = 0) {
  // Anthropic's input_tokens leave out cache reads.
  return { input_tokens: p - k, cache_creation_input_tokens: 0, cache_read_input_tokens: k, output_tokens: c };
}

function anthropicPlan({ model, chunks, toolName, p, c, reportUsage, k = 0 }) {
  const message = {
    id: newId('msg_mock'),
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
  };
  if (reportUsage) message.usage = anthropicUsage(p, 1, k);
  const preamble = [
    {
      name: 'message_start',
      obj: { type: 'message_start', message },
      partialUsage: reportUsage ? usageObj(p, 1, k) : undefined,
    },
    {
      name: 'content_block_start',
      obj: {
        type: 'content_block_start',
        index: 0,
        content_block: toolName ? { type: 'tool_use', id: newId('toolu_mock'), name: toolName, input: {} } : { type: 'text', text: '' },
      },
    },
    { name: 'ping', obj: { type: 'ping' } },
  ];
  const content = (toolName ? TOOL_ARG_FRAGMENTS : chunks).map((piece) => ({
    name: 'content_block_delta',
    obj: {
      type: 'content_block_delta',
      index: 0,
      delta: toolName ? { type: 'input_json_delta', partial_json: piece } : { type: 'text_delta', text: piece },
    },
  }));
  const messageDelta = {
    type: 'message_delta',
    delta: { stop_reason: toolName ? 'tool_use' : 'end_turn', stop_sequence: null },
  };
  if (reportUsage) messageDelta.usage = { output_tokens: c };
  const finale = [
    { name: 'content_block_stop', obj: { type: 'content_block_stop', index: 0 } },
    { name: 'message_delta', obj: messageDelta, usage: reportUsage ? usageObj(p, c, k) : undefined },
    { name: 'message_stop', obj: { type: 'message_stop' } },
  ];
  return { preamble, content, finale };
}

function anthropicMessage({ model, chunks, toolName, p, c, reportUsage, k = 0 }) {
  const o = {
    id: newId('msg_mock'),
    type: 'message',
    role: 'assistant',
    model,
    content: toolName
      ? [{ type: 'tool_use', id: newId('toolu_mock'), name: toolName, input: JSON.parse(TOOL_ARGS) }]
      : [{ type: 'text', text: chunks.join('') }],
    stop_reason: toolName ? 'tool_use' : 'end_turn',
    stop_sequence: null,
  };
  if (reportUsage) o.usage = anthropicUsage(p, c, k);
  return o;
}

// ----- OpenAI Responses API -------------------------------------------------

function responsesUsage(p, c, k = 0) {
  return { input_tokens: p, input_tokens_details: { cached_tokens: k }, output_tokens: c, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: p + c };
}

function responsesObject({ id, model, status, output, usage }) {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    store: false,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    metadata: {},
    usage,
  };
}

function responsesPlan({ model, chunks, p, c, reportUsage, k = 0 }) {
  const id = newId('resp_mock');
  const itemId = newId('msg_mock');
  let seq = 0;
  const ev = (name, obj) => ({ name, obj: { type: name, sequence_number: seq++, ...obj } });
  const text = chunks.join('');
  const part = (t) => ({ type: 'output_text', text: t, annotations: [] });
  const item = (status, content) => ({ type: 'message', id: itemId, status, role: 'assistant', content });
  const shell = () => responsesObject({ id, model, status: 'in_progress', output: [], usage: null });
  const preamble = [
    ev('response.created', { response: shell() }),
    ev('response.in_progress', { response: shell() }),
    ev('response.output_item.added', { output_index: 0, item: item('in_progress', []) }),
    ev('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part: part('') }),
  ];
  const content = chunks.map((delta) => ev('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta, logprobs: [] }));
  const done = item('completed', [part(text)]);
  const completed = ev('response.completed', {
    response: responsesObject({ id, model, status: 'completed', output: [done], usage: reportUsage ? responsesUsage(p, c, k) : null }),
  });
  if (reportUsage) completed.usage = usageObj(p, c, k);
  const finale = [
    ev('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] }),
    ev('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part: part(text) }),
    ev('response.output_item.done', { output_index: 0, item: done }),
    completed,
  ];
  return { preamble, content, finale };
}

function responsesMessage({ model, chunks, p, c, reportUsage, k = 0 }) {
  const output = [
    { type: 'message', id: newId('msg_mock'), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: chunks.join(''), annotations: [] }] },
  ];
  return responsesObject({ id: newId('resp_mock'), model, status: 'completed', output, usage: reportUsage ? responsesUsage(p, c, k) : null });
}

// ----- Google Gemini --------------------------------------------------------

function googleFirstToolName(body) {
  if (!Array.isArray(body.tools)) return null;
  for (const t of body.tools) {
    const fd = t?.functionDeclarations ?? t?.function_declarations;
    if (Array.isArray(fd) && fd[0]?.name) return fd[0].name;
  }
  return null;
}

function googleUsage(p, c, k = 0) {
  return {
    promptTokenCount: p,
    ...(k ? { cachedContentTokenCount: k } : {}),
    candidatesTokenCount: c,
    totalTokenCount: p + c,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: p }],
  };
}

function googleResponse({ parts, finish, model, responseId, usage }) {
  const cand = { content: { parts, role: 'model' } };
  if (finish) cand.finishReason = 'STOP';
  cand.index = 0;
  const o = { candidates: [cand] };
  if (usage) o.usageMetadata = usage;
  o.modelVersion = model;
  o.responseId = responseId;
  return o;
}

function googlePlan({ model, chunks, toolName, p, c, reportUsage, k = 0 }) {
  const responseId = newId('mock');
  const usage = reportUsage ? googleUsage(p, c, k) : null;
  const rec = reportUsage ? usageObj(p, c, k) : undefined;
  if (toolName) {
    return {
      preamble: [],
      content: [],
      finale: [
        {
          obj: googleResponse({
            parts: [{ functionCall: { name: toolName, args: JSON.parse(TOOL_ARGS) } }],
            finish: true,
            model,
            responseId,
            usage,
          }),
          usage: rec,
        },
      ],
    };
  }
  const mk = (text, last) => ({
    obj: googleResponse({ parts: [{ text }], finish: last, model, responseId, usage: last ? usage : null }),
    usage: last ? rec : undefined,
  });
  return {
    preamble: [],
    content: chunks.slice(0, -1).map((t) => mk(t, false)),
    finale: [mk(chunks[chunks.length - 1], true)],
  };
}

function googleMessage({ model, chunks, toolName, p, c, reportUsage, k = 0 }) {
  const parts = toolName ? [{ functionCall: { name: toolName, args: JSON.parse(TOOL_ARGS) } }] : [{ text: chunks.join('') }];
  return googleResponse({ parts, finish: true, model, responseId: newId('mock'), usage: reportUsage ? googleUsage(p, c, k) : null });
}

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

/** A deterministic embedding: `dims` values in [-1, 1] derived from the text. */
export function mockEmbedding(text, dims = 8) {
  let h = 2166136261;
  for (const ch of String(text)) h = Math.imul(h ^ ch.codePointAt(0), 16777619) >>> 0;
  return Array.from({ length: dims }, (_, i) => Math.round(Math.sin(h + i) * 1e6) / 1e6);
}

function embeddingInputs(body) {
  if (typeof body?.input === 'string') return [body.input];
  return Array.isArray(body?.input) ? body.input : [];
}

function embeddingsRoute(method, pathname) {
  let m = /^\/(openai|xai|other)\/v1\/embeddings\/?$/.exec(pathname);
  if (m) return method === 'POST' ? { provider: m[1], family: 'openai', embeddings: true } : { notAllowed: true };
  m = /^\/google\/(v1beta|v1)\/models\/([^/:]+):(embedContent|batchEmbedContents)$/.exec(pathname);
  if (m) return method === 'POST' ? { provider: 'google', family: 'google', embeddings: true, model: decodeURIComponent(m[2]), batch: m[3] === 'batchEmbedContents' } : { notAllowed: true };
  return null;
}

/** Embeddings: OpenAI's `/embeddings` (usage = 10 + inputs, or usage-P-C's P) and Gemini's embedContent / batchEmbedContents (no usage, as Gemini). */
function answerEmbeddings(r, body, record, b, url) {
  if (r.family === 'openai') {
    const inputs = embeddingInputs(body);
    if (typeof body?.model !== 'string' || !inputs.length) return [400, providerError('openai', 400, "Missing required parameter: 'input'.")];
    const dims = Number.isInteger(body.dimensions) ? body.dimensions : 8;
    const p = b.usage ? b.usage.prompt : 10 + inputs.length;
    const data = inputs.map((text, index) => {
      const values = mockEmbedding(JSON.stringify(text), dims);
      const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(values).buffer).toString('base64') : values;
      return { object: 'embedding', index, embedding };
    });
    record.usage = usageObj(p, 0);
    record.plannedUsage = usageObj(p, 0);
    return [200, { object: 'list', data, model: body.model, usage: { prompt_tokens: p, total_tokens: p } }];
  }
  const requests = r.batch ? body?.requests : [body];
  if (!Array.isArray(requests) || !requests.length || requests.some((q) => !Array.isArray(q?.content?.parts))) {
    return [400, providerError('google', 400, '* BatchEmbedContentsRequest.requests: content is required')];
  }
  const embeddings = requests.map((q) => ({ values: mockEmbedding(JSON.stringify(q.content.parts.map((x) => x.text ?? '').join('')), q.outputDimensionality ?? 8) }));
  record.plannedUsage = null;
  return [200, r.batch ? { embeddings } : { embedding: embeddings[0] }];
}

function route(method, pathname) {
  const e = embeddingsRoute(method, pathname);
  if (e) return e;
  let m = /^\/(openai|xai|other)\/v1\/chat\/completions\/?$/.exec(pathname);
  if (m) return method === 'POST' ? { provider: m[1], family: 'openai' } : { notAllowed: true };
  m = /^\/(openai|xai|other)\/v1\/responses\/?$/.exec(pathname);
  if (m) return method === 'POST' ? { provider: m[1], family: 'responses' } : { notAllowed: true };
  if (/^\/anthropic\/v1\/messages\/?$/.test(pathname)) {
    return method === 'POST' ? { provider: 'anthropic', family: 'anthropic' } : { notAllowed: true };
  }
  m = /^\/google\/(v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(pathname);
  if (m) {
    let model;
    try {
      model = decodeURIComponent(m[2]);
    } catch {
      model = m[2];
    }
    return method === 'POST'
      ? { provider: 'google', family: 'google', model, stream: m[3] === 'streamGenerateContent' }
      : { notAllowed: true };
  }
  return null;
}

function checkAuth(family, req, url) {
  const h = req.headers;
  if (family === 'openai' || family === 'responses') {
    const auth = h.authorization ?? '';
    const mm = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!mm) {
      return [401, 'You didn\'t provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).'];
    }
    if (mm[1] === 'invalid') return [401, 'Incorrect API key provided: invalid.'];
    return null;
  }
  if (family === 'anthropic') {
    const key = h['x-api-key'];
    if (!key) return [401, 'x-api-key header is required'];
    if (key === 'invalid') return [401, 'invalid x-api-key'];
    if (!h['anthropic-version']) return [400, 'anthropic-version: header is required'];
    return null;
  }
  const key = h['x-goog-api-key'] ?? url.searchParams.get('key');
  if (!key) {
    return [
      403,
      'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.',
    ];
  }
  if (key === 'invalid') return [400, 'API key not valid. Please pass a valid API key.'];
  return null;
}

function validateBody(family, body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'Request body must be a JSON object.';
  if (family === 'responses') {
    if (typeof body.model !== 'string' || !body.model) return 'you must provide a model parameter';
    if (typeof body.input !== 'string' && !Array.isArray(body.input)) return "Missing required parameter: 'input'.";
  } else if (family === 'openai') {
    if (typeof body.model !== 'string' || !body.model) return 'you must provide a model parameter';
    if (!Array.isArray(body.messages)) return "Missing required parameter: 'messages'.";
  } else if (family === 'anthropic') {
    if (typeof body.model !== 'string' || !body.model) return 'model: Field required';
    if (!Array.isArray(body.messages)) return 'messages: Field required';
    if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  } else if (!Array.isArray(body.contents)) {
    return '* GenerateContentRequest.contents: contents is not specified';
  }
  return null;
}

function requestIdHeaders(family) {
  if (family === 'anthropic') return { 'request-id': newId('req_mock') };
  if (family === 'openai' || family === 'responses') return { 'x-request-id': newId('req_mock'), 'openai-processing-ms': '1' };
  return {};
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

/**
 * Starts the mock provider.
 * @param {{port?: number, host?: string, maxRecords?: number}} [opts]
 * @returns {Promise<{url: string, port: number, server: http.Server, records: () => object[], clear: () => void, close: () => Promise<void>}>}
 */
export function startMock({ port = 0, host = '127.0.0.1', maxRecords = DEFAULT_MAX_RECORDS } = {}) {
  let records = [];
  let seq = 0;
  let redirectHits = 0;

  const addRecord = (rec) => {
    records.push(rec);
    if (records.length > maxRecords) records.splice(0, records.length - maxRecords);
  };

  const handleAdmin = (req, res, url) => {
    if (url.pathname === '/__mock/health') return sendJson(res, 200, { ok: true });
    // The target of the `redirect` behaviour: counts who followed it.
    if (url.pathname === '/__mock/redirected') {
      redirectHits += 1;
      return sendJson(res, 200, { followed: true });
    }
    if (url.pathname === '/__mock/redirect-hits') return sendJson(res, 200, { hits: redirectHits });
    if (url.pathname === '/__mock/requests') {
      if (req.method === 'GET') {
        let out = records;
        const model = url.searchParams.get('model');
        const provider = url.searchParams.get('provider');
        if (model !== null) out = out.filter((r) => r.model === model);
        if (provider !== null) out = out.filter((r) => r.provider === provider);
        return sendJson(res, 200, out);
      }
      if (req.method === 'DELETE') {
        const model = url.searchParams.get('model');
        const before = records.length;
        records = model === null ? [] : records.filter((r) => r.model !== model);
        return sendJson(res, 200, { ok: true, cleared: before - records.length });
      }
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    return sendJson(res, 404, { error: `no mock admin route ${url.pathname}` });
  };

  const handle = async (req, res) => {
    const url = new URL(req.url, 'http://mock.local');
    if (url.pathname.startsWith('/__mock/')) return handleAdmin(req, res, url);

    const r = route(req.method, url.pathname);
    if (!r) return sendJson(res, 404, { error: { message: `Unknown route ${req.method} ${url.pathname}`, type: 'invalid_request_error' } });
    if (r.notAllowed) return sendJson(res, 405, { error: { message: 'Method not allowed', type: 'invalid_request_error' } });

    const raw = await readBody(req);
    let body = null;
    let jsonOk = true;
    try {
      body = raw.length ? JSON.parse(raw) : null;
    } catch {
      jsonOk = false;
    }
    const model = r.family === 'google' ? r.model : typeof body?.model === 'string' ? body.model : null;
    const stream = r.family === 'google' ? r.stream : body?.stream === true;
    const b = parseBehaviour(model);
    const chunks = answerChunks(b);

    const record = {
      id: ++seq,
      timestamp: new Date().toISOString(),
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body: jsonOk ? body : null,
      provider: r.provider,
      api: r.embeddings ? 'embeddings' : r.family === 'responses' ? 'responses' : r.family === 'openai' ? 'chat' : r.family,
      model,
      stream,
      status: null,
      outcome: 'pending',
      usage: null,
      partialUsage: null,
      plannedUsage: null,
      finishedAt: null,
    };
    if (!jsonOk) record.rawBody = raw;
    addRecord(record);
    const ctx = makeCtx(res, record);
    const hdrs = requestIdHeaders(r.family);

    const fail = (status, message, outcome = 'error') => {
      record.status = status;
      record.outcome = outcome;
      const extra = status === 429 ? { 'retry-after': '1', ...hdrs } : hdrs;
      sendJson(res, status, providerError(r.family, status, message), extra);
    };

    const authErr = checkAuth(r.family, req, url);
    if (authErr) return fail(authErr[0], authErr[1], 'rejected');
    if (!jsonOk) return fail(400, 'We could not parse the JSON body of your request.', 'rejected');
    const invalid = r.embeddings ? null : validateBody(r.family, body);
    if (invalid) return fail(400, invalid, 'rejected');

    // Usage: explicit usage-P-C, else P = 10 + messages, C = number of chunks.
    const toolName =
      b.tool &&
      r.family !== 'responses' &&
      (r.family === 'openai' ? openaiFirstToolName(body) : r.family === 'anthropic' ? anthropicFirstToolName(body) : googleFirstToolName(body));
    const p = b.usage ? b.usage.prompt : 10 + countMessages(r.family, body);
    const c = b.usage ? b.usage.completion : toolName ? TOOL_ARG_FRAGMENTS.length : chunks.length;
    const k = Math.min(b.cached, p);
    record.plannedUsage = usageObj(p, c, k);
    // `empty-usage`: OpenAI-format answers carry `usage: {}` (no counts at all).
    const reportUsage = !b.noUsage && !b.emptyUsage;
    const modelOut = model ?? 'mock';
    const args = { body, model: modelOut, chunks, toolName, p, c, k, reportUsage, emptyUsage: b.emptyUsage };

    if (b.redirect) {
      // A provider URL answering 302 to another (internal) address.
      record.status = 302;
      record.outcome = 'redirected';
      res.writeHead(302, { location: '/__mock/redirected', 'content-length': '0' });
      return res.end();
    }
    if (b.hang) {
      // Never answer; the socket stays open until the client leaves (no timers).
      record.outcome = 'hung';
      return;
    }
    if (b.errorStatus !== null) {
      if (b.slow) await ctx.sleep(SLOW_MS);
      if (ctx.closed) return;
      return fail(b.errorStatus, FAILURE_MESSAGE);
    }

    if (r.embeddings) {
      if (b.slow) await ctx.sleep(SLOW_MS);
      if (ctx.closed) return;
      const [status, obj] = answerEmbeddings(r, body, record, b, url);
      record.status = status;
      record.outcome = status === 200 ? 'ok' : 'rejected';
      return sendJson(res, status, obj, hdrs);
    }
    record.status = 200;
    if (stream) {
      const planFn = { openai: openaiPlan, responses: responsesPlan, anthropic: anthropicPlan, google: googlePlan }[r.family];
      const arrayMode = r.family === 'google' && url.searchParams.get('alt') !== 'sse';
      return runStream({
        res,
        ctx,
        record,
        provider: r.family,
        b,
        plan: planFn(args),
        enc: sseEncoder(r.family, arrayMode),
        headers: hdrs,
      });
    }

    if (b.slow) await ctx.sleep(SLOW_MS);
    if (ctx.closed) return;
    if (b.dropAfter !== null) {
      record.outcome = 'dropped';
      res.socket?.destroy();
      return;
    }
    if (b.stall) {
      record.outcome = 'stalled';
      return;
    }
    if (b.malformed) {
      record.outcome = 'malformed';
      res.writeHead(200, { 'content-type': 'application/json', ...hdrs });
      res.end('{not json');
      return;
    }
    const msgFn = { openai: openaiMessage, responses: responsesMessage, anthropic: anthropicMessage, google: googleMessage }[r.family];
    if (reportUsage) record.usage = usageObj(p, c, k);
    record.outcome = 'ok';
    sendJson(res, 200, msgFn(args), hdrs);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `mock internal error: ${err?.message}`, type: 'mock_error' } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const actual = server.address().port;
      resolve({
        url: `http://${host}:${actual}`,
        port: actual,
        server,
        records: () => records,
        clear: () => {
          records = [];
        },
        close: () =>
          new Promise((res) => {
            server.close(() => res());
            server.closeAllConnections();
          }),
      });
    });
  });
}
