// What the bench runners share: where the repository and workerd are, a
// numeric command-line option, and a process's CPU time.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `--name N` from the command line, else `def`. */
export function numberOption(name, def) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

/** The workerd binary npm installed; throws, saying where it looked. */
export function workerdBinary() {
  const candidates = [
    path.join(ROOT, 'node_modules/@cloudflare/workerd-linux-64/bin/workerd'),
    path.join(ROOT, 'node_modules/workerd/bin/workerd'),
  ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error(`workerd binary not found (looked in ${candidates.join(', ')}); run npm install`);
  return found;
}

/** Clock ticks per second of /proc's CPU times. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's CPU time (user + sys, ms) from /proc; null where unavailable. */
export function processCpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // utime, stime
  } catch {
    return null;
  }
}
