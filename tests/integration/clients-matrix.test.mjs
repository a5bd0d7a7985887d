// The clients people build AI apps with, unchanged, against the drop-in
// routes (docs/API.md, "POST /v1/responses", "POST /v1/messages"): the
// official `openai` Node SDK's `responses.create`, the Vercel AI SDK's
// default `openai(model)` (which calls /v1/responses), LangChain's
// `ChatOpenAI` with `useResponsesApi`, the Anthropic Node SDK's
// `messages.create` / `messages.stream`, and the Python `openai` SDK's
// `responses.create` (installed into a venv under .stack/ by this test).
// Each runs against an OpenAI, an Anthropic and a Gemini project, stream and
// non-stream, and must show: the mock's answer text, the usage the Worker
// counted equal to the usage the mock reported, and the 429 surfacing as the
// client's own rate-limit error with our upgrade message. The matrix is
// printed at the end.
//
// Run: node --test tests/integration/clients-matrix.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, APICallError } from 'ai';
import { ChatOpenAI } from '@langchain/openai';
import { BASE, MOCK, api, assertFetchedAnswersMatch, checkedFetch, createProject, login, mockRequests, uniqueId, waitFor } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROVIDER_KEY = 'sk-mock-clients';
const HELLO = 'Hello from the mock!';
const LIMIT_MESSAGE = 'Free tier limit reached';
const DEEP_LINK = 'myapp://upgrade?plan=pro';
const PYTHON_OPENAI = '3.57.0';

after(assertFetchedAnswersMatch);

const PROVIDERS = {
  openai: `${MOCK}/openai/v1`,
  anthropic: `${MOCK}/anthropic/v1`,
  google: `${MOCK}/google/v1beta`,
};

const projects = {};
const matrix = [];

before(async () => {
  await waitFor(async () => (await api('/healthz').catch(() => ({ status: 0 }))).status === 200, {
    timeoutMs: 120000,
    message: 'Worker /healthz 200',
  });
  const token = await login();
  for (const [provider, baseUrl] of Object.entries(PROVIDERS)) {
    projects[provider] = await createProject(token, {
      provider,
      baseUrl,
      providerApiKey: PROVIDER_KEY,
      tiers: {
        // One request a day: the first call of a case passes, the second is the 429.
        free: {
          requests: { limit: 1, period: 'day' },
          tokens: { limit: 1_000_000, period: 'day' },
          limitMessage: { message: LIMIT_MESSAGE, deepLink: DEEP_LINK },
        },
      },
    });
  }
});

