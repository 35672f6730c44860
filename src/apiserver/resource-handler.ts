// Serves one resource request (get, list, watch, create, update, patch, delete, deletecollection)
// and the generic subresources (status, scale). Pod binding/eviction live in pod-subresources.ts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject, ResourceDef } from '../api/types.ts';
import { errors, field, StatusError, type FieldError } from '../machinery/errors.ts';
import { attributesFor, type Attributes, type AuthorizerResult } from './authz/attributes.ts';
import { applyPatch, applyPatchType } from '../machinery/patch/index.ts';
import { stringifyJSON } from '../machinery/json-values.ts';
import { findDuplicateFields } from '../machinery/json-duplicates.ts';
import { decodeObjectBody, readBody, sendJSON, mediaType } from './http-util.ts';
import { sendJSONList, type ListItem } from './list-body.ts';
import { requestUser } from './request-user.ts';
import { auditAnnotations } from './audit.ts';
import type { RequestInfo } from './request-info.ts';
import { optionalQueryFlag, queryFlag } from './query-params.ts';
import { isTrue } from './request-info.ts';
import { sendTableList } from './table-list.ts';
import { negotiateOutput, toTable, listEnvelope, partialMetadata, type OutputForm, type ListMeta } from './output.ts';
import { buildFilter } from './selectors.ts';
import type { ResourceStore, DeleteOptions } from './registry/resource-store.ts';
import { CachedObject, writtenJSON } from './registry/cached-object.ts';
import { serveWatch } from './watch.ts';
import { changedSince, remainingAt, snapshotScan, type ChangedSince } from './list-snapshot.ts';
import { StorageError } from '../storage/store.ts';
import type { FieldValidator } from './field-validation.ts';
import { scaleOf, applyScale } from './scale.ts';
import { checkFieldManagerOptions, fieldManagerFor, managerOrUserAgent } from './fieldmanager/index.ts';
import { serverSideApply } from './apply-handler.ts';
import type { ManagedFieldsWrite } from './registry/resource-store.ts';

export interface HandlerContext {
  stores: Map<ResourceDef, ResourceStore>;
  validateFields: FieldValidator;
  patchSchemaFor(model: string): unknown;
  /** Pod binding/eviction and other special subresources. */
  subresourcePost?(info: RequestInfo, store: ResourceStore, body: any, res: ServerResponse, dryRun: boolean): Promise<boolean>;
  /** The request's authorizer, for checks beyond the request's own verb; absent under AlwaysAllow. */
  authorize?(a: Attributes): AuthorizerResult;
  /**
   * Resolves when a write's answer may be written: a committed batch resolves its callers all at
   * once, and their answers go out within the writes' turns (write-turns.ts) after the reads of
   * the turn, not in one stretch.
   */
  writeTurn?(): Promise<void>;
}

/** The verb an unsafe delete of a corrupt object needs besides `delete` (upstream's). */
export const UNSAFE_DELETE_VERB = 'unsafe-delete-ignore-read-errors';

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.start })).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad');
    return t;
  } catch {
    throw errors.badRequest(`continue key is not valid: ${s.slice(0, 64)}`);
  }
}

function dryRunOf(q: URLSearchParams): boolean {
  const d = q.getAll('dryRun');
  for (const v of d) if (v !== 'All') throw errors.badRequest(`Invalid dry run value: unsupported dry run value "${v}"; only "All" is supported`);
  return d.length > 0;
}

export function writeObject(res: ServerResponse, code: number, def: ResourceDef, obj: KObject | CachedObject, form: OutputForm, q: URLSearchParams, warnings?: string[]): void {
  const headers = warnings?.length ? warningHeader(warnings) : {};
  const cached = obj instanceof CachedObject ? obj : undefined;
  const plain = cached ? cached.obj : (obj as KObject);
  if (form.kind === 'table') return sendJSON(res, code, toTable(def, [plain], undefined, form.version, q.get('includeObject') ?? 'Metadata'), headers);
  if (form.kind === 'metadata') return sendJSON(res, code, partialMetadata(plain, form.version), headers);
  sendJSON(res, code, cached ? cached.json : (writtenJSON.get(plain) ?? stringifyJSON(plain)), headers);
}

