import { describe, expect, test } from 'vitest';
import { preview429, renderMessage, windowEnd } from '../src/lib/preview';

describe('renderMessage', () => {
  test('substitutes once, left to right, keeps unknown and unterminated braces', () => {
    const vars = { tier: 'free', identity: '{{tier}}' };
    expect(renderMessage('{{tier}}/{{ identity }}/{{nope}}/{{tier', vars)).toBe('free/{{tier}}/{{nope}}/{{tier');
  });
});

describe('preview429', () => {
  const now = Date.parse('2026-12-01T10:00:00Z'); // a Tuesday
  test('the tightest window decides; both envelopes carry the same details; headers match', () => {
    const p = preview429('free', { requests: { limit: 5, period: 'day' }, tokens: { limit: 1000, period: 'month' }, limitMessage: { message: '{{usage}}/{{limit}} {{limitType}} per {{period}} until {{resetAt}}', deepLink: 'app://up?t={{tier}}' } }, 'u1', now);
    expect(p).not.toBeNull();
    expect(p?.flat).toMatchObject({ error: 'limit_exceeded', message: '5/5 requests per day until 2026-12-02T00:00:00Z', deepLink: 'app://up?t=free', rule: null, limit: 5, usage: 5, period: 'day', resetAt: '2026-12-02T00:00:00Z', retryAfter: 14 * 3600 });
    expect(p?.openai).toMatchObject({ error: { type: 'rate_limit_exceeded', code: 'limit_exceeded', param: null, message: '5/5 requests per day until 2026-12-02T00:00:00Z' } });
    expect(Object.fromEntries(p?.headers || [])).toMatchObject({ 'retry-after': String(14 * 3600), 'x-ratelimit-policy': '5;w=86400', 'x-ratelimit-remaining': '0' });
    expect(Object.fromEntries(p?.headers || [])['x-ratelimit-deeplink']).toBeUndefined();
  });
  test('no finite cap → no 429 from the tier; the default message otherwise', () => {
    expect(preview429('pro', { requests: { limit: null, period: 'day' } }, 'u', now)).toBeNull();
    expect(preview429('free', { requests: { limit: 2, period: 'hour' } }, 'u', now)?.flat.message).toBe('free tier limit reached: 2/2 requests per hour');
  });
  test('calendar windows end where the server’s do', () => {
    expect(windowEnd('week', now).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(windowEnd('month', now).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(windowEnd('minute', now + 1500).toISOString()).toBe('2026-12-01T10:01:00.000Z');
  });
});
