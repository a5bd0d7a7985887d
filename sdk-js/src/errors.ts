import type { ErrorBody, LimitExceededBody } from './types.js';

export interface ErrorInit {
  status?: number;
  code?: string;
  response?: unknown;
  headers?: Headers;
  requestId?: string | null;
  cause?: unknown;
}

/**
 * Base class of every error this SDK throws.
 *
 * Hierarchy:
 * - `APIError` (the proxy answered an HTTP error)
 *   - `InvalidRequestError` (400, 413, 415, 422), `AuthenticationError` (401),
 *     `PermissionDeniedError` (403), `NotFoundError` (404), `LimitExceededError` (429),
 *     `ProviderError` (502 and mid-stream provider errors) → `ProviderTimeoutError` (504),
 *     `LimiterUnavailableError` (503), `ServiceUnavailableError` (503), `InternalServerError` (500 and other 5xx)
 * - `APIConnectionError` (network failure, stream cut before `[DONE]`) → `TimeoutError`
 * - `APIUserAbortError` (the caller aborted)
 */
export class AIRatelimitError extends Error {
  /** HTTP status, when the proxy answered. */
  readonly status: number | undefined;
  /** The contract's error code (`limit_exceeded`, `invalid_request`, …). */
  readonly code: string | undefined;
  /** The parsed error body (normalized to `{error, message, …}`). */
  readonly response: unknown;
  /** The answer's headers, when the proxy answered. */
  readonly headers: Headers | undefined;
  /** `x-request-id` of the answer. */
  readonly requestId: string | null;

  constructor(message: string, init: ErrorInit = {}) {
    super(message);
    this.status = init.status;
    this.code = init.code;
    this.response = init.response;
    this.headers = init.headers;
    this.requestId = init.requestId ?? null;
    if (init.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: init.cause, configurable: true, writable: true });
    }
    // Keep `instanceof` working when compiled to ES5-style classes.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** The proxy answered with an HTTP error status. */
export class APIError extends AIRatelimitError {
  declare readonly response: ErrorBody;
}

/** 400 `invalid_json` / `invalid_request`, 413 `payload_too_large`, 415 `unsupported_media_type`. */
export class InvalidRequestError extends APIError {
  /** The offending field for `invalid_request`. */
  readonly field: string | undefined;
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init);
    const body = init.response as ErrorBody | undefined;
    this.field = typeof body?.field === 'string' ? body.field : undefined;
  }
}

/** 401: missing/invalid project key or identity token. */
export class AuthenticationError extends APIError {}

/** 403: e.g. `origin_not_allowed`. */
export class PermissionDeniedError extends APIError {}

/** 404. */
export class NotFoundError extends APIError {}

/** 429 `limit_exceeded`: the identity hit a limit or a blocking rule. Never retried. */
export class LimitExceededError extends APIError {
  declare readonly response: LimitExceededBody;
  /** Seconds until the blocking window resets (from `retry-after`), or `null`. */
  readonly retryAfter: number | null;
  constructor(message: string, init: ErrorInit & { response: LimitExceededBody }) {
    super(message, init);
    this.retryAfter = init.response.retryAfter;
  }
  /** Shortcut for `response.deepLink`. */
  get deepLink(): string | null {
    return this.response.deepLink ?? null;
  }
  /** `response.resetAt` as a Date (or `null`). */
  get resetAt(): Date | null {
    return this.response.resetAt ? new Date(this.response.resetAt) : null;
  }
}

/**
 * 429 `project_budget_exceeded`: a budget of the whole project (every
 * identity together) is used up until `resetAt`; `response.budget` names it
 * (`requests-day`, …). There is no deep link: an upgrade of the user does
 * not reopen it. A `LimitExceededError`, so existing handlers catch it.
 */
export class ProjectBudgetExceededError extends LimitExceededError {
  /** The budget's id, `<metric>-<period>`. */
  get budget(): string | null {
    return typeof this.response.budget === 'string' ? this.response.budget : null;
  }
}

/**
 * 502 `provider_error`: the provider answered an error before the answer started,
 * or sent an error in the middle of a stream (then `status` is `undefined` and
 * `midStream` is true).
 */
export class ProviderError extends APIError {
  /** True when the error arrived as an event inside a stream that had started. */
  readonly midStream: boolean;
  constructor(message: string, init: ErrorInit & { midStream?: boolean } = {}) {
    super(message, init);
    this.midStream = init.midStream ?? false;
  }
}