after(() => {
  if (!matrix.length) return;
  const rows = matrix.map((r) => [r.client, r.provider, r.mode, r.result, r.counted, r.reported, r.limit]);
  const head = ['client', 'provider', 'mode', 'answer', 'counted tokens', 'provider-reported', '429 as client error'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  const out = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
  console.log(`\nClient matrix (${matrix.length} cases)\n${out.join('\n')}\n`);
});

function suffix() {
  return uniqueId('t').replace(/[^a-z0-9]/gi, '').toLowerCase();
}

async function countedTokens(projectKey, identity, expected) {
  let last;
  await waitFor(
    async () => {
      const res = await api(`/api/v1/usage?identity=${encodeURIComponent(identity)}`, { headers: { 'x-project-key': projectKey } });
      last = res.body?.limits?.find((l) => l.limitType === 'tokens' && l.model === null)?.used;
      return last === expected;
    },
    { timeoutMs: 15000, message: `counted tokens == ${expected}` },
  ).catch(() => {});
  return last;
}

async function providerUsage(model) {
  const recs = await waitFor(
    async () => {
      const r = await mockRequests(model);
      return r.length > 0 && r.every((x) => x.outcome !== 'pending') ? r : null;
    },
    { message: `mock record for ${model}` },
  );
  assert.equal(recs.length, 1, `one provider call for ${model}`);
  assert.ok(recs[0].usage, `the mock reported usage for ${model}`);
  return recs[0];
}

/**
 * Runs one case: `call` answers `{text, usage?}`; `overLimit` must reject
 * with the client's rate-limit error, checked by `isLimitError`.
 */
async function runCase({ client, provider, mode, call, isLimitError, expectedPath }) {
  const row = { client, provider, mode, result: 'FAIL', counted: '-', reported: '-', limit: 'FAIL' };
  matrix.push(row);
  const project = projects[provider];
  const identity = uniqueId(`${client.replace(/\W/g, '')}`);
  const model = `${provider}-${suffix()}`;
  const answer = await call({ project, identity, model, stream: mode === 'stream' });
  assert.equal(answer.text, HELLO, 'the answer text');
  row.result = 'pass';
  const rec = await providerUsage(model);
  if (expectedPath) assert.equal(rec.path, expectedPath(model));
  const reported = rec.usage.totalTokens;
  row.reported = `${rec.usage.inputTokens}+${rec.usage.outputTokens}=${reported}`;
  if (answer.usage) {
    assert.equal(answer.usage.input, rec.usage.inputTokens, 'input tokens the client saw');
    assert.equal(answer.usage.output, rec.usage.outputTokens, 'output tokens the client saw');
  }
  const counted = await countedTokens(project.projectKey, identity, reported);
  row.counted = counted;
  assert.equal(counted, reported, 'counted tokens equal the provider-reported usage');
  let caught;
  try {
    await call({ project, identity, model: `${model}-again`, stream: mode === 'stream' });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, 'the second request of the day is refused');
  isLimitError(caught);
  row.limit = 'pass';
  assert.equal((await mockRequests(`${model}-again`)).length, 0, 'nothing forwarded on a 429');
}

// ---- openai (Node) responses.create -----------------------------------------

const openaiClient = (project, identity) =>
  new OpenAI({ baseURL: `${BASE}/v1`, apiKey: project.projectKey, defaultHeaders: { 'x-identity': identity }, maxRetries: 0, timeout: 30000, fetch: checkedFetch });

async function openaiResponses({ project, identity, model, stream }) {
  const client = openaiClient(project, identity);
  if (!stream) {
    const r = await client.responses.create({ model, input: 'Say hello', instructions: 'You are a test.' });
    assert.equal(r.object, 'response');
    return { text: r.output_text, usage: { input: r.usage.input_tokens, output: r.usage.output_tokens } };
  }
  const events = await client.responses.create({ model, input: 'Say hello', stream: true });
  let text = '';
  let completed;
  const types = [];
  for await (const ev of events) {
    types.push(ev.type);
    if (ev.type === 'response.output_text.delta') text += ev.delta;
    if (ev.type === 'response.completed') completed = ev.response;
  }
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  return { text, usage: { input: completed.usage.input_tokens, output: completed.usage.output_tokens } };
}

function isOpenAiRateLimit(e) {
  assert.ok(e instanceof OpenAI.RateLimitError, `expected OpenAI.RateLimitError, got ${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.status, 429);
  assert.match(e.message, new RegExp(LIMIT_MESSAGE));
  assert.equal(e.error?.deepLink, DEEP_LINK);
}

// ---- @anthropic-ai/sdk messages.create / messages.stream --------------------

async function anthropicMessages({ project, identity, model, stream }) {
  const client = new Anthropic({ baseURL: BASE, apiKey: project.projectKey, defaultHeaders: { 'x-identity': identity }, maxRetries: 0, timeout: 30000, fetch: checkedFetch });
  const body = { model, max_tokens: 256, system: 'You are a test.', messages: [{ role: 'user', content: 'Say hello' }] };
  if (!stream) {
    const m = await client.messages.create(body);
    assert.equal(m.type, 'message');
    const text = m.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
    return { text, usage: { input: m.usage.input_tokens, output: m.usage.output_tokens } };
  }
  const s = client.messages.stream(body);
  let text = '';
  s.on('text', (t) => {
    text += t;
  });
  const final = await s.finalMessage();
  return { text, usage: { input: final.usage.input_tokens, output: final.usage.output_tokens } };
}

function isAnthropicRateLimit(e) {
  assert.ok(e instanceof Anthropic.RateLimitError, `expected Anthropic.RateLimitError, got ${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.status, 429);
  assert.match(e.message, new RegExp(LIMIT_MESSAGE));
  assert.equal(e.error?.error?.type, 'rate_limit_error');
  assert.equal(e.error?.error?.deepLink, DEEP_LINK);
}

// ---- Vercel AI SDK: openai(model) → /v1/responses ---------------------------

async function aiSdk({ project, identity, model, stream }) {
  const openai = createOpenAI({ baseURL: `${BASE}/v1`, apiKey: project.projectKey, headers: { 'x-identity': identity }, fetch: checkedFetch });
  const tokens = (u) => ({
    input: typeof u.inputTokens === 'object' ? u.inputTokens.total : u.inputTokens,
    output: typeof u.outputTokens === 'object' ? u.outputTokens.total : u.outputTokens,
  });
  if (!stream) {
    const r = await generateText({ model: openai(model), prompt: 'Say hello', maxRetries: 0 });
    return { text: r.text, usage: tokens(r.usage) };
  }
  let error;
  const r = streamText({
    model: openai(model),
    prompt: 'Say hello',
    maxRetries: 0,
    onError: ({ error: e }) => {
      error = e;
    },
  });
  let text = '';
  for await (const t of r.textStream) text += t;
  if (error) throw error;
  return { text, usage: tokens(await r.usage) };
}

function isAiSdkRateLimit(e) {
  assert.ok(APICallError.isInstance(e), `expected APICallError, got ${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.statusCode, 429);
  assert.match(e.message, new RegExp(LIMIT_MESSAGE));
  assert.equal(JSON.parse(e.responseBody).error.deepLink, DEEP_LINK);
}

// ---- LangChain ChatOpenAI with useResponsesApi ------------------------------

async function langchain({ project, identity, model, stream }) {
  const llm = new ChatOpenAI({
    model,
    apiKey: project.projectKey,
    useResponsesApi: true,
    maxRetries: 0,
    configuration: { baseURL: `${BASE}/v1`, defaultHeaders: { 'x-identity': identity }, fetch: checkedFetch },
  });
  if (!stream) {
    const m = await llm.invoke('Say hello');
    const text = typeof m.content === 'string' ? m.content : m.content.map((c) => c.text ?? '').join('');
    return { text, usage: { input: m.usage_metadata?.input_tokens, output: m.usage_metadata?.output_tokens } };
  }
  let text = '';
  let usage;
  for await (const chunk of await llm.stream('Say hello')) {
    text += typeof chunk.content === 'string' ? chunk.content : chunk.content.map((c) => c.text ?? '').join('');
    if (chunk.usage_metadata?.input_tokens) usage = chunk.usage_metadata;
  }
  return { text, usage: usage ? { input: usage.input_tokens, output: usage.output_tokens } : undefined };
}

function isLangchainRateLimit(e) {
  assert.equal(e?.status ?? e?.cause?.status, 429, `expected a 429, got ${e?.constructor?.name}: ${e?.message}`);
  assert.ok(e instanceof OpenAI.RateLimitError || e?.lc_error_code === 'MODEL_RATE_LIMIT', `${e?.constructor?.name} ${e?.lc_error_code}`);
  assert.match(e.message, new RegExp(LIMIT_MESSAGE));
}

// ---- the matrix -------------------------------------------------------------

const CLIENTS = [
  { client: 'openai-node responses.create', call: openaiResponses, isLimitError: isOpenAiRateLimit },
  { client: 'ai-sdk openai(model)', call: aiSdk, isLimitError: isAiSdkRateLimit },
  { client: 'langchain ChatOpenAI useResponsesApi', call: langchain, isLimitError: isLangchainRateLimit },
  { client: 'anthropic-node messages', call: anthropicMessages, isLimitError: isAnthropicRateLimit },
];

const UPSTREAM = {
  responses: {
    openai: () => '/openai/v1/responses',
    anthropic: () => '/anthropic/v1/messages',
    google: (m) => `/google/v1beta/models/${m}:`,
  },
};

for (const spec of CLIENTS) {
  describe(spec.client, () => {
    for (const provider of Object.keys(PROVIDERS)) {
      for (const mode of ['non-stream', 'stream']) {
        test(`${provider} ${mode}: answer, counted usage = provider usage, 429 as the client's error`, async () => {
          await runCase({
            ...spec,
            provider,
            mode,
            expectedPath:
              provider === 'google'
                ? (m) => `/google/v1beta/models/${m}:${mode === 'stream' ? 'streamGenerateContent' : 'generateContent'}`
                : spec.call === anthropicMessages
                  ? provider === 'anthropic'
                    ? () => '/anthropic/v1/messages'
                    : () => '/openai/v1/chat/completions'
                  : UPSTREAM.responses[provider],
          });
        });
      }
    }
  });
}

