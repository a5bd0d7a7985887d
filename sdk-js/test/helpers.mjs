// Test helpers: a scriptable fake `fetch` and SSE body builders.
const enc = new TextEncoder();

/** A `fetch` that answers from `handler(url, init, callIndex)` and records every call. */
export function fakeFetch(handler) {
  const calls = [];
  const fn = async (url, init = {}) => {
    const call = { url: String(url), init, headers: new Headers(init.headers), body: init.body ? JSON.parse(init.body) : undefined };
    calls.push(call);
    return handler(call, calls.length - 1);
  };
  fn.calls = calls;
  return fn;
}

export function jsonResponse(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** A stream body from pieces (strings or byte arrays), delivered one per pull. */
export function bodyFromPieces(pieces, { hang = false } = {}) {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < pieces.length) {
        const p = pieces[i++];
        controller.enqueue(typeof p === 'string' ? enc.encode(p) : p);
        return;
      }
      if (hang) return new Promise(() => {}); // never ends
      controller.close();
    },
  });
}

export function sseResponse(pieces, headers = {}, opts = {}) {
  return new Response(bodyFromPieces(pieces, opts), {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'x-request-id': 'req_stream', ...headers },
  });
}

export function chunk(content, extra = {}) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: content == null ? {} : { content }, finish_reason: null }],
    ...extra,
  };
}

/** A complete SSE text: one event per content piece, a usage chunk, then [DONE]. */
export function sseText(contents, { eol = '\n', usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }, done = true } = {}) {
  let s = `: keep-alive comment${eol}${eol}`;
  s += `data: ${JSON.stringify(chunk(null, { choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] }))}${eol}${eol}`;
  for (const c of contents) s += `data: ${JSON.stringify(chunk(c))}${eol}${eol}`;
  s += `data: ${JSON.stringify(chunk(null, { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage }))}${eol}${eol}`;
  if (done) s += `data: [DONE]${eol}${eol}`;
  return s;
}

export const bytes = (s) => enc.encode(s);

export const completion = (content = 'Hello!') => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
});
