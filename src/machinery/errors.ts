// API errors: Kubernetes `Status` objects with a reason and an HTTP code.
// Storage has its own closed set of codes (StorageError in src/storage/store.ts); the registry converts at one boundary.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout'
  | 'ServiceUnavailable';

export class StatusError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details?: StatusDetails;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers?: Record<string, string>;
  /** The Status's ListMeta (a 410 for a too old continue token carries a token to go on with). */
  listMeta?: { continue?: string };

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails, headers?: Record<string, string>) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.headers = headers;
  }

  toStatus(): Status {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: { ...this.listMeta }, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) {
      // Upstream omits empty detail fields (the core group is "").
      const d: StatusDetails = {};
      for (const [k, v] of Object.entries(this.details)) if (v !== '' && v !== undefined) (d as any)[k] = v;
      s.details = d;
    }
    return s;
  }
}

/** Identifies a resource in error messages the way upstream does: `pods`, `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

/** One validation failure with the field path it is about, as upstream's field.Error. */
export interface FieldError {
  type:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueDuplicate'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong'
    | 'FieldValueTooMany'
    | 'FieldValueTypeInvalid';
  field: string;
  /** Full message as upstream prints it, e.g. `Required value` or `Invalid value: "x": must be ...`. */
  detail: string;
}

export const errors = {
  badRequest: (message: string) => new StatusError(400, 'BadRequest', message),
  unauthorized: (message = 'Unauthorized') => new StatusError(401, 'Unauthorized', message),
  forbidden: (gr: GroupResource, name: string, message: string) =>
    new StatusError(403, 'Forbidden', `${qualifiedResource(gr)}${name ? ` "${name}"` : ''} is forbidden: ${message}`, { name, group: gr.group, kind: gr.resource }),
  notFound: (gr: GroupResource, name: string) =>
    new StatusError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, { name, group: gr.group, kind: gr.resource }),
  /** 404 for a path that names no known resource. */
  notFoundPath: (message = 'the server could not find the requested resource') => new StatusError(404, 'NotFound', message, {}),
  alreadyExists: (gr: GroupResource, name: string) =>
    new StatusError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, { name, group: gr.group, kind: gr.resource }),
  conflict: (gr: GroupResource, name: string, why: string) =>
    new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`, { name, group: gr.group, kind: gr.resource }),
  /** 409 on a stale resourceVersion, with upstream's wording. */
  staleConflict: (gr: GroupResource, name: string) =>
    errors.conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again'),
  gone: (message: string) => new StatusError(410, 'Gone', message),
  expired: (message: string) => new StatusError(410, 'Expired', message),
  invalid: (kind: string, group: string, name: string, causes: FieldError[]) => {
    const parts = causes.map((c) => `${c.field}: ${c.detail}`);
    const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
    return new StatusError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${list}`, {
      name,
      group,
      kind,
      causes: causes.map((c) => ({ reason: c.type, message: c.detail, field: c.field })),
    });
  },
  methodNotAllowed: (message: string) => new StatusError(405, 'MethodNotAllowed', message),
  notAcceptable: (message: string) => new StatusError(406, 'NotAcceptable', message),
  tooLarge: (message = 'Request entity too large: limit is 3145728') => new StatusError(413, 'RequestEntityTooLarge', message),
  unsupportedMediaType: (message: string) => new StatusError(415, 'UnsupportedMediaType', message),
  tooManyRequests: (message: string, retryAfterSeconds = 1) =>
    new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) }),
  internal: (message: string) => new StatusError(500, 'InternalError', `Internal error occurred: ${message}`),
  timeout: (message: string) => new StatusError(504, 'Timeout', message),
  /** A resourceVersion the server has not reached (upstream's NewTooLargeResourceVersionError): clients list again. */
  tooLargeResourceVersion: (requested: number, current: number) =>
    new StatusError(
      504,
      'Timeout',
      `Too large resource version: ${requested}, current: ${current}`,
      { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
      { 'Retry-After': '1' },
    ),
  /**
   * With retryAfterSeconds (storage that is down for a moment) the answer carries Retry-After, and
   * client-go retries the request itself; without it (an unreachable kubelet) clients report it.
   */
  serviceUnavailable: (message: string, retryAfterSeconds?: number) =>
    retryAfterSeconds === undefined
      ? new StatusError(503, 'ServiceUnavailable', message)
      : new StatusError(503, 'ServiceUnavailable', message, { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) }),
};

/** Field-error constructors with upstream's message forms. */
export const field = {
  required: (path: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field: path, detail: detail ? `Required value: ${detail}` : 'Required value' }),
  invalid: (path: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field: path,
    detail: `Invalid value: ${formatValue(value)}${detail ? `: ${detail}` : ''}`,
  }),
  notSupported: (path: string, value: unknown, valid: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field: path,
    detail: `Unsupported value: ${formatValue(value)}${valid.length ? `: supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : ''}`,
  }),
  duplicate: (path: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field: path, detail: `Duplicate value: ${formatValue(value)}` }),
  forbidden: (path: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field: path, detail: `Forbidden: ${detail}` }),
  tooLong: (path: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field: path, detail: `Too long: may not be more than ${max} bytes` }),
  tooMany: (path: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany',
    field: path,
    detail: `Too many: ${actual}: must have at most ${max} items`,
  }),
};

function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v);
    } catch {
      return '<a value nested too deeply to print>';
    }
  }
  return String(v);
}