// ---- Python openai SDK ------------------------------------------------------

const PY_SCRIPT = `
import json, sys
import openai
cases = json.load(sys.stdin)
out = []
for c in cases:
    client = openai.OpenAI(base_url=c["base"], api_key=c["key"], default_headers={"x-identity": c["identity"]}, max_retries=0)
    r = {}
    for attempt in ("ok", "limit"):
        model = c["model"] if attempt == "ok" else c["model"] + "-again"
        try:
            if c["stream"]:
                text, usage = "", None
                for ev in client.responses.create(model=model, input="Say hello", stream=True):
                    if ev.type == "response.output_text.delta":
                        text += ev.delta
                    if ev.type == "response.completed":
                        usage = ev.response.usage
            else:
                resp = client.responses.create(model=model, input="Say hello")
                text, usage = resp.output_text, resp.usage
            r[attempt] = {"text": text, "input": usage.input_tokens, "output": usage.output_tokens}
        except openai.RateLimitError as e:
            r[attempt] = {"error": "RateLimitError", "status": e.status_code, "message": str(e)}
        except Exception as e:
            r[attempt] = {"error": type(e).__name__, "message": str(e)}
    out.append(r)
print(json.dumps(out))
`;

/** A venv with the pinned `openai` package under .stack/ (null when the registry is unreachable). */
function pythonWithOpenAi() {
  const venv = path.join(ROOT, '.stack', 'pyvenv');
  const py = path.join(venv, 'bin', 'python');
  const has = () => spawnSync(py, ['-c', `import openai,sys; sys.exit(0 if openai.__version__ == "${PYTHON_OPENAI}" else 1)`]).status === 0;
  if (fs.existsSync(py) && has()) return { py };
  const made = spawnSync('python3', ['-m', 'venv', venv], { encoding: 'utf8' });
  if (made.status !== 0) return { skip: `python3 -m venv failed: ${made.stderr}` };
  const pip = spawnSync(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `openai==${PYTHON_OPENAI}`], { encoding: 'utf8', timeout: 300000 });
  if (pip.status !== 0) return { skip: `pip install openai==${PYTHON_OPENAI} failed (registry unreachable?): ${pip.stderr.slice(-400)}` };
  return has() ? { py } : { skip: 'openai did not import after install' };
}

