import type { RateLimitHeaders, RateLimitWarning } from './types.js';

function num(headers: Headers, name: string): number | null {
  const v = headers.get(name);
  if (v == null || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Decodes a UTF-8 percent-encoded header value; returns it unchanged if it is not valid encoding. */
export function percentDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Parses the `x-ratelimit-*` headers of a proxied answer. */
export function parseRateLimitHeaders(headers: Headers): RateLimitHeaders {
  const warning = headers.get('x-ratelimit-warning');
  return {
    limit: num(headers, 'x-ratelimit-limit'),
    remaining: num(headers, 'x-ratelimit-remaining'),
    reset: num(headers, 'x-ratelimit-reset'),
    policy: headers.get('x-ratelimit-policy'),
    warning: warning == null ? null : percentDecode(warning),
    deepLink: headers.get('x-ratelimit-deeplink'),
    overheadMs: num(headers, 'x-ratelimit-overhead-ms'),
  };
}

/** The warning carried by the headers (`x-ratelimit-warning` + `x-ratelimit-deeplink`), or `null`. */
export function warningFromHeaders(h: RateLimitHeaders): RateLimitWarning | null {
  if (h.warning == null) return null;
  return { message: h.warning, deepLink: h.deepLink };
}
