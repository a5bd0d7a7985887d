import { describe, expect, test } from 'vitest';
import type { IdentityRow } from '../src/lib/types';
import { dailyUse, histogram, upgradeCandidates, whatIf } from '../src/lib/whatif';

const row = (date: string, identity: string, requests: number, extra: Partial<IdentityRow> = {}): IdentityRow => ({
  date, identity, tier: 'free', model: 'm', requests, inputTokens: 0, outputTokens: 0, tokens: requests * 10, blocked: 0, warned: 0, cost: 0, ...extra,
});

describe('whatIf', () => {
  const rows = [
    row('2026-11-30', 'a', 5), row('2026-12-01', 'a', 3), row('2026-12-01', 'a', 2, { model: 'n' }), // 5 on the 1st over two models
    row('2026-12-01', 'b', 1, { blocked: 2 }), // 3 attempts
    row('2026-12-01', 'c', 9, { tier: 'pro' }),
  ];
  test('a lower daily cap refuses what each identity-day attempted beyond it, over all models', () => {
    const r = whatIf(rows, 'free', { requests: { limit: 2, period: 'day' } });
    expect(r.identities).toEqual([
      { identity: 'a', refusedRequests: 6, daysOverCap: 2, overTokens: false },
      { identity: 'b', refusedRequests: 1, daysOverCap: 1, overTokens: false },
    ]);
    expect(r.refusedRequests).toBe(7);
    expect(r.attemptedRequests).toBe(13);
    expect(r.notes).toEqual([]);
  });
  test('a cap at or above everyone’s use refuses nobody; an unlimited cap neither', () => {
    expect(whatIf(rows, 'free', { requests: { limit: 5, period: 'day' } }).identities).toEqual([]);
    expect(whatIf(rows, 'free', { requests: { limit: null, period: 'day' } }).identities).toEqual([]);
  });
  test('minute and hour caps are reported as finer than daily rows, not guessed', () => {
    const r = whatIf(rows, 'free', { requests: { limit: 1, period: 'hour' } });
    expect(r.identities).toEqual([]);
    expect(r.notes.join(' ')).toMatch(/finer than the daily rows/);
  });
  test('a weekly cap sums the days of one ISO week', () => {
    // 2026-11-30 is a Monday: both days are in the same week → a: 10 attempts.
    const r = whatIf(rows, 'free', { requests: { limit: 8, period: 'week' } });
    expect(r.identities.map((i) => [i.identity, i.refusedRequests])).toEqual([['a', 2]]);
  });
  test('token caps flag identities over them', () => {
    const r = whatIf(rows, 'free', { tokens: { limit: 40, period: 'day' } });
    expect(r.identities.map((i) => [i.identity, i.overTokens])).toEqual([['a', true]]);
  });
});

describe('histogram and upgrade candidates', () => {
  test('daily use sums models; buckets cover the cap and count every identity-day', () => {
    const rows = [row('2026-12-01', 'a', 3), row('2026-12-01', 'a', 2, { model: 'n' }), row('2026-12-01', 'b', 1)];
    expect(dailyUse(rows, 'free', 'requests').map((d) => d.value).sort()).toEqual([1, 5]);
    const b = histogram([1, 5], 10, 5);
    expect(b.reduce((a, x) => a + x.count, 0)).toBe(2);
    expect((b[b.length - 1] as { to: number }).to).toBeGreaterThanOrEqual(10);
  });
  test('candidates: at the cap or blocked on at least N days', () => {
    const rows = [row('2026-11-30', 'a', 3), row('2026-12-01', 'a', 1, { blocked: 1 }), row('2026-12-01', 'b', 3), row('2026-11-30', 'c', 1)];
    expect(upgradeCandidates(rows, 'free', 3, 2).map((c) => [c.identity, c.daysAtCap])).toEqual([['a', 2]]);
    expect(upgradeCandidates(rows, 'free', 3, 1).map((c) => c.identity)).toEqual(['a', 'b']);
  });
});
