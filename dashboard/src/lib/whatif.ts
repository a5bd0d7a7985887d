// Replays per-identity daily rows (GET …/usage/by-identity?from&to) against
// proposed caps. Daily rows can answer for day, week and month windows (sums
// of whole days); minute and hour windows are finer than a day, so they are
// reported as not replayable instead of guessed.
import type { IdentityRow, LimitSpec, Metric, Period } from './types';

export interface Caps {
  requests?: LimitSpec;
  tokens?: LimitSpec;
}

export interface WhatIfIdentity {
  identity: string;
  refusedRequests: number;
  daysOverCap: number;
  overTokens: boolean;
}

export interface WhatIfResult {
  identities: WhatIfIdentity[];
  refusedRequests: number;
  attemptedRequests: number;
  notes: string[];
}

/** Monday of the ISO week of a YYYY-MM-DD day. */
function weekKey(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  const dow = (new Date(t).getUTCDay() + 6) % 7;
  return new Date(t - dow * 86400000).toISOString().slice(0, 10);
}

function windowKey(period: Period, day: string): string | null {
  if (period === 'day') return day;
  if (period === 'week') return weekKey(day);
  if (period === 'month') return day.slice(0, 7);
  return null;
}

/**
 * For each identity of `tier`: its attempts per window (admitted + blocked,
 * summed over models), and how many of them a cap would have refused.
 * Tokens: an identity whose tokens in a window pass the token cap is flagged
 * (which requests the token cap would refuse depends on their order within
 * the day, which the rollups do not keep).
 */
export function whatIf(rows: IdentityRow[], tier: string, caps: Caps): WhatIfResult {
  const notes: string[] = [];
  const mine = rows.filter((r) => r.tier === tier);
  const byIdentity = new Map<string, WhatIfIdentity>();
  const entry = (identity: string) => {
    let e = byIdentity.get(identity);
    if (!e) {
      e = { identity, refusedRequests: 0, daysOverCap: 0, overTokens: false };
      byIdentity.set(identity, e);
    }
    return e;
  };
  let attempted = 0;
  for (const r of mine) attempted += r.requests + r.blocked;

  const replay = (metric: Metric, spec: LimitSpec | undefined) => {
    if (!spec || spec.limit === null) return;
    const key = (d: string) => windowKey(spec.period, d);
    if (key('2000-01-01') === null) {
      notes.push(
        `The ${metric} cap per ${spec.period} is finer than the daily rows: it cannot be replayed (a day's requests may have been spread over many ${spec.period}s).`,
      );
      return;
    }
    if (spec.period !== 'day') {
      notes.push(`The ${metric} cap per ${spec.period} is replayed over the days in the range only (a window that began earlier is counted from its first day in the range).`);
    }
    const sums = new Map<string, { identity: string; used: number; days: Set<string> }>();
    for (const r of mine) {
      const k = `${r.identity}\u0000${key(r.date)}`;
      const s = sums.get(k) || { identity: r.identity, used: 0, days: new Set<string>() };
      s.used += metric === 'requests' ? r.requests + r.blocked : r.tokens;
      s.days.add(r.date);
      sums.set(k, s);
    }
    for (const s of sums.values()) {
      if (s.used <= (spec.limit as number)) continue;
      const e = entry(s.identity);
      if (metric === 'requests') {
        e.refusedRequests += s.used - (spec.limit as number);
        e.daysOverCap += spec.period === 'day' ? 1 : 0;
      } else e.overTokens = true;
    }
  };
  replay('requests', caps.requests);
  replay('tokens', caps.tokens);
  const identities = [...byIdentity.values()].sort(
    (a, b) => b.refusedRequests - a.refusedRequests || Number(b.overTokens) - Number(a.overTokens) || a.identity.localeCompare(b.identity),
  );
  return { identities, refusedRequests: identities.reduce((a, e) => a + e.refusedRequests, 0), attemptedRequests: attempted, notes };
}

/** Daily use per identity of a tier (summed over models): one value per identity-day. */
export function dailyUse(rows: IdentityRow[], tier: string, metric: Metric): { identity: string; date: string; value: number }[] {
  const m = new Map<string, { identity: string; date: string; value: number }>();
  for (const r of rows) {
    if (r.tier !== tier) continue;
    const k = `${r.identity}\u0000${r.date}`;
    const e = m.get(k) || { identity: r.identity, date: r.date, value: 0 };
    e.value += metric === 'requests' ? r.requests + r.blocked : r.tokens;
    m.set(k, e);
  }
  return [...m.values()];
}

export interface Bucket {
  from: number;
  to: number;
  count: number;
}

/** Equal-width buckets over [0, max(values, cap)], at most `n` of them, integer bounds. */
export function histogram(values: number[], cap: number | null, n = 10): Bucket[] {
  const top = Math.max(1, cap ?? 0, ...values);
  const width = Math.max(1, Math.ceil((top + 1) / n));
  const count = Math.ceil((top + 1) / width);
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({ from: i * width, to: i * width + width - 1, count: 0 }));
  for (const v of values) {
    const b = buckets[Math.min(count - 1, Math.floor(v / width))];
    if (b) b.count += 1;
  }
  return buckets;
}

/**
 * Identities of `tier` that were at their daily request cap (used it all, or
 * had requests blocked) on at least `minDays` of the days in `rows`.
 */
export function upgradeCandidates(
  rows: IdentityRow[],
  tier: string,
  cap: number,
  minDays: number,
): { identity: string; daysAtCap: number; requests: number; blocked: number }[] {
  const days = dailyUse(rows, tier, 'requests');
  const blockedByDay = new Map<string, number>();
  const admittedByDay = new Map<string, number>();
  for (const r of rows) {
    if (r.tier !== tier) continue;
    const k = `${r.identity}\u0000${r.date}`;
    blockedByDay.set(k, (blockedByDay.get(k) || 0) + r.blocked);
    admittedByDay.set(k, (admittedByDay.get(k) || 0) + r.requests);
  }
  const out = new Map<string, { identity: string; daysAtCap: number; requests: number; blocked: number }>();
  for (const d of days) {
    const k = `${d.identity}\u0000${d.date}`;
    const e = out.get(d.identity) || { identity: d.identity, daysAtCap: 0, requests: 0, blocked: 0 };
    const admitted = admittedByDay.get(k) || 0;
    const blocked = blockedByDay.get(k) || 0;
    e.requests += admitted;
    e.blocked += blocked;
    if (admitted >= cap || blocked > 0) e.daysAtCap += 1;
    out.set(d.identity, e);
  }
  return [...out.values()].filter((e) => e.daysAtCap >= minDays).sort((a, b) => b.daysAtCap - a.daysAtCap || b.blocked - a.blocked || a.identity.localeCompare(b.identity));
}
