// Guarantee G9: bad input gets a clear 4xx in the contract's error shape,
// never a 500 and never a panic (in WASM a panic kills the instance and
// every request in it). A deterministic sweep of malformed requests over
// every route of docs/API.md: bodies that are not JSON, invalid UTF-8, JSON of the
// wrong type, every known field with wrong types and out-of-range values,
// deep nesting, 100 KB strings, control characters and lone surrogates,
// wrong content types, bad query parameters, percent-encoded garbage in path
// segments, methods not allowed, huge headers and bad JWTs.
//
// The requests are authenticated (a real owner, a real project, its key),
// so that they reach validation. Every answer must be a 4xx whose body is
// the contract's shape for the route family: flat `{error, message}` on
// /api/*, OpenAI's envelope `{error: {message, type, code, param}}` on /v1/*.
// All failures are collected and reported with the exact request; every
// ~50 requests (and at the end) /healthz and a valid proxy request must
// still work. The case lists are drawn from a seeded PRNG: same seed, same
// requests.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { api, BASE, createProject, login, signJwt, uniqueId, waitFor } from './helpers.mjs';

const SEED = 20260224;
const FIELD_CASES_PER_ROUTE = 22; // sampled field × bad value combinations per body route
const LIVENESS_EVERY = 50;
const CONCURRENCY = 6;

// ---------------------------------------------------------------------------
// Deterministic randomness

function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = mulberry32(SEED);
const randInt = (n) => Math.floor(rng() * n);
const pick = (arr) => arr[randInt(arr.length)];
/** `n` distinct elements of `arr`, in a seeded order. */
function sample(arr, n) {
  const a = [...arr];
  for (let i = a.length - 1; i > 0; i--) {
    const j = randInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}
const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[randInt(16)]).join('');

// ---------------------------------------------------------------------------
// JSON with raw fragments (2^64, lone surrogates) that JSON.stringify cannot write

const RAW = Symbol('raw');
const raw = (text) => ({ [RAW]: text });
function toJson(value) {
  const raws = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v && typeof v === 'object' && RAW in v) {
      raws.push(v[RAW]);
      return `\u0001RAW${raws.length - 1}\u0001`;
    }
    return v;
  });
  return text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i) => raws[Number(i)]);
}

const K100 = 'x'.repeat(100 * 1024);
const LONE = raw('"\\ud800"');
const LONE_LOW = raw('"a\\udfffb"');
const U64 = raw('18446744073709551616'); // 2^64
const U64MAX = raw('18446744073709551615');
const SAFE_PLUS_1 = raw('9007199254740992'); // 2^53
const BIG = raw('1e308');
const NEG_BIG = raw('-1e308');

/** Generic wrong-typed values for a string field. */
const NOT_STRING = [[], {}, 0, -1, 1.5, true, { a: 'b' }, ['x'], BIG];
/** Bad strings for a name-like field (control characters, lone surrogates, sizes). */
const BAD_STRINGS = ['', '   ', '\u0000', 'a\u0001b', 'tab\tname', 'x\u007f', 'line\nbreak', '\u001b[31m', LONE, LONE_LOW, K100];
/** Bad positive integers. */
const BAD_POSITIVE = [0, -1, 1.5, -0.5, '100', BIG, NEG_BIG, U64, U64MAX, SAFE_PLUS_1, [], {}, true];
/** Bad non-negative integers. */
const BAD_COUNT = [-1, 1.5, '5', BIG, NEG_BIG, U64, U64MAX, SAFE_PLUS_1, [], {}, true];

// ---------------------------------------------------------------------------
// State

let owner; // owner access token
let project; // the project every route is exercised on
let patchTarget; // a second project that the PATCH sweep aims at
let ruleId; // a real rule of `project`
let webhookId; // a real webhook endpoint of `project`
let poisonProject; // for the NUL-in-model analytics check
let poisonSent; // its two requests, sent before the sweep
let poisonSentAt;
const poisonIdentity = `poison-${hex(8)}`;
const failures = [];
let sent = 0;
let lastLiveness = 0;
const livenessLog = [];

// ---------------------------------------------------------------------------
// Sending and checking

function describeHeaders(h) {
  return Object.fromEntries(
    Object.entries(h).map(([k, v]) => [k, v.length > 80 ? `${v.slice(0, 60)}…(${v.length} chars)` : v]),
  );
}
function bodyPrefix(body) {
  if (body === undefined) return '(none)';
  if (body instanceof Uint8Array) {
    const b = Buffer.from(body);
    return `bytes(${b.length}) hex:${b.subarray(0, 48).toString('hex')}${b.length > 48 ? '…' : ''}`;
  }
  const s = String(body);
  return `${JSON.stringify(s.slice(0, 160))}${s.length > 160 ? `…(${s.length} chars)` : ''}`;
}

/** Problems with an error body in the contract's shape ('flat') or OpenAI's envelope ('openai'). */
function shapeProblems(res, family) {
  if (!/json/i.test(res.headers.get('content-type') || '')) return [`content-type ${res.headers.get('content-type')}`];
  if (typeof res.body !== 'object' || res.body === null) return ['body is not JSON'];
  const b = res.body;
  if (family === 'openai') {
    const e = b.error;
    if (typeof e !== 'object' || e === null) return ['no OpenAI envelope {error:{…}}'];
    const p = [];
    if (typeof e.message !== 'string' || !e.message) p.push('error.message empty');
    if (typeof e.type !== 'string' || !e.type) p.push('error.type missing');
    if (typeof e.code !== 'string' || !e.code) p.push('error.code missing');
    if (!('param' in e)) p.push('error.param missing');
    return p;
  }
  const p = [];
  if (typeof b.error !== 'string' || !b.error) p.push('error code missing (flat shape)');
  if (typeof b.message !== 'string' || !b.message) p.push('message empty');
  return p;
}

const ALLOWED_4XX = [400, 401, 403, 404, 405, 413, 415, 429];

/**
 * One malformed request.
 * @typedef {{route: string, name: string, method: string, path: string, headers?: object,
 *   body?: string|Uint8Array, family?: 'flat'|'openai', expect?: number[], ok2xx?: boolean}} Case
 */
/**
 * A request over a bare socket, for header values fetch refuses to send
 * (control characters). Same answer shape as api().
 */
