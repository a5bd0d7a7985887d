#!/usr/bin/env node
// `npm run soak [-- --minutes=N --concurrency=C --db-faults=0]`: a bounded
// soak of the running local stack (loopback only; default 10 minutes, 8 in
// flight).
//
// Mixed traffic over many identities and all three provider formats
// (OpenAI, Anthropic, Gemini — the mock speaks each), streaming and not,
// with random faults from the mock (provider 500/429, no usage, `usage: {}`,
// malformed stream, a stream cut by the provider, a client that leaves —
// counted exactly, the Worker reads the provider's stream to its end)
// and tight tiers that block. Postgres fails too, on the stack's own
// embedded Postgres only (never a DATABASE_URL): alternately hung (its
// process group stopped with SIGSTOP for a while, then SIGCONT) and down
// (fast shutdown, then started again), from 15 s in until 20 s before the
// end; the proxy keeps serving seen projects from memory and the outboxes
// keep the analytics. At the end, per identity:
//   counter   = Σ exact usage of the admitted requests that reported it
//             + Σ reservation of the admitted ones that did not (docs/API.md, "What is counted");
//   counter   ≤ cap + (the last admitted request's real usage) (G1);
//   rollups   = counter (usage_daily, once the outboxes flushed);
//   flagged   = the admitted answers whose usage was out of range (rollups).
// Prints the reconciliation and exits 1 on any difference.
import crypto from 'node:crypto';
import * as stack from './stack.mjs';

const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : dflt;
};
const MINUTES = arg('minutes', 10);
const CONCURRENCY = arg('concurrency', 8);
const IDENTITIES = arg('identities', 60);
const DB_FAULTS = arg('db-faults', 1) !== 0;
const FAULT_MS = arg('fault-seconds', 10) * 1000;
const FAULT_GAP_MS = arg('fault-gap-seconds', 20) * 1000;
const BASE = stack.WORKER_URL;
const MOCK = stack.MOCK_URL;
const MAX_TOKENS = 50;
const CONTENT = 'hello'; // prompt estimate ⌈5/4⌉ = 2
const RESERVATION = 2 + MAX_TOKENS;
const TIGHT = { requests: 25, tokens: 3000 };

for (const u of [BASE, MOCK]) {
  const host = new URL(u).hostname;
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) throw new Error(`soak talks to loopback only, not ${u}`);
}

const rnd = (n) => crypto.randomInt(n);
const hex = () => `t${crypto.randomBytes(4).toString('hex')}`;

