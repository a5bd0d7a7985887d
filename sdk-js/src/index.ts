/**
 * @ai-ratelimit/sdk — client of the AI Ratelimit edge proxy.
 *
 * Zero dependencies; uses only the web platform (`fetch`, `ReadableStream`,
 * `TextDecoder`, `AbortController`), so it runs in browsers, Node >= 18, Deno
 * and Workers.
 */
export { AIRatelimitClient, createClient, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from './client.js';
export { ChatStream } from './stream.js';
export { SSEParser, type SSEEvent } from './sse.js';
export { parseRateLimitHeaders, percentDecode } from './headers.js';
export {
  AIRatelimitError,
  APIError,
  APIConnectionError,
  APIUserAbortError,
  AuthenticationError,
  InternalServerError,
  InvalidRequestError,
  LimiterUnavailableError,
  LimitExceededError,
  ProjectBudgetExceededError,
  NotFoundError,
  PermissionDeniedError,
  ProviderError,
  ProviderTimeoutError,
  ServiceUnavailableError,
  TimeoutError,
} from './errors.js';
export type * from './types.js';
