import {
  AIRatelimitError,
  APIConnectionError,
  APIUserAbortError,
  TimeoutError,
  errorFromResponse,
} from './errors.js';
import { parseRateLimitHeaders } from './headers.js';
import { ChatStream, errorText, type OpenedStream } from './stream.js';
import type {
  ChatCompletion,
  ChatOptions,
  ChatResponse,
  ClientOptions,
  FetchLike,
  RateLimitBody,
  RequestOptions,
  UsageOptions,
  UsageResponse,
} from './types.js';

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 2;

interface SendParams {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeout: number;
  maxRetries: number;
  /** Stream: hand back the response once the headers arrived (the timeout stops there). */
  stream: boolean;
}

/**
 * The Worker's root from a `baseUrl`: trailing slashes dropped, and a final
 * `/api` segment too, so that the original product's documented form
 * (`http://localhost:3000/api`) keeps working unchanged.
 */
function normalizeBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/api$/, '');
}

/** Statuses worth another attempt: the proxy or the provider failed before anything was counted. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 && status <= 599;
}

/** SDK-only options, never sent in the body. */
const CALL_OPTION_KEYS = ['signal', 'timeout', 'maxRetries', 'headers', 'stream'] as const;

/**
 * Client of the AI Ratelimit proxy. Create it with `createClient()`.
 */
export class AIRatelimitClient {
  readonly baseUrl: string;
  readonly projectKey: string;
  readonly identityToken: string | undefined;
  readonly timeout: number;
  readonly maxRetries: number;
  private readonly fetchImpl: FetchLike;
  private readonly extraHeaders: Record<string, string>;
  private readonly minRetryDelay: number;
  private readonly maxRetryDelay: number;

  constructor(options: ClientOptions) {
    if (!options || typeof options.baseUrl !== 'string' || options.baseUrl === '') {
      throw new AIRatelimitError('createClient: `baseUrl` is required');
    }
    if (typeof options.projectKey !== 'string' || options.projectKey === '') {
      throw new AIRatelimitError('createClient: `projectKey` is required');
    }
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.projectKey = options.projectKey;
    this.identityToken = options.identityToken;
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = Math.max(0, options.maxRetries ?? DEFAULT_MAX_RETRIES);
    this.extraHeaders = { ...(options.headers ?? {}) };
    this.minRetryDelay = options.minRetryDelay ?? 500;
    this.maxRetryDelay = options.maxRetryDelay ?? 8_000;
    const custom = options.fetch;
    if (custom) {
      this.fetchImpl = custom;
    } else {
      if (typeof globalThis.fetch !== 'function') {
        throw new AIRatelimitError('No global fetch: pass `fetch` to createClient (Node >= 18 has one)');
      }
      // Called through globalThis: a detached `window.fetch` throws "Illegal invocation" in browsers.
      this.fetchImpl = (input, init) => globalThis.fetch(input, init);
    }
  }

  /**
   * `POST /api/v1/proxy/chat`: one chat completion. Resolves with the OpenAI
   * `chat.completion` object plus `ratelimit` (body), `rateLimit` (headers) and `requestId`.
   */
  async chat(options: ChatOptions): Promise<ChatResponse> {
    const { body, call } = this.splitChatOptions(options);
    const { response, text } = await this.sendJson({
      method: 'POST',
      path: '/api/v1/proxy/chat',
      body,
      headers: call.headers,
      signal: call.signal,
      timeout: call.timeout ?? this.timeout,
      maxRetries: call.maxRetries ?? this.maxRetries,
      stream: false,
    });
    const completion = parseJson(text, response) as ChatCompletion & { ratelimit?: RateLimitBody | null };
    return {
      ...completion,
      ratelimit: completion.ratelimit ?? null,
      rateLimit: parseRateLimitHeaders(response.headers),
      requestId: response.headers.get('x-request-id'),
    };
  }

  /**
   * `POST /api/v1/proxy/chat/stream`: a streamed chat completion. Returns at once;
   * the request starts immediately and errors surface when iterating (or in `ready()`).
   */
  chatStream(options: ChatOptions): ChatStream {
    const { body, call } = this.splitChatOptions(options);
    return new ChatStream(
      (signal) =>
        this.send({
          method: 'POST',
          path: '/api/v1/proxy/chat/stream',
          body,
          headers: call.headers,
          signal,
          timeout: call.timeout ?? this.timeout,
          maxRetries: call.maxRetries ?? this.maxRetries,
          stream: true,
        }),
      call.signal,
    );
  }

  /**
   * `GET /api/v1/usage`: the identity's current usage per limit window.
   * With an identity token (argument or client default) the token is sent in
   * `x-identity-token` and `identity`/`tier` are not sent.
   */
  async usage(identity?: string | null, options: UsageOptions = {}): Promise<UsageResponse> {
    const token = options.identityToken ?? this.identityToken;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const query = new URLSearchParams();
    if (token) {
      headers['x-identity-token'] = token;
    } else {
      if (!identity) throw new AIRatelimitError('usage(): an identity or an identityToken is required');
      query.set('identity', identity);
      if (options.tier) query.set('tier', options.tier);
    }
    const qs = query.toString();
    const { response, text } = await this.sendJson({
      method: 'GET',
      path: `/api/v1/usage${qs ? `?${qs}` : ''}`,
      headers,
      signal: options.signal,
      timeout: options.timeout ?? this.timeout,
      maxRetries: options.maxRetries ?? this.maxRetries,
      stream: false,
    });
    return parseJson(text, response) as UsageResponse;
  }

