/**
 * Public types of the AI Ratelimit HTTP API (docs/API.md, "Proxy").
 *
 * Wire shapes come from `./generated/api.ts`, which is generated from
 * docs/openapi.yaml (`npm run generate`; `npm run typecheck` fails when it is
 * out of date), so they cannot drift from the document. The SDK-only shapes
 * (options, parsed headers, normalized errors) are written here.
 */
import type { components } from './generated/api.js';

type Wire = components['schemas'];

/** A `fetch`-compatible function (the global one by default). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type LimitType = Wire['LimitType'];
/** Calendar windows in UTC. */
export type Period = Wire['Period'];

export interface ClientOptions {
  /** Root of the edge Worker, e.g. `https://edge.example.com`. A final `/api` (the original product's form, `http://localhost:3000/api`) is accepted and dropped. */
  baseUrl: string;
  /** Publishable project key `pk_…`, sent as `x-project-key`. */
  projectKey: string;
  /** Default signed identity (HS256 JWT issued by your backend); per-call `identityToken` overrides it. */
  identityToken?: string;
  /** Per-request timeout in milliseconds (default 60000). For streams it bounds the wait for the response headers. */
  timeout?: number;
  /** Retries for network errors and 5xx answers (default 2). 429 and other 4xx are never retried. */
  maxRetries?: number;
  /** Custom `fetch` (tests, proxies, older runtimes). Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** Backoff before the first retry in ms (default 500); doubles each retry, with jitter. */
  minRetryDelay?: number;
  /** Upper bound of one backoff in ms (default 8000). */
  maxRetryDelay?: number;
}

/** Options that control one call rather than the request body. */
export interface RequestOptions {
  /** Cancels the request (and, for streams, the reading of the stream). */
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call. */
  timeout?: number;
  /** Overrides the client's maxRetries for this call. */
  maxRetries?: number;
  /** Extra headers for this call. */
  headers?: Record<string, string>;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  content: string | null | Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface ChatOptions extends RequestOptions {
  /** User id, session id or device id (opaque, 1–256 chars). May be omitted when an identity token is used. */
  identity?: string;
  /** Tier whose limits apply (defaults to the project's default tier). Ignored by the proxy when a token is given. */
  tier?: string;
  /** Signed identity; overrides the client's `identityToken`. */
  identityToken?: string;
  model: string;
  messages: ChatMessage[];
  /** Accepted for compatibility with the original SDK; the project's tiers decide what is counted. */
  limitType?: LimitType;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
  tools?: unknown[];
  tool_choice?: unknown;
  response_format?: unknown;
  user?: string;
  /** Any other OpenAI parameter is forwarded as is. */
  [key: string]: unknown;
}

/** OpenAI's `usage`: what the provider reported. */
export type CompletionUsage = Wire['CompletionUsage'];

/** An OpenAI `chat.completion` object, whatever the provider. */
export type ChatCompletion = Wire['ChatCompletion'];

/** One `chat.completion.chunk` event of a stream. */
export type ChatCompletionChunk = Wire['ChatCompletionChunk'];

/** One limit window as returned by `/api/v1/usage` and in the body's `ratelimit.limits`. */
export type LimitEntry = Wire['LimitEntry'];

/** A warn rule's message; `ruleId` is absent when it was read from the headers (streams). */
export type RateLimitWarning = Omit<Wire['RateLimitWarning'], 'ruleId'> & { ruleId?: string | null };

/** The `ratelimit` field of a non-stream success body. */
export type RateLimitBody = Wire['RateLimitBody'];

/** The `x-ratelimit-*` response headers, parsed. Fields are `null` when the header is absent. */
export interface RateLimitHeaders {
  /** `x-ratelimit-limit` */
  limit: number | null;
  /** `x-ratelimit-remaining` */
  remaining: number | null;
  /** `x-ratelimit-reset`: seconds until the window resets. */
  reset: number | null;
  /** `x-ratelimit-policy`, e.g. `100;w=86400`. */
  policy: string | null;
  /** `x-ratelimit-warning`, percent-decoded. */
  warning: string | null;
  /** `x-ratelimit-deeplink` */
  deepLink: string | null;
  /** `x-ratelimit-overhead-ms` */
  overheadMs: number | null;
}

/** What `client.chat()` resolves to: the OpenAI completion plus rate-limit information. */
export interface ChatResponse extends ChatCompletion {
  /** The body's `ratelimit` field (authoritative), or `null` if the proxy sent none. */
  ratelimit: RateLimitBody | null;
  /** The parsed `x-ratelimit-*` headers. */
  rateLimit: RateLimitHeaders;
  /** `x-request-id` */
  requestId: string | null;
}

export interface UsageOptions extends RequestOptions {
  /** Whose caps are shown (only without a token). */
  tier?: string;
  /** Signed identity, sent as `x-identity-token`; overrides the client's. */
  identityToken?: string;
}

/** `GET /api/v1/usage`: one entry per window of the identity's tier. */
export type UsageResponse = Wire['IdentityUsage'];

/**
 * The body of a `429 limit_exceeded` answer (docs/API.md, "Limit exceeded (429)"),
 * with `retryAfter` taken from the `retry-after` header. The window fields are
 * `null` when the refusal had no finite window (a blocking rule on an
 * unlimited tier).
 */
export type LimitExceededBody = Omit<Wire['LimitExceededFields'], 'retryAfter'> & {
  error: 'limit_exceeded' | (string & {});
  message: string;
  /** Seconds, from the `retry-after` header (`null` if absent). */
  retryAfter: number | null;
  [key: string]: unknown;
};

/** The generic error body of the contract (`{error, message, …}`), normalized. */
export interface ErrorBody {
  error?: string;
  message?: string;
  field?: string;
  [key: string]: unknown;
}
