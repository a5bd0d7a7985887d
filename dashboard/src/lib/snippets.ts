// Copy-paste snippets with the project's real key and the Worker's URL.

export interface Snippet {
  id: string;
  label: string;
  code: string;
}

export function snippets(apiBase: string, projectKey: string, tier: string): Snippet[] {
  return [
    {
      id: 'curl',
      label: 'curl',
      code: `curl ${apiBase}/api/v1/proxy/chat \\
  -H 'content-type: application/json' \\
  -H 'x-project-key: ${projectKey}' \\
  -d '{"identity":"user-123","tier":"${tier}","model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
    },
    {
      id: 'sdk',
      label: 'JS SDK',
      code: `import { createClient } from '@ai-ratelimit/sdk';

const client = createClient({ baseUrl: '${apiBase}', projectKey: '${projectKey}' });
const answer = await client.chat({
  identity: 'user-123',
  tier: '${tier}',
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello' }],
});`,
    },
    {
      id: 'openai-node',
      label: 'OpenAI SDK (Node)',
      code: `import OpenAI from 'openai';

const openai = new OpenAI({
  baseURL: '${apiBase}/v1',
  apiKey: '${projectKey}',
  defaultHeaders: { 'x-identity': 'user-123', 'x-tier': '${tier}' },
});
const answer = await openai.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello' }],
});`,
    },
    {
      id: 'ai-sdk',
      label: 'Vercel AI SDK',
      code: `import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';

// openai(model) speaks the Responses API: /v1/responses, metered like chat.
const openai = createOpenAI({
  baseURL: '${apiBase}/v1',
  apiKey: '${projectKey}',
  headers: { 'x-identity': 'user-123', 'x-tier': '${tier}' },
});
const { text } = await generateText({
  model: openai('gpt-4o-mini'),
  prompt: 'Hello',
});`,
    },
    {
      id: 'anthropic-node',
      label: 'Anthropic SDK (Node)',
      code: `import Anthropic from '@anthropic-ai/sdk';

// /v1/messages: Anthropic's format, whatever your project's provider.
const anthropic = new Anthropic({
  baseURL: '${apiBase}',
  apiKey: '${projectKey}',
  defaultHeaders: { 'x-identity': 'user-123', 'x-tier': '${tier}' },
});
const message = await anthropic.messages.create({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Hello' }],
});`,
    },
    {
      id: 'openai-python',
      label: 'OpenAI SDK (Python)',
      code: `from openai import OpenAI

client = OpenAI(
    base_url="${apiBase}/v1",
    api_key="${projectKey}",
    default_headers={"x-identity": "user-123", "x-tier": "${tier}"},
)
answer = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Hello"}],
)`,
    },
  ];
}