function rawHttp(path, { method, headers = {}, body } = {}) {
  const url = new URL(BASE);
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  const head = [`${method} ${path} HTTP/1.1`, `host: ${url.host}`, 'connection: close', `content-length: ${payload.length}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(url.port || 80), url.hostname);
    const chunks = [];
    sock.setTimeout(20000, () => sock.destroy(new Error('raw request timed out')));
    sock.on('connect', () => sock.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), payload])));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      const sep = all.indexOf('\r\n\r\n');
      if (sep < 0) return reject(new Error(`no HTTP answer (${all.length} bytes)`));
      const lines = all.subarray(0, sep).toString('latin1').split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const h = new Headers();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) h.append(l.slice(0, i).trim(), l.slice(i + 1).trim());
      }
      let rest = all.subarray(sep + 4);
      if (/chunked/i.test(h.get('transfer-encoding') || '')) {
        const out = [];
        for (;;) {
          const e = rest.indexOf('\r\n');
          const n = parseInt(rest.subarray(0, e).toString(), 16);
          if (!n) break;
          out.push(rest.subarray(e + 2, e + 2 + n));
          rest = rest.subarray(e + 2 + n + 2);
        }
        rest = Buffer.concat(out);
      }
      const text = rest.toString('utf8');
      let parsed = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      resolve({ status, headers: h, body: parsed, text });
    });
  });
}

async function runCase(c) {
  const headers = { ...(c.headers || {}) };
  let res;
  try {
    res = c.raw
      ? await rawHttp(c.path, { method: c.method, body: c.body, headers })
      : await api(c.path, { method: c.method, body: c.body, headers, timeoutMs: 20000 });
  } catch (e) {
    res = { status: 0, text: `no response: ${e.message}`, headers: new Headers(), body: null };
  }
  sent += 1;
  const problems = [];
  if (res.status === 0) problems.push(res.text);
  else if (res.status >= 500) problems.push(`5xx`);
  else if (res.status >= 200 && res.status < 300) {
    if (!c.ok2xx) problems.push('bad input accepted (2xx)');
  } else if (!ALLOWED_4XX.includes(res.status)) problems.push(`unexpected status`);
  else if (c.expect && !c.expect.includes(res.status)) problems.push(`expected ${c.expect.join('/')}`);
  if (res.status >= 400) problems.push(...shapeProblems(res, c.family || 'flat'));
  if (c.allowIncludes && res.status === 405) {
    const allow = (res.headers.get('allow') || '').split(',').map((m) => m.trim());
    if (!allow.includes(c.allowIncludes) || allow.includes(c.method)) problems.push(`allow header '${allow.join(', ')}'`);
  }
  if (problems.length) {
    failures.push({
      seq: c.seq ?? Infinity,
      route: c.route,
      name: c.name,
      status: res.status,
      problems,
      request: { method: c.method, path: c.path.length > 200 ? `${c.path.slice(0, 160)}…(${c.path.length} chars)` : c.path, headers: describeHeaders(headers), body: bodyPrefix(c.body) },
      response: res.text.slice(0, 200),
    });
  }
  return { case: c, status: res.status, problems };
}

async function validProxy() {
  const res = await api('/api/v1/proxy/chat', {
    headers: { 'x-project-key': project.projectKey },
    body: { identity: `alive-${hex(6)}`, tier: 'pro', model: 'gpt-alive', messages: [{ role: 'user', content: 'still there?' }] },
  });
  return res;
}

/** /healthz is 200 and a valid proxy request still works. */
async function liveness(where) {
  const problems = [];
  try {
    const h = await api('/healthz');
    if (h.status !== 200) problems.push(`healthz ${h.status} ${h.text.slice(0, 120)}`);
    const p = await validProxy();
    if (p.status !== 200 || p.body?.object !== 'chat.completion') problems.push(`valid proxy request ${p.status} ${p.text.slice(0, 120)}`);
  } catch (e) {
    problems.push(`no response: ${e.message}`);
  }
  livenessLog.push({ where, sent, problems });
  if (problems.length) failures.push({ route: 'liveness', name: where, status: 0, problems, request: { method: '-', path: '-', headers: {}, body: '-' }, response: '' });
  return problems;
}

/** Runs cases in order with a small pool; checks liveness every LIVENESS_EVERY requests. */
let seq = 0;
async function runAll(cases) {
  for (const c of cases) c.seq = seq++; // failures are reported in case order, whatever finished first
  const results = [];
  for (let i = 0; i < cases.length; i += CONCURRENCY) {
    results.push(...(await Promise.all(cases.slice(i, i + CONCURRENCY).map(runCase))));
    if (sent - lastLiveness >= LIVENESS_EVERY) {
      lastLiveness = sent;
      await liveness(`after ${sent} requests (${cases[0]?.route})`);
    }
  }
  return results;
}

function formatFailure(f) {
  return [
    `  [${f.route}] ${f.name} → ${f.status} (${f.problems.join('; ')})`,
    `    ${f.request.method} ${f.request.path}`,
    `    headers: ${JSON.stringify(f.request.headers)}`,
    `    body: ${f.request.body}`,
    `    answer: ${f.response}`,
  ].join('\n');
}

function assertNoFailures(route) {
  const mine = failures.filter((f) => f.route === route).sort((a, b) => a.seq - b.seq);
  assert.equal(mine.length, 0, `${mine.length} bad answer(s) on ${route}:\n${mine.map(formatFailure).join('\n')}`);
}

// ---------------------------------------------------------------------------
// Case builders

const JSON_CT = { 'content-type': 'application/json' };

/** Body-level garbage every JSON route must refuse (400/413/415). */
function bodyGarbage(base, { maxBytes = 1024 * 1024, wrongType = [400] } = {}) {
  const h = base.headers || {};
  const mk = (name, body, extra = {}, expect = /^JSON /.test(name) ? wrongType : [400]) => ({
    ...base,
    name,
    body,
    headers: { ...h, ...JSON_CT, ...extra },
    expect,
  });
  const randomBytes = Uint8Array.from({ length: 24 }, () => 0x80 + randInt(0x80));
  const invalidUtf8InString = Buffer.concat([Buffer.from('{"identity":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
  const cases = [
    mk('non-JSON text', 'hello, world'),
    mk('truncated object', '{"a": '),
    mk('trailing comma', '{"a":1,}'),
    mk('trailing garbage', '{} trailing'),
    mk('single quotes', "{'a': 1}"),
    mk('NaN literal', '{"a": NaN}'),
    mk('empty body', ''),
    mk('whitespace body', ' \n\t '),
    mk('invalid UTF-8 bytes (random)', randomBytes),
    mk('invalid UTF-8 inside a JSON string', new Uint8Array(invalidUtf8InString)),
    mk('raw NUL byte inside a string', '{"a":"\u0000"}'),
    mk('UTF-8 BOM before JSON', '\ufeff{}'),
    mk('JSON array', '[1,2,3]'),
    mk('JSON string', '"a string"'),
    mk('JSON number', '42'),
    mk('JSON null', 'null'),
    mk('JSON true', 'true'),
    mk('10,000 levels of [', '['.repeat(10000)),
    mk('10,000 balanced levels of []', '['.repeat(10000) + ']'.repeat(10000), {}, [400, 413]),
    mk('10,000 levels of {"a":', '{"a":'.repeat(10000) + '1' + '}'.repeat(10000), {}, [400, 413]),
    mk('lone surrogate key', '{"\\ud800": 1}'),
    mk('content-type text/plain', '{}', { 'content-type': 'text/plain' }, [415]),
    mk('content-type form', 'a=1&b=2', { 'content-type': 'application/x-www-form-urlencoded' }, [415]),
    mk('content-type multipart', '--x\r\n\r\n--x--', { 'content-type': 'multipart/form-data; boundary=x' }, [415]),
    {
      ...base,
      name: 'no content-type, not JSON',
      body: new Uint8Array(Buffer.from('not json at all')),
      headers: { ...h },
      expect: [400, 415],
    },
    mk('body over the size cap', `{"pad":"${'p'.repeat(maxBytes + 1024)}"}`, {}, [413]),
  ];
  return cases;
}

/** Sampled field × bad value cases from a valid body. */
function fieldCases(base, validBody, spec, n = FIELD_CASES_PER_ROUTE, always = []) {
  const combos = [];
  for (const [field, values] of Object.entries(spec)) {
    for (const v of values) combos.push([field, v]);
  }
  return [...always, ...sample(combos, n)].map(([field, v]) => {
    const body = structuredCloneWithRaw(validBody);
    setPath(body, field, v);
    const text = toJson(body);
    const expect = [...((base.expectFor || {})[field] || base.fieldExpect || [400])];
    if (text.length > 16 * 1024) expect.push(413); // over the route's body cap is fine too
    return {
      ...base,
      name: `${field} = ${describeValue(v)}`,
      body: text,
      headers: { ...(base.headers || {}), ...JSON_CT },
      expect,
    };
  });
}
function structuredCloneWithRaw(v) {
  if (Array.isArray(v)) return v.map(structuredCloneWithRaw);
  if (v && typeof v === 'object') {
    if (RAW in v) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, structuredCloneWithRaw(x)]));
  }
  return v;
}
const DELETE_FIELD = Symbol('delete');
function setPath(obj, path, v) {
  const parts = path.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = o[p];
  const last = parts[parts.length - 1];
  if (v === DELETE_FIELD) delete o[last];
  else o[last] = v;
}
function describeValue(v) {
  if (v === DELETE_FIELD) return '(absent)';
  if (v && typeof v === 'object' && RAW in v) return v[RAW];
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 30)}…(${s.length} chars)` : s;
}

/** Methods a route does not serve: 405 with an `allow` header that names the route's own method. */
function methodCases(base, methods) {
  return methods.map((m) => ({
    ...base,
    name: `method ${m}`,
    method: m,
    body: m === 'GET' || m === 'DELETE' ? undefined : '{}',
    headers: { ...(base.headers || {}), ...(m === 'GET' || m === 'DELETE' ? {} : JSON_CT) },
    expect: [405],
    allowIncludes: base.method,
  }));
}

/** Bad owner sessions (401 before anything else). */
function badJwtCases(base) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = { sub: 'acct_x', email: 'x@example.com', iss: 'ai-ratelimit', aud: 'ai-ratelimit-dashboard', iat: 1, exp: 4102444800 };
  const real = owner;
  const flipped = real.slice(0, -2) + (real.at(-2) === 'A' ? 'B' : 'A') + real.at(-1);
  const bad = [
    ['no authorization', undefined],
    ['Bearer with nothing', 'Bearer'],
    ['Bearer + spaces', 'Bearer    '],
    ['Basic scheme', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['garbage token', `Bearer ${hex(40)}`],
    ['three empty parts', 'Bearer ..'],
    ['alg none', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`],
    ['HS256 with a wrong key', `Bearer ${signJwt(claims, 'not-the-secret')}`],
    ['real token, flipped signature', `Bearer ${flipped}`],
    ['real token, truncated', `Bearer ${real.slice(0, real.length - 10)}`],
    ['header not JSON', `Bearer ${Buffer.from('{{{').toString('base64url')}.${b64(claims)}.sig`],
    ['100 KB token', `Bearer ${'a'.repeat(100 * 1024)}`],
  ];
  return sample(bad, base.jwtCount ?? 6).map(([name, v]) => {
    const headers = { ...(base.headers || {}) };
    delete headers.authorization;
    if (v !== undefined) headers.authorization = v;
    return { ...base, name: `owner JWT: ${name}`, headers, body: base.body, expect: [401] };
  });
}

const auth = () => ({ authorization: `Bearer ${owner}` });

// ---------------------------------------------------------------------------
// Per-route case lists

const PROXY_BODY_SPEC = {
  identity: [...NOT_STRING, ...BAD_STRINGS, 'x'.repeat(257)],
  tier: [...NOT_STRING, ...BAD_STRINGS, 'x'.repeat(65), 'gold'],
  identityToken: [...NOT_STRING, 'garbage', '', 'a.b.c'],
  model: [DELETE_FIELD, null, ...NOT_STRING, '', 'm'.repeat(257), K100, LONE],
  messages: [DELETE_FIELD, null, [], {}, 'hi', 0, [1], [null], [{}], [{ role: 'wizard', content: 'x' }], [{ role: 'user' }], [{ role: 'user', content: 0 }], [{ role: 'user', content: {} }], [{ role: 0, content: 'x' }], [{ role: 'user', content: LONE }]],
  limitType: ['bananas', 0, [], {}, true, ''],
  max_tokens: BAD_POSITIVE,
  max_completion_tokens: BAD_POSITIVE,
  stream: ['true', 1, [], {}],
};

function proxyCases(route, path, family) {
  const key = project.projectKey;
  const keyHeaders = family === 'openai' ? { authorization: `Bearer ${key}` } : { 'x-project-key': key };
  // A token is verified whenever one is sent: a malformed one is 401 (docs/API.md, "Signed identities").
  const base = { route, method: 'POST', path, family, headers: keyHeaders, expectFor: { identityToken: [400, 401] } };
  const valid = { identity: `robust-${hex(6)}`, tier: 'free', model: `gpt-robust-${hex(4)}`, messages: [{ role: 'user', content: 'hi' }] };
  const cases = [
    ...bodyGarbage(base),
    ...fieldCases(base, valid, PROXY_BODY_SPEC),
    // keys
    { ...base, name: 'no project key', headers: {}, body: toJson(valid), expect: [401] },
    { ...base, name: 'project key: garbage', headers: { 'x-project-key': `pk_${hex(30)}` }, body: toJson(valid), expect: [401] },
    { ...base, name: 'project key: not pk_', headers: { 'x-project-key': 'sk_live_123' }, body: toJson(valid), expect: [401] },
    { ...base, name: 'project key: 100 KB', headers: { 'x-project-key': `pk_${'k'.repeat(100 * 1024)}` }, body: toJson(valid), expect: [401] },
    { ...base, name: 'project key: percent garbage', headers: { 'x-project-key': 'pk_%ZZ%00' }, body: toJson(valid), expect: [401] },
    // unknown fields are OpenAI parameters: forwarded (2xx) or refused, never 5xx
    { ...base, name: 'unknown top-level fields (forwarded)', body: toJson({ ...valid, frobnicate: { deep: [1, 2] }, __proto__x: 1 }), ok2xx: true, expect: [400] },
    // identity tokens
    ...identityTokenCases(base, valid, family),
  ];
  for (const c of cases) if (!c.headers['content-type'] && c.body !== undefined && typeof c.body === 'string') c.headers['content-type'] = 'application/json';
  return cases;
}

/** Bad signed identities (docs/API.md, "Signed identities"): garbage and forged tokens are 401, bad claims 400/401. */
function identityTokenCases(base, valid, family) {
  const sk = project.secretKey;
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const tokens = [
    ['garbage', 'garbage', [401]],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u', exp: now + 60 })}.`, [401]],
    ['wrong key', signJwt({ sub: 'u', exp: now + 60 }, 'sk_wrong'), [401]],
    ['expired', signJwt({ sub: 'u', exp: now - 3600 }, sk), [401]],
    ['exp too far ahead', signJwt({ sub: 'u', exp: now + 7 * 86400 }, sk), [401]],
    ['no exp', signJwt({ sub: 'u' }, sk), [401]],
    ['exp 1e308', `${b64({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from(`{"sub":"u","exp":1e308}`).toString('base64url')}`, [401]],
    ['exp -1', signJwt({ sub: 'u', exp: -1 }, sk), [401]],
    ['sub a number', signJwt({ sub: 12345, exp: now + 60 }, sk), [400, 401]],
    ['sub with NUL', signJwt({ sub: 'a\u0000b', exp: now + 60 }, sk), [400, 401]],
    ['sub 100 KB', signJwt({ sub: K100, exp: now + 60 }, sk), [400, 401]],
    ['sub empty', signJwt({ sub: '', exp: now + 60 }, sk), [400, 401]],
    ['tier unknown', signJwt({ sub: 'u', tier: 'gold', exp: now + 60 }, sk), [400]],
    ['tier an object', signJwt({ sub: 'u', tier: { a: 1 }, exp: now + 60 }, sk), [400, 401]],
    ['tier with control chars', signJwt({ sub: 'u', tier: 'fr\u0007ee', exp: now + 60 }, sk), [400, 401]],
    ['nbf in the future', signJwt({ sub: 'u', exp: now + 3600, nbf: now + 1800 }, sk), [401]],
    ['header alg HS512', signJwt({ sub: 'u', exp: now + 60 }, sk, { alg: 'HS512', typ: 'JWT' }), [401]],
    ['100 KB garbage', 'e'.repeat(100 * 1024), [401]],
  ];
  // exp 1e308 needs a (wrong) signature part to be a 3-part token
  tokens[6][1] = `${tokens[6][1]}.${hex(43)}`;
  return sample(tokens, 10).map(([name, tok, expect]) => {
    if (family === 'openai') {
      const body = { ...valid };
      delete body.identity;
      return { ...base, name: `x-identity-token: ${name}`, headers: { ...base.headers, 'x-identity-token': tok }, body: toJson(body), expect };
    }
    return { ...base, name: `identityToken: ${name}`, body: toJson({ ...valid, identityToken: tok }), expect };
  });
}

function openAiHeaderCases() {
  const key = project.projectKey;
  const base = { route: 'POST /v1/chat/completions', method: 'POST', path: '/v1/chat/completions', family: 'openai' };
  const body = toJson({ model: 'gpt-robust', messages: [{ role: 'user', content: 'hi' }] });
  const h = (extra) => ({ authorization: `Bearer ${key}`, ...JSON_CT, ...extra });
  const list = [
    ['no x-identity', {}, [400]],
    ['x-identity 100 KB', { 'x-identity': 'i'.repeat(100 * 1024) }, [400]],
    ['x-identity 257 chars', { 'x-identity': 'i'.repeat(257) }, [400]],
    ['x-identity with control char', { 'x-identity': 'a\u0001b' }, [400]],
    ['x-identity with DEL', { 'x-identity': 'a\u007fb' }, [400]],
    ['x-tier unknown', { 'x-identity': 'u1', 'x-tier': 'gold' }, [400]],
    ['x-tier 100 KB', { 'x-identity': 'u1', 'x-tier': 't'.repeat(100 * 1024) }, [400]],
    ['x-tier 65 chars', { 'x-identity': 'u1', 'x-tier': 't'.repeat(65) }, [400]],
    ['x-tier with control char', { 'x-identity': 'u1', 'x-tier': 'fr\u0002ee' }, [400]],
    ['Bearer sk_ instead of pk_', { authorization: 'Bearer sk_abc', 'x-identity': 'u1' }, [401]],
    ['Authorization: Basic', { authorization: 'Basic YTpi', 'x-identity': 'u1' }, [401]],
    ['Authorization: Bearer empty', { authorization: 'Bearer ', 'x-identity': 'u1' }, [401]],
  ];
  // fetch refuses control characters in header values: those go over a bare socket.
  return list.map(([name, extra, expect]) => ({ ...base, name, headers: h(extra), body, expect, raw: /control char|DEL/.test(name) }));
}

function usageCases() {
  const key = project.projectKey;
  const base = { route: 'GET /api/v1/usage', method: 'GET', family: 'flat', headers: { 'x-project-key': key } };
  const q = (name, query, expect = [400], extra = {}) => ({ ...base, name, path: `/api/v1/usage${query}`, expect, headers: { ...base.headers, ...extra } });
  const sk = project.secretKey;
  const now = Math.floor(Date.now() / 1000);
  return [
    q('no identity', ''),
    q('identity empty', '?identity='),
    q('identity %00', '?identity=%00'),
    q('identity control chars', '?identity=a%01%1Fb'),
    q('identity 257 chars', `?identity=${'i'.repeat(257)}`),
    q('identity 8 KB', `?identity=${'i'.repeat(8192)}`),
    q('identity percent garbage (decodes literally)', '?identity=%ZZ%', [400], {}),
    q('identity invalid UTF-8 escape', '?identity=%C3%28%FF', [400]),
    q('tier unknown', '?identity=u1&tier=gold'),
    q('tier empty', '?identity=u1&tier='),
    q('tier %00', '?identity=u1&tier=%00'),
    q('tier 65 chars', `?identity=u1&tier=${'t'.repeat(65)}`),
    q('tier 100 KB? (8 KB)', `?identity=u1&tier=${'t'.repeat(8192)}`),
    q('no project key', '?identity=u1', [401], { 'x-project-key': '' }),
    q('garbage project key', '?identity=u1', [401], { 'x-project-key': `pk_${hex(20)}` }),
    q('project key 100 KB', '?identity=u1', [401], { 'x-project-key': `pk_${'k'.repeat(100 * 1024)}` }),
    q('x-identity-token garbage', '', [401], { 'x-identity-token': 'garbage' }),
    q('x-identity-token expired', '', [401], { 'x-identity-token': signJwt({ sub: 'u', exp: now - 3600 }, sk) }),
    q('x-identity-token wrong key', '?identity=u1', [401], { 'x-identity-token': signJwt({ sub: 'u', exp: now + 60 }, 'sk_nope') }),
    q('x-identity-token sub NUL', '', [400, 401], { 'x-identity-token': signJwt({ sub: '\u0000', exp: now + 60 }, sk) }),
    q('x-identity-token tier unknown', '', [400], { 'x-identity-token': signJwt({ sub: 'u', tier: 'gold', exp: now + 60 }, sk) }),
    q('x-identity-token 100 KB', '', [401], { 'x-identity-token': 't'.repeat(100 * 1024) }),
    ...methodCases({ ...base, path: '/api/v1/usage?identity=u1' }, ['POST', 'PUT', 'DELETE', 'PATCH']),
  ].map((c) => (c.name.startsWith('identity percent garbage') || c.name.startsWith('identity invalid UTF-8') ? { ...c, ok2xx: true } : c));
}

// --- Dashboard

const EMAIL_SPEC = { email: [DELETE_FIELD, null, ...NOT_STRING, ...BAD_STRINGS, 'no-at-sign', '@example.com', 'a@b', 'a@.com', 'a@b.', 'a@@b.com', `${'a'.repeat(250)}@example.com`, 'a b@example.com'] };

function authCases() {
  const ml = { route: 'POST /api/auth/magic-link', method: 'POST', path: '/api/auth/magic-link', family: 'flat', headers: {} };
  const vf = { route: 'POST /api/auth/verify', method: 'POST', path: '/api/auth/verify', family: 'flat', headers: {} };
  const me = { route: 'GET /api/auth/me', method: 'GET', path: '/api/auth/me', family: 'flat', headers: {} };
  return {
    [ml.route]: [
      ...bodyGarbage(ml, { maxBytes: 16 * 1024 }),
      ...fieldCases(ml, { email: 'robust@example.com' }, EMAIL_SPEC),
      ...methodCases(ml, ['GET', 'PUT', 'DELETE']),
    ],
    [vf.route]: [
      // A body without a usable `token` is an invalid link (401) or a bad request (400).
      ...bodyGarbage(vf, { maxBytes: 16 * 1024, wrongType: [400, 401] }),
      ...fieldCases({ ...vf, fieldExpect: [400, 401] }, { token: hex(64) }, { token: [DELETE_FIELD, null, ...NOT_STRING, ...BAD_STRINGS, hex(64), 't'.repeat(257)] }),
      ...methodCases(vf, ['GET', 'PUT', 'DELETE']),
    ],
    [me.route]: [...badJwtCases({ ...me, jwtCount: 12 }), ...methodCases({ ...me, headers: auth() }, ['POST', 'PUT', 'DELETE', 'PATCH'])],
  };
}

const PROJECT_SPEC = {
  name: [null, ...NOT_STRING, ...BAD_STRINGS, 'n'.repeat(101)],
  provider: [null, ...NOT_STRING, '', 'openai\u0000', 'OPENAI', 'azure', LONE],
  baseUrl: [...NOT_STRING, '', 'not a url', 'ftp://example.com', 'javascript:alert(1)', 'http://169.254.169.254/latest', 'http://[fe80::1]/v1', 'http://metadata.google.internal/', `https://${'h'.repeat(2000)}.com`, 'https://exa\u0000mple.com', 'https://%ZZ.example.com', LONE, K100],
  providerApiKey: [...NOT_STRING, ...BAD_STRINGS, 'k'.repeat(1001)],
  defaultTier: [...NOT_STRING, '', 'bad tier!', '\u0000', 't'.repeat(65), LONE],
  tiers: [null, [], {}, 'free', 0, { free: [] }, { free: 'x' }, { 'bad name!': {} }, { '': {} }, { 'a\u0000': {} }, Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`t${i}`, {}]))],
  'tiers.free.requests.limit': [-1, 1.5, '5', BIG, NEG_BIG, U64, U64MAX, SAFE_PLUS_1, [], {}, true],
  'tiers.free.requests.period': [null, 'year', 'DAY', '', 0, [], LONE],
  'tiers.free.requests': ['x', 5, [], { limit: 5 }, { limit: 5, period: 'day', extra: 1 }],
  'tiers.free.tokens': [{ limit: -5, period: 'day' }, { limit: U64, period: 'hour' }, { limit: 1, period: 'fortnight' }],
  'tiers.free.defaultMaxTokens': [0, -1, 1.5, '10', BIG, U64, SAFE_PLUS_1],
  'tiers.free.limitMessage': ['x', [], { deepLink: 'a://b' }, { message: 'm'.repeat(501) }, { message: 'hi', deepLink: 'a b\u0000' }, { message: 'hi', extra: 1 }, { message: 0 }],
  'tiers.free.models': ['x', [], { '': {} }, { ['m'.repeat(257)]: {} }, { m: { requests: { limit: -1, period: 'day' } } }, { m: { bogus: 1 } }],
  'tiers.free.bogus': [1, 'x', {}],
  requireSignedIdentity: ['true', 1, 0, [], {}, null],
  allowedOrigins: ['https://a.com', {}, 0, [0], [''], ['ftp://a.com'], ['https://a.com?x=1'], ['https://a.com#f'], ['https://a\u0000.com'], Array.from({ length: 51 }, (_, i) => `https://a${i}.com`)],
  bogusField: [1, 'x', null],
  id: ['prj_other'],
  projectKey: ['pk_mine'],
};

