import { AIRatelimitError, APIConnectionError, APIUserAbortError, ProviderError, normalizeErrorBody } from './errors.js';
import { parseRateLimitHeaders, warningFromHeaders } from './headers.js';
import { SSEParser, type SSEEvent } from './sse.js';
import type { ChatCompletion, ChatCompletionChunk, CompletionUsage, RateLimitHeaders, RateLimitWarning } from './types.js';

/** What the request layer hands to a stream once the response headers arrived. */
export interface OpenedStream {
  response: Response;
  /** Releases the request's abort wiring; called when the stream ends. */
  cleanup: () => void;
}

const DONE = Symbol('done');
const noop = () => {};

/**
 * A streamed chat completion (`POST /api/v1/proxy/chat/stream`).
 *
 * - `for await (const text of stream)` yields the text pieces (`choices[0].delta.content`).
 * - `stream.chunks()` yields the raw `chat.completion.chunk` objects instead.
 * - `await stream.text()` reads everything and returns the whole text.
 * - After the response headers arrived (`await stream.ready()`): `requestId`,
 *   `rateLimit` (parsed `x-ratelimit-*`), `warning` (`{message, deepLink}` from
 *   `x-ratelimit-warning` / `x-ratelimit-deeplink`, or `null`).
 * - After iteration: `usage` (from the last chunk carrying `usage`), `finalText`.
 * - Cancel with the `signal` option, `stream.abort()` or `stream.controller.abort()`;
 *   iteration then throws `APIUserAbortError`. Leaving a `for await` loop early
 *   (`break`) also closes the connection.
 *
 * Errors thrown by the iteration: the HTTP errors of the request (e.g.
 * `LimitExceededError`, sent before any event), `ProviderError` for an error
 * event in the middle of the stream, and `APIConnectionError` when the stream
 * ends without `data: [DONE]` (the connection was cut; the text received so far
 * was already yielded and stays in `finalText`).
 *
 * A stream can be consumed once.
 */
export class ChatStream implements AsyncIterable<string> {
  /** Aborting it cancels the request or the reading of the stream. */
  readonly controller: AbortController = new AbortController();
  /** `x-request-id`, once the headers arrived. */
  requestId: string | null = null;
  /** Parsed `x-ratelimit-*` headers, once the headers arrived. */
  rateLimit: RateLimitHeaders | null = null;
  /** The warn rule's message and deep link from the headers, or `null`. */
  warning: RateLimitWarning | null = null;
  /** The final usage (prompt/completion/total tokens), after the stream ended. */
  usage: CompletionUsage | null = null;
  /** The text received so far (all of it once the iteration ended). */
  finalText = '';
  /** True once `[DONE]` was received. */
  completed = false;
  /** The raw `Response`, once the headers arrived. */
  response: Response | null = null;

  private readonly opened: Promise<OpenedStream>;
  private consumed = false;

  /** @internal Use `client.chatStream()`. */
  constructor(open: (signal: AbortSignal) => Promise<OpenedStream>, userSignal?: AbortSignal) {
    if (userSignal) {
      if (userSignal.aborted) this.controller.abort(userSignal.reason);
      else userSignal.addEventListener('abort', () => this.controller.abort(userSignal.reason), { once: true });
    }
    this.opened = open(this.controller.signal).then((opened) => {
      const { response } = opened;
      this.response = response;
      this.requestId = response.headers.get('x-request-id');
      this.rateLimit = parseRateLimitHeaders(response.headers);
      this.warning = warningFromHeaders(this.rateLimit);
      return opened;
    });
    // The error is delivered to whoever iterates or awaits `ready()`; avoid an unhandled rejection meanwhile.
    this.opened.catch(noop);
  }

  /** Resolves with the stream once the response headers arrived; rejects with the request's error. */
  async ready(): Promise<this> {
    await this.opened;
    return this;
  }

  /** Cancels the request or the stream. */
  abort(reason?: unknown): void {
    this.controller.abort(reason);
  }

