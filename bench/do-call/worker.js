// The two shapes of a Worker → Durable Object call, measured by run.mjs:
// an RPC method (the call and its answer structured-cloned) and a fetch
// (a Request in, a Response out, JSON both ways) — the shape the product's
// limiter calls use, because the object classes workers-rs 0.8.7 generates
// do not extend `DurableObject` and so expose no RPC methods.
import { DurableObject } from 'cloudflare:workers';

// A counter object answering the same small JSON call two ways.
export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.n = 0;
  }
  // RPC: the call and its answer are structured-cloned.
  reserve(call) {
    this.n += call.tokens;
    return { verdict: 'allow', used: this.n, request: call.requestId };
  }
  // Fetch: a Request in, a Response out, JSON both ways.
  async fetch(req) {
    const call = await req.json();
    this.n += call.tokens;
    return Response.json({ verdict: 'allow', used: this.n, request: call.requestId });
  }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const stub = env.COUNTER.get(env.COUNTER.idFromName('one'));
    const call = { requestId: 'req_' + Math.random().toString(36).slice(2), tokens: 12, model: 'gpt-4o-mini', tier: 'free', endings: [] };
    const n = Number(url.searchParams.get('n') || 1);
    let last;
    for (let i = 0; i < n; i++) {
      if (url.pathname === '/rpc') {
        last = await stub.reserve(call);
      } else {
        const resp = await stub.fetch('https://counter/reserve', { method: 'POST', body: JSON.stringify(call) });
        last = JSON.parse(await resp.text());
      }
    }
    return Response.json(last);
  },
};
