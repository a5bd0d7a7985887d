// Security of sign-in and of secrets at rest (docs/API.md, "Sign-in",
// "Secrets at rest"): a deploy without `--env production` is production
// (no devLink), the per-email magic-link limit holds under concurrency,
// sign-out-everywhere revokes every session, and a sealed secret cannot be
// swapped for another purpose's ciphertext.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { api, createProject, login, proxyChat, sql, uniqueId } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The top-level `[vars]` table of wrangler.toml (before any `[env.*]`), as {NAME: value}. */
function topLevelVars() {
  const text = fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
  const vars = {};
  let inVars = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      if (line.startsWith('[env.')) break;
      inVars = line === '[vars]';
      continue;
    }
    const m = inVars && /^([A-Z_]+)\s*=\s*"([^"]*)"/.exec(line);
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}

describe('configuration that ships', () => {
  test('wrangler.toml top-level vars are production (a deploy without --env gives no devLink)', () => {
    const vars = topLevelVars();
    assert.notEqual(vars.ENVIRONMENT, undefined, 'top-level [vars] must name ENVIRONMENT');
    assert.notEqual(vars.ENVIRONMENT, 'development', 'top-level ENVIRONMENT must not be development');
  });
});

describe('POST /api/auth/magic-link under concurrency', () => {
  test('20 simultaneous requests for one address send exactly 5 links (the rest 429)', async () => {
    const email = `${uniqueId('race')}@example.com`;
    const answers = await Promise.all(Array.from({ length: 20 }, () => api('/api/auth/magic-link', { body: { email } })));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 202).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 15, statuses.join(','));
    const rows = await sql('SELECT count(*)::int AS n FROM magic_links WHERE email = $1', [email]);
    assert.equal(rows[0].n, 5);
  });
});

describe('POST /api/auth/sign-out-all', () => {
  test('revokes every session of the account; a new sign-in works', async () => {
    const email = `${uniqueId('signout')}@example.com`;
    const a = await login(email);
    const b = await login(email);
    assert.equal((await api('/api/auth/me', { token: a })).status, 200);
    assert.equal((await api('/api/auth/me', { token: b })).status, 200);
    const out = await api('/api/auth/sign-out-all', { method: 'POST', token: a });
    assert.equal(out.status, 204, out.text);
    assert.equal((await api('/api/auth/me', { token: a })).status, 401);
    assert.equal((await api('/api/auth/me', { token: b })).status, 401);
    assert.equal((await api('/api/projects', { token: b })).status, 401);
    const c = await login(email);
    assert.equal((await api('/api/auth/me', { token: c })).status, 200);
  });

  test('401 without a session', async () => {
    const out = await api('/api/auth/sign-out-all', { method: 'POST' });
    assert.equal(out.status, 401, out.text);
  });
});

describe('secrets at rest are bound to their purpose', () => {
  test('a provider key replaced by the sk_ ciphertext is refused, never forwarded', async () => {
    const owner = await login();
    const project = await createProject(owner);
    const rows = await sql('SELECT provider_key_enc, secret_key_enc FROM projects WHERE id = $1', [project.id]);
    assert.match(rows[0].provider_key_enc, /^v2:/, 'new ciphertexts carry the v2 format with a key id');
    assert.match(rows[0].secret_key_enc, /^v2:/);
    // Swap before the first proxy request, so no isolate has the project cached.
    await sql('UPDATE projects SET provider_key_enc = secret_key_enc WHERE id = $1', [project.id]);
    const res = await proxyChat(project.projectKey, { identity: 'u1', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.status, 500, res.text);
    assert.equal(res.body.error, 'internal_error');
  });
});