  /** Iterates the text pieces. */
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for await (const chunk of this.chunks()) {
      const text = chunk.choices?.[0]?.delta?.content;
      if (typeof text === 'string' && text !== '') yield text;
    }
  }

  /** Reads the whole stream and returns its text. */
  async text(): Promise<string> {
    for await (const _ of this.chunks()) {
      // consume
    }
    return this.finalText;
  }

  /** Iterates the raw `chat.completion.chunk` objects. */
  async *chunks(): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    if (this.consumed) throw new AIRatelimitError('This stream has already been consumed');
    this.consumed = true;
    const signal = this.controller.signal;
    const { response, cleanup } = await this.opened;
    const info = { headers: response.headers, requestId: this.requestId };

    const contentType = response.headers.get('content-type') ?? '';
    if (contentType.includes('application/json')) {
      // The proxy answered a plain completion instead of a stream: present it as one chunk.
      cleanup();
      let completion: ChatCompletion;
      try {
        completion = (await response.json()) as ChatCompletion;
      } catch (cause) {
        if (signal.aborted) throw new APIUserAbortError('The stream was aborted', { ...info, cause });
        throw new APIConnectionError('Could not read the answer', { ...info, cause });
      }
      const chunk = completionToChunk(completion);
      this.accept(chunk);
      this.completed = true;
      yield chunk;
      return;
    }

    if (!response.body) {
      cleanup();
      throw new APIConnectionError('The stream has no body', info);
    }
    const reader = response.body.getReader();
    const parser = new SSEParser();
    const onAbort = () => {
      reader.cancel(signal.reason).catch(noop);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (signal.aborted) throw new APIUserAbortError('The stream was aborted', info);
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (cause) {
          if (signal.aborted) throw new APIUserAbortError('The stream was aborted', { ...info, cause });
          throw new APIConnectionError(`The stream broke: ${errorText(cause)}`, { ...info, cause });
        }
        if (signal.aborted) throw new APIUserAbortError('The stream was aborted', info);
        const events = result.done ? parser.end().events : parser.push(result.value);
        for (const ev of events) {
          const out = this.handleEvent(ev, info);
          if (out === DONE) {
            this.completed = true;
            return;
          }
          if (out) yield out;
        }
        if (result.done) {
          throw new APIConnectionError(
            'The stream ended before [DONE]: the connection was cut and the answer may be incomplete',
            info,
          );
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      cleanup();
      // Closes the connection if we stop early (break, error, abort); harmless after [DONE].
      reader.cancel().catch(noop);
    }
  }

  private accept(chunk: ChatCompletionChunk): void {
    if (chunk.usage) this.usage = chunk.usage;
    const text = chunk.choices?.[0]?.delta?.content;
    if (typeof text === 'string') this.finalText += text;
  }

  private handleEvent(
    ev: SSEEvent,
    info: { headers: Headers; requestId: string | null },
  ): ChatCompletionChunk | typeof DONE | null {
    const data = ev.data.trim();
    if (data === '') return null;
    if (data === '[DONE]') return DONE;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch (cause) {
      throw new APIConnectionError('The stream carried a malformed event', { ...info, cause });
    }
    if (!parsed || typeof parsed !== 'object') return null;
    const obj = parsed as Record<string, unknown>;
    if (obj.error != null) {
      const body = normalizeErrorBody(parsed, '');
      const code = typeof body.type === 'string' ? body.type : (body.error ?? 'provider_error');
      throw new ProviderError(typeof body.message === 'string' ? body.message : 'The provider failed mid-stream', {
        ...info,
        code,
        response: { ...body, error: code },
        midStream: true,
      });
    }
    const chunk = obj as ChatCompletionChunk;
    this.accept(chunk);
    return chunk;
  }
}

function completionToChunk(c: ChatCompletion): ChatCompletionChunk {
  return {
    id: c.id,
    object: 'chat.completion.chunk',
    created: c.created,
    model: c.model,
    choices: (c.choices ?? []).map((ch) => ({
      index: ch.index,
      delta: { ...ch.message },
      finish_reason: ch.finish_reason,
    })),
    usage: c.usage ?? null,
  };
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