/** Duplicate keys in a JSON body, looked for only when field validation will report them. */
function duplicatesIn(raw: Buffer, req: IncomingMessage, q: URLSearchParams): string[] {
  if (q.get('fieldValidation') === 'Ignore') return [];
  const mt = mediaType(req.headers['content-type']);
  if (mt !== 'application/json' && mt !== '') return [];
  return findDuplicateFields(raw.toString('utf8'));
}

// For `npm run bench -- apiserver --managed-fields both` only: the same build with the bookkeeping
// of creates, updates and patches switched off, to measure what it costs (server-side apply still
// records its own). Not a supported setting: upstream has no way to turn managed fields off.
const untracked = process.env.MIZZEN_BENCH_UNTRACKED_WRITES === '1';

/** Field ownership for a create/update/patch through `subresource`: recorded under the request's manager. */
function tracking(def: ResourceDef, subresource: string | undefined, req: IncomingMessage, q: URLSearchParams): ManagedFieldsWrite | undefined {
  if (untracked) return undefined;
  const fm = fieldManagerFor(def, subresource);
  const manager = managerOrUserAgent(q.get('fieldManager'), req.headers['user-agent']);
  return { update: (live, obj) => fm.update(live, obj, manager) };
}

function warningHeader(warnings: string[]): Record<string, string> {
  return warnings.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') } : {};
}

