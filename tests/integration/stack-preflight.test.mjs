// A fresh clone in a directory only root can enter (a `mktemp -d`
// directory, /root): the embedded PostgreSQL runs as the unprivileged user
// `postgres` and could not reach it. `npm start` must say so in one line
// before installing anything (it used to install for minutes and then die
// with `spawn …/initdb EACCES`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = process.getuid?.() === 0 ? false : 'only root runs the embedded PostgreSQL as another user';

test('npm start in a root-only directory: one line saying what to do, before any install', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airl-root-only-')); // mode 700
  try {
    const clone = path.join(dir, 'ai-ratelimit');
    fs.mkdirSync(path.join(clone, 'scripts'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'scripts', 'stack.mjs'), path.join(clone, 'scripts', 'stack.mjs'));
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(clone, 'package.json'));
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['scripts/stack.mjs', 'start'], { cwd: clone, env, encoding: 'utf8', timeout: 60000 });
    const ms = Date.now() - t0;
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /cannot enter .*airl-root-only-.* \(mode 700\): run `chmod o\+x /);
    assert.ok(!fs.existsSync(path.join(clone, 'node_modules')), 'nothing was installed');
    assert.ok(!fs.existsSync(path.join(clone, '.stack')), 'nothing was created');
    assert.ok(ms < 30000, `took ${ms} ms`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the same clone in a directory others can enter passes the check', { skip }, async () => {
  const { rootOnlyAncestor } = await import(path.join(ROOT, 'scripts', 'stack.mjs'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airl-open-'));
  try {
    fs.chmodSync(dir, 0o755);
    assert.equal(rootOnlyAncestor(dir, 0), null);
    fs.chmodSync(dir, 0o700);
    assert.equal(rootOnlyAncestor(dir, 0), dir);
    assert.equal(rootOnlyAncestor(dir, 1000), null, 'not root: PostgreSQL runs as this user');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
