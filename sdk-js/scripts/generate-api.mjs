#!/usr/bin/env node
// Generates src/generated/api.ts (the wire types) from docs/openapi.yaml.
//
//   node scripts/generate-api.mjs           write the file
//   node scripts/generate-api.mjs --check   fail if the checked-in file differs
//                                           from what the document generates
//
// `npm run typecheck` runs the check, so the SDK's types cannot drift from
// the document.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const DOCUMENT = path.resolve(here, '..', '..', 'docs', 'openapi.yaml');
const OUTPUT = path.resolve(here, '..', 'src', 'generated', 'api.ts');
const HEADER = `/**
 * Wire types of the AI Ratelimit HTTP API, generated from docs/openapi.yaml
 * by sdk-js/scripts/generate-api.mjs. Do not edit: change the document and
 * run \`npm run generate -w sdk-js\`.
 */

`;

const ast = await openapiTS(pathToFileURL(DOCUMENT), { silent: true });
const generated = HEADER + astToString(ast);

if (process.argv.includes('--check')) {
  const current = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, 'utf8') : '';
  if (current !== generated) {
    const a = current.split('\n');
    const b = generated.split('\n');
    let line = 0;
    while (line < Math.max(a.length, b.length) && a[line] === b[line]) line++;
    console.error(
      `sdk-js/src/generated/api.ts is out of date with docs/openapi.yaml (first difference at line ${line + 1}:\n` +
        `  checked in: ${JSON.stringify(a[line] ?? '(end of file)')}\n  generated:  ${JSON.stringify(b[line] ?? '(end of file)')}).\n` +
        'Run `npm run generate -w sdk-js` and commit the result.',
    );
    process.exit(1);
  }
  console.log('sdk-js/src/generated/api.ts matches docs/openapi.yaml');
} else {
  fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
  fs.writeFileSync(OUTPUT, generated);
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
}