async function http(path, { method, body, headers = {}, signal } = {}) {
  const res = await fetch(path.startsWith('http') ? path : `${BASE}${path}`, {
    method: method || (body ? 'POST' : 'GET'),
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
    signal: signal || AbortSignal.timeout(60000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* stream or empty */
  }
  return { status: res.status, text, json };
}

async function owner() {
  const email = `soak-${hex()}@example.com`;
  const link = await http('/api/auth/magic-link', { body: { email } });
  const token = new URL(link.json.devLink, BASE).searchParams.get('token');
  return (await http('/api/auth/verify', { body: { token } })).json.accessToken;
}

const PROVIDERS = [
  { provider: 'openai', baseUrl: `${MOCK}/openai/v1` },
  { provider: 'anthropic', baseUrl: `${MOCK}/anthropic/v1` },
  { provider: 'google', baseUrl: `${MOCK}/google/v1beta` },
];

// What a request does; `exact` means the mock reports P+C and it is counted exactly.
const KINDS = [
  { w: 40, kind: 'ok', exact: true },
  { w: 8, kind: 'ok-stream', exact: true, stream: true },
  { w: 4, kind: 'error-500', counted: false },
  { w: 3, kind: 'error-429', counted: false },
  { w: 4, kind: 'no-usage', exact: false },
  { w: 3, kind: 'no-usage-stream', model: 'no-usage', exact: false, stream: true },
  { w: 3, kind: 'empty-usage', exact: false },
  { w: 3, kind: 'malformed-sse', exact: false, stream: true },
  { w: 3, kind: 'drop-after-2', exact: false, stream: true },
  // A count out of range: ignored, counted at the reservation, flagged in the rollups.
  { w: 2, kind: 'negative-usage', model: 'usage--5-7', exact: false, flagged: true },
  // The Worker reads the provider's stream to its end after the client left: exact usage.
  { w: 3, kind: 'client-leaves', model: 'slow', exact: true, stream: true, leave: true },
];
const TOTAL_W = KINDS.reduce((s, k) => s + k.w, 0);
function pickKind() {
  let r = rnd(TOTAL_W);
  for (const k of KINDS) if ((r -= k.w) < 0) return k;
  return KINDS[0];
}

async function one(id, stats) {
  const k = pickKind();
  const p = 1 + rnd(40);
  const c = 1 + rnd(40);
  const model = k.exact ? `${k.model ? `${k.model}-` : ''}usage-${p}-${c}-${hex()}` : `${k.model ?? k.kind}-${hex()}`;
  const body = { identity: id.name, tier: id.tier, model, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: CONTENT }] };
  const headers = { 'x-project-key': id.project.key };
  const rec = { kind: k.kind, status: 0, admitted: false, tokens: 0 };
  try {
    if (k.stream) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 60000);
      const res = await fetch(`${BASE}/api/v1/proxy/chat/stream`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      rec.status = res.status;
      if (res.status === 200) {
        const reader = res.body.getReader();
        try {
          for (;;) {
            const { done } = await reader.read();
            if (done) break;
            if (k.leave) {
              controller.abort();
              break;
            }
          }
        } catch {
          /* the abort, or a cut stream */
        }
      } else {
        await res.text();
      }
      clearTimeout(timer);
    } else {
      const res = await http('/api/v1/proxy/chat', { body, headers });
      rec.status = res.status;
    }
  } catch (e) {
    rec.error = e.message;
  }
  // Admitted = forwarded: a 200, or a provider error after admission (released, counted 0).
  rec.admitted = rec.status === 200;
  if (rec.admitted) rec.tokens = k.exact ? p + c : RESERVATION;
  if (rec.status === 200 && k.counted === false) rec.tokens = 0;
  rec.flagged = rec.admitted && !!k.flagged;
  id.requests.push(rec);
  stats[rec.status] = (stats[rec.status] || 0) + 1;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The stack's embedded Postgres ({pid, pgid, port}), or null when it uses DATABASE_URL. */
async function embeddedPostgres() {
  if (process.env.DATABASE_URL) return null;
  const fs = await import('node:fs');
  const path = await import('node:path');
  try {
    const state = JSON.parse(fs.readFileSync(path.join(stack.STACK_DIR, 'state.json'), 'utf8'));
    const pg = state.services?.postgres;
    return pg?.pid && !pg.external ? pg : null;
  } catch {
    return null;
  }
}

/**
 * Alternates hung and down on the embedded Postgres until `until`, each
 * fault lasting `FAULT_MS`, `FAULT_GAP_MS` apart. Every fault is undone
 * before the next starts (and `heal` undoes whatever is left).
 */
function dbFaults(until, log) {
  let current = null; // {kind, pg}
  const heal = async () => {
    if (!current) return;
    const { kind, pg } = current;
    current = null;
    if (kind === 'hung') {
      try {
        process.kill(-pg.pgid, 'SIGCONT');
      } catch {
        /* gone */
      }
    } else {
      await stack.startPostgres();
    }
  };
  const run = (async () => {
    await sleep(15000);
    for (let n = 0; Date.now() + FAULT_MS + 20000 < until; n += 1) {
      const pg = await embeddedPostgres();
      if (!pg) return;
      const kind = n % 2 === 0 ? 'hung' : 'down';
      const t0 = Date.now();
      if (kind === 'hung') {
        process.kill(-pg.pgid, 'SIGSTOP');
      } else {
        process.kill(pg.pid, 'SIGINT'); // fast shutdown
        const dl = Date.now() + 20000;
        while ((await stack.portOpen(pg.port)) && Date.now() < dl) await sleep(100);
      }
      current = { kind, pg };
      await sleep(FAULT_MS);
      await heal();
      log.push({ kind, at: Math.round((t0 - start) / 1000), seconds: Math.round((Date.now() - t0) / 1000) });
      console.log(`  postgres ${kind} for ${Math.round((Date.now() - t0) / 1000)} s, back`);
      await sleep(FAULT_GAP_MS);
    }
  })();
  return { done: run.finally(heal), heal };
}
let start = Date.now();

