#!/usr/bin/env node
// Measures how far concurrent traffic over many identities passes a
// project budget (docs/API.md, "Project budgets"; docs/guarantees.md, G19)
// against the running stack, and writes bench/results-budgets.md.
//
//   AIRL_BASE_URL=http://127.0.0.1:3000 AIRL_MOCK_URL=http://127.0.0.1:3100 \
//     node bench/budget-overshoot.mjs [--rows 50:100,100:150,200:300]
//
// Each row is `concurrency:limit`: that many clients, each with its own
// identity, send requests in a loop against a requests-per-day budget of
// `limit` until the budget refuses them; the overshoot is what was admitted
// past the limit, and the bound is C + λ·(R + F + d) with the measured
// admission rate λ (d = 500 ms allowance for the round trips).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { login } from '../tests/integration/helpers.mjs';
import { FRESH_MS, REPORT_DELAY_MS, ROUND_TRIPS_MS, measureOvershoot } from '../tests/integration/budget-load.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = process.argv.indexOf('--rows');
const rows = (arg > 0 ? process.argv[arg + 1] : '50:100,100:150,200:300')
  .split(',')
  .map((r) => r.split(':').map(Number));

const token = await login();
const results = [];
for (const [concurrency, limit] of rows) {
  const r = await measureOvershoot(token, { concurrency, limit });
  console.log(`C=${concurrency} limit=${limit}: admitted ${r.admitted}, overshoot ${r.overshoot}, bound ${r.bound} (λ ${r.ratePerSecond.toFixed(1)}/s, p50 ${r.p50Ms} ms)`);
  results.push(r);
}
const cpus = (await import('node:os')).cpus().length;
const load = (await import('node:os')).loadavg()[0].toFixed(1);
const table = results
  .map((r) => `| ${r.concurrency} | ${r.limit} | ${r.admitted} | **${r.overshoot}** | ${r.bound} | ${r.ratePerSecond.toFixed(1)} | ${r.p50Ms} | ${r.settled.budgets[0].used} |`)
  .join('\n');
const md = `# Project budget overshoot

\`node bench/budget-overshoot.mjs\` against the local stack (\`wrangler dev\`, one
isolate), ${new Date().toISOString().slice(0, 16)}Z, ${cpus} CPUs, load average ${load}
(other work was running on the machine: answer times are seconds, not
milliseconds, which is the hard case for the first term of the bound).

Each row: C clients, each with its own identity, send chat requests in a
loop against a requests-per-day budget until it refuses them. R = ${REPORT_DELAY_MS} ms
(report delay), F = ${FRESH_MS} ms (isolate cache), d = ${ROUND_TRIPS_MS} ms (round-trip allowance).

| clients C | budget | admitted | overshoot | bound C + λ·(R+F+d) | λ (req/s) | p50 answer (ms) | budget total after |
|---|---|---|---|---|---|---|---|
${table}

The total the budget object settles on equals the admitted requests in
every row (requests are counted when reserved; snapshots are absolute).
With answers this slow, nearly every client is already past the check when
the limit is reached, so the overshoot is close to C; with fast answers the
λ·(R + F + d) term dominates.
`;
fs.writeFileSync(path.join(ROOT, 'bench', 'results-budgets.md'), md);
console.log('wrote bench/results-budgets.md');
