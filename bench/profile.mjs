// CPU profiles of the Worker under bench load (`node bench/run.mjs --profile DIR`).
//
// workerd runs with its inspector on; for each measured row this records a
// sampling profile of the Worker's isolate (the Durable Objects of the same
// script run in it too) over exactly the measured requests, writes it as
// DIR/<row>.cpuprofile (open it in Chrome DevTools → Performance) and prints
// the functions with the most self time. The module must keep its WASM
// function names to be readable: profile a build that did not run
// scripts/wasm-strip-names.mjs (`cd worker && worker-build --release`, then
// `--build-dir worker/build`).

import fs from 'node:fs';
import path from 'node:path';

async function webSocketClass() {
  if (globalThis.WebSocket) return globalThis.WebSocket;
  try {
    return (await import('ws')).default;
  } catch {
    throw new Error('--profile needs a WebSocket client: Node 22 or later, or the `ws` package');
  }
}

/** Connects to the first inspector target of workerd listening on `port`. */
export async function openProfiler(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error(`no inspector target on 127.0.0.1:${port}`);
  const WS = await webSocketClass();
  const ws = new WS(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = (e) => reject(new Error(`inspector: ${e.message || 'connection failed'}`));
  });
  let next = 1;
  const waiting = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(typeof m.data === 'string' ? m.data : m.data.toString());
    const done = msg.id && waiting.get(msg.id);
    if (!done) return;
    waiting.delete(msg.id);
    if (msg.error) done.reject(new Error(`${msg.error.message}`));
    else done.resolve(msg.result);
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 250 });
  return {
    start: () => send('Profiler.start'),
    stop: async () => (await send('Profiler.stop')).profile,
    close: () => ws.close(),
  };
}

/** Self time per function, largest first: [{ name, ms, share }]. */
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) || 0) + 1);
  const perSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const total = new Map();
  for (const [id, n] of counts) {
    const f = byId.get(id).callFrame;
    const name = f.functionName || `(anonymous ${path.basename(f.url || '')})`;
    total.set(name, (total.get(name) || 0) + n);
  }
  const all = profile.samples.length || 1;
  return [...total.entries()]
    .map(([name, n]) => ({ name, ms: n * perSample, share: n / all }))
    .sort((a, b) => b.ms - a.ms);
}

/** Writes DIR/<label>.cpuprofile and answers its top lines for the log. */
export function saveProfile(dir, label, profile, { top = 20, requests = 1 } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${label}.cpuprofile`), JSON.stringify(profile));
  const lines = selfTimes(profile)
    .slice(0, top)
    .map((f) => `  ${(f.share * 100).toFixed(1).padStart(5)}%  ${(f.ms / requests).toFixed(3).padStart(7)} ms/req  ${f.name}`);
  return [`profile ${label}: ${path.join(dir, `${label}.cpuprofile`)} (self time, top ${top})`, ...lines].join('\n');
}
