// Requests to the Kubernetes API on this origin, from the pages and from the data worker.
// Every request says it comes from the console (X-Mizzen-UI: the server accepts the session
// cookie only with it) and carries the bearer token when the user logged in with one.

export interface Status {
  code: number;
  reason: string;
  message: string;
  /** A 410 for a too old continue token: a token to go on with (an inconsistent list). */
  continue?: string;
}

export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
  get code(): number {
    return this.status.code;
  }
}

/** Thrown when the request never got an answer (server down, connection refused or cut). */
export class NetworkError extends Error {}

export function apiHeaders(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { 'X-Mizzen-UI': '1', Accept: 'application/json', ...extra };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

/** The Status of a failed answer (the body when it is one, else made from the code). */
export async function statusOf(res: Response): Promise<Status> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // cut off: the code will do
  }
  try {
    const s = JSON.parse(text);
    if (s && s.kind === 'Status') return { code: s.code || res.status, reason: s.reason ?? '', message: s.message ?? res.statusText, continue: s.metadata?.continue || undefined };
  } catch {
    // not JSON
  }
  return { code: res.status, reason: res.statusText, message: text.trim() || `${res.status} ${res.statusText}` };
}

let skew = 0;
/** Server clock minus ours, in ms (from Date headers, second precision: within ~0.5 s). */
export function clockSkew(): number {
  return skew;
}
function noteDate(res: Response): void {
  const d = res.headers.get('date');
  if (!d) return;
  const server = Date.parse(d);
  if (Number.isNaN(server)) return;
  // The header truncates to the second: the server's time was somewhere in [d, d+1s).
  const est = server + 500 - Date.now();
  skew = Math.abs(est - skew) > 1000 ? est : skew * 0.8 + est * 0.2;
}

export interface FetchOptions {
  method?: string;
  body?: unknown;
  token?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** fetch() with the console's headers; non-2xx answers throw ApiError, no answer NetworkError. */
export async function apiFetch(path: string, o: FetchOptions = {}): Promise<Response> {
  const headers = apiHeaders(o.token, o.headers);
  let body: string | undefined;
  if (o.body !== undefined) {
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    headers['Content-Type'] ??= 'application/json';
  }
  return apiAnswer(fetch(path, { method: o.method ?? 'GET', headers, body, signal: o.signal, credentials: 'same-origin', cache: 'no-store' }));
}

/** A fetch()'s answer the console's way: non-2xx answers throw ApiError, no answer NetworkError. */
export async function apiAnswer(pending: Promise<Response>): Promise<Response> {
  let res: Response;
  try {
    res = await pending;
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new NetworkError((e as Error).message || 'the API server cannot be reached');
  }
  noteDate(res);
  if (!res.ok) throw new ApiError(await statusOf(res));
  return res;
}

export async function apiJSON<T = any>(path: string, o: FetchOptions = {}): Promise<T> {
  const res = await apiFetch(path, o);
  return (await res.json()) as T;
}

/** The URL path of a resource collection or object. */
export function resourcePath(r: { group: string; version: string; resource: string; namespace?: string; name?: string }, sub?: string): string {
  let p = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespace) p += `/namespaces/${encodeURIComponent(r.namespace)}`;
  p += `/${r.resource}`;
  if (r.name) p += `/${encodeURIComponent(r.name)}`;
  if (sub) p += `/${sub}`;
  return p;
}