function validProjectBody() {
  return {
    name: `robust-${hex(6)}`,
    provider: 'openai',
    baseUrl: 'http://127.0.0.1:3100/openai/v1',
    providerApiKey: 'sk-robust',
    defaultTier: 'free',
    tiers: { free: { requests: { limit: 10, period: 'day' } } },
  };
}

function projectCases() {
  const list = { route: 'GET /api/projects', method: 'GET', path: '/api/projects', family: 'flat', headers: auth() };
  const create = { route: 'POST /api/projects', method: 'POST', path: '/api/projects', family: 'flat', headers: auth() };
  const id = patchTarget.id;
  const one = { route: 'GET|PATCH|DELETE /api/projects/:id', method: 'PATCH', path: `/api/projects/${id}`, family: 'flat', headers: auth() };
  // Control characters in every stored string, always (the rest is sampled).
  const always = [
    ['name', 'a\u0000b'],
    ['tiers.free.limitMessage', { message: 'up\u0000grade' }],
    ['tiers.free.limitMessage', { message: 'ok', deepLink: 'myapp://\u0000' }],
    ['tiers.free.models', { 'gpt\u0000x': { requests: { limit: 1, period: 'day' } } }],
    ['tiers', { 'fr\u0000ee': {} }],
    ['providerApiKey', 'sk-\u0000'],
    ['allowedOrigins', ['https://a.com\u0000']],
  ];
  const patchBody = { name: patchTarget.name, tiers: structuredCloneWithRaw(patchTarget.tiers) };
  const badIds = ['%00', '%ZZ', '%', '..', `prj_${'x'.repeat(3000)}`, "prj_' OR '1'='1", '%F0%9F%92%A9', '%C3%28', '%20'];
  return {
    [list.route]: [
      ...badJwtCases({ ...list, jwtCount: 8 }),
      ...methodCases(list, ['PUT', 'DELETE', 'PATCH']),
    ],
    [create.route]: [
      ...bodyGarbage(create, { maxBytes: 256 * 1024 }),
      ...fieldCases(create, validProjectBody(), PROJECT_SPEC, 26, always),
      ...badJwtCases({ ...create, jwtCount: 4, body: toJson(validProjectBody()), headers: { ...auth(), ...JSON_CT } }),
    ],
    [one.route]: [
      ...bodyGarbage(one, { maxBytes: 256 * 1024 }),
      ...fieldCases(one, patchBody, PROJECT_SPEC, 26, always),
      ...badIds.flatMap((bad) => [
        { ...one, name: `GET id ${bad.slice(0, 20)}`, method: 'GET', path: `/api/projects/${bad}`, body: undefined, expect: [400, 404] },
        { ...one, name: `DELETE id ${bad.slice(0, 20)}`, method: 'DELETE', path: `/api/projects/${bad}`, body: undefined, expect: [400, 404] },
      ]),
      { ...one, name: 'PATCH unknown id, valid body', path: `/api/projects/prj_${hex(16)}`, body: '{"name":"x"}', headers: { ...auth(), ...JSON_CT }, expect: [404] },
      ...badJwtCases({ ...one, jwtCount: 3, method: 'GET', body: undefined }),
      ...methodCases(one, ['PUT', 'POST']),
    ],
  };
}

