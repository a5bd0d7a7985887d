// Checks HTTP exchanges with the Worker against docs/openapi.yaml.
//
// `checkExchange()` finds the operation for a method and path, then checks
// that the answer's status is documented for it, that the headers the
// document marks as required are there (and match their schema when they
// have one), and that the body matches the schema of that status and content
// type (JSON, or each `data:` event of a `text/event-stream` answer against
// the media type's `x-sse-data` schema). A JSON object sent to a known route
// that the server accepted (2xx) is checked against the operation's request
// body schema too, and so are its query parameters: the document must not be
// stricter than the server, nor miss a parameter the server reads.
//
// A path the document does not know, or a known path with a method it does
// not serve, must answer the generic error (401, 404 or 405; OpenAI's
// envelope under /v1/). OPTIONS (CORS preflight) is not checked.
//
// The document is read and schemas are compiled once per process (lazily,
// one compiled validator per schema location).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DOCUMENT_PATH = path.join(ROOT, 'docs', 'openapi.yaml');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const DOC_ID = 'openapi';

/** A loaded document with its compiled-schema cache. */
export class ApiDocument {
  constructor(doc) {
    this.doc = doc;
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    // The components are reachable as `openapi#/components/...`.
    this.ajv.addSchema({ $id: DOC_ID, components: { schemas: doc.components?.schemas ?? {} } });
    this.compiled = new Map();
    this.routes = Object.entries(doc.paths ?? {}).map(([template, item]) => {
      const names = [];
      const source = template
        .split('/')
        .map((seg) => {
          const m = /^\{([^}]+)\}$/.exec(seg);
          if (m) {
            names.push(m[1]);
            return '([^/]+)';
          }
          return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('/');
      return { template, item, params: names.length, re: new RegExp(`^${source}$`) };
    });
  }

  static fromFile(file = DOCUMENT_PATH) {
    return new ApiDocument(YAML.parse(fs.readFileSync(file, 'utf8')));
  }

  /** Follows a local `$ref` (`#/components/...`) of the document. */
  resolve(obj) {
    let o = obj;
    for (let i = 0; o && o.$ref && i < 10; i++) {
      o = o.$ref
        .replace(/^#\//, '')
        .split('/')
        .reduce((acc, k) => acc?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], this.doc);
    }
    return o;
  }

  /** A compiled validator for a schema found at `key` (cached). */
  validator(key, schema) {
    let v = this.compiled.get(key);
    if (!v) {
      v = this.ajv.compile(rebase(schema));
      this.compiled.set(key, v);
    }
    return v;
  }

  /** The path item for a request path: the match with the fewest parameters. */
  route(pathname) {
    let best = null;
    for (const r of this.routes) {
      if (r.re.test(pathname) && (!best || r.params < best.params)) best = r;
    }
    return best;
  }
}

/** Points the document's local refs at the schema registered as `openapi`. */
function rebase(schema) {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${DOC_ID}${v}` : rebase(v);
  }
  return out;
}

let shared;
/** The document of this repository, loaded once per process. */
export function apiDocument() {
  shared ??= ApiDocument.fromFile();
  return shared;
}

function ajvText(errors) {
  return (errors ?? [])
    .slice(0, 12)
    .map((e) => `    ${e.instancePath || '(root)'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`)
    .join('\n');
}

function sseData(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/).filter((l) => l.startsWith('data:'));
    if (lines.length) out.push(lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n'));
  }
  return out;
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * Checks one exchange. `headers` is a `Headers` (or a plain object of
 * lower-case names); `text` the whole answer body; `requestBody` the value
 * the test sent (only plain objects are checked).
 * @returns {{operation: string, problems: string[], checked: boolean}}
 */
export function checkExchange(ex, doc = apiDocument()) {
  const method = (ex.method || 'GET').toLowerCase();
  const url = new URL(ex.url, 'http://worker.invalid');
  const pathname = url.pathname;
  const status = String(ex.status);
  const getHeader = (n) => (typeof ex.headers?.get === 'function' ? ex.headers.get(n) : (ex.headers?.[n] ?? null));
  const problems = [];
  let operation = `${method.toUpperCase()} ${pathname}`;
  if (method === 'options' || method === 'head') return { operation, problems, checked: false };

  const parseJson = () => {
    try {
      return { ok: true, value: JSON.parse(ex.text) };
    } catch (e) {
      problems.push(`body is not JSON (${e.message}): ${String(ex.text).slice(0, 200)}`);
      return { ok: false };
    }
  };

  const route = doc.route(pathname);
  const op = route && METHODS.includes(method) ? route.item[method] : undefined;
  if (!op) {
    // Unknown path, or a known path with another method: the generic error.
    const openai = pathname.startsWith('/v1/');
    operation = route ? `${method.toUpperCase()} ${route.template} (method not documented)` : `${operation} (path not documented)`;
    if (!['401', '404', '405'].includes(status)) {
      problems.push(`status ${status}: an undocumented route must answer 401, 404 or 405`);
      return { operation, problems, checked: true };
    }
    if (status === '405' && !getHeader('allow')) problems.push('405 without an `allow` header');
    const body = parseJson();
    if (body.ok) {
      const name = openai ? 'OpenAIError' : 'Error';
      const v = doc.validator(`#/components/schemas/${name}`, { $ref: `#/components/schemas/${name}` });
      if (!v(body.value)) problems.push(`body does not match ${name}:\n${ajvText(v.errors)}`);
    }
    return { operation, problems, checked: true };
  }

