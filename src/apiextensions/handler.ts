// Serving a custom resource request (upstream customresource_handler.go's ServeHTTP): reads are
// converted from the stored version into the requested one; writes go through the generic handler
// with the version's store (which converts to the storage version) and this version's decoding
// (pruning, embedded ObjectMeta, fieldValidation) in place of the built-in kinds' typed decoding.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import { typeMismatchError, unknownFieldWarnings } from '../api/schema.ts';
import { mediaType } from '../apiserver/http-util.ts';
import { sendJSON } from '../apiserver/http-util.ts';
import type { RequestInfo } from '../apiserver/request-info.ts';
import { catchUp, handleResource, list, writeObject, type HandlerContext } from '../apiserver/resource-handler.ts';
import { negotiateOutput } from '../apiserver/output.ts';
import { serveWatch } from '../apiserver/watch.ts';
import { scaleOf } from '../apiserver/scale.ts';
import type { FieldValidator } from '../apiserver/field-validation.ts';
import { prune } from './schema/pruning.ts';
import { coerceMetadata } from './schema/objectmeta.ts';
import { terminatingError, type CRDServing, type VersionServing } from './serving.ts';

export async function handleCustomResource(
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
  crd: CRDServing,
  v: VersionServing,
  hc: HandlerContext,
  q: URLSearchParams,
): Promise<void> {
  const def = v.def;
  if (v.deprecationWarning) res.setHeader('Warning', `299 - ${JSON.stringify(v.deprecationWarning)}`);
  if (info.verb === 'create' && crd.terminating) throw terminatingError('create');
  if (info.verb === 'patch' && mediaType(req.headers['content-type']) === 'application/strategic-merge-patch+json')
    throw errors.unsupportedMediaType(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  const sub = info.subresource;
  const ns = def.namespaced ? info.namespace : undefined;
  const reads = info.verb === 'get' || info.verb === 'list' || info.verb === 'watch';
  if (reads && (!sub || sub === 'status' || sub === 'scale')) {
    if (def.namespaced && info.namespace === undefined && info.verb === 'get')
      throw errors.notFoundPath(`the server could not find the requested resource: ${def.plural} is namespaced; use /namespaces/<namespace>/${def.plural}`);
    if (!def.namespaced && info.namespace !== undefined) throw errors.notFoundPath(`the server could not find the requested resource: ${def.plural} is not namespaced`);
    if (sub === 'status' && !def.status) throw errors.notFoundPath(`the server could not find the requested resource (${def.plural}/status)`);
    if (sub === 'scale' && !def.scale) throw errors.notFoundPath(`the server could not find the requested resource (${def.plural}/scale)`);
    const form = negotiateOutput(req.headers.accept);
    await catchUp(info.verb, q, v.store, ns, info.name);
    const convert = (items: Parameters<CRDServing['readMany']>[0]) => crd.readMany(items, v.name);
    if (info.verb === 'get') {
      const [c] = await convert([v.store.get(ns, info.name!)]);
      if (sub === 'scale') return sendJSON(res, 200, scaleOf(def, c.obj));
      return writeObject(res, 200, def, c, form, q);
    }
    if (info.verb === 'list' && !sub) return list(res, def, v.store, form, ns, q, convert);
    if (info.verb === 'watch' && !sub) {
      if (info.name) {
        const nameSel = `metadata.name=${info.name}`;
        const fs = q.get('fieldSelector');
        q.set('fieldSelector', fs ? `${fs},${nameSel}` : nameSel);
      }
      return serveWatch(req, res, def, v.store, form, ns, q, async (c) => (await convert([c]))[0]);
    }
  }
  const crHc: HandlerContext = { ...hc, validateFields: decodeBody(v), patchSchemaFor: () => undefined, subresourcePost: undefined };
  return handleResource(req, res, info, def, v.store, crHc, q);
}

/**
 * The decoding of a custom resource body (upstream's schema-coercing decoder): fields the schema
 * does not know are pruned, and reported as fieldValidation asks; metadata must be an ObjectMeta.
 */
function decodeBody(v: VersionServing): FieldValidator {
  return (def, obj: KObject, mode, warnings, duplicates = []) => {
    const m = mode ?? 'Warn';
    if (m !== 'Strict' && m !== 'Warn' && m !== 'Ignore')
      throw errors.badRequest(`fieldValidation parameter unsupported: ${JSON.stringify(m)}: must be one of Ignore, Warn, Strict`);
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw errors.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: the body must be a JSON object`);
    const unknown = v.schema ? prune(obj, v.schema) : [];
    const meta = coerceMetadata(obj, v.schema ?? {});
    if (meta.problem) throw typeMismatchError(def.kind, def.version, meta.problem);
    unknown.push(...meta.unknown);
    if (m === 'Ignore' || (unknown.length === 0 && duplicates.length === 0)) return;
    const problems = [...duplicates.map((d) => `duplicate field ${JSON.stringify(d)}`), ...unknownFieldWarnings(unknown)];
    if (m === 'Strict') throw errors.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${problems.join(', ')}`);
    warnings.push(...problems);
  };
}