const CONDITION_BAD = [
  null, 'x', 0, [], {}, { type: 'nope' }, { type: 0 }, { type: 'tier' }, { type: 'tier', tiers: [] }, { type: 'tier', tiers: 'free' },
  { type: 'tier', tiers: [0] }, { type: 'tier', tiers: ['\u0000'] }, { type: 'tier', tiers: [LONE] }, { type: 'tier', tiers: ['t'.repeat(65)] },
  { type: 'tier', tiers: Array.from({ length: 51 }, (_, i) => `t${i}`) }, { type: 'model', models: [''] }, { type: 'model', models: [K100] },
  { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: -1 },
  { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: BIG },
  { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: '80' },
  { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: 1001 },
  { type: 'usage_absolute', metric: 'tokens', operator: 'gt', threshold: U64 },
  { type: 'usage_absolute', metric: 'bytes', operator: 'gt', threshold: 1 },
  { type: 'usage_absolute', metric: 'tokens', operator: '>=', threshold: 1 },
  { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: 80, extra: true },
  { type: 'all', conditions: [] }, { type: 'any', conditions: 'x' }, { type: 'all', conditions: [null] },
  { type: 'any', conditions: Array.from({ length: 51 }, () => ({ type: 'tier', tiers: ['free'] })) },
  Array.from({ length: 30 }).reduce((c) => ({ type: 'all', conditions: [c] }), { type: 'tier', tiers: ['free'] }),
];
const ACTION_BAD = [null, 'warn', 0, [], {}, { type: 'explode' }, { type: 0 }, { type: 'warn', message: 0 }, { type: 'warn', message: 'm'.repeat(501) }, { type: 'warn', message: 'a\u0000b' }, { type: 'warn', message: LONE }, { type: 'block', deepLink: 'javascript:alert(1)' }, { type: 'block', deepLink: 'a b' }, { type: 'block', deepLink: 'x'.repeat(2001) }, { type: 'block', deepLink: {} }, { type: 'warn', bogus: 1 }];
const RULE_SPEC = {
  name: [DELETE_FIELD, null, ...NOT_STRING, ...BAD_STRINGS, 'n'.repeat(101)],
  enabled: ['true', 1, 0, [], {}],
  priority: [1.5, '1', BIG, NEG_BIG, U64, 1e10, -1e10, [], {}, true],
  condition: [DELETE_FIELD, ...CONDITION_BAD],
  action: [DELETE_FIELD, ...ACTION_BAD],
  id: ['rule_mine'],
  projectId: ['prj_x'],
  createdAt: ['2026-01-01T00:00:00Z'],
};
const validRule = () => ({ name: `robust ${hex(4)}`, condition: { type: 'tier', tiers: ['free'] }, action: { type: 'warn', message: 'hello' } });

