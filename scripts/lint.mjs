#!/usr/bin/env node
// `npm run lint`: rustfmt, clippy (native for every crate and its tests; wasm32
// for the crates that run in workerd, where cfg(target_arch = "wasm32") code
// lives), and the TypeScript typecheck of the workspaces.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const steps = [
  ['cargo', ['fmt', '--all', '--check']],
  ['cargo', ['clippy', '--workspace', '--all-targets', '--', '-D', 'warnings']],
  ['cargo', ['clippy', '-p', 'durable-objects', '-p', 'ai-ratelimit-worker', '--target', 'wasm32-unknown-unknown', '--', '-D', 'warnings']],
  ['npm', ['run', 'typecheck', '--workspaces', '--if-present']],
];
let failed = 0;
for (const [cmd, args] of steps) {
  const line = `${cmd} ${args.join(' ')}`;
  console.log(`\n== ${line}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  const ok = r.status === 0;
  if (!ok) failed += 1;
  console.log(`== ${ok ? 'ok' : 'FAILED'} (${((Date.now() - t0) / 1000).toFixed(1)}s): ${line}`);
}
console.log(failed ? `\nlint: ${failed} step(s) failed` : '\nlint: all steps passed');
process.exit(failed ? 1 : 0);
