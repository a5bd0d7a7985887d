// A webhook receiver for the tests: a local HTTP server that records every
// request and answers the status its plan gives, and a Standard Webhooks
// signature check written from the scheme (not from the Worker's code).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';

/** A local receiver: `plan(path)` answers the status for the nth request to a path. */
export function startReceiver() {
  const received = [];
  const plans = new Map();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const seen = received.filter((r) => r.path === req.url).length;
      const plan = plans.get(req.url) ?? (() => 200);
      const status = plan(seen);
      received.push({ path: req.url, headers: req.headers, body, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'not now');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({ url, received, plans, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** Standard Webhooks verification, written from the scheme (not our code). */
export function verify(secret, r) {
  const id = r.headers['webhook-id'];
  const ts = r.headers['webhook-timestamp'];
  const sig = r.headers['webhook-signature'];
  assert.ok(id && ts && sig, `signature headers present: ${JSON.stringify(r.headers)}`);
  assert.ok(Math.abs(Date.now() / 1000 - Number(ts)) < 300, 'timestamp within 5 minutes');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${ts}.${r.body}`).digest('base64');
  const candidates = sig.split(' ').filter((s) => s.startsWith('v1,')).map((s) => s.slice(3));
  return candidates.some((c) => c.length === expected.length && crypto.timingSafeEqual(Buffer.from(c), Buffer.from(expected)));
}