function ruleCases() {
  const pid = project.id;
  const list = { route: 'GET|POST /api/projects/:id/rules', method: 'POST', path: `/api/projects/${pid}/rules`, family: 'flat', headers: auth() };
  const one = { route: 'PATCH|DELETE /api/projects/:id/rules/:ruleId', method: 'PATCH', path: `/api/projects/${pid}/rules/${ruleId}`, family: 'flat', headers: auth() };
  const patchSpec = Object.fromEntries(Object.entries(RULE_SPEC).map(([k, v]) => [k, v.filter((x) => x !== DELETE_FIELD)]));
  const badRuleIds = ['%00', '%ZZ', '%', `rule_${'x'.repeat(3000)}`, "rule_' OR 1=1 --", '%C3%28'];
  return {
    [list.route]: [
      ...bodyGarbage(list, { maxBytes: 64 * 1024 }),
      ...fieldCases(list, validRule(), RULE_SPEC, 26, [['name', 'a\u0000b'], ['action', { type: 'warn', message: 'a\u0000b' }], ['condition', { type: 'model', models: ['gpt\u0000x'] }]]),
      { ...list, name: 'GET rules of a garbage project id', method: 'GET', path: '/api/projects/%00/rules', body: undefined, expect: [400, 404] },
      { ...list, name: 'POST rules of a garbage project id', path: '/api/projects/%ZZ/rules', body: toJson(validRule()), headers: { ...auth(), ...JSON_CT }, expect: [400, 404] },
      ...badJwtCases({ ...list, jwtCount: 3, method: 'GET', body: undefined }),
      ...methodCases(list, ['PUT', 'DELETE', 'PATCH']),
    ],
    [one.route]: [
      ...bodyGarbage(one, { maxBytes: 64 * 1024 }),
      ...fieldCases(one, { name: 'renamed' }, patchSpec, 24),
      ...badRuleIds.flatMap((bad) => [
        { ...one, name: `PATCH ruleId ${bad.slice(0, 20)}`, path: `/api/projects/${pid}/rules/${bad}`, body: '{"name":"x"}', headers: { ...auth(), ...JSON_CT }, expect: [400, 404] },
        { ...one, name: `DELETE ruleId ${bad.slice(0, 20)}`, method: 'DELETE', path: `/api/projects/${pid}/rules/${bad}`, body: undefined, expect: [400, 404] },
      ]),
      ...badJwtCases({ ...one, jwtCount: 3, body: '{"name":"x"}', headers: { ...auth(), ...JSON_CT } }),
      ...methodCases(one, ['GET', 'PUT', 'POST']),
    ],
  };
}

function simulateCases() {
  const pid = project.id;
  const base = { route: 'POST /api/projects/:id/rules/simulate', method: 'POST', path: `/api/projects/${pid}/rules/simulate`, family: 'flat', headers: auth() };
  const spec = {
    tier: [...NOT_STRING, '', 'gold', '\u0000', K100, LONE],
    model: [...NOT_STRING, '', 'm'.repeat(257), K100, LONE],
    usage: ['x', 0, [], true],
    'usage.requests': BAD_COUNT,
    'usage.tokens': BAD_COUNT,
    requestTokens: BAD_COUNT,
    rules: ['x', 0, {}, [0], [null], [{}], [{ ...validRule(), id: '' }], [{ ...validRule(), id: 0 }], [{ ...validRule(), id: '\u0000' }], [{ ...validRule(), bogus: 1 }], Array.from({ length: 51 }, validRule), [{ ...validRule(), condition: CONDITION_BAD[29] }]],
    bogus: [1],
  };
  return [
    ...bodyGarbage(base, { maxBytes: 64 * 1024 }),
    ...fieldCases(base, { tier: 'free', model: 'gpt', usage: { requests: 1, tokens: 1 }, requestTokens: 1 }, spec, 30),
    ...badJwtCases({ ...base, jwtCount: 3, body: '{}', headers: { ...auth(), ...JSON_CT } }),
    ...methodCases(base, ['GET', 'PUT', 'DELETE']),
  ];
}

function queryRoute(route, pathFn, queries, { methods = ['POST', 'PUT', 'DELETE'], jwt = 3, ok2xx = [] } = {}) {
  const pid = project.id;
  const base = { route, method: 'GET', path: pathFn(pid), family: 'flat', headers: auth() };
  return [
    ...queries.map(([name, query, expect = [400]]) => ({ ...base, name, path: `${pathFn(pid)}${query}`, expect, ok2xx: ok2xx.includes(name) })),
    { ...base, name: 'garbage project id %00', path: pathFn('%00'), expect: [400, 404] },
    { ...base, name: 'garbage project id %ZZ', path: pathFn('%ZZ'), expect: [400, 404] },
    { ...base, name: 'unknown project id', path: pathFn(`prj_${hex(16)}`), expect: [404] },
    ...badJwtCases({ ...base, jwtCount: jwt }),
    ...methodCases(base, methods),
  ];
}

