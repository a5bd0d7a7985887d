import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, APIConnectionError, APIUserAbortError, ProviderError, LimitExceededError } from '../../dist/index.js';
import { fakeFetch, sseResponse, sseText, bytes, chunk, jsonResponse, completion } from '../helpers.mjs';

const opts = { identity: 'u1', model: 'm', messages: [{ role: 'user', content: 'Hi' }] };
const CONTENTS = ['Héllo', ' 世界', ' 🎉', '\r\n', ' done'];
const EXPECTED = CONTENTS.join('');

function client(fetch, extra = {}) {
  return createClient({ baseUrl: 'https://edge.test/', projectKey: 'pk_test', fetch, minRetryDelay: 1, maxRetryDelay: 2, ...extra });
}

async function collect(stream) {
  const out = [];
  for await (const t of stream) out.push(t);
  return out;
}

test('stream posts to /api/v1/proxy/chat/stream and yields the text pieces in order', async () => {
  const f = fakeFetch(() => sseResponse([sseText(CONTENTS)]));
  const s = client(f).chatStream(opts);
  assert.deepEqual(await collect(s), CONTENTS);
  assert.equal(f.calls[0].url, 'https://edge.test/api/v1/proxy/chat/stream');
  assert.equal(f.calls[0].init.method, 'POST');
  assert.equal(f.calls[0].headers.get('x-project-key'), 'pk_test');
  assert.deepEqual(f.calls[0].body, opts);
  assert.deepEqual(s.usage, { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
  assert.equal(s.finalText, EXPECTED);
  assert.equal(s.completed, true);
  assert.equal(s.requestId, 'req_stream');
});

test('stream text is intact when CRLF events are split at every possible byte', async () => {
  const all = bytes(sseText(CONTENTS, { eol: '\r\n' }));
  for (let cut = 1; cut < all.length; cut++) {
    const f = fakeFetch(() => sseResponse([all.slice(0, cut), all.slice(cut)]));
    const s = client(f).chatStream(opts);
    const text = await s.text();
    assert.equal(text, EXPECTED, `split at byte ${cut}`);
    assert.equal(s.usage.total_tokens, 15, `usage at split ${cut}`);
  }
});

test('stream text is intact when every byte arrives in its own chunk (multi-byte UTF-8 split)', async () => {
  const all = bytes(sseText(CONTENTS, { eol: '\r\n' }));
  const f = fakeFetch(() => sseResponse([...all].map((b) => new Uint8Array([b]))));
  const s = client(f).chatStream(opts);
  assert.deepEqual(await collect(s), CONTENTS);
  assert.equal(s.usage.total_tokens, 15);
});

test('stream text is intact when an event is split in the middle of its JSON and a 4-byte emoji', async () => {
  const text = sseText(['a🎉b']);
  const all = bytes(text);
  const emojiAt = all.indexOf(0xf0);
  const f = fakeFetch(() => sseResponse([all.slice(0, emojiAt + 2), all.slice(emojiAt + 2, emojiAt + 3), all.slice(emojiAt + 3)]));
  assert.equal(await client(f).chatStream(opts).text(), 'a🎉b');
});

test('chunks() yields the raw chunk objects including the usage chunk', async () => {
  const f = fakeFetch(() => sseResponse([sseText(['x'])]));
  const raw = [];
  for await (const c of client(f).chatStream(opts).chunks()) raw.push(c);
  assert.equal(raw.length, 3);
  assert.equal(raw[1].choices[0].delta.content, 'x');
  assert.equal(raw[2].usage.total_tokens, 15);
});

test('a stream that ends without [DONE] throws APIConnectionError after yielding what arrived', async () => {
  const f = fakeFetch(() => sseResponse([sseText(['partial'], { done: false })]));
  const s = client(f).chatStream(opts);
  const got = [];
  await assert.rejects(async () => {
    for await (const t of s) got.push(t);
  }, APIConnectionError);
  assert.deepEqual(got, ['partial']);
  assert.equal(s.finalText, 'partial');
  assert.equal(s.completed, false);
});

test('a stream cut mid-event (truncated JSON) throws APIConnectionError', async () => {
  const f = fakeFetch(() => sseResponse([`data: ${JSON.stringify(chunk('a'))}\n\ndata: {"id":"x","cho`]));
  await assert.rejects(() => client(f).chatStream(opts).text(), APIConnectionError);
});

test('a mid-stream error event throws ProviderError with its message', async () => {
  const f = fakeFetch(() =>
    sseResponse([`data: ${JSON.stringify(chunk('a'))}\n\ndata: {"error":{"message":"upstream exploded","type":"provider_error"}}\n\n`]),
  );
  const s = client(f).chatStream(opts);
  const got = [];
  await assert.rejects(
    async () => {
      for await (const t of s) got.push(t);
    },
    (e) =>
      e instanceof ProviderError &&
      e.message === 'upstream exploded' &&
      e.code === 'provider_error' &&
      e.midStream === true &&
      e.requestId === 'req_stream',
  );
  assert.deepEqual(got, ['a']);
});

test('the warning header is percent-decoded and surfaced with the deep link before iterating', async () => {
  const f = fakeFetch(() =>
    sseResponse([sseText(['x'])], {
      'x-ratelimit-warning': encodeURIComponent('Half used — 50 % 🎯'),
      'x-ratelimit-deeplink': 'myapp://half',
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '1',
      'x-ratelimit-reset': '3600',
      'x-ratelimit-policy': '3;w=86400',
    }),
  );
  const s = await client(f).chatStream(opts).ready();
  assert.deepEqual(s.warning, { message: 'Half used — 50 % 🎯', deepLink: 'myapp://half' });
  assert.equal(s.rateLimit.limit, 3);
  assert.equal(s.rateLimit.remaining, 1);
  assert.equal(s.rateLimit.reset, 3600);
  assert.equal(s.rateLimit.policy, '3;w=86400');
  assert.equal(await s.text(), 'x');
});

test('no warning header gives warning null', async () => {
  const s = client(fakeFetch(() => sseResponse([sseText(['x'])]))).chatStream(opts);
  await s.text();
  assert.equal(s.warning, null);
});

test('aborting the signal mid-stream stops iteration with APIUserAbortError', async () => {
  const ac = new AbortController();
  const f = fakeFetch(() => sseResponse([`data: ${JSON.stringify(chunk('first'))}\n\n`], {}, { hang: true }));
  const s = client(f).chatStream({ ...opts, signal: ac.signal });
  const got = [];
  await assert.rejects(async () => {
    for await (const t of s) {
      got.push(t);
      setTimeout(() => ac.abort(), 5);
    }
  }, APIUserAbortError);
  assert.deepEqual(got, ['first']);
});

test('stream.controller.abort() cancels a stream that is waiting for data', async () => {
  const f = fakeFetch(() => sseResponse([], {}, { hang: true }));
  const s = client(f).chatStream(opts);
  setTimeout(() => s.controller.abort(), 5);
  await assert.rejects(() => s.text(), APIUserAbortError);
});

test('an already-aborted signal never sends the request', async () => {
  const f = fakeFetch(() => sseResponse([sseText(['x'])]));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(() => client(f).chatStream({ ...opts, signal: ac.signal }).text(), APIUserAbortError);
  assert.equal(f.calls.length, 0);
});

test('breaking out of the loop cancels the response body', async () => {
  let cancelled = false;
  const f = fakeFetch(
    () =>
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(bytes(`data: ${JSON.stringify(chunk('one'))}\n\n`));
          },
          cancel() {
            cancelled = true;
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      ),
  );
  for await (const t of client(f).chatStream(opts)) {
    assert.equal(t, 'one');
    break;
  }
  assert.equal(cancelled, true);
});

test('a 429 before the stream starts throws LimitExceededError on iteration and is not retried', async () => {
  const f = fakeFetch(() => jsonResponse(429, { error: 'limit_exceeded', message: 'Upgrade now', deepLink: 'myapp://upgrade' }, { 'retry-after': '60' }));
  const s = client(f).chatStream(opts);
  await assert.rejects(() => s.ready(), LimitExceededError);
  await assert.rejects(async () => {
    for await (const _ of s);
  }, (e) => e instanceof LimitExceededError && e.response.deepLink === 'myapp://upgrade' && e.retryAfter === 60);
  assert.equal(f.calls.length, 1);
});

test('a stream failing with 502 before the first byte is retried, then streams', async () => {
  const f = fakeFetch((_c, i) => (i === 0 ? jsonResponse(502, { error: 'provider_error', message: 'bad' }) : sseResponse([sseText(['ok'])])));
  assert.equal(await client(f).chatStream(opts).text(), 'ok');
  assert.equal(f.calls.length, 2);
});

test('a stream that broke after the first byte is not retried', async () => {
  const f = fakeFetch(() => sseResponse([`data: ${JSON.stringify(chunk('a'))}\n\n`]));
  await assert.rejects(() => client(f).chatStream(opts).text(), APIConnectionError);
  assert.equal(f.calls.length, 1);
});

test('a stream can be consumed only once', async () => {
  const s = client(fakeFetch(() => sseResponse([sseText(['x'])]))).chatStream(opts);
  await s.text();
  await assert.rejects(() => s.text(), /already been consumed/);
});

test('a JSON answer on the stream route is presented as one chunk', async () => {
  const f = fakeFetch(() => jsonResponse(200, completion('whole')));
  const s = client(f).chatStream(opts);
  assert.deepEqual(await collect(s), ['whole']);
  assert.equal(s.usage.total_tokens, 5);
});