/** 504 `provider_timeout`: the provider did not answer in time (a `ProviderError`). */
export class ProviderTimeoutError extends ProviderError {}

/** 503 `limiter_unavailable`: the identity's counter could not be reached; nothing was forwarded. */
export class LimiterUnavailableError extends APIError {}

/**
 * 503 `service_unavailable`: the proxy's database is slow or down and it had
 * no recent copy of the project; nothing was forwarded.
 */
export class ServiceUnavailableError extends APIError {}

/** 500 and other 5xx answers. */
export class InternalServerError extends APIError {}

/** The request never got an answer (DNS, TCP, TLS, reset), or a stream ended before `[DONE]`. */
export class APIConnectionError extends AIRatelimitError {}

/** The client-side timeout elapsed; the fetch was aborted. */
export class TimeoutError extends APIConnectionError {}

/** The caller aborted the request through its `AbortSignal` or `stream.abort()`. */
export class APIUserAbortError extends AIRatelimitError {}

function parseRetryAfter(headers: Headers): number | null {
  const v = headers.get('retry-after');
  if (v == null || v === '') return null;
  const n = Number(v);
  if (Number.isFinite(n)) return Math.max(0, n);
  const date = Date.parse(v);
  if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  return null;
}

/**
 * Normalizes both error shapes of the contract: the proxy's `{error: code, message, …}`
 * and the OpenAI envelope `{error: {message, type, code, …}}`.
 */
export function normalizeErrorBody(raw: unknown, fallbackText: string): ErrorBody {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const obj = raw as Record<string, unknown>;
    if (obj.error && typeof obj.error === 'object' && !Array.isArray(obj.error)) {
      const inner = obj.error as Record<string, unknown>;
      return { ...inner, error: typeof inner.code === 'string' ? inner.code : (inner.type as string | undefined) };
    }
    return obj as ErrorBody;
  }
  return { message: fallbackText || undefined };
}

/** Builds the error class that matches an HTTP error answer. */
export function errorFromResponse(status: number, headers: Headers, rawBody: unknown, text: string): APIError {
  const body = normalizeErrorBody(rawBody, text);
  const code = typeof body.error === 'string' ? body.error : undefined;
  const message =
    typeof body.message === 'string' && body.message !== ''
      ? body.message
      : `HTTP ${status}${code ? ` ${code}` : ''}`;
  const init: ErrorInit = { status, code, response: body, headers, requestId: headers.get('x-request-id') };

  if (status === 429) {
    const response = { deepLink: null, rule: null, ...body, retryAfter: parseRetryAfter(headers) } as LimitExceededBody;
    if (code === 'project_budget_exceeded') return new ProjectBudgetExceededError(message, { ...init, response });
    return new LimitExceededError(message, { ...init, response });
  }
  if (status === 400 || status === 413 || status === 415 || status === 422) return new InvalidRequestError(message, init);
  if (status === 401) return new AuthenticationError(message, init);
  if (status === 403) return new PermissionDeniedError(message, init);
  if (status === 404) return new NotFoundError(message, init);
  if (status === 502) return new ProviderError(message, init);
  if (status === 503 && code === 'service_unavailable') return new ServiceUnavailableError(message, init);
  if (status === 503) return new LimiterUnavailableError(message, init);
  if (status === 504) return new ProviderTimeoutError(message, init);
  if (status >= 500) return new InternalServerError(message, init);
  return new APIError(message, init);
}

// Explicit names (bundlers may rename classes, and `name` is what logs show).
for (const [cls, name] of [
  [AIRatelimitError, 'AIRatelimitError'],
  [APIError, 'APIError'],
  [InvalidRequestError, 'InvalidRequestError'],
  [AuthenticationError, 'AuthenticationError'],
  [PermissionDeniedError, 'PermissionDeniedError'],
  [NotFoundError, 'NotFoundError'],
  [LimitExceededError, 'LimitExceededError'],
  [ProjectBudgetExceededError, 'ProjectBudgetExceededError'],
  [ProviderError, 'ProviderError'],
  [ProviderTimeoutError, 'ProviderTimeoutError'],
  [LimiterUnavailableError, 'LimiterUnavailableError'],
  [ServiceUnavailableError, 'ServiceUnavailableError'],
  [InternalServerError, 'InternalServerError'],
  [APIConnectionError, 'APIConnectionError'],
  [TimeoutError, 'TimeoutError'],
  [APIUserAbortError, 'APIUserAbortError'],
] as const) {
  Object.defineProperty(cls.prototype, 'name', { value: name, configurable: true, writable: true, enumerable: false });
}