const cursor = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const DAYS_BAD = (max) => [
  ['days=-1', '?days=-1'], ['days=0', '?days=0'], ['days=abc', '?days=abc'], ['days=1.5', '?days=1.5'], ['days=1e9', '?days=1e9'],
  [`days=${max + 1}`, `?days=${max + 1}`], ['days=2^64', '?days=18446744073709551616'], ['days empty', '?days='], ['days=%00', '?days=%00'],
  ['days=%ZZ', '?days=%ZZ'], ['days= 7 (spaces)', '?days=%207%20'], ['days=+7', '?days=%2B7', [200, 400]], ['days=0x10', '?days=0x10'], ['days 8 KB', `?days=${'9'.repeat(8192)}`],
];

function analyticsCases() {
  return {
    'GET /api/projects/:id/usage/summary': queryRoute('GET /api/projects/:id/usage/summary', (p) => `/api/projects/${p}/usage/summary`, [
      ['period=year', '?period=year'], ['period=minute', '?period=minute'], ['period=hour', '?period=hour'], ['period=DAY', '?period=DAY'], ['period empty', '?period='],
      ['period=%00', '?period=%00'], ['period=%ZZ', '?period=%ZZ'], ['period=day%00', '?period=day%00'], ['period 8 KB', `?period=${'d'.repeat(8192)}`], ['period=%C3%28', '?period=%C3%28'],
    ]),
    'GET /api/projects/:id/usage/by-identity': queryRoute('GET /api/projects/:id/usage/by-identity', (p) => `/api/projects/${p}/usage/by-identity`, [
      ['date=2026-02-30', '?date=2026-02-30'], ['date=2026-13-01', '?date=2026-13-01'], ['date=2026-00-10', '?date=2026-00-10'], ['date=abc', '?date=abc'],
      ['date=2026-1-1', '?date=2026-1-1'], ['date empty', '?date='], ['date=%00', '?date=%00'], ['date=0000-01-01', '?date=0000-01-01', [200, 400]],
      ['date=+026-01-01', '?date=%2B026-01-01', [200, 400]], ['date=2026-+1-01', '?date=2026-%2B1-01', [200, 400]], ['date=99999-01-01', '?date=99999-01-01'],
      ['limit=1e9', '?limit=1e9'], ['limit=0', '?limit=0'], ['limit=-1', '?limit=-1'], ['limit=abc', '?limit=abc'], ['limit=501', '?limit=501'], ['limit=2^64', '?limit=18446744073709551616'],
      ['cursor=%%%', '?cursor=%%%'], ['cursor=!!!', '?cursor=!!!'], ['cursor empty', '?cursor=', [200, 400]], ['cursor not JSON', `?cursor=${cursor('hello')}`],
      ['cursor wrong JSON shape', `?cursor=${cursor([1, 2, 3])}`], ['cursor object', `?cursor=${cursor({ a: 1 })}`], ['cursor with NUL', `?cursor=${cursor(['\u0000', '', ''])}`, [200, 400]],
      ['cursor lone surrogate', `?cursor=${Buffer.from('["\\ud800","",""]').toString('base64url')}`], ['cursor 8 KB', `?cursor=${'A'.repeat(8192)}`],
    ], { ok2xx: ['date=0000-01-01', 'date=+026-01-01', 'date=2026-+1-01', 'cursor empty', 'cursor with NUL'] }),
    // A leading '+' (`days=+7`) parses as 7: lenient, not wrong.
    'GET /api/projects/:id/usage/timeseries': queryRoute('GET /api/projects/:id/usage/timeseries', (p) => `/api/projects/${p}/usage/timeseries`, DAYS_BAD(366), { ok2xx: ['days=+7'] }),
    'GET /api/projects/:id/analytics/rule-triggers': queryRoute('GET /api/projects/:id/analytics/rule-triggers', (p) => `/api/projects/${p}/analytics/rule-triggers`, DAYS_BAD(366), { ok2xx: ['days=+7'] }),
    'GET /api/projects/:id/analytics/recent-triggers': queryRoute('GET /api/projects/:id/analytics/recent-triggers', (p) => `/api/projects/${p}/analytics/recent-triggers`, DAYS_BAD(500).map(([n, q, e]) => [n.replace(/days/g, 'limit'), q.replace(/days/g, 'limit'), e]), { ok2xx: ['limit=+7'] }),
  };
}

const BAD_IDENTITY_SEGMENTS = [
  '%ZZ', '%00', '%', '%4', '%C3', '%C3%28', '%FF%FE', '%ED%A0%80', 'a%01b', '%7F', '%+1', '%-1', '%0A', `${'i'.repeat(257)}`, `${'%41'.repeat(257)}`, '%E2%80%8', '%%%',
];

function identityCases() {
  const pid = project.id;
  const get = { route: 'GET /api/projects/:id/identities/:identity', method: 'GET', family: 'flat', headers: auth() };
  const reset = { route: 'POST /api/projects/:id/identities/:identity/reset', method: 'POST', family: 'flat', headers: auth() };
  const valid = `ident-${hex(6)}`;
  return {
    [get.route]: [
      ...BAD_IDENTITY_SEGMENTS.map((s) => ({ ...get, name: `identity ${s.slice(0, 24)}`, path: `/api/projects/${pid}/identities/${s}`, expect: [400, 404] })),
      { ...get, name: 'tier=gold', path: `/api/projects/${pid}/identities/${valid}?tier=gold`, expect: [400] },
      { ...get, name: 'tier=%00', path: `/api/projects/${pid}/identities/${valid}?tier=%00`, expect: [400] },
      { ...get, name: 'tier empty', path: `/api/projects/${pid}/identities/${valid}?tier=`, expect: [400] },
      { ...get, name: 'tier 8 KB', path: `/api/projects/${pid}/identities/${valid}?tier=${'t'.repeat(8192)}`, expect: [400] },
      { ...get, name: 'garbage project id', path: `/api/projects/%00/identities/${valid}`, expect: [400, 404] },
      { ...get, name: 'extra path segment', path: `/api/projects/${pid}/identities/${valid}/extra`, expect: [404, 405] },
      ...badJwtCases({ ...get, path: `/api/projects/${pid}/identities/${valid}`, jwtCount: 3 }),
      ...methodCases({ ...get, path: `/api/projects/${pid}/identities/${valid}` }, ['POST', 'PUT', 'DELETE', 'PATCH']),
    ],
    [reset.route]: [
      ...BAD_IDENTITY_SEGMENTS.map((s) => ({ ...reset, name: `identity ${s.slice(0, 24)}`, path: `/api/projects/${pid}/identities/${s}/reset`, expect: [400, 404] })),
      { ...reset, name: 'tier=gold', path: `/api/projects/${pid}/identities/${valid}/reset?tier=gold`, expect: [400] },
      { ...reset, name: 'tier=%00', path: `/api/projects/${pid}/identities/${valid}/reset?tier=%00`, expect: [400] },
      { ...reset, name: 'garbage project id', path: `/api/projects/%ZZ/identities/${valid}/reset`, expect: [400, 404] },
      ...badJwtCases({ ...reset, path: `/api/projects/${pid}/identities/${valid}/reset`, jwtCount: 3 }),
      ...methodCases({ ...reset, path: `/api/projects/${pid}/identities/${valid}/reset` }, ['GET', 'PUT', 'DELETE']),
    ],
  };
}

function rotateCases() {
  const pid = project.id;
  const out = {};
  for (const what of ['keys', 'secret']) {
    const route = `POST /api/projects/:id/${what}/rotate`;
    const base = { route, method: 'POST', family: 'flat', headers: auth(), path: `/api/projects/${pid}/${what}/rotate` };
    // Never a successful rotation of the sweep's own project (it would revoke the key in use).
    out[route] = [
      ...['%00', '%ZZ', '%', `prj_${'x'.repeat(3000)}`, `prj_${hex(16)}`, '%C3%28'].map((id) => ({ ...base, name: `project id ${id.slice(0, 20)}`, path: `/api/projects/${id}/${what}/rotate`, expect: [400, 404] })),
      ...badJwtCases({ ...base, jwtCount: 5, body: '{}', headers: { ...auth(), ...JSON_CT } }),
      ...methodCases(base, ['GET', 'PUT', 'DELETE', 'PATCH']),
    ];
  }
  return out;
}

