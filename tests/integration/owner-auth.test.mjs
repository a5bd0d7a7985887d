// Owner sign-in (docs/API.md, "Sign-in") and the session check of the
// dashboard API: magic links, verification (once, atomically, before
// expiry), /api/auth/me, and JWT attacks that must all be 401.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { api, login, sql, uniqueId } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ISSUER = 'ai-ratelimit';
const AUDIENCE = 'ai-ratelimit-dashboard';

/** JWT_SECRET of the running Worker: $JWT_SECRET, else `.dev.vars` (written by scripts/stack.mjs). */
function jwtSecret() {
  if (process.env.JWT_SECRET) return process.env.JWT_SECRET;
  try {
    const text = fs.readFileSync(path.join(ROOT, '.dev.vars'), 'utf8');
    const m = text.match(/^\s*JWT_SECRET\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))\s*$/m);
    return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
  } catch {
    return undefined;
  }
}
const SECRET = jwtSecret();
const NO_SECRET = !SECRET && 'JWT_SECRET not found in $JWT_SECRET or .dev.vars';

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function sign(header, payload, key, hash = 'sha256') {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${crypto.createHmac(hash, key).update(input).digest('base64url')}`;
}

function claims(user, extra = {}) {
  return { sub: user.id, email: user.email, iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 3600, ...extra };
}

async function magicLink(email) {
  return api('/api/auth/magic-link', { body: { email } });
}

function tokenOf(res) {
  assert.equal(typeof res.body?.devLink, 'string', `no devLink: ${res.text}`);
  const token = new URL(res.body.devLink, 'http://x').searchParams.get('token');
  assert.ok(token, `devLink has no token=: ${res.body.devLink}`);
  return token;
}

async function verify(token) {
  return api('/api/auth/verify', { body: { token } });
}

/** Signs in a fresh owner → {accessToken, user}. */
async function signIn(email = `${uniqueId('auth')}@example.com`) {
  const res = await verify(tokenOf(await magicLink(email)));
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function me(token, headers = {}) {
  return api('/api/auth/me', { token, headers });
}

function assertUnauthorized(res) {
  assert.equal(res.status, 401, res.text);
  assert.equal(typeof res.body?.error, 'string', res.text);
}

describe('POST /api/auth/magic-link', () => {
  test('202 with the same body for known and unknown emails (apart from devLink)', async () => {
    const known = `${uniqueId('known')}@example.com`;
    await login(known); // the account now exists
    const unknown = `${uniqueId('unknown')}@example.com`;
    const a = await magicLink(known);
    const b = await magicLink(unknown);
    assert.equal(a.status, 202, a.text);
    assert.equal(b.status, 202, b.text);
    const strip = ({ devLink, ...rest }) => rest;
    assert.deepEqual(strip(a.body), strip(b.body));
    assert.equal(typeof a.body.message, 'string');
    assert.deepEqual(Object.keys(a.body).sort(), Object.keys(b.body).sort());
    // development: devLink is a URL whose query has token=
    assert.match(a.body.devLink, /[?&]token=/);
    assert.match(b.body.devLink, /[?&]token=/);
    assert.notEqual(tokenOf(a), tokenOf(b));
  });

  test('400 invalid_request with field email for malformed or missing emails', async () => {
    for (const body of [{ email: 'not-an-email' }, { email: 'a@b' }, { email: '' }, { email: 'a b@example.com' }, { email: 42 }, {}, { email: `${'x'.repeat(250)}@example.com` }]) {
      const res = await api('/api/auth/magic-link', { body });
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.text}`);
      assert.equal(res.body.error, 'invalid_request', res.text);
      assert.equal(res.body.field, 'email', res.text);
    }
  });

  test('400 invalid_json for a body that is not JSON', async () => {
    const res = await api('/api/auth/magic-link', { method: 'POST', body: '{"email": ', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error, 'invalid_json', res.text);
  });

  test('415 unsupported_media_type for a non-JSON content type', async () => {
    const res = await api('/api/auth/magic-link', {
      method: 'POST',
      body: `email=${uniqueId('form')}@example.com`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 415, res.text);
    assert.equal(res.body.error, 'unsupported_media_type', res.text);
  });

  test('429 rate_limited on the 6th request for one email within 15 minutes; other emails unaffected', async () => {
    const email = `${uniqueId('flood')}@example.com`;
    for (let i = 1; i <= 5; i++) {
      const res = await magicLink(email);
      assert.equal(res.status, 202, `request ${i}: ${res.text}`);
    }
    const sixth = await magicLink(email);
    assert.equal(sixth.status, 429, sixth.text);
    assert.equal(sixth.body.error, 'rate_limited', sixth.text);
    assert.equal(sixth.body.devLink, undefined, 'a refused request must not carry a link');
    // The limit is per email: the same address in another case counts too, another address does not.
    const upper = await magicLink(email.toUpperCase());
    assert.equal(upper.status, 429, upper.text);
    const other = await magicLink(`${uniqueId('flood-other')}@example.com`);
    assert.equal(other.status, 202, other.text);
  });
});