describe('python openai responses.create', () => {
  test('all providers, stream and non-stream: answer, counted usage = provider usage, RateLimitError', async (t) => {
    const env = pythonWithOpenAi();
    if (env.skip) {
      t.skip(env.skip);
      return;
    }
    const cases = [];
    for (const provider of Object.keys(PROVIDERS)) {
      for (const stream of [false, true]) {
        cases.push({ provider, stream, base: `${BASE}/v1`, key: projects[provider].projectKey, identity: uniqueId('py'), model: `${provider}-${suffix()}` });
      }
    }
    const run = spawnSync(env.py, ['-c', PY_SCRIPT], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 120000 });
    assert.equal(run.status, 0, run.stderr);
    const results = JSON.parse(run.stdout);
    const failures = [];
    for (const [i, c] of cases.entries()) {
      const r = results[i];
      const row = { client: 'python openai responses.create', provider: c.provider, mode: c.stream ? 'stream' : 'non-stream', result: 'FAIL', counted: '-', reported: '-', limit: 'FAIL' };
      matrix.push(row);
      try {
        assert.equal(r.ok?.text, HELLO, JSON.stringify(r.ok));
        row.result = 'pass';
        const rec = await providerUsage(c.model);
        assert.equal(r.ok.input, rec.usage.inputTokens);
        assert.equal(r.ok.output, rec.usage.outputTokens);
        row.reported = `${rec.usage.inputTokens}+${rec.usage.outputTokens}=${rec.usage.totalTokens}`;
        row.counted = await countedTokens(c.key, c.identity, rec.usage.totalTokens);
        assert.equal(row.counted, rec.usage.totalTokens);
        assert.equal(r.limit?.error, 'RateLimitError', JSON.stringify(r.limit));
        assert.equal(r.limit.status, 429);
        assert.match(r.limit.message, new RegExp(LIMIT_MESSAGE));
        row.limit = 'pass';
      } catch (e) {
        failures.push(`${c.provider} ${row.mode}: ${e.message}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