export async function handleResource(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, store: ResourceStore, hc: HandlerContext, q: URLSearchParams): Promise<void> {
  const ns = def.namespaced ? info.namespace : undefined;
  // Lists, watches and deletecollection may span namespaces; everything else needs one.
  if (def.namespaced && info.namespace === undefined && (info.verb === 'create' || info.name))
    throw errors.notFoundPath(`the server could not find the requested resource: ${def.plural} is namespaced; use /namespaces/<namespace>/${def.plural}`);
  if (!def.namespaced && info.namespace !== undefined) throw errors.notFoundPath(`the server could not find the requested resource: ${def.plural} is not namespaced`);
  const form = negotiateOutput(req.headers.accept);
  const user = requestUser(req);
  const annotations = auditAnnotations(req);
  const verb = info.verb;
  const sub = info.subresource;

  if (sub && !['status', 'scale', 'binding', 'eviction', 'finalize', 'token', ...(def.statusLikeSubresources ?? [])].includes(sub)) throw errors.notFoundPath(`the server could not find the requested resource (${def.plural}/${sub})`);
  if (sub === 'status' && !def.status) throw errors.notFoundPath(`the server could not find the requested resource (${def.plural}/status)`);
  if (sub === 'scale' && !def.scale) throw errors.notFoundPath(`the server could not find the requested resource (${def.plural}/scale)`);
  if (sub === 'finalize' && def.plural !== 'namespaces') throw errors.notFoundPath();

  if ((verb === 'update' || verb === 'patch') && !info.name)
    throw errors.methodNotAllowed(`${verb === 'update' ? 'PUT' : 'PATCH'} is not supported on the ${def.plural} collection: name one ${def.singular} in the URL`);
  if (verb === 'list' || verb === 'watch') checkListOptions(q);
  await catchUp(verb, q, store, ns, info.name);

  switch (verb) {
    case 'get': {
      const c = store.get(ns, info.name!);
      if (sub === 'scale') return sendJSON(res, 200, scaleOf(def, c.obj));
      return writeObject(res, 200, def, c, form, q);
    }
    case 'list':
      return list(res, def, store, form, ns, q);
    case 'watch':
      if (info.name) {
        const nameSel = `metadata.name=${info.name}`;
        const fs = q.get('fieldSelector');
        q.set('fieldSelector', fs ? `${fs},${nameSel}` : nameSel);
      }
      return serveWatch(req, res, def, store, form, ns, q);
    case 'create': {
      const dryRun = dryRunOf(q);
      if (!(info.name && sub)) checkFieldManagerOptions('CreateOptions', q, false);
      const raw = await readBody(req);
      const body = decodeObjectBody(raw, req.headers['content-type']);
      if (info.name && sub) {
        if (hc.subresourcePost && (await hc.subresourcePost(info, store, body, res, dryRun))) return;
        throw errors.methodNotAllowed(`POST is not supported on ${def.plural}/${sub}`);
      }
      if (info.name) throw errors.methodNotAllowed(`the server does not allow this method on the requested resource: POST to a named ${def.singular}; use PUT or PATCH`);
      const warnings: string[] = [];
      hc.validateFields(def, body, q.get('fieldValidation'), warnings, duplicatesIn(raw, req, q));
      const created = await store.create(ns, body, { dryRun, warnings, user, annotations, managedFields: tracking(def, undefined, req, q) });
      await hc.writeTurn?.();
      return writeObject(res, 201, def, created, form, q, warnings);
    }
    case 'update': {
      const dryRun = dryRunOf(q);
      checkFieldManagerOptions('UpdateOptions', q, false);
      const raw = await readBody(req);
      const body = decodeObjectBody(raw, req.headers['content-type']);
      const warnings: string[] = [];
      if (sub === 'scale') {
        const updated = await store.update(ns, info.name!, (cur) => applyScale(def, cur, body, info.name!), { dryRun, warnings, user, annotations, managedFields: tracking(def, 'scale', req, q) });
        return sendJSON(res, 200, scaleOf(def, updated));
      }
      if (sub === 'finalize') {
        const updated = await store.update(ns, info.name!, (cur) => finalizeNamespace(cur, body), { dryRun, warnings, user, annotations, subresource: 'finalize' });
        return writeObject(res, 200, def, updated, form, q, warnings);
      }
      // Status writes are decoded as the whole kind too: unknown fields are reported and dropped.
      if (!sub || sub === 'status') hc.validateFields(def, body, q.get('fieldValidation'), warnings, duplicatesIn(raw, req, q));
      const updated = await store.update(ns, info.name!, () => body, { dryRun, warnings, user, annotations, subresource: sub, managedFields: tracking(def, sub, req, q) });
      await hc.writeTurn?.();
      return writeObject(res, 200, def, updated, form, q, warnings);
    }
    case 'patch': {
      const dryRun = dryRunOf(q);
      const ct = mediaType(req.headers['content-type']);
      const apply = ct === applyPatchType;
      if (!apply && ct !== 'application/apply-patch+cbor') checkFieldManagerOptions('PatchOptions', q, false);
      const raw = await readBody(req);
      if (raw.length === 0) throw errors.badRequest('the request body is empty: send a patch document');
      if (apply) return serverSideApply(req, res, info, def, store, q, raw, form, ns);
      const warnings: string[] = [];
      const schema = hc.patchSchemaFor(def.model);
      if (sub === 'scale') {
        const updated = await store.update(
          ns,
          info.name!,
          (cur) => {
            const patched = applyPatch(ct, scaleOf(def, cur), raw, undefined);
            return applyScale(def, cur, patched, info.name!);
          },
          { dryRun, warnings, user, annotations, managedFields: tracking(def, 'scale', req, q) },
        );
        return sendJSON(res, 200, scaleOf(def, updated));
      }
      const updated = await store.update(
        ns,
        info.name!,
        (cur) => {
          // cur is update()'s private copy for this attempt: patch it in place.
          const patched = applyPatch(ct, cur, raw, schema as any, true);
          if (!sub || sub === 'status') hc.validateFields(def, patched, q.get('fieldValidation'), warnings);
          return patched;
        },
        { dryRun, warnings, user, annotations, subresource: sub, managedFields: tracking(def, sub, req, q) },
      );
      await hc.writeTurn?.();
      return writeObject(res, 200, def, updated, form, q, warnings);
    }
    case 'delete': {
      if (sub) throw errors.methodNotAllowed(`DELETE is not supported on ${def.plural}/${sub}`);
      const opts = { ...(await deleteOptions(req, q)), user, annotations };
      if (opts.ignoreStoreReadError) {
        // Recorded whatever the outcome, as upstream's handler does.
        if (annotations) annotations['apiserver.k8s.io/unsafe-delete-ignore-read-error'] = '';
        if (hc.authorize && user) {
          const r = hc.authorize(attributesFor(user, { ...info, verb: UNSAFE_DELETE_VERB }));
          if (r.decision !== 'Allow') throw errors.forbidden(store.gr, info.name!, `not permitted to do "${UNSAFE_DELETE_VERB}", reason: ${r.reason}`);
        }
        await store.unsafeDelete(ns, info.name!);
        return sendJSON(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: info.name, group: def.group, kind: def.plural } });
      }
      const r = await store.delete(ns, info.name!, opts);
      await hc.writeTurn?.();
      if (r.deleted && form.kind === 'json') {
        return sendJSON(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name: info.name, group: def.group, kind: def.plural, uid: r.obj.metadata.uid },
        });
      }
      return writeObject(res, 200, def, r.obj, form, q);
    }
    case 'deletecollection': {
      const opts = { ...(await deleteOptions(req, q)), user, annotations };
      if (opts.ignoreStoreReadError)
        throw errors.invalid('DeleteOptions', 'meta.k8s.io', '', [
          field.invalid('ignoreStoreReadErrorWithClusterBreakingPotential', true, 'is not allowed with DELETECOLLECTION, try again after removing the option'),
        ]);
      const filter = buildFilter(def, q.get('labelSelector'), q.get('fieldSelector'));
      const { items } = store.cache.list(store.listPrefix(ns));
      const deleted: KObject[] = [];
      for (const c of items) {
        if (filter && !filter(c.obj)) continue;
        try {
          const r = await store.delete(c.namespace, c.name, opts);
          deleted.push(r.obj);
        } catch (e) {
          if (e instanceof StatusError && e.code === 404) continue;
          throw e;
        }
      }
      return sendJSON(res, 200, { kind: def.listKind ?? `${def.kind}List`, apiVersion: store.apiVersion, metadata: {}, items: deleted });
    }
    default:
      throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
}