  operation = `${method.toUpperCase()} ${route.template} (${op.operationId ?? 'no operationId'})`;
  const responses = op.responses ?? {};
  const rawResponse = responses[status] ?? responses[`${status[0]}XX`] ?? responses.default;
  if (!rawResponse) {
    problems.push(`status ${status} is not documented (documented: ${Object.keys(responses).join(', ')}); body: ${String(ex.text).slice(0, 300)}`);
    return { operation, problems, checked: true };
  }
  const response = doc.resolve(rawResponse);
  const responseKey = rawResponse.$ref ?? `${route.template} ${method} ${status}`;

  // Request body: only for a JSON object the server accepted.
  if (ex.requestBody !== undefined && isPlainObject(ex.requestBody) && status.startsWith('2') && op.requestBody) {
    const rb = doc.resolve(op.requestBody);
    const schema = rb?.content?.['application/json']?.schema;
    if (schema) {
      const v = doc.validator(`request ${route.template} ${method}`, schema);
      if (!v(ex.requestBody)) problems.push(`the server accepted a request body the document refuses:\n${ajvText(v.errors)}`);
    }
  }

  // Query parameters of an accepted request: documented, and valid by their schema.
  if (status.startsWith('2')) {
    const params = [...(route.item.parameters ?? []), ...(op.parameters ?? [])].map((p) => doc.resolve(p));
    const query = new Map(params.filter((p) => p.in === 'query').map((p) => [p.name, p]));
    for (const [name, raw] of url.searchParams) {
      const param = query.get(name);
      if (!param) {
        problems.push(`the server accepted the query parameter \`${name}\`, which the document does not list`);
        continue;
      }
      const schema = param.schema ?? {};
      // A query string carries text: an integer parameter is checked as the number it spells.
      const value = schema.type === 'integer' && /^[+-]?[0-9]+$/.test(raw) ? Number(raw) : raw;
      const v = doc.validator(`query ${route.template} ${method} ${name}`, schema);
      if (!v(value)) problems.push(`the server accepted \`${name}=${raw}\`, which the document refuses:\n${ajvText(v.errors)}`);
    }
  }

  // Headers.
  for (const [name, rawHeader] of Object.entries(response.headers ?? {})) {
    const h = doc.resolve(rawHeader);
    const value = getHeader(name.toLowerCase());
    if (value === null || value === undefined) {
      if (h.required) problems.push(`required header \`${name}\` is missing`);
      continue;
    }
    if (h.schema) {
      const v = doc.validator(`header ${rawHeader.$ref ?? `${responseKey} ${name}`}`, h.schema);
      if (!v(value)) problems.push(`header \`${name}: ${value}\` does not match its schema:\n${ajvText(v.errors)}`);
    }
  }

  // Body.
  const content = response.content;
  if (!content) {
    if (ex.text) problems.push(`status ${status} is documented without a body, got: ${String(ex.text).slice(0, 200)}`);
    return { operation, problems, checked: true };
  }
  const ctype = String(getHeader('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const media = content[ctype];
  if (!media) {
    problems.push(`content-type \`${ctype || '(none)'}\` is not documented for ${status} (documented: ${Object.keys(content).join(', ')})`);
    return { operation, problems, checked: true };
  }
  if (ctype === 'text/event-stream') {
    const eventSchema = media['x-sse-data'];
    if (eventSchema && !ex.partial) {
      const v = doc.validator(`sse ${eventSchema.$ref ?? responseKey}`, eventSchema);
      sseData(String(ex.text ?? '')).forEach((data, i) => {
        if (data === '[DONE]') return;
        let value;
        try {
          value = JSON.parse(data);
        } catch {
          problems.push(`event ${i} is not JSON: ${data.slice(0, 200)}`);
          return;
        }
        if (!v(value)) problems.push(`event ${i} does not match the stream event schema:\n${ajvText(v.errors)}\n    event: ${data.slice(0, 300)}`);
      });
    }
    return { operation, problems, checked: true };
  }
  if (ctype.endsWith('json') && media.schema) {
    const body = parseJson();
    if (body.ok) {
      const v = doc.validator(`${responseKey} ${ctype}`, media.schema);
      if (!v(body.value)) problems.push(`body does not match the schema for ${status}:\n${ajvText(v.errors)}\n    body: ${String(ex.text).slice(0, 400)}`);
    }
  }
  return { operation, problems, checked: true };
}

/** Like `checkExchange`, but throws a readable error when the exchange disagrees with the document. */
export function assertExchange(ex, doc) {
  const r = checkExchange(ex, doc);
  if (r.problems.length) {
    const err = new Error(`answer does not match docs/openapi.yaml\n  operation: ${r.operation}\n  status: ${ex.status}\n  ${r.problems.join('\n  ')}`);
    err.name = 'ApiDocumentMismatch';
    throw err;
  }
  return r;
}