describe('POST /api/auth/verify', () => {
  test('200 {accessToken, user: {id, email}}; the first verification creates the account, later ones reuse it', async () => {
    const email = `${uniqueId('verify')}@example.com`;
    assert.equal((await sql('SELECT 1 FROM accounts WHERE email = $1', [email])).length, 0);
    const first = await signIn(email);
    assert.equal(typeof first.accessToken, 'string');
    assert.equal(first.accessToken.split('.').length, 3, 'a JWT');
    assert.deepEqual(Object.keys(first.user).sort(), ['email', 'id']);
    assert.equal(first.user.email, email);
    assert.equal(typeof first.user.id, 'string');
    const rows = await sql('SELECT id FROM accounts WHERE email = $1', [email]);
    assert.deepEqual(rows.map((r) => r.id), [first.user.id]);
    const second = await signIn(email);
    assert.equal(second.user.id, first.user.id);
    assert.equal((await sql('SELECT 1 FROM accounts WHERE email = $1', [email])).length, 1);
  });

  test('401 invalid_token when a used link is replayed', async () => {
    const token = tokenOf(await magicLink(`${uniqueId('replay')}@example.com`));
    const first = await verify(token);
    assert.equal(first.status, 200, first.text);
    const again = await verify(token);
    assert.equal(again.status, 401, again.text);
    assert.equal(again.body.error, 'invalid_token', again.text);
    assert.equal(again.body.accessToken, undefined);
  });

  test('10 concurrent redemptions of one link → exactly one 200, nine 401 invalid_token, one account', async () => {
    const email = `${uniqueId('race')}@example.com`;
    const token = tokenOf(await magicLink(email));
    const results = await Promise.all(Array.from({ length: 10 }, () => verify(token)));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 401 && r.body?.error === 'invalid_token');
    assert.equal(ok.length, 1, results.map((r) => `${r.status} ${r.text}`).join('\n'));
    assert.equal(refused.length, 9, results.map((r) => `${r.status} ${r.text}`).join('\n'));
    assert.equal((await sql('SELECT 1 FROM accounts WHERE email = $1', [email])).length, 1);
  });

  test('401 invalid_token for an expired link', async () => {
    const token = tokenOf(await magicLink(`${uniqueId('expired')}@example.com`));
    const hash = crypto.createHash('sha256').update(token).digest('hex');
    const updated = await sql("UPDATE magic_links SET expires_at = now() - interval '1 second' WHERE token_hash = $1 RETURNING 1", [hash]);
    assert.equal(updated.length, 1, 'the link is stored under the SHA-256 of its token');
    const res = await verify(token);
    assert.equal(res.status, 401, res.text);
    assert.equal(res.body.error, 'invalid_token', res.text);
  });

  test('401 invalid_token for unknown or oversized tokens', async () => {
    for (const body of [{ token: crypto.randomBytes(32).toString('base64url') }, { token: 'x'.repeat(5000) }]) {
      const res = await api('/api/auth/verify', { body });
      assert.equal(res.status, 401, `${JSON.stringify(body).slice(0, 60)} → ${res.text}`);
      assert.equal(res.body.error, 'invalid_token', res.text);
    }
  });

  test('400 invalid_request naming token for empty, missing or non-string tokens', async () => {
    for (const body of [{ token: '' }, {}, { token: 123 }, { token: null }]) {
      const res = await api('/api/auth/verify', { body });
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.text}`);
      assert.equal(res.body.error, 'invalid_request', res.text);
      assert.equal(res.body.field, 'token', res.text);
    }
  });

  test('400 invalid_json for a body that is not JSON', async () => {
    const res = await api('/api/auth/verify', { method: 'POST', body: 'token=abc', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error, 'invalid_json', res.text);
  });
});

describe('GET /api/auth/me', () => {
  test('200 {id, email} with the session token', async () => {
    const session = await signIn();
    const res = await me(session.accessToken);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { id: session.user.id, email: session.user.email });
  });

  test('401 without an Authorization header, or with a non-Bearer or garbage one', async () => {
    assertUnauthorized(await me());
    const session = await signIn();
    assertUnauthorized(await me(undefined, { authorization: `Basic ${session.accessToken}` }));
    assertUnauthorized(await me(undefined, { authorization: session.accessToken }));
    assertUnauthorized(await me('not.a.jwt'));
    assertUnauthorized(await me(''));
  });
});

describe('JWT attacks on the dashboard session: all 401', () => {
  test('control: a token crafted with JWT_SECRET and the right claims is accepted', { skip: NO_SECRET }, async () => {
    const session = await signIn();
    const token = sign({ alg: 'HS256', typ: 'JWT' }, claims(session.user), SECRET);
    const res = await me(token);
    assert.equal(res.status, 200, `the crafted control token should work, else the attacks below prove nothing: ${res.text}`);
  });

  test('401 for alg "none" (any spelling, with or without a signature)', async () => {
    const session = await signIn();
    const payload = claims(session.user);
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const unsigned = `${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}.`;
      assertUnauthorized(await me(unsigned));
      assertUnauthorized(await me(unsigned.slice(0, -1)));
      const withSig = `${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}.${session.accessToken.split('.')[2]}`;
      assertUnauthorized(await me(withSig));
    }
  });

  test('401 for a token signed with a wrong key', async () => {
    const session = await signIn();
    assertUnauthorized(await me(sign({ alg: 'HS256', typ: 'JWT' }, claims(session.user), crypto.randomBytes(32).toString('hex'))));
    assertUnauthorized(await me(sign({ alg: 'HS256', typ: 'JWT' }, claims(session.user), '')));
  });

  test('401 for another algorithm than HS256, even with the right key', { skip: NO_SECRET }, async () => {
    const session = await signIn();
    assertUnauthorized(await me(sign({ alg: 'HS512', typ: 'JWT' }, claims(session.user), SECRET, 'sha512')));
    assertUnauthorized(await me(sign({ alg: 'HS384', typ: 'JWT' }, claims(session.user), SECRET, 'sha384')));
    // HS256 signature under a header claiming RS256 (algorithm confusion).
    assertUnauthorized(await me(sign({ alg: 'RS256', typ: 'JWT' }, claims(session.user), SECRET)));
  });

  test('401 for an expired token with the right key and claims', { skip: NO_SECRET }, async () => {
    const session = await signIn();
    const expired = sign({ alg: 'HS256', typ: 'JWT' }, claims(session.user, { iat: now() - 8 * 24 * 3600, exp: now() - 5 }), SECRET);
    assertUnauthorized(await me(expired));
  });

  test('401 for a token without exp, iss, aud or sub', { skip: NO_SECRET }, async () => {
    const session = await signIn();
    for (const drop of ['exp', 'iss', 'aud', 'sub']) {
      const c = claims(session.user);
      delete c[drop];
      assertUnauthorized(await me(sign({ alg: 'HS256', typ: 'JWT' }, c, SECRET)));
    }
  });

  test('401 for a tampered payload (sub changed to another account, signature kept)', async () => {
    const victim = await signIn();
    const attacker = await signIn();
    const [h, p, s] = attacker.accessToken.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${b64url({ ...payload, sub: victim.user.id, email: victim.user.email })}.${s}`;
    assertUnauthorized(await me(forged));
    // and the untouched token still works
    assert.equal((await me(attacker.accessToken)).status, 200);
    // a flipped signature byte is refused too
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
    assertUnauthorized(await me(flipped));
  });

  test('401 for a token with a wrong audience or issuer', { skip: NO_SECRET }, async () => {
    const session = await signIn();
    assertUnauthorized(await me(sign({ alg: 'HS256', typ: 'JWT' }, claims(session.user, { aud: 'someone-else' }), SECRET)));
    assertUnauthorized(await me(sign({ alg: 'HS256', typ: 'JWT' }, claims(session.user, { iss: 'evil-issuer' }), SECRET)));
  });

  test('401 for the token of a deleted account (on /me and on the projects API)', async () => {
    const session = await signIn();
    assert.equal((await me(session.accessToken)).status, 200);
    const deleted = await sql('DELETE FROM accounts WHERE id = $1 RETURNING id', [session.user.id]);
    assert.equal(deleted.length, 1);
    assertUnauthorized(await me(session.accessToken));
    assertUnauthorized(await api('/api/projects', { token: session.accessToken }));
  });
});