/**
 * Before serving from the watch cache: wait until it is current where the request needs it (see
 * needsCurrentState) and for a resourceVersion it has not reached yet (notFromTheFuture). Custom
 * resources' reads, served outside handleResource, call it too.
 */
export async function catchUp(verb: string, q: URLSearchParams, store: ResourceStore, ns: string | undefined, name: string | undefined): Promise<void> {
  if (store.cache.sync && needsCurrentState(verb, q, store, ns, name)) await store.cache.sync();
  if (verb === 'get' || verb === 'list' || verb === 'watch') await notFromTheFuture(store, q);
}

/**
 * On storage shared with other API servers the watch cache may lag a write made through another
 * one by a moment. Reads without a resourceVersion must be current (upstream reads etcd with a
 * quorum read), and so must a change to an object this cache has not seen yet; those wait for the
 * cache to catch up with the storage's current revision first.
 */
function needsCurrentState(verb: string, q: URLSearchParams, store: ResourceStore, ns: string | undefined, name: string | undefined): boolean {
  switch (verb) {
    case 'get':
    case 'list':
    case 'watch':
      return (q.get('resourceVersion') ?? '') === '';
    case 'deletecollection':
      return true;
    case 'update':
    case 'patch':
    case 'delete':
    case 'create':
      return !!name && !store.tryGet(ns, name);
    default:
      return false;
  }
}

/**
 * A resourceVersion beyond what this server has seen: wait a moment for it (another API server may
 * have written it just now), then answer as upstream does, "Too large resource version", after
 * which clients list again. (A client that kept a resourceVersion across a change of storage, e.g.
 * `mizzen migrate`, would otherwise wait unknowingly until the new store's revision reached it.)
 */
async function notFromTheFuture(store: ResourceStore, q: URLSearchParams): Promise<void> {
  const raw = q.get('resourceVersion') ?? '';
  if (raw === '' || raw === '0' || !/^\d+$/.test(raw)) return;
  const rv = Number(raw);
  if (rv <= store.cache.revision || !store.cache.waitFor) return;
  try {
    await store.cache.waitFor(rv, 3000);
  } catch {
    throw errors.tooLargeResourceVersion(rv, store.cache.revision);
  }
}

