// The official `openai` npm SDK, unchanged, against `${BASE}/v1` (docs/API.md, "POST /v1/chat/completions").
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { BASE, assertFetchedAnswersMatch, checkedFetch, createProject, hexSuffix, identityUsage, login, mockRequests, uniqueId, usageEntry, waitFor } from './helpers.mjs';

let project;

before(async () => {
  const token = await login();
  project = await createProject(token, {
    tiers: {
      free: {
        requests: { limit: 2, period: 'day' },
        tokens: { limit: 100000, period: 'day' },
        limitMessage: { message: 'Free tier limit reached', deepLink: 'myapp://upgrade?plan=pro' },
      },
      pro: { requests: { limit: 1000, period: 'day' } },
    },
  });
});

const client = (identity, extra = {}) =>
  new OpenAI({
    apiKey: project.projectKey,
    baseURL: `${BASE}/v1`,
    defaultHeaders: { 'x-identity': identity },
    timeout: 30000,
    fetch: checkedFetch,
    ...extra,
  });

// Every answer the SDK received matched docs/openapi.yaml.
after(assertFetchedAnswersMatch);

describe('official openai SDK', () => {
  test('chat.completions.create (non-stream) works and is counted', async () => {
    const identity = uniqueId('sdk');
    const model = `usage-11-4-${hexSuffix()}`;
    const { data, response } = await client(identity)
      .chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 20 })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, 'Hello from the mock!');
    assert.equal(data.usage.total_tokens, 15);
    assert.equal(response.headers.get('x-ratelimit-limit'), '2');
    assert.equal(response.headers.get('x-ratelimit-remaining'), '1');
    assert.ok(response.headers.get('x-request-id'));

    const [rec] = await mockRequests(model);
    assert.equal(rec.body.max_tokens, 20);
    assert.ok(!rec.headers.authorization.includes(project.projectKey), 'the project key reached the provider');
    const u = await waitFor(async () => {
      const x = await identityUsage(project.projectKey, identity);
      return usageEntry(x, 'tokens').used === 15 ? x : false;
    }, { message: 'tokens = 15' });
    assert.equal(usageEntry(u, 'requests').used, 1);
  });

  test('stream: true iterates OpenAI chunks; the last one carries usage', async () => {
    const identity = uniqueId('sdks');
    const model = `usage-9-4-${hexSuffix()}`;
    const stream = await client(identity).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length >= 2);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    const text = chunks.map((c) => c.choices[0]?.delta?.content || '').join('');
    assert.equal(text, 'Hello from the mock!');
    const last = chunks.at(-1);
    assert.deepEqual(
      { p: last.usage?.prompt_tokens, c: last.usage?.completion_tokens, t: last.usage?.total_tokens },
      { p: 9, c: 4, t: 13 },
    );
    await waitFor(async () => usageEntry(await identityUsage(project.projectKey, identity), 'tokens').used === 13, {
      message: 'tokens = 13',
    });
  });

  test('stream without stream_options still ends with a usage chunk (include_usage is forced)', async () => {
    const identity = uniqueId('sdks2');
    const stream = await client(identity).chat.completions.create({
      model: `usage-5-4-${hexSuffix()}`,
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks.at(-1).usage?.total_tokens, 9);
  });

  test('a 429 raises RateLimitError carrying our 429 fields', async () => {
    const identity = uniqueId('sdk429');
    const model = `usage-1-1-${hexSuffix()}`;
    const c = client(identity, { maxRetries: 0 });
    for (let i = 0; i < 2; i += 1) await c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    let caught;
    try {
      await c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof OpenAI.RateLimitError, `expected RateLimitError, got ${caught?.constructor?.name}: ${caught?.message}`);
    assert.ok(caught instanceof OpenAI.APIError);
    assert.equal(caught.status, 429);
    assert.equal(caught.code, 'limit_exceeded');
    assert.equal(caught.type, 'rate_limit_exceeded');
    assert.equal(caught.error.code, 'limit_exceeded');
    assert.equal(caught.error.deepLink, 'myapp://upgrade?plan=pro');
    assert.equal(caught.error.message, 'Free tier limit reached');
    assert.match(caught.message, /Free tier limit reached/);
    assert.equal(caught.error.limit, 2);
    assert.equal(caught.error.usage, 2);
    assert.equal(caught.error.limitType, 'requests');
    assert.equal(caught.error.tier, 'free');
    assert.match(caught.error.resetAt, /^\d{4}-\d\d-\d\dT/);
    assert.match(caught.headers.get('retry-after') || '', /^\d+$/);
    assert.ok(caught.requestID, 'x-request-id exposed as requestID');
    assert.equal((await mockRequests(model)).length, 2, 'the blocked request reached the provider');

    // Streams too: the 429 comes before any event, as a RateLimitError.
    let streamErr;
    try {
      const s = await c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });
      for await (const _ of s); // eslint-disable-line no-unused-vars
    } catch (e) {
      streamErr = e;
    }
    assert.ok(streamErr instanceof OpenAI.RateLimitError, `stream: got ${streamErr?.constructor?.name}`);
    assert.equal(streamErr.error.deepLink, 'myapp://upgrade?plan=pro');
  });

  test('x-tier picks the tier; a bad project key raises AuthenticationError', async () => {
    const identity = uniqueId('sdktier');
    const res = await client(identity, { defaultHeaders: { 'x-identity': identity, 'x-tier': 'pro' } })
      .chat.completions.create({ model: `usage-1-1-${hexSuffix()}`, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.equal(res.response.headers.get('x-ratelimit-limit'), '1000');
    const bad = new OpenAI({ apiKey: 'pk_wrong', baseURL: `${BASE}/v1`, defaultHeaders: { 'x-identity': identity }, maxRetries: 0, fetch: checkedFetch });
    await assert.rejects(
      bad.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === 'invalid_project_key',
    );
  });
});
