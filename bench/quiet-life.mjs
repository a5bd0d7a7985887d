#!/usr/bin/env node
// What a quiet identity's request costs over its whole life, not only while
// it is answered: the request, its settlement sent on its own ~2 s later,
// and whatever its object does afterwards (an alarm left set wakes it a
// lease time later). Against the running local stack (`npm start`), whose
// lease must be short enough to wait out:
//
//   AIRL_PROVIDER_TIMEOUT_MS=20000 AIRL_LEASE_GRACE_MS=10000 node scripts/stack.mjs restart-worker
//   node bench/quiet-life.mjs [--n 150] [--rounds 1]
//
// CPU is the stack's workerd processes' (user + sys from /proc), per
// request, in three spans: while the requests are answered (N new
// identities, one request at a time, in `rounds` rounds: with more than
// one, each identity comes back every ~N/30 s, after its settlement); the next 6 s (their settlements); then the
// lease time plus 15 s (their alarms), less what the same span costs the
// idle stack, measured first.
import fs from 'node:fs';
import { createProject, login, proxyChat, uniqueId } from '../tests/integration/helpers.mjs';
import * as stack from '../scripts/stack.mjs';
import { numberOption, processCpuMs } from './common.mjs';

const n = numberOption('n', 150);
const rounds = numberOption('rounds', 1);
const requests = n * rounds;
const worker = stack.runningService('worker');
if (!worker) throw new Error('the stack is not running: npm start');
const vars = worker.vars || {};
const leaseMs = Number(vars.PROVIDER_TIMEOUT_MS ?? 60_000) + Number(vars.LEASE_GRACE_MS ?? 900_000);
if (leaseMs > 120_000) {
  console.error(`The running Worker's lease is ${leaseMs / 1000} s: too long to wait out. Restart it with short deadlines:`);
  console.error('  AIRL_PROVIDER_TIMEOUT_MS=20000 AIRL_LEASE_GRACE_MS=10000 node scripts/stack.mjs restart-worker');
  process.exit(2);
}
const tailMs = leaseMs + 15_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The workerd processes in the Worker's process group (wrangler dev runs them there). */
function workerdPids() {
  const group = String(worker.pgid);
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
        return stat.includes('(workerd)') && fields[2] === group;
      } catch {
        return false;
      }
    })
    .map(Number);
}
const pids = workerdPids();
if (pids.length === 0) throw new Error("no workerd process in the Worker's process group");
const cpu = () => pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0);

const owner = await login();
const project = await createProject(owner, { tiers: { free: { requests: { limit: 1_000_000, period: 'day' } } }, defaultTier: 'free' });
const chat = (identity) => ({ identity, model: 'usage-10-5-quiet-life', messages: [{ role: 'user', content: 'hi' }] });
for (let i = 0; i < 30; i++) await proxyChat(project.projectKey, chat('warm-up'));
await sleep(3000);

process.stderr.write(`idle stack for ${tailMs / 1000} s…\n`);
let t = cpu();
await sleep(tailMs);
const idle = cpu() - t;

process.stderr.write(`${requests} requests from ${n} new identities…\n`);
const run = uniqueId('quiet');
t = cpu();
const started = Date.now();
for (let i = 0; i < requests; i++) {
  const res = await proxyChat(project.projectKey, chat(`${run}-${i % n}`));
  if (res.status !== 200) throw new Error(`request ${i}: ${res.status} ${res.text}`);
}
const answered = cpu() - t;
const seconds = (Date.now() - started) / 1000;
t = cpu();
await sleep(6000);
const settlements = cpu() - t;
process.stderr.write(`waiting ${tailMs / 1000} s for what the objects do afterwards…\n`);
t = cpu();
await sleep(tailMs);
const afterwards = cpu() - t - idle;

const per = (ms) => (ms / requests).toFixed(2);
console.log(`# A quiet identity's request over its whole life (${new Date().toISOString()}, ${n} identities × ${rounds} round(s), lease ${leaseMs / 1000} s)\n`);
console.log('| span | CPU ms per request |\n|---|---:|');
console.log(`| answered (${seconds.toFixed(1)} s) | ${per(answered)} |`);
console.log(`| the next 6 s (settlements) | ${per(settlements)} |`);
console.log(`| the next ${tailMs / 1000} s, less the idle stack's ${per(idle)} | ${per(afterwards)} |`);
console.log(`| **whole life** | **${per(answered + settlements + afterwards)}** |`);
process.exit(0);
