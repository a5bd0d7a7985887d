// Drives concurrent traffic over many identities against a small project
// budget and measures how far the project's total went past it (the
// overshoot of the eventually consistent budget; docs/guarantees.md, G19).
// Used by tests/integration/project-budgets.test.mjs and
// bench/budget-overshoot.mjs.

import { api, createProject, proxyChat, uniqueId, waitFor } from './helpers.mjs';

/** The timing constants of docs/API.md ("Project budgets"), in ms. */
export const REPORT_DELAY_MS = 500; // durable-objects/src/budget_report.rs
export const FRESH_MS = 1000; // worker/src/budget_gate.rs
/**
 * Allowance for one report's delivery plus one state refresh (the object
 * round trips and the alarm's scheduling), generous for a loaded 2-core
 * test machine; a few ms in production.
 */
export const ROUND_TRIPS_MS = 500;

/**
 * The documented bound on the overshoot, in requests (docs/guarantees.md,
 * G19): the requests already past the budget check when the total reached
 * the limit (at most the concurrency), plus those admitted while the news
 * travels — one report delay, one cache lifetime and the round trips — at
 * the admission rate (requests/s).
 */
export function overshootBound(concurrency, ratePerSecond) {
  return concurrency + Math.ceil((ratePerSecond * (REPORT_DELAY_MS + FRESH_MS + ROUND_TRIPS_MS)) / 1000);
}

/**
 * `concurrency` clients, each with its own identity, send requests in a
 * loop until the budget refuses them (429 project_budget_exceeded) or
 * `deadlineMs` passes. Answers what was admitted, the admission rate, the
 * total the budget object settles on and the overshoot.
 */
export async function measureOvershoot(token, { concurrency = 100, limit = 50, deadlineMs = 60000, model = 'gpt-4o-mini' } = {}) {
  const project = await createProject(token, {
    tiers: { free: { requests: { limit: 1_000_000, period: 'day' } } },
  });
  const set = await api(`/api/projects/${project.id}/budgets`, {
    token,
    body: { metric: 'requests', period: 'day', limit },
  });
  if (set.status !== 200) throw new Error(`set budget → ${set.status} ${set.text}`);
  const run = uniqueId('load');
  // A warm project: the isolate has loaded the project and read the
  // budget's state once (a running app's steady state), so the load below
  // measures the budget, not a cold cache.
  const warm = await proxyChat(project.projectKey, { identity: `${run}-warm`, model, messages: [{ role: 'user', content: 'hi' }] }, { validate: false });
  if (warm.status !== 200) throw new Error(`warm-up → ${warm.status} ${warm.text}`);
  let admitted = 1;
  let refused = 0;
  let other = 0;
  const otherAnswers = [];
  let firstRefusalAt = null;
  let lastAdmitAt = null;
  const latencies = [];
  const started = Date.now();
  const stopAt = started + deadlineMs;
  async function client(i) {
    const identity = `${run}-${i}`;
    while (Date.now() < stopAt) {
      const t0 = Date.now();
      const res = await proxyChat(project.projectKey, { identity, model, messages: [{ role: 'user', content: 'hi' }] }, { validate: false, timeoutMs: 30000 });
      if (res.status === 200) {
        admitted += 1;
        lastAdmitAt = Date.now();
        latencies.push(lastAdmitAt - t0);
      } else if (res.status === 429 && res.body?.error === 'project_budget_exceeded') {
        refused += 1;
        firstRefusalAt ??= Date.now();
        return;
      } else {
        other += 1;
        otherAnswers.push(`${res.status} ${res.body?.error?.code ?? res.body?.error ?? res.text.slice(0, 80)}`);
        if (other > 20) throw new Error(`unexpected answers: ${otherAnswers.join(', ')}`);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, i) => client(i)));
  // The admission rate: admitted requests over the time they took.
  const admittingMs = (lastAdmitAt ?? Date.now()) - started;
  // The object's total settles on exactly what was admitted (requests are
  // counted when reserved, and snapshots are absolute).
  const settled = await waitFor(
    async () => {
      const r = await api(`/api/projects/${project.id}/budgets`, { token });
      const used = r.body?.budgets?.[0]?.used;
      return used === admitted ? r.body : null;
    },
    { timeoutMs: 30000, intervalMs: 250, message: `budget total equal to the ${admitted} admitted requests` },
  );
  latencies.sort((a, b) => a - b);
  const rate = admitted / Math.max(admittingMs / 1000, 0.001);
  return {
    concurrency,
    limit,
    admitted,
    refused,
    other,
    otherAnswers,
    overshoot: admitted - limit,
    admittingMs,
    firstRefusalMs: firstRefusalAt && firstRefusalAt - started,
    // From the answer of the request that reached the limit to the first refusal.
    ratePerSecond: rate,
    p50Ms: latencies[Math.floor(latencies.length / 2)] ?? 0,
    bound: overshootBound(concurrency, rate),
    settled,
  };
}
