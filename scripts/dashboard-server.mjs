#!/usr/bin/env node
// A tiny static server for the built dashboard (dashboard/dist) with the
// single-page-app fallback Cloudflare Pages gives a build without 404.html:
// a path that is not a file gets index.html.
//
//   node scripts/dashboard-server.mjs [--port 3001] [--dir dashboard/dist]

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
};
const PORT = Number(arg('port', process.env.AIRL_DASHBOARD_PORT || 3001));
const DIR = path.resolve(ROOT, arg('dir', 'dashboard/dist'));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

function send(res, status, file, method) {
  const ext = path.extname(file);
  const hashed = file.includes(`${path.sep}assets${path.sep}`);
  res.writeHead(status, {
    'content-type': TYPES[ext] || 'application/octet-stream',
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (method === 'HEAD') return res.end();
  fs.createReadStream(file).pipe(res);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    res.writeHead(400).end('bad path');
    return;
  }
  const file = path.resolve(DIR, `.${pathname}`);
  if (file.startsWith(DIR + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile()) {
    send(res, 200, file, req.method);
    return;
  }
  // Missing assets are real 404s; every other path is a client-side route.
  if (pathname.startsWith('/assets/')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const index = path.join(DIR, 'index.html');
  if (!fs.existsSync(index)) {
    res.writeHead(503, { 'content-type': 'text/plain' }).end('dashboard not built: npm run build -w dashboard');
    return;
  }
  send(res, 200, index, req.method);
});

server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`dashboard on http://localhost:${PORT} serving ${path.relative(ROOT, DIR)}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
