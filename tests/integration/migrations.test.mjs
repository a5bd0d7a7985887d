// One migrator (docs/guarantees.md, "Migrations"): `npm run migrate`
// (scripts/stack.mjs) is the only code that applies migrations/*.sql; the
// Worker only checks that the database records every file it was built with.
//
// - the migrator applies every file of migrations/ to an empty database,
//   once, under its advisory lock (two runs at once do not collide), picks up
//   a new file with no registration step, and `--check` lists what is pending;
// - the Worker reports the newest migration it expects in /healthz (the same
//   list as the folder: the two sides cannot disagree on what exists), and
//   when the database lacks one, /healthz answers 503 naming it and the
//   owner API answers 503 with the command to run — never a 500 from a query
//   against a missing column.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { api, DATABASE_URL, login, sql, stackCommand, uniqueId, waitFor } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { migrate, migrationFiles } = await import(path.join(ROOT, 'scripts', 'stack.mjs'));
const FILES = migrationFiles().map((f) => f.version);
const NEWEST = FILES[FILES.length - 1];

const scratch = [];
/** A new, empty database on the same server → its URL. */
async function emptyDatabase() {
  const name = `airl_mig_${uniqueId('t').replace(/[^a-z0-9]/g, '_')}`;
  await sql(`CREATE DATABASE ${name}`);
  scratch.push(name);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
async function versionsIn(url) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query('SELECT version FROM schema_migrations ORDER BY applied_at, version')).rows.map((r) => r.version);
  } finally {
    await c.end();
  }
}

after(async () => {
  for (const name of scratch) await sql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
});

describe('the one migrator: npm run migrate', () => {
  test('applies every file of migrations/ to an empty database, in order, once; a second run and --check find nothing', async () => {
    const url = await emptyDatabase();
    const env = { ...process.env, DATABASE_URL: url };
    const first = await stackCommand('migrate', { env, timeoutMs: 120000 });
    assert.match(first, new RegExp(`migrations applied: ${FILES.join(', ')}`));
    assert.deepEqual(await versionsIn(url), FILES);
    assert.match(await stackCommand('migrate', { env, timeoutMs: 120000 }), /migrations: up to date/);
    assert.match(await stackCommand('migrate --check', { env, timeoutMs: 120000 }), /migrations: up to date/);
    assert.deepEqual(await versionsIn(url), FILES);
  });

  test('two runs at once: the advisory lock serialises them, each file applied once', async () => {
    const url = await emptyDatabase();
    const [a, b] = await Promise.all([migrate(url, { quiet: true }), migrate(url, { quiet: true })]);
    assert.deepEqual([...a, ...b].sort(), FILES, 'every file applied by exactly one of the two runs');
    assert.deepEqual(await versionsIn(url), FILES);
  });

  test('a new file is picked up with no registration step; --check lists it (exit 1) until it is applied', async () => {
    const url = await emptyDatabase();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airl-migrations-'));
    try {
      for (const f of fs.readdirSync(path.join(ROOT, 'migrations'))) fs.copyFileSync(path.join(ROOT, 'migrations', f), path.join(dir, f));
      await migrate(url, { quiet: true, dir });
      fs.writeFileSync(path.join(dir, '9990_extra.sql'), 'CREATE TABLE migration_probe (id int);\n');
      assert.deepEqual(await migrate(url, { quiet: true, dir, check: true }), ['9990_extra']);
      assert.deepEqual(await migrate(url, { quiet: true, dir }), ['9990_extra']);
      assert.deepEqual(await migrate(url, { quiet: true, dir, check: true }), []);
      // A failing file leaves nothing of itself behind and is not recorded.
      fs.writeFileSync(path.join(dir, '9991_broken.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n');
      await assert.rejects(migrate(url, { quiet: true, dir }), /9991_broken\.sql failed \(nothing of it was applied\)/);
      assert.deepEqual(await migrate(url, { quiet: true, dir, check: true }), ['9991_broken']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // `npm run migrate -- --check` exits 1 while something is pending.
    const pending = await emptyDatabase();
    await assert.rejects(stackCommand('migrate --check', { env: { ...process.env, DATABASE_URL: pending }, timeoutMs: 120000 }), (e) => {
      assert.match(e.message, /exited 1/);
      assert.match(e.message, new RegExp(`migrations pending: ${FILES.join(', ')}`));
      return true;
    });
  });
});

describe('the Worker checks the schema, it never migrates', () => {
  test('/healthz names the newest migration this Worker expects: the last file of migrations/', async () => {
    const res = await api('/healthz');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.schema, 'ok');
    assert.equal(res.body.schemaVersion, NEWEST);
  });

  test('a database lacking a migration: /healthz 503 names it, the owner API answers 503 with the command; back once it is recorded', async () => {
    const token = await login();
    const hidden = `${NEWEST}:hidden-by-test`;
    await sql('UPDATE schema_migrations SET version = $2 WHERE version = $1', [NEWEST, hidden]);
    try {
      const health = await api('/healthz', { timeoutMs: 10000 });
      assert.equal(health.status, 503, health.text);
      assert.equal(health.body.schema, 'behind');
      assert.deepEqual(health.body.pendingMigrations, [NEWEST]);
      assert.deepEqual(health.body.failing, ['schema']);
      assert.equal(health.body.db, 'ok');
      assert.match(health.body.message, /npm run migrate/);
      // A schema found current is trusted for 15 s per isolate, then checked again.
      const owner = await waitFor(async () => {
        const r = await api('/api/projects', { token, timeoutMs: 10000 });
        assert.notEqual(r.status, 500, r.text);
        return r.status === 503 ? r : false;
      }, { timeoutMs: 30000, intervalMs: 500, message: 'the owner API to notice the missing migration' });
      assert.equal(owner.body.error, 'service_unavailable');
      assert.match(owner.body.message, new RegExp(`${NEWEST}.*npm run migrate`));
    } finally {
      await sql('UPDATE schema_migrations SET version = $1 WHERE version = $2', [NEWEST, hidden]);
    }
    // A schema found behind is checked again on every connection: back at once.
    const back = await api('/api/projects', { token });
    assert.equal(back.status, 200, back.text);
    assert.equal((await api('/healthz')).status, 200);
  });
});
