// Routes for discovery (/api, /apis, /api/v1, /apis/<g>[/<v>]) and OpenAPI (/openapi/v2, /openapi/v3/...).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceDef } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import { sendBody, sendJSON } from './http-util.ts';
import type { RequestInfo } from './request-info.ts';
import { openAPIV2Document, openAPIV3Document, openAPIV3IndexDocument, type ServedDocument } from './openapi.ts';
import { negotiateOpenAPIV2, openAPIV2ProtobufContentType, openAPIV2ProtobufDocument } from './openapi-protobuf.ts';
import { discoveryDocuments, negotiateDiscovery, discoveryContentTypes, type DiscoveryDocuments, type RemoteGroupVersion } from './discovery.ts';

function sendDocument(req: IncomingMessage, res: ServerResponse, doc: ServedDocument, contentType = 'application/json'): void {
  if (req.headers['if-none-match'] === doc.etag) {
    res.writeHead(304, { ETag: doc.etag });
    res.end();
    return;
  }
  sendBody(res, 200, doc.body, { 'Content-Type': contentType, ETag: doc.etag, 'Cache-Control': (res.getHeader('Cache-Control') as string | undefined) ?? 'no-cache, private', Vary: 'Accept' });
}

export function serveOpenAPI(req: IncomingMessage, res: ServerResponse, p: string, q: URLSearchParams, resources: ResourceDef[]): void {
  const accept = req.headers.accept ?? '';
  if (p === '/openapi/v2') {
    // kubectl asks for gnostic protobuf (client-side validation of List manifests); JSON otherwise.
    const form = negotiateOpenAPIV2(accept);
    if (form === 'protobuf') return sendDocument(req, res, openAPIV2ProtobufDocument(resources), openAPIV2ProtobufContentType);
    if (form === 'json') return sendDocument(req, res, openAPIV2Document(resources));
    throw errors.notAcceptable('only application/json and application/com.github.proto-openapi.spec.v2.v1.0+protobuf are supported for /openapi/v2');
  }
  if (p === '/openapi/v3' || p === '/openapi/v3/') return sendDocument(req, res, openAPIV3IndexDocument(resources));
  if (p.startsWith('/openapi/v3/')) {
    const gv = p.slice('/openapi/v3/'.length).replace(/\/$/, '');
    const doc = openAPIV3Document(resources, gv);
    if (!doc) throw errors.notFoundPath(`no OpenAPI v3 document for ${gv}`);
    // With ?hash= the document is immutable: let clients cache it, as upstream does.
    if (q.get('hash') === doc.hash) res.setHeader('Cache-Control', 'public, immutable');
    return sendDocument(req, res, doc);
  }
  throw errors.notFoundPath(`the server could not find the requested resource (${p})`);
}

/**
 * Discovery documents serialised once per server address, resource list (it changes with CRDs) and
 * set of aggregated group versions (`remote` is a new array whenever an APIService or its
 * discovery changes).
 */
const noRemote: RemoteGroupVersion[] = [];
let docsCache: { key: string; resources: ResourceDef[]; remote: RemoteGroupVersion[]; docs: DiscoveryDocuments; json: Map<string, string> } | undefined;

function docJSON(path: string, form: 'v2' | 'v2beta1' | 'legacy'): string | undefined {
  const c = docsCache!;
  const k = `${form} ${path}`;
  let j = c.json.get(k);
  if (j === undefined) {
    const doc = form === 'legacy' ? c.docs.legacy[path] : c.docs.aggregated[form][path as '/api' | '/apis'];
    if (!doc) return undefined;
    j = JSON.stringify(doc);
    c.json.set(k, j);
  }
  return j;
}

export async function serveDiscovery(
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
  resources: ResourceDef[],
  serverAddress: string,
  remote: RemoteGroupVersion[] = noRemote,
): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (!docsCache || docsCache.key !== serverAddress || docsCache.resources !== resources || docsCache.remote !== remote)
    docsCache = { key: serverAddress, resources, remote, docs: discoveryDocuments(resources, serverAddress, remote), json: new Map() };
  const p = info.path.replace(/\/$/, '');
  if (!p.startsWith('/api')) return false;
  const form = p === '/api' || p === '/apis' ? negotiateDiscovery(req.headers.accept) : 'legacy';
  const body = docJSON(p, form);
  if (body === undefined) throw errors.notFoundPath(`the server could not find the requested resource (${p})`);
  sendJSON(res, 200, body, { 'Content-Type': discoveryContentTypes[form], Vary: 'Accept' });
  return true;
}