async function usage(id) {
  const q = new URLSearchParams({ identity: id.name, tier: id.tier });
  const r = await http(`/api/v1/usage?${q}`, { headers: { 'x-project-key': id.project.key } });
  const get = (t) => r.json.limits.find((l) => l.limitType === t && !l.model)?.used ?? null;
  return { requests: get('requests'), tokens: get('tokens') };
}

async function main() {
  await stack.waitHealthy({ timeoutS: 30 });
  const token = await owner();
  const projects = [];
  for (const p of PROVIDERS) {
    const res = await http('/api/projects', {
      headers: { authorization: `Bearer ${token}` },
      body: {
        name: `soak-${p.provider}-${hex()}`,
        provider: p.provider,
        baseUrl: p.baseUrl,
        providerApiKey: 'sk-soak',
        defaultTier: 'free',
        tiers: {
          free: { requests: { limit: 1_000_000, period: 'day' }, tokens: { limit: 1_000_000_000, period: 'day' } },
          tight: { requests: { limit: TIGHT.requests, period: 'day' }, tokens: { limit: TIGHT.tokens, period: 'day' } },
        },
      },
    });
    if (res.status !== 201) throw new Error(`create project → ${res.status} ${res.text}`);
    projects.push({ provider: p.provider, id: res.json.id, key: res.json.projectKey });
  }
  const identities = Array.from({ length: IDENTITIES }, (_, i) => ({
    name: `soak-${i}-${hex()}`,
    project: projects[i % projects.length],
    tier: i % 5 === 0 ? 'tight' : 'free',
    requests: [],
  }));
  const stats = {};
  const t0 = Date.now();
  start = t0;
  const end = t0 + MINUTES * 60000;
  const faultLog = [];
  const pgEmbedded = await embeddedPostgres();
  if (DB_FAULTS && !pgEmbedded) console.log('postgres faults: off (DATABASE_URL is not the stack\'s embedded Postgres)');
  const faults = DB_FAULTS && pgEmbedded ? dbFaults(end, faultLog) : null;
  const healOnExit = () => faults?.heal();
  process.once('SIGINT', async () => {
    await healOnExit();
    process.exit(130);
  });
  let sent = 0;
  let lastReport = t0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        await one(identities[rnd(identities.length)], stats);
        sent += 1;
        if (Date.now() - lastReport > 30000) {
          lastReport = Date.now();
          console.log(`  ${((Date.now() - t0) / 60000).toFixed(1)} min: ${sent} requests ${JSON.stringify(stats)}`);
        }
      }
    }),
  );
  if (faults) await faults.done;
  const seconds = (Date.now() - t0) / 1000;
  console.log(`traffic done: ${sent} requests in ${seconds.toFixed(0)} s (${(sent / seconds).toFixed(1)}/s), statuses ${JSON.stringify(stats)}`);

  // Reconcile the counters (settles run after the last byte: poll with a deadline).
  const expected = (id) => ({
    requests: id.requests.filter((r) => r.admitted && r.tokens > 0).length,
    tokens: id.requests.reduce((s, r) => s + (r.admitted ? r.tokens : 0), 0),
  });
  const flaggedOf = (id) => id.requests.filter((r) => r.flagged).length;
  const deadline = Date.now() + 60000;
  let counters;
  for (;;) {
    counters = await Promise.all(identities.map(usage));
    const same = identities.every((id, i) => counters[i].requests === expected(id).requests && counters[i].tokens === expected(id).tokens);
    if (same || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  // Rollups: every identity's usage_daily sums equal its counter, once the outboxes flushed.
  const pg = (await import('pg')).default;
  const db = new pg.Client({ connectionString: stack.databaseUrl() });
  await db.connect();
  let rollups;
  // An outbox that failed during an outage backs off up to 60 s between tries.
  const rollDeadline = Date.now() + 180000;
  for (;;) {
    const { rows } = await db.query(
      `SELECT identity, sum(requests)::int AS requests, sum(input_tokens + output_tokens)::bigint AS tokens,
              sum(usage_flagged)::int AS flagged
         FROM usage_daily WHERE project_id = ANY($1) GROUP BY identity`,
      [projects.map((p) => p.id)],
    );
    rollups = new Map(rows.map((r) => [r.identity, { requests: r.requests, tokens: Number(r.tokens), flagged: r.flagged }]));
    const same = identities.every((id, i) => {
      const r = rollups.get(id.name) ?? { requests: 0, tokens: 0, flagged: 0 };
      return r.requests === counters[i].requests && r.tokens === counters[i].tokens && r.flagged === flaggedOf(id);
    });
    if (same || Date.now() > rollDeadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await db.end();

  let bad = 0;
  let capBreaches = 0;
  const lines = [];
  const totals = { sent: 0, admitted: 0, blocked: 0, expected: 0, counted: 0, rolled: 0, exactReq: 0, estReq: 0, flagged: 0, flaggedRolled: 0 };
  identities.forEach((id, i) => {
    const e = expected(id);
    const c = counters[i];
    const r = rollups.get(id.name) ?? { requests: 0, tokens: 0, flagged: 0 };
    totals.flagged += flaggedOf(id);
    totals.flaggedRolled += r.flagged;
    const blocked = id.requests.filter((x) => x.status === 429).length;
    totals.sent += id.requests.length;
    totals.admitted += id.requests.filter((x) => x.admitted).length;
    totals.blocked += blocked;
    totals.expected += e.tokens;
    totals.counted += c.tokens;
    totals.rolled += r.tokens;
    totals.exactReq += id.requests.filter((x) => x.admitted && x.tokens > 0 && x.tokens !== RESERVATION).length;
    totals.estReq += id.requests.filter((x) => x.admitted && x.tokens === RESERVATION).length;
    const maxOne = Math.max(0, ...id.requests.filter((x) => x.admitted).map((x) => x.tokens));
    const overCap = id.tier === 'tight' && (c.requests > TIGHT.requests || c.tokens > TIGHT.tokens + maxOne);
    if (overCap) capBreaches += 1;
    const ok = c.requests === e.requests && c.tokens === e.tokens && r.requests === c.requests && r.tokens === c.tokens && r.flagged === flaggedOf(id) && !overCap;
    if (!ok) bad += 1;
    if (!ok || i < 6) {
      lines.push(
        `  ${id.name.padEnd(24)} ${id.project.provider.padEnd(9)} ${id.tier.padEnd(5)} sent ${String(id.requests.length).padStart(4)}  blocked ${String(blocked).padStart(3)}  expected ${e.requests}/${e.tokens}  counter ${c.requests}/${c.tokens}  rollup ${r.requests}/${r.tokens}  flagged ${flaggedOf(id)}/${r.flagged}${overCap ? '  OVER CAP' : ''}${ok ? '' : '  MISMATCH'}`,
      );
    }
  });
  console.log(`\nreconciliation (${identities.length} identities; requests/tokens; first 6 and every mismatch):`);
  for (const l of lines) console.log(l);
  console.log(
    `\ntotals: ${totals.sent} sent, ${totals.admitted} admitted (${totals.exactReq} exact usage, ${totals.estReq} at the reservation estimate), ${totals.blocked} blocked (429)\n` +
      `tokens: expected ${totals.expected}, counters ${totals.counted}, rollups ${totals.rolled}\n` +
      `flagged (usage out of range): sent ${totals.flagged}, in the rollups ${totals.flaggedRolled}\n` +
      `identities matching: ${identities.length - bad}/${identities.length}; tight-tier identities over their cap: ${capBreaches}`,
  );
  const hung = faultLog.filter((f) => f.kind === 'hung');
  const down = faultLog.filter((f) => f.kind === 'down');
  console.log(
    faults
      ? `postgres faults during the run: hung ${hung.length}x (${hung.map((f) => `${f.seconds} s at ${f.at} s`).join(', ') || '-'}), down ${down.length}x (${down.map((f) => `${f.seconds} s at ${f.at} s`).join(', ') || '-'})`
      : 'postgres faults: none injected',
  );
  process.exit(bad ? 1 : 0);
}

main().catch((e) => {
  console.error(`soak: ${e.stack || e.message}`);
  process.exit(1);
});
