// Secrets at rest (docs/API.md, "Signed identities", "Projects",
// "Privacy"; issue 3 "Secrets"): dump every table
// of the database and find neither the provider API key nor the `sk_`
// secret in clear (nor base64/hex of them), and only SHA-256 hashes of
// magic-link tokens.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { api, createProject, sql, uniqueId } from './helpers.mjs';

/** Every row of every table in schema public, as text. */
async function dumpDatabase() {
  const tables = await sql(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  assert.ok(tables.length > 0, 'no tables in schema public');
  const dump = [];
  for (const { table_name: name } of tables) {
    const quoted = `"public"."${name.replace(/"/g, '""')}"`;
    const rows = await sql(`SELECT t::text AS row FROM ${quoted} t`);
    for (const r of rows) dump.push({ table: name, row: r.row });
  }
  return { tables: tables.map((t) => t.table_name), dump };
}

/** The forms a secret could leak in: clear, base64, base64url, hex, and its random part alone. */
function spellings(secret) {
  const forms = new Set([secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url'), Buffer.from(secret).toString('hex')]);
  forms.add(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
  const body = secret.replace(/^(sk_|sk-|pk_)/, '');
  if (body.length >= 16) forms.add(body);
  return [...forms];
}

function findLeaks(dump, secret, label) {
  const leaks = [];
  for (const form of spellings(secret)) {
    for (const { table, row } of dump) {
      if (row.includes(form)) leaks.push(`${label} (${form === secret ? 'clear' : `as ${form.slice(0, 12)}…`}) in table ${table}`);
    }
  }
  return leaks;
}

test('a database dump holds neither the provider key nor the sk_ secret (clear, base64 or hex), and magic links only as SHA-256', async () => {
  // Sign in by hand to keep the magic-link token.
  const email = `${uniqueId('secrets')}@example.com`;
  const link = await api('/api/auth/magic-link', { body: { email } });
  assert.equal(link.status, 202, link.text);
  const linkToken = new URL(link.body.devLink).searchParams.get('token');
  assert.ok(linkToken, link.text);
  const verified = await api('/api/auth/verify', { body: { token: linkToken } });
  assert.equal(verified.status, 200, verified.text);
  const owner = verified.body.accessToken;

  const providerApiKey = `sk-leakcheck-${crypto.randomBytes(24).toString('hex')}`;
  const project = await createProject(owner, { providerApiKey });
  assert.match(project.secretKey, /^sk_/);
  // A rotated secret and a patched provider key must be sealed as well.
  const rotated = await api(`/api/projects/${project.id}/secret/rotate`, { token: owner, method: 'POST' });
  assert.equal(rotated.status, 200, rotated.text);
  const secondProviderKey = `sk-leakcheck2-${crypto.randomBytes(24).toString('hex')}`;
  const patched = await api(`/api/projects/${project.id}`, { token: owner, method: 'PATCH', body: { providerApiKey: secondProviderKey } });
  assert.equal(patched.status, 200, patched.text);
  // The key still works (so it is stored, just not in clear).
  const chat = await api('/api/v1/proxy/chat', {
    headers: { 'x-project-key': project.projectKey },
    body: { identity: uniqueId('u'), model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
  });
  assert.equal(chat.status, 200, chat.text);

  const { tables, dump } = await dumpDatabase();
  for (const t of ['accounts', 'magic_links', 'projects']) assert.ok(tables.includes(t), `table ${t} in the dump`);
  const projectRow = dump.find((d) => d.table === 'projects' && d.row.includes(project.id));
  assert.ok(projectRow, 'the project row is in the dump');

  const leaks = [
    ...findLeaks(dump, providerApiKey, 'first provider key'),
    ...findLeaks(dump, secondProviderKey, 'patched provider key'),
    ...findLeaks(dump, project.secretKey, 'sk_ secret from create'),
    ...findLeaks(dump, rotated.body.secretKey, 'sk_ secret from rotate'),
    ...findLeaks(dump, linkToken, 'magic-link token'),
    ...findLeaks(dump, owner, 'session JWT'),
  ];
  assert.deepEqual(leaks, []);

  // The sealed columns look sealed: "v<version>:…", and differ for the two secrets.
  const [sealed] = await sql('SELECT provider_key_enc, secret_key_enc FROM projects WHERE id = $1', [project.id]);
  assert.match(sealed.provider_key_enc, /^v\d+:/);
  assert.match(sealed.secret_key_enc, /^v\d+:/);
  assert.notEqual(sealed.provider_key_enc, sealed.secret_key_enc);

  // magic_links holds only a 64-hex SHA-256 of the token, never the token.
  const links = await sql('SELECT token_hash FROM magic_links WHERE email = $1', [email]);
  assert.equal(links.length, 1);
  assert.match(links[0].token_hash, /^[0-9a-f]{64}$/);
  assert.equal(links[0].token_hash, crypto.createHash('sha256').update(linkToken).digest('hex'));
  assert.notEqual(links[0].token_hash, linkToken);
});
