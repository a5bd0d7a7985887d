#!/usr/bin/env node
// CLI wrapper: `node mock-provider/server.mjs [--port N]` (or MOCK_PORT=N). Default 3100.
import { startMock } from './mock.mjs';

function parsePort(argv, env) {
  let port = env.MOCK_PORT !== undefined && env.MOCK_PORT !== '' ? Number(env.MOCK_PORT) : 3100;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port' && i + 1 < argv.length) port = Number(argv[++i]);
    else if (a.startsWith('--port=')) port = Number(a.slice('--port='.length));
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port: ${port}`);
    process.exit(2);
  }
  return port;
}

const port = parsePort(process.argv.slice(2), process.env);
const mock = await startMock({ port });
console.log(`mock provider listening on ${mock.url}`);

let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  await mock.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
