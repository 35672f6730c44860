// Turns a URL path into what it addresses (upstream's RequestInfoFactory).

import { errors } from '../machinery/errors.ts';
import { queryFlag } from './query-params.ts';

export interface RequestInfo {
  /** True for /api and /apis resource paths; false for /healthz, /version, /openapi, discovery... */
  isResourceRequest: boolean;
  path: string;
  /** 'api' or 'apis' for API paths. */
  prefix?: 'api' | 'apis';
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
  /** get list watch create update patch delete deletecollection, or the HTTP method lower-cased for non-resources. */
  verb: string;
}

/** Namespace subresources that are not nested resources (upstream namespaceSubresources). */
const namespaceSubresources = new Set(['status', 'finalize']);

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const parts = path.split('/').filter((p) => p !== '');
  const info: RequestInfo = { isResourceRequest: false, path, group: '', version: '', verb: method.toLowerCase() };
  if (parts[0] !== 'api' && parts[0] !== 'apis') return info;
  info.prefix = parts[0] as 'api' | 'apis';
  let rest: string[];
  if (info.prefix === 'api') {
    if (parts.length < 2) return info; // /api
    info.version = parts[1];
    rest = parts.slice(2);
  } else {
    if (parts.length < 3) {
      if (parts.length === 2) info.group = parts[1];
      return info; // /apis or /apis/<group>
    }
    info.group = parts[1];
    info.version = parts[2];
    rest = parts.slice(3);
  }
  if (rest.length === 0) return info; // /api/v1 or /apis/g/v: discovery
  info.isResourceRequest = true;
  try {
    rest = rest.map((p) => decodeURIComponent(p));
  } catch {
    throw errors.badRequest(`invalid URL escape in path ${path}`);
  }
  for (const seg of rest) {
    if (seg === '.' || seg === '..') throw errors.badRequest(`invalid path ${JSON.stringify(path)}: a name may not be ${JSON.stringify(seg)}`);
  }
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  if (rest[0] === 'namespaces' && rest.length > 1) {
    if (rest.length > 2 && !namespaceSubresources.has(rest[2])) {
      info.namespace = rest[1];
      rest = rest.slice(2);
    } else {
      info.resource = 'namespaces';
      info.name = rest[1];
      if (rest.length > 2) info.subresource = rest[2];
      rest = [];
    }
  }
  if (rest.length > 0) {
    info.resource = rest[0];
    if (rest.length > 1) info.name = rest[1];
    if (rest.length > 2) info.subresource = rest[2];
    if (rest.length > 3) info.subresource = rest.slice(2).join('/');
  }
  const m = method.toUpperCase();
  switch (m) {
    case 'GET':
    case 'HEAD':
      info.verb = watchPrefix || queryFlag(query, 'watch') ? 'watch' : info.name ? 'get' : 'list';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = m.toLowerCase();
  }
  return info;
}

/** A boolean query value as upstream reads it (see query-params.ts); null (absent) is false. */
export function isTrue(v: string | null): boolean {
  return v !== null && !(v === '0' || v.toLowerCase() === 'false');
}