/** Upstream's ListOptions validation. */
function checkListOptions(q: URLSearchParams): void {
  const match = q.get('resourceVersionMatch');
  const rv = q.get('resourceVersion') ?? '';
  const fail = (detail: string) =>
    errors.invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail }]);
  if (queryFlag(q, 'watch')) {
    // Upstream's validateWatchOptions: a streaming list (sendInitialEvents) asks for NotOlderThan;
    // any other watch may not name a match.
    if (q.has('sendInitialEvents') && match !== 'NotOlderThan') throw fail('Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
    if (match && !q.has('sendInitialEvents')) throw fail('Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
    return;
  }
  if (match === null || match === '') return;
  if (rv === '') throw fail('Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (match !== 'Exact' && match !== 'NotOlderThan')
    throw errors.invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', detail: `Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"` }]);
  if (match === 'Exact' && rv === '0') throw fail('Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
}

/**
 * A LIST from the watch cache. `convert` (custom resources) turns the page's cached objects into
 * the requested version before they are written.
 */
export function list(
  res: ServerResponse,
  def: ResourceDef,
  store: ResourceStore,
  form: OutputForm,
  ns: string | undefined,
  q: URLSearchParams,
  convert?: (items: CachedObject[]) => Promise<CachedObject[]>,
): void | Promise<void> {
  const filter = buildFilter(def, q.get('labelSelector'), q.get('fieldSelector'));
  const limitRaw = q.get('limit');
  let limit = 0;
  if (limitRaw !== null && limitRaw !== '') {
    limit = Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 0) throw errors.badRequest(`limit must be a non-negative integer, got ${JSON.stringify(limitRaw)}`);
  }
  const cont = q.get('continue');
  const token = cont ? decodeContinue(cont) : undefined;
  const prefix = store.listPrefix(ns);
  store.checkReadable(prefix);
  const revision = store.cache.revision;
  const after = token ? prefix + token.start : undefined;
  // A continue page is a snapshot at the token's revision: keys changed since then are served as
  // they were. The page is walked from the token's key on, so it costs what its items cost.
  // rv -1: a token given with a 410 (below) to go on from a key at the current revision.
  // A list at an exact resourceVersion is the same snapshot from the first key.
  const exact = token ? undefined : exactRevision(q, limit);
  const rv = token && token.rv >= 0 ? token.rv : (exact ?? revision);
  const then = token && token.rv >= 0 && revision > token.rv ? snapshotAt(store, prefix, token.rv, after, token.start) : exact !== undefined && revision > exact ? snapshotAt(store, prefix, exact, undefined, '', true) : undefined;
  const items = then ? snapshotScan(store.cache.scan(prefix, after), then) : store.cache.scan(prefix, after);
  const out: CachedObject[] = [];
  let lastKey = '';
  let more = false;
  for (const e of items) {
    if (filter && !filter(e.obj.obj)) continue;
    if (limit > 0 && out.length >= limit) {
      more = true;
      break;
    }
    out.push(e.obj);
    lastKey = e.kv.key;
  }
  const meta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: String(rv) };
  if (more) {
    meta.continue = encodeContinue({ rv, start: lastKey.slice(prefix.length) });
    if (!filter) meta.remainingItemCount = remainingAt(store, prefix, lastKey, then);
  }
  if (convert) return convert(out).then((items) => sendList(res, def, store, form, q, items, meta));
  sendList(res, def, store, form, q, out, meta);
}

function sendList(res: ServerResponse, def: ResourceDef, store: ResourceStore, form: OutputForm, q: URLSearchParams, out: CachedObject[], meta: ListMeta): void {
  if (form.kind === 'table') {
    return sendTableList(res, def, out, meta, form.version, q.get('includeObject') ?? 'Metadata');
  }
  if (form.kind === 'metadata') {
    // Written as a JSON list is, each item's metadata cut from the stored text (as a Table row's
    // is): parsing every object for its metadata made this form slower than the objects themselves.
    const partialHead = `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/${form.version}","metadata":`;
    const items: ListItem[] = out.map((c) => {
      const json = `${partialHead}${c.metadataJSON ?? stringifyJSON(c.obj.metadata)}}`;
      return { json, jsonBytes: Buffer.byteLength(json) };
    });
    const head = `{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/${form.version}","metadata":${JSON.stringify(meta)},"items":[`;
    return sendJSONList(res, 200, head, items, ']}');
  }
  const { head, tail } = listEnvelope(def, store.apiVersion, meta);
  sendJSONList(res, 200, head, out, tail);
}

/**
 * The revision of a list that must be served exactly at it (upstream's semantics): with
 * resourceVersionMatch=Exact, or, as before that parameter existed, with a limit and a
 * resourceVersion other than "0" and no match given.
 */
function exactRevision(q: URLSearchParams, limit: number): number | undefined {
  const raw = q.get('resourceVersion') ?? '';
  const match = q.get('resourceVersionMatch') ?? '';
  if (!/^\d+$/.test(raw) || raw === '0') return undefined;
  if (match === 'Exact' || (match === '' && limit > 0)) return Number(raw);
  return undefined;
}

/** What changed under prefix since `rv` (see list-snapshot.ts); 410 Expired once the window no longer holds it. */
function snapshotAt(store: ResourceStore, prefix: string, rv: number, after: string | undefined, start: string, exact = false): ChangedSince {
  try {
    return changedSince(store, prefix, rv, after);
  } catch (e) {
    if (!(e instanceof StorageError && e.code === 'Compacted')) throw e;
    if (exact) throw errors.expired(`too old resource version: ${rv} (${e.revision ?? store.cache.revision})`);
    // As upstream: the Status carries a token that goes on from the same key at the current
    // revision, for a client that prefers an inconsistent list to starting over.
    const err = errors.expired(
      `the continue token is too old: the list has changed more since its first page (resourceVersion ${rv}) than the server keeps; start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results (an inconsistent list: objects created, modified or deleted since the first page may show up in it or not)`,
    );
    err.listMeta = { continue: encodeContinue({ rv: -1, start }) };
    throw err;
  }
}

async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const opts: DeleteOptions = {};
  const raw = await readBody(req);
  let body: any = {};
  if (raw.length > 0) {
    body = decodeObjectBody(raw, req.headers['content-type'] ?? 'application/json');
    if (body.kind !== undefined && body.kind !== 'DeleteOptions') throw errors.badRequest(`expected a DeleteOptions body, got kind ${JSON.stringify(body.kind)}`);
  }
  const gp = q.get('gracePeriodSeconds') ?? body.gracePeriodSeconds;
  if (gp !== undefined && gp !== null && gp !== '') {
    const n = Number(gp);
    if (!Number.isInteger(n)) throw errors.badRequest(`gracePeriodSeconds must be an integer, got ${JSON.stringify(gp)}`);
    opts.gracePeriodSeconds = n;
  }
  let pp = q.get('propagationPolicy') ?? body.propagationPolicy;
  if (pp === undefined || pp === null) {
    const orphan = optionalQueryFlag(q, 'orphanDependents') ?? body.orphanDependents;
    if (orphan !== undefined && orphan !== null) pp = orphan === true ? 'Orphan' : 'Background';
  }
  if (pp !== undefined && pp !== null) {
    if (!['Orphan', 'Background', 'Foreground'].includes(pp))
      throw errors.invalid('DeleteOptions', 'meta.k8s.io', '', [{ type: 'FieldValueNotSupported', field: 'propagationPolicy', detail: `Unsupported value: "${pp}": supported values: "Foreground", "Background", "Orphan"` }]);
    opts.propagationPolicy = pp;
  }
  if (body.preconditions) opts.preconditions = body.preconditions;
  const dr = [...q.getAll('dryRun'), ...(Array.isArray(body.dryRun) ? body.dryRun : [])];
  for (const v of dr) if (v !== 'All') throw errors.badRequest(`Invalid dry run value: unsupported dry run value "${v}"; only "All" is supported`);
  opts.dryRun = dr.length > 0;
  const ignore = optionalQueryFlag(q, 'ignoreStoreReadErrorWithClusterBreakingPotential') ?? body.ignoreStoreReadErrorWithClusterBreakingPotential;
  if (ignore === true) {
    // Upstream's ValidateDeleteOptions: the unsafe delete takes no other option.
    const path = 'ignoreStoreReadErrorWithClusterBreakingPotential';
    const errs: FieldError[] = [];
    if (opts.dryRun) errs.push(field.invalid(path, true, 'cannot be set together with .dryRun'));
    if (q.has('propagationPolicy') || body.propagationPolicy != null) errs.push(field.invalid(path, true, 'cannot be set together with .propagationPolicy'));
    if (q.has('orphanDependents') || body.orphanDependents != null) errs.push(field.invalid(path, true, 'cannot be set together with .orphanDependents'));
    if (opts.gracePeriodSeconds !== undefined) errs.push(field.invalid(path, true, 'cannot be set together with .gracePeriodSeconds'));
    if (errs.length) throw errors.invalid('DeleteOptions', 'meta.k8s.io', '', errs);
    opts.ignoreStoreReadError = true;
  }
  return opts;
}

/** namespaces/<name>/finalize: only spec.finalizers changes. */
function finalizeNamespace(cur: KObject, body: any): KObject {
  const fins = body?.spec?.finalizers;
  if (fins !== undefined && !Array.isArray(fins)) throw errors.badRequest('spec.finalizers must be a list');
  cur.spec = { ...(cur.spec ?? {}), finalizers: fins ?? [] };
  if (!cur.spec.finalizers.length) delete cur.spec.finalizers;
  return cur;
}

