#!/usr/bin/env node
// Pack smoke test: `npm pack` the SDK, install the tarball into a scratch project
// in a temp dir, and check that it imports as ESM and as CJS and that chat()
// works there (against an injected fake fetch) and LimitExceededError is thrown
// for a 429. Exits non-zero on any failure.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = mkdtempSync(join(tmpdir(), 'airl-sdk-pack-'));
const keep = process.env.KEEP_PACK_DIR === '1';

function run(cmd, args, cwd) {
  console.log(`$ ${cmd} ${args.join(' ')}   (in ${cwd})`);
  return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

// The scenario both module flavours run: a fake fetch answers one completion, then one 429.
const scenario = (importLine) => `${importLine}
let n = 0;
const fakeFetch = async (url, init) => {
  n++;
  if (!String(url).endsWith('/api/v1/proxy/chat')) throw new Error('unexpected url ' + url);
  if (new Headers(init.headers).get('x-project-key') !== 'pk_smoke') throw new Error('missing x-project-key');
  if (n === 1) {
    return new Response(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'pong' }, finish_reason: 'stop' }] }),
      { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'req_smoke' } });
  }
  return new Response(JSON.stringify({ error: 'limit_exceeded', message: 'Upgrade now', deepLink: 'myapp://upgrade' }),
    { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '60' } });
};
(async () => {
  const client = createClient({ baseUrl: 'https://edge.example.com', projectKey: 'pk_smoke', fetch: fakeFetch });
  const res = await client.chat({ identity: 'user-123', tier: 'free', model: 'm', messages: [{ role: 'user', content: 'ping' }] });
  if (res.choices[0].message.content !== 'pong' || res.requestId !== 'req_smoke') throw new Error('bad chat result');
  try {
    await client.chat({ identity: 'user-123', model: 'm', messages: [] });
    throw new Error('expected a LimitExceededError');
  } catch (err) {
    if (!(err instanceof LimitExceededError)) throw err;
    if (err.response.message !== 'Upgrade now' || err.response.deepLink !== 'myapp://upgrade' || err.retryAfter !== 60) throw new Error('bad 429 mapping');
  }
  console.log('OK ' + FLAVOUR);
})().catch((e) => { console.error(e); process.exit(1); });
`;

let failed = false;
try {
  // Build first, then pack without lifecycle scripts so that stdout is only npm's JSON.
  execFileSync(npm, ['run', 'build'], { cwd: pkgDir, stdio: 'inherit' });
  const out = run(npm, ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], pkgDir);
  const info = JSON.parse(out)[0];
  const file = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!file) throw new Error(`npm pack produced no tarball (expected ${info.filename})`);
  const packed = info.files.map((f) => f.path);
  for (const p of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'package.json', 'README.md']) {
    if (!packed.includes(p)) throw new Error(`tarball lacks ${p}`);
  }
  if (packed.some((p) => p.startsWith('src/') || p.startsWith('test/') || p.includes('node_modules'))) {
    throw new Error('tarball contains sources, tests or node_modules');
  }

  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  run(npm, ['init', '-y'], app);
  run(npm, ['install', '--no-audit', '--no-fund', '--no-package-lock', join(work, file)], app);
  writeFileSync(join(app, 'smoke.mjs'), `const FLAVOUR = 'esm';\n` + scenario(`import { createClient, LimitExceededError } from '@ai-ratelimit/sdk';`));
  writeFileSync(join(app, 'smoke.cjs'), `const FLAVOUR = 'cjs';\n` + scenario(`const { createClient, LimitExceededError } = require('@ai-ratelimit/sdk');`));
  for (const f of ['smoke.mjs', 'smoke.cjs']) process.stdout.write(run(process.execPath, [f], app));
  console.log('pack smoke test passed');
} catch (err) {
  failed = true;
  console.error('pack smoke test FAILED:', err.message ?? err);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
