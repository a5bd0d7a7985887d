// The exact 429 an app receives when a tier's own limit blocks it
// (docs/API.md, "Limit exceeded (429)"): the flat body of /api/v1/proxy/*, OpenAI's envelope of
// /v1/chat/completions, and the headers of both. (`x-ratelimit-deeplink` is
// sent only when a rule fires, so a tier's own 429 carries the deep link in
// the body only.)
import type { Metric, Period, Tier } from './types';
import { PERIOD_SECONDS } from './types';

export const VARIABLES = ['tier', 'limit', 'usage', 'limitType', 'period', 'identity', 'resetAt'] as const;
export const DEFAULT_LIMIT_MESSAGE = '{{tier}} tier limit reached: {{usage}}/{{limit}} {{limitType}} per {{period}}';

/** One left-to-right pass; unknown {{x}} and unterminated braces stay verbatim (as the server does). */
export function renderMessage(template: string, vars: Record<string, string>): string {
  let out = '';
  let rest = template;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    out += rest.slice(0, open);
    const after = rest.slice(open + 2);
    const close = after.indexOf('}}');
    if (close < 0) return out + rest.slice(open);
    const name = after.slice(0, close).trim();
    out += Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : rest.slice(open, open + 2 + close + 2);
    rest = after.slice(close + 2);
  }
  return out + rest;
}

/** End of the calendar window (UTC) that contains `now`. */
export function windowEnd(period: Period, now: number): Date {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  switch (period) {
    case 'minute':
      return new Date(Math.floor(now / 60000) * 60000 + 60000);
    case 'hour':
      return new Date(Math.floor(now / 3600000) * 3600000 + 3600000);
    case 'day':
      return new Date(Date.UTC(y, m, day + 1));
    case 'week': {
      const dow = (d.getUTCDay() + 6) % 7;
      return new Date(Date.UTC(y, m, day - dow + 7));
    }
    case 'month':
      return new Date(Date.UTC(y, m + 1, 1));
  }
}

export interface Preview429 {
  limitType: Metric;
  flat: Record<string, unknown>;
  openai: Record<string, unknown>;
  headers: [string, string][];
}

/** The tightest finite tier-wide cap picks the window; null when the tier is unlimited. */
export function preview429(tierName: string, tier: Tier, identity = 'user-123', now = Date.now()): Preview429 | null {
  const caps = (['requests', 'tokens'] as Metric[])
    .map((m) => ({ m, spec: tier[m] }))
    .filter((c): c is { m: Metric; spec: { limit: number; period: Period } } => !!c.spec && c.spec.limit !== null);
  if (caps.length === 0) return null;
  caps.sort((a, b) => PERIOD_SECONDS[a.spec.period] - PERIOD_SECONDS[b.spec.period]);
  const { m, spec } = caps[0] as { m: Metric; spec: { limit: number; period: Period } };
  const end = windowEnd(spec.period, now);
  const resetAt = end.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const vars: Record<string, string> = {
    tier: tierName,
    limit: String(spec.limit),
    usage: String(spec.limit),
    limitType: m,
    period: spec.period,
    identity,
    resetAt,
  };
  const message = renderMessage(tier.limitMessage?.message || DEFAULT_LIMIT_MESSAGE, vars);
  const deepLink = tier.limitMessage?.deepLink ? renderMessage(tier.limitMessage.deepLink, vars) : null;
  const retry = Math.max(1, Math.ceil((end.getTime() - now) / 1000));
  const details = { deepLink, rule: null, tier: tierName, limitType: m, limit: spec.limit, usage: spec.limit, period: spec.period, resetAt, retryAfter: retry };
  const headers: [string, string][] = [
    ['retry-after', String(retry)],
    ['x-ratelimit-limit', String(spec.limit)],
    ['x-ratelimit-remaining', '0'],
    ['x-ratelimit-reset', String(retry)],
    ['x-ratelimit-policy', `${spec.limit};w=${PERIOD_SECONDS[spec.period]}`],
  ];
  return {
    limitType: m,
    flat: { error: 'limit_exceeded', message, ...details },
    openai: { error: { message, type: 'rate_limit_exceeded', code: 'limit_exceeded', param: null, ...details } },
    headers,
  };
}