const WEBHOOK_SPEC = {
  url: [DELETE_FIELD, null, ...NOT_STRING, '', '   ', '\u0000', LONE, K100, 'ftp://a.com/x', 'http://169.254.169.254/latest', 'https://user:pw@a.com/', 'https://a\u0000.com/', 'http://[::ffff:a9fe:a9fe]/', 'javascript:alert(1)'],
  events: [DELETE_FIELD, null, 'identity.warned', [], {}, [0], ['nope'], ['webhook.test'], [LONE], ['identity.warned', 0]],
  description: [0, [], {}, true, '\u0000', 'a\u0001b', 'x\u007f', 'line\nbreak', '\u001b[31m', LONE, 'd'.repeat(201)],
  enabled: ['true', 1, 0, [], {}],
  secret: ['whsec_mine'],
  id: ['whk_mine'],
  bogus: [1],
};
const validWebhook = () => ({ url: 'http://127.0.0.1:9/robust', events: ['identity.limit_reached'], description: 'robust' });

function webhookCases() {
  const pid = project.id;
  const list = { route: 'GET|POST /api/projects/:id/webhooks', method: 'POST', path: `/api/projects/${pid}/webhooks`, family: 'flat', headers: auth() };
  const one = { route: 'PATCH|DELETE /api/projects/:id/webhooks/:webhookId', method: 'PATCH', path: `/api/projects/${pid}/webhooks/${webhookId}`, family: 'flat', headers: auth() };
  const send = { route: 'POST /api/projects/:id/webhooks/:webhookId/test|secret/rotate', method: 'POST', path: `/api/projects/${pid}/webhooks/${webhookId}/test`, family: 'flat', headers: auth() };
  const patchSpec = Object.fromEntries(Object.entries(WEBHOOK_SPEC).map(([k, v]) => [k, v.filter((x) => x !== DELETE_FIELD)]));
  const badIds = ['%00', '%ZZ', '%', `whk_${'x'.repeat(3000)}`, "whk_' OR 1=1 --", '%C3%28'];
  return {
    [list.route]: [
      ...bodyGarbage(list, { maxBytes: 16 * 1024 }),
      ...fieldCases(list, validWebhook(), WEBHOOK_SPEC, 30),
      { ...list, name: 'GET webhooks of a garbage project id', method: 'GET', path: '/api/projects/%00/webhooks', body: undefined, expect: [400, 404] },
      ...badJwtCases({ ...list, jwtCount: 3, method: 'GET', body: undefined }),
      ...methodCases(list, ['PUT', 'DELETE', 'PATCH']),
    ],
    [one.route]: [
      ...bodyGarbage(one, { maxBytes: 16 * 1024 }),
      ...fieldCases(one, { description: 'renamed' }, patchSpec, 30),
      ...badIds.flatMap((bad) => [
        { ...one, name: `PATCH webhookId ${bad.slice(0, 20)}`, path: `/api/projects/${pid}/webhooks/${bad}`, body: '{"enabled":true}', headers: { ...auth(), ...JSON_CT }, expect: [400, 404] },
        { ...one, name: `DELETE webhookId ${bad.slice(0, 20)}`, method: 'DELETE', path: `/api/projects/${pid}/webhooks/${bad}`, body: undefined, expect: [400, 404] },
      ]),
      ...badJwtCases({ ...one, jwtCount: 3, body: '{"enabled":true}', headers: { ...auth(), ...JSON_CT } }),
      ...methodCases(one, ['GET', 'PUT', 'POST']),
    ],
    [send.route]: [
      ...['"x"', '[]', '0', 'null', '{"type":"nope"}', '{"type":0}', '{"type":"identity.warned","x":1}', '{', '\u0000', '{"type":"\\ud800"}'].map((body) => ({ ...send, name: `test body ${body}`, body, headers: { ...auth(), ...JSON_CT }, expect: [400] })),
      ...badIds.flatMap((bad) => [
        { ...send, name: `test webhookId ${bad.slice(0, 20)}`, path: `/api/projects/${pid}/webhooks/${bad}/test`, expect: [400, 404] },
        { ...send, name: `rotate webhookId ${bad.slice(0, 20)}`, path: `/api/projects/${pid}/webhooks/${bad}/secret/rotate`, expect: [400, 404] },
      ]),
      ...badJwtCases({ ...send, jwtCount: 3 }),
      ...methodCases(send, ['GET', 'PUT', 'DELETE', 'PATCH']),
    ],
    'GET /api/projects/:id/webhook-deliveries': queryRoute('GET /api/projects/:id/webhook-deliveries', (p) => `/api/projects/${p}/webhook-deliveries`, [
      ['status=lost', '?status=lost'], ['status empty', '?status='], ['status=%00', '?status=%00'], ['status=DEAD', '?status=DEAD'], ['status 8 KB', `?status=${'d'.repeat(8192)}`],
      ['limit=0', '?limit=0'], ['limit=201', '?limit=201'], ['limit=-1', '?limit=-1'], ['limit=abc', '?limit=abc'], ['limit=1e9', '?limit=1e9'], ['limit=2^64', '?limit=18446744073709551616'],
      ['endpoint=%00', '?endpoint=%00'], ['endpoint 8 KB', `?endpoint=${'w'.repeat(8192)}`], ['endpoint=whk_%C3%28', '?endpoint=whk_%C3%28'],
    ]),
    'POST /api/projects/:id/webhook-deliveries/:deliveryId/redeliver': [
      ...badIds.map((bad) => ({ ...send, route: 'POST /api/projects/:id/webhook-deliveries/:deliveryId/redeliver', name: `deliveryId ${bad.slice(0, 20)}`, path: `/api/projects/${pid}/webhook-deliveries/${bad.replace('whk_', 'whd_')}/redeliver`, expect: [400, 404] })),
      ...methodCases({ ...send, route: 'POST /api/projects/:id/webhook-deliveries/:deliveryId/redeliver', path: `/api/projects/${pid}/webhook-deliveries/whd_x/redeliver` }, ['GET', 'PUT', 'DELETE', 'PATCH']),
    ],
  };
}

function budgetCases() {
  const pid = project.id;
  const base = { route: 'GET|POST /api/projects/:id/budgets', method: 'POST', path: `/api/projects/${pid}/budgets`, family: 'flat', headers: auth() };
  const del = { route: 'DELETE /api/projects/:id/budgets/:budgetId', method: 'DELETE', family: 'flat', headers: auth() };
  const spec = {
    metric: [...NOT_STRING, '', 'cost-ish', 'Requests', '\u0000', K100, LONE],
    period: [...NOT_STRING, '', 'year', 'Day', K100, LONE],
    limit: [...BAD_COUNT, 0, null],
    bogus: [1],
  };
  return {
    [base.route]: [
      ...bodyGarbage(base, { maxBytes: 16 * 1024 }),
      ...fieldCases(base, { metric: 'requests', period: 'day', limit: 1_000_000 }, spec, 30),
      { ...base, name: 'garbage project id', method: 'GET', path: '/api/projects/%00/budgets', body: undefined, expect: [400, 404] },
      ...badJwtCases({ ...base, jwtCount: 3, body: '{}', headers: { ...auth(), ...JSON_CT } }),
      ...methodCases(base, ['PUT', 'PATCH', 'DELETE']),
    ],
    [del.route]: [
      ...['%00', '%ZZ', 'requests', 'requests-year', 'cost-day', `${'x'.repeat(3000)}`, '%C3%28', 'tokens-week'].map((id) => ({ ...del, name: `budget id ${id.slice(0, 20)}`, path: `/api/projects/${pid}/budgets/${id}`, expect: [400, 404] })),
      ...badJwtCases({ ...del, path: `/api/projects/${pid}/budgets/requests-day`, jwtCount: 3 }),
      ...methodCases({ ...del, path: `/api/projects/${pid}/budgets/requests-day` }, ['GET', 'POST', 'PUT', 'PATCH']),
    ],
  };
}

function templateCases() {
  const base = { route: 'GET /api/rule-templates', method: 'GET', path: '/api/rule-templates', family: 'flat', headers: auth() };
  return [...badJwtCases({ ...base, jwtCount: 8 }), ...methodCases(base, ['POST', 'PUT', 'DELETE', 'PATCH'])];
}

