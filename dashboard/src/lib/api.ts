// The owner API client. Every call carries the session token; a 401 ends the
// session and sends the owner back to sign-in (see router.ts).
import { accessToken, setSession } from './session';

export const API_BASE = (import.meta.env.VITE_API_BASE || 'http://127.0.0.1:3000').replace(/\/$/, '');

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Do not attach the session, and do not treat a 401 as a lost session. */
  anonymous?: boolean;
  signal?: AbortSignal;
}

export async function call<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { ...(opts.headers || {}) };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (!opts.anonymous && accessToken.value) headers.authorization = `Bearer ${accessToken.value}`;
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}`, {
      method: opts.method || (opts.body === undefined ? 'GET' : 'POST'),
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', `The API at ${API_BASE} could not be reached.`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const b = (body && typeof body === 'object' ? body : {}) as { error?: unknown; message?: string; field?: string };
    const code = typeof b.error === 'string' ? b.error : `http_${res.status}`;
    const err = new ApiError(res.status, code, b.message || `The API answered ${res.status}.`, b.field, body);
    if (res.status === 401 && !opts.anonymous) {
      setSession(null);
      onUnauthorized();
    }
    throw err;
  }
  return body as T;
}

/** A project-scoped path: `/api/projects/<id><rest>`. */
export const projectPath = (id: string, rest = '') => `/api/projects/${encodeURIComponent(id)}${rest}`;

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.field ? `${e.message} (field: ${e.field})` : e.message;
  return e instanceof Error ? e.message : String(e);
}
