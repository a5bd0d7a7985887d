import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { api } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('GET /healthz answers 200 with db and limiter ok', async () => {
  const res = await api('/healthz');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.ok, true);
  assert.equal(typeof res.body.version, 'string');
  assert.ok(res.body.version.length > 0);
  assert.equal(res.body.db, 'ok');
  assert.equal(res.body.limiter, 'ok');
});

test('`npm run status` reports the worker up and healthy', async () => {
  const { stdout: out } = await promisify(execFile)('npm', ['run', '--silent', 'status'], { cwd: ROOT, timeout: 30000 });
  const line = out.split('\n').find((l) => l.startsWith('worker'));
  assert.ok(line, out);
  assert.match(line, /^worker\s+up\s/);
  assert.match(line, /healthz 200/);
});