function unknownRouteCases() {
  const base = { route: 'unknown routes', method: 'GET', family: 'flat', headers: auth() };
  return [
    { ...base, name: '/api/nope', path: '/api/nope', expect: [404] },
    { ...base, name: '/api/%00', path: '/api/%00', expect: [400, 404] },
    { ...base, name: '/api/projects/x/y/z/w/v', path: `/api/projects/${project.id}/y/z/w/v`, expect: [404] },
    { ...base, name: '/v1/models', path: '/v1/models', family: 'openai', expect: [404] },
    { ...base, name: '/v1/chat/completions GET', path: '/v1/chat/completions', family: 'openai', expect: [404, 405] },
    { ...base, name: '/v1/%ZZ', path: '/v1/%ZZ', family: 'openai', expect: [404] },
    { ...base, name: 'POST /api/v1/proxy/chat/%00', method: 'POST', path: '/api/v1/proxy/chat/%00', body: '{}', headers: { ...auth(), ...JSON_CT }, expect: [404] },
    { ...base, name: 'GET /api/v1/proxy/chat', path: '/api/v1/proxy/chat', expect: [404, 405] },
    { ...base, name: 'PUT /api/v1/proxy/chat/stream', method: 'PUT', path: '/api/v1/proxy/chat/stream', body: '{}', headers: { ...auth(), ...JSON_CT }, expect: [404, 405] },
    { ...base, name: '/nope', path: '/nope', expect: [404] },
  ];
}

// ---------------------------------------------------------------------------
// The sweep

describe(`bad-input sweep (seed ${SEED}): every route answers 4xx in the contract's shape, never 5xx`, () => {
  let routes;

  before(async () => {
    owner = await login();
    const tiers = {
      free: { requests: { limit: 1_000_000, period: 'day' }, limitMessage: { message: 'Upgrade', deepLink: 'myapp://upgrade' } },
      pro: { requests: { limit: 1_000_000, period: 'day' } },
    };
    project = await createProject(owner, { tiers });
    patchTarget = await createProject(owner, { tiers });
    const rule = await api(`/api/projects/${project.id}/rules`, { token: owner, body: validRule() });
    if (rule.status !== 201) throw new Error(`create rule → ${rule.status} ${rule.text}`);
    ruleId = rule.body.id;
    const hook = await api(`/api/projects/${project.id}/webhooks`, { token: owner, body: validWebhook() });
    if (hook.status !== 201) throw new Error(`create webhook → ${hook.status} ${hook.text}`);
    webhookId = hook.body.id;
    poisonProject = await createProject(owner, { tiers });
    // Sent now, checked after the sweep (the rollup has had time to flush by then).
    poisonSentAt = Date.now();
    poisonSent = (async () => {
      const send = (model) => api('/api/v1/proxy/chat', { headers: { 'x-project-key': poisonProject.projectKey }, body: { identity: poisonIdentity, model, messages: [{ role: 'user', content: 'hi' }] } });
      const bad = await send('gpt\u0000nul');
      const good = await send('gpt-clean');
      return { bad, good };
    })();

    routes = {
      'POST /api/v1/proxy/chat': proxyCases('POST /api/v1/proxy/chat', '/api/v1/proxy/chat', 'flat'),
      'POST /api/v1/proxy/chat/stream': proxyCases('POST /api/v1/proxy/chat/stream', '/api/v1/proxy/chat/stream', 'flat'),
      'POST /v1/chat/completions': [...proxyCases('POST /v1/chat/completions', '/v1/chat/completions', 'openai'), ...openAiHeaderCases()],
      'GET /api/v1/usage': usageCases(),
      ...authCases(),
      ...projectCases(),
      ...ruleCases(),
      'POST /api/projects/:id/rules/simulate': simulateCases(),
      ...analyticsCases(),
      ...identityCases(),
      ...rotateCases(),
      ...webhookCases(),
      ...budgetCases(),
      'GET /api/rule-templates': templateCases(),
      'unknown routes': unknownRouteCases(),
    };
    // On /v1, identity travels in headers: give body-level cases an x-identity so they reach validation.
    for (const c of routes['POST /v1/chat/completions']) {
      if (c.headers.authorization?.startsWith('Bearer pk_') && !('x-identity' in c.headers) && !('x-identity-token' in c.headers) && c.name !== 'no x-identity') {
        c.headers['x-identity'] = `robust-${hex(6)}`;
      }
    }
    const problems = await liveness('before the sweep');
    if (problems.length) throw new Error(`the stack is not healthy before the sweep: ${problems.join('; ')}`);
  });

  after(() => {
    if (failures.length) {
      failures.sort((a, b) => a.seq - b.seq);
      const byKey = new Map();
      for (const f of failures) {
        const key = `${f.route} | ${f.status} | ${f.problems.join('; ')}`;
        if (!byKey.has(key)) byKey.set(key, f);
      }
      console.log(`\nrobustness sweep (seed ${SEED}): ${sent} requests, ${failures.length} bad answers (${byKey.size} distinct route/status/problem):\n${failures.map(formatFailure).join('\n')}`);
    } else {
      console.log(`\nrobustness sweep (seed ${SEED}): ${sent} requests, all answered 4xx in the contract's shape`);
    }
  });

  const ROUTES = [
    'POST /api/v1/proxy/chat',
    'POST /api/v1/proxy/chat/stream',
    'POST /v1/chat/completions',
    'GET /api/v1/usage',
    'POST /api/auth/magic-link',
    'POST /api/auth/verify',
    'GET /api/auth/me',
    'GET /api/projects',
    'POST /api/projects',
    'GET|PATCH|DELETE /api/projects/:id',
    'GET|POST /api/projects/:id/rules',
    'PATCH|DELETE /api/projects/:id/rules/:ruleId',
    'POST /api/projects/:id/rules/simulate',
    'GET /api/projects/:id/usage/summary',
    'GET /api/projects/:id/usage/by-identity',
    'GET /api/projects/:id/usage/timeseries',
    'GET /api/projects/:id/analytics/rule-triggers',
    'GET /api/projects/:id/analytics/recent-triggers',
    'GET /api/projects/:id/identities/:identity',
    'POST /api/projects/:id/identities/:identity/reset',
    'POST /api/projects/:id/keys/rotate',
    'POST /api/projects/:id/secret/rotate',
    'GET|POST /api/projects/:id/webhooks',
    'PATCH|DELETE /api/projects/:id/webhooks/:webhookId',
    'POST /api/projects/:id/webhooks/:webhookId/test|secret/rotate',
    'GET /api/projects/:id/webhook-deliveries',
    'POST /api/projects/:id/webhook-deliveries/:deliveryId/redeliver',
    'GET|POST /api/projects/:id/budgets',
    'DELETE /api/projects/:id/budgets/:budgetId',
    'GET /api/rule-templates',
    'unknown routes',
  ];

  for (const route of ROUTES) {
    test(`${route}: malformed requests → 4xx in the contract's shape`, async (t) => {
      const cases = routes[route];
      assert.ok(cases && cases.length > 0, `no cases for ${route}`);
      t.diagnostic(`${cases.length} requests`);
      await runAll(cases);
      assertNoFailures(route);
    });
  }

  test('the project under test was not changed by the PATCH sweep', async () => {
    const res = await api(`/api/projects/${patchTarget.id}`, { token: owner });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.name, patchTarget.name, 'a malformed PATCH renamed the project');
    assert.deepEqual(Object.keys(res.body.tiers).sort(), ['free', 'pro'], 'a malformed PATCH changed the tiers');
  });

  test('a model id with a NUL character is refused, or its usage reaches the analytics (no poisoned rollup)', async () => {
    const { bad, good } = await poisonSent;
    assert.ok(bad.status < 500, `NUL model → ${bad.status} ${bad.text.slice(0, 200)}`);
    assert.equal(good.status, 200, good.text);
    const expected = bad.status === 200 ? 2 : 1;
    // Analytics are visible within 10 s of the traffic (docs/API.md, "Usage and analytics"); allow 15 s from the requests.
    await waitFor(
      async () => {
        const s = await api(`/api/projects/${poisonProject.id}/usage/summary?period=day`, { token: owner });
        return s.status === 200 && s.body.requests === expected;
      },
      { timeoutMs: Math.max(2000, 15000 - (Date.now() - poisonSentAt)), intervalMs: 500, message: `usage summary counts ${expected} requests (the proxy answered ${bad.status} to model "gpt\\u0000nul"; a NUL in a model id cannot be stored in Postgres text, so its usage event fails every analytics flush of identity ${poisonIdentity})` },
    );
  });

  test('the instance is alive after the sweep: /healthz 200 and a valid proxy request works', async () => {
    const problems = await liveness('after the sweep');
    assert.deepEqual(problems, []);
    const dead = livenessLog.filter((l) => l.problems.length);
    assert.equal(dead.length, 0, `liveness failed during the sweep:\n${dead.map((l) => `  ${l.where}: ${l.problems.join('; ')}`).join('\n')}`);
  });
});