  private splitChatOptions(options: ChatOptions): { body: Record<string, unknown>; call: RequestOptions } {
    if (!options || typeof options !== 'object') throw new AIRatelimitError('chat options are required');
    const body: Record<string, unknown> = { ...options };
    for (const k of CALL_OPTION_KEYS) delete body[k];
    const token = options.identityToken ?? this.identityToken;
    if (token) body.identityToken = token;
    else delete body.identityToken;
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    return {
      body,
      call: { signal: options.signal, timeout: options.timeout, maxRetries: options.maxRetries, headers: options.headers },
    };
  }

  private async sendJson(params: SendParams): Promise<{ response: Response; text: string }> {
    const opened = await this.send(params);
    return { response: opened.response, text: (opened as OpenedStream & { text: string }).text };
  }

  /**
   * One logical request with retries. Non-stream: the body is read inside the
   * timeout and returned as `text`. Stream: returns as soon as a 2xx arrives.
   */
  private async send(p: SendParams): Promise<OpenedStream & { text: string }> {
    const url = this.baseUrl + p.path;
    const headers: Record<string, string> = {
      accept: p.stream ? 'text/event-stream' : 'application/json',
      ...this.extraHeaders,
      ...(p.headers ?? {}),
      'x-project-key': this.projectKey,
    };
    let payload: string | undefined;
    if (p.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(p.body);
    }
    const userSignal = p.signal;

    for (let attempt = 0; ; attempt++) {
      if (userSignal?.aborted) throw new APIUserAbortError('The request was aborted', { cause: userSignal.reason });
      const ac = new AbortController();
      let timedOut = false;
      const onUserAbort = () => ac.abort(userSignal?.reason);
      userSignal?.addEventListener('abort', onUserAbort, { once: true });
      const timer = setTimeout(() => {
        timedOut = true;
        ac.abort(new Error('timeout'));
      }, p.timeout);
      const cleanup = () => {
        clearTimeout(timer);
        userSignal?.removeEventListener('abort', onUserAbort);
      };
      const classify = (cause: unknown, headers?: Headers): AIRatelimitError => {
        const info = { cause, headers, requestId: headers?.get('x-request-id') ?? null };
        if (userSignal?.aborted) return new APIUserAbortError('The request was aborted', info);
        if (timedOut) return new TimeoutError(`The request timed out after ${p.timeout} ms`, info);
        return new APIConnectionError(`Connection error: ${errorText(cause)}`, info);
      };

      let response: Response;
      try {
        response = await raceAbort(this.fetchImpl(url, { method: p.method, headers, body: payload, signal: ac.signal }), ac.signal);
      } catch (cause) {
        cleanup();
        const err = classify(cause);
        // Network failures are retried; timeouts are not (the proxy may already have
        // admitted and counted the request) and neither are aborts.
        if (err.constructor === APIConnectionError && attempt < p.maxRetries) {
          await this.backoff(attempt, userSignal);
          continue;
        }
        throw err;
      }

      if (!response.ok) {
        let text = '';
        try {
          text = await raceAbort(response.text(), ac.signal);
        } catch {
          // The status alone decides.
        }
        cleanup();
        if (userSignal?.aborted) throw classify(userSignal.reason, response.headers);
        if (isRetryableStatus(response.status) && attempt < p.maxRetries) {
          await this.backoff(attempt, userSignal);
          continue;
        }
        throw errorFromResponse(response.status, response.headers, safeJson(text), text);
      }

      if (p.stream) {
        // The timeout bounds the wait for the headers only; an abort still reaches the body.
        clearTimeout(timer);
        return { response, cleanup, text: '' };
      }
      try {
        const text = await raceAbort(response.text(), ac.signal);
        return { response, cleanup, text };
      } catch (cause) {
        throw classify(cause, response.headers);
      } finally {
        cleanup();
      }
    }
  }

  /** Exponential backoff with jitter: min·2^attempt, capped, minus up to 25 % at random. */
  private backoff(attempt: number, signal?: AbortSignal): Promise<void> {
    const base = Math.min(this.maxRetryDelay, this.minRetryDelay * 2 ** attempt);
    const ms = base * (1 - Math.random() * 0.25);
    return sleep(ms, signal);
  }
}

/** Creates a client. `baseUrl` is the edge Worker's root; `projectKey` the publishable `pk_…` key. */
export function createClient(options: ClientOptions): AIRatelimitClient {
  return new AIRatelimitClient(options);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new APIUserAbortError('The request was aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(t);
      reject(new APIUserAbortError('The request was aborted', { cause: signal?.reason }));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Rejects as soon as `signal` aborts, even with a `fetch` that ignores its signal. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function safeJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseJson(text: string, response: Response): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new APIConnectionError('The proxy answered with invalid JSON', {
      cause,
      status: response.status,
      headers: response.headers,
      requestId: response.headers.get('x-request-id'),
    });
  }
}
