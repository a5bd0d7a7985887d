// The least a limiting proxy on this runtime can cost: a plain JavaScript
// Worker that reads the chat body, asks one Durable Object per identity to
// count it (one SQLite upsert), and streams the provider's answer back.
// No validation, no rules, no analytics, no settlement. `MODE` (from the
// environment) picks how much of that it does, so run.mjs can separate
// what the runtime charges for each step:
//   plain   — passthrough only, no object
//   object  — plus one object call that counts in memory
//   sql     — plus one SQLite upsert inside that call (a durable count)
import { DurableObject } from 'cloudflare:workers';

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = env.MODE === 'sql';
    this.n = 0;
    if (this.sql) ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS counts (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  }

  async fetch(req) {
    const call = await req.json();
    if (this.sql) {
      this.ctx.storage.sql.exec('INSERT INTO counts VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = v + excluded.v', call.scope, call.tokens);
    } else {
      this.n += call.tokens;
    }
    return Response.json({ verdict: 'allow' });
  }
}

export default {
  async fetch(req, env) {
    let body = await req.text();
    const chat = JSON.parse(body);
    if (chat.stream) {
      // as the product does upstream: the last chunk carries the usage
      chat.stream_options = { ...chat.stream_options, include_usage: true };
      body = JSON.stringify(chat);
    }
    if (env.MODE !== 'plain') {
      // bench/run.mjs sends the identity in the body, as the product's route takes it
      const identity = chat.identity || req.headers.get('x-identity') || 'one';
      const stub = env.COUNTER.get(env.COUNTER.idFromName(identity));
      const answer = await stub.fetch('https://counter/reserve', { method: 'POST', body: JSON.stringify({ scope: 'tokens', tokens: 16 }) });
      await answer.text();
    }
    const upstream = await fetch(`${env.MOCK_URL}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer floor' },
      body,
    });
    return new Response(upstream.body, { status: upstream.status, headers: { 'content-type': upstream.headers.get('content-type') } });
  },
};
