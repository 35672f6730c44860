// OpenAPI documents served at /openapi/v2 and /openapi/v3: definitions from the schema registry
// and one path item per resource endpoint, with the operations and query parameters upstream
// advertises. kubectl reads these: `kubectl explain` walks the v3 group-version document, and
// kubectl decides to send fieldValidation=Strict only if the v3 PATCH operation of the kind
// lists a `fieldValidation` parameter. Documents are built lazily once and memoised.

import { createHash } from 'node:crypto';
import type { ResourceDef } from '../api/types.ts';
import { getSchemaRegistry, type JSONSchema, type SchemaRegistry } from '../api/schema.ts';

export const kubernetesVersion = 'v1.32.4';

const defaultVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** `api/v1` or `apis/<group>/<version>` */
export function groupVersionPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Operation id prefix: `CoreV1`, `AppsV1`, `RbacAuthorizationV1`. */
function opGroup(group: string, version: string): string {
  const g = group ? group.replace(/\.k8s\.io$/, '').split('.') : ['core'];
  return g.map(cap).join('') + cap(version);
}

function tagOf(group: string, version: string): string {
  const g = group ? group.replace(/\.k8s\.io$/, '').split('.') : ['core'];
  return `${g[0]}${g.slice(1).map(cap).join('')}_${version}`;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

// --- parameters (shared by both documents; `schema` is converted for v2) ---------------------

interface Param {
  name: string;
  in: 'query' | 'path';
  description: string;
  type: 'string' | 'boolean' | 'integer';
  required?: boolean;
}

const q = (name: string, type: Param['type'], description: string): Param => ({ name, in: 'query', type, description });

const P = {
  pretty: q('pretty', 'string', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
  name: (kind: string): Param => ({ name: 'name', in: 'path', type: 'string', required: true, description: `name of the ${kind}` }),
  namespace: { name: 'namespace', in: 'path', type: 'string', required: true, description: 'object name and auth scope, such as for teams and projects' } as Param,
  dryRun: q('dryRun', 'string', 'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed'),
  fieldManager: q('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  fieldValidation: q(
    'fieldValidation',
    'string',
    'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict',
  ),
  force: q('force', 'boolean', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people.'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
  continue: q('continue', 'string', 'The continue option should be set when retrieving more results from the server.'),
  fieldSelector: q('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  labelSelector: q('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: q('limit', 'integer', 'limit is a maximum number of responses to return for a list call.'),
  resourceVersion: q('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls.'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', '`sendInitialEvents=true` may be set together with `watch=true`.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  watch: q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'),
  ignoreStoreReadError: q(
    'ignoreStoreReadErrorWithClusterBreakingPotential',
    'boolean',
    'if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.',
  ),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7.'),
  propagationPolicy: q('propagationPolicy', 'string', "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
};

const listParams = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const writeParams = [P.dryRun, P.fieldManager, P.fieldValidation];
const patchParams = [P.dryRun, P.fieldManager, P.fieldValidation, P.force];
const deleteParams = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadError, P.orphanDependents, P.propagationPolicy];
const deleteCollectionParams = [
  P.continue,
  P.dryRun,
  P.fieldSelector,
  P.gracePeriodSeconds,
  P.ignoreStoreReadError,
  P.labelSelector,
  P.limit,
  P.orphanDependents,
  P.propagationPolicy,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
];

const patchContentTypes = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
const responseTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const watchResponseTypes = [...responseTypes, 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];

// --- a neutral operation model, rendered to v2 or v3 ----------------------------------------

interface Op {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  operationId: string;
  description: string;
  action: string;
  gvk: { group: string; version: string; kind: string };
  params: Param[];
  body?: { ref: string; patch?: boolean };
  responses: Array<{ code: string; description: string; ref: string }>;
  watch?: boolean;
  tag: string;
}

interface PathItem {
  path: string;
  params: Param[];
  ops: Op[];
}

const metaRef = (kind: string) => `io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`;

function resourcePaths(r: ResourceDef, reg: SchemaRegistry): PathItem[] {
  const verbs = new Set(r.verbs ?? defaultVerbs);
  const def = reg.definitionNameOf(r.model);
  const listDef = reg.definitionNameOf(`${r.model}List`);
  if (!def) return [];
  const gv = groupVersionPath(r.group, r.version);
  const G = opGroup(r.group, r.version);
  const tag = tagOf(r.group, r.version);
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const ns = r.namespaced ? 'Namespaced' : '';
  const nsPath = r.namespaced ? '/namespaces/{namespace}' : '';
  const nsParams = r.namespaced ? [P.namespace] : [];
  const coll = `/${gv}${nsPath}/${r.plural}`;
  const item = `${coll}/{name}`;
  const ok = (ref: string) => ({ code: '200', description: 'OK', ref });
  const created = (ref: string) => ({ code: '201', description: 'Created', ref });
  const accepted = (ref: string) => ({ code: '202', description: 'Accepted', ref });
  const k = r.kind;
  const out: PathItem[] = [];

  const collOps: Op[] = [];
  if (verbs.has('list') && listDef)
    collOps.push({ method: 'get', operationId: `list${G}${ns}${k}`, description: `list or watch objects of kind ${k}`, action: 'list', gvk, params: listParams, responses: [ok(listDef)], watch: true, tag });
  if (verbs.has('create'))
    collOps.push({ method: 'post', operationId: `create${G}${ns}${k}`, description: `create a ${k}`, action: 'post', gvk, params: writeParams, body: { ref: def }, responses: [ok(def), created(def), accepted(def)], tag });
  if (verbs.has('deletecollection'))
    collOps.push({ method: 'delete', operationId: `deletecollection${G}${ns}${k}`, description: `delete collection of ${k}`, action: 'deletecollection', gvk, params: deleteCollectionParams, body: { ref: metaRef('DeleteOptions') }, responses: [ok(metaRef('Status'))], tag });
  if (collOps.length) out.push({ path: coll, params: [...nsParams, P.pretty], ops: collOps });

  const itemOps: Op[] = [];
  if (verbs.has('get')) itemOps.push({ method: 'get', operationId: `read${G}${ns}${k}`, description: `read the specified ${k}`, action: 'get', gvk, params: [], responses: [ok(def)], tag });
  if (verbs.has('update'))
    itemOps.push({ method: 'put', operationId: `replace${G}${ns}${k}`, description: `replace the specified ${k}`, action: 'put', gvk, params: writeParams, body: { ref: def }, responses: [ok(def), created(def)], tag });
  if (verbs.has('patch'))
    itemOps.push({ method: 'patch', operationId: `patch${G}${ns}${k}`, description: `partially update the specified ${k}`, action: 'patch', gvk, params: patchParams, body: { ref: metaRef('Patch'), patch: true }, responses: [ok(def), created(def)], tag });
  if (verbs.has('delete'))
    itemOps.push({ method: 'delete', operationId: `delete${G}${ns}${k}`, description: `delete a ${k}`, action: 'delete', gvk, params: deleteParams, body: { ref: metaRef('DeleteOptions') }, responses: [ok(def), accepted(def)], tag });
  if (itemOps.length) out.push({ path: item, params: [P.name(k), ...nsParams, P.pretty], ops: itemOps });

  if (r.namespaced && verbs.has('list') && listDef)
    out.push({
      path: `/${gv}/${r.plural}`,
      params: [...listParams, P.pretty],
      ops: [{ method: 'get', operationId: `list${G}${k}ForAllNamespaces`, description: `list or watch objects of kind ${k}`, action: 'list', gvk, params: [], responses: [ok(listDef)], watch: true, tag }],
    });
  if (verbs.has('watch')) {
    const ev = metaRef('WatchEvent');
    out.push({
      path: `/${gv}/watch${nsPath}/${r.plural}`,
      params: [...listParams, ...nsParams, P.pretty],
      ops: [{ method: 'get', operationId: `watch${G}${ns}${k}List`, description: `watch individual changes to a list of ${k}. deprecated: use the 'watch' parameter with a list operation instead.`, action: 'watchlist', gvk, params: [], responses: [ok(ev)], watch: true, tag }],
    });
    out.push({
      path: `/${gv}/watch${nsPath}/${r.plural}/{name}`,
      params: [...listParams, P.name(k), ...nsParams, P.pretty],
      ops: [{ method: 'get', operationId: `watch${G}${ns}${k}`, description: `watch changes to an object of kind ${k}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`, action: 'watch', gvk, params: [], responses: [ok(ev)], watch: true, tag }],
    });
    if (r.namespaced)
      out.push({
        path: `/${gv}/watch/${r.plural}`,
        params: [...listParams, P.pretty],
        ops: [{ method: 'get', operationId: `watch${G}${k}ListForAllNamespaces`, description: `watch individual changes to a list of ${k}. deprecated: use the 'watch' parameter with a list operation instead.`, action: 'watchlist', gvk, params: [], responses: [ok(ev)], watch: true, tag }],
      });
  }

  const sub = (name: string, ref: string, subGvk: Op['gvk'], label: string): PathItem => ({
    path: `${item}/${name}`,
    params: [P.name(subGvk.kind === k ? k : subGvk.kind), ...nsParams, P.pretty],
    ops: [
      { method: 'get', operationId: `read${G}${ns}${k}${label}`, description: `read ${name} of the specified ${k}`, action: 'get', gvk: subGvk, params: [], responses: [ok(ref)], tag },
      { method: 'put', operationId: `replace${G}${ns}${k}${label}`, description: `replace ${name} of the specified ${k}`, action: 'put', gvk: subGvk, params: writeParams, body: { ref }, responses: [ok(ref), created(ref)], tag },
      { method: 'patch', operationId: `patch${G}${ns}${k}${label}`, description: `partially update ${name} of the specified ${k}`, action: 'patch', gvk: subGvk, params: patchParams, body: { ref: metaRef('Patch'), patch: true }, responses: [ok(ref), created(ref)], tag },
    ],
  });
  if (r.status) out.push(sub('status', def, gvk, 'Status'));
  const scaleDef = reg.definitionNameOf('V1Scale');
  if (r.scale && scaleDef) out.push(sub('scale', scaleDef, { group: 'autoscaling', version: 'v1', kind: 'Scale' }, 'Scale'));
  return out;
}

// --- rendering ------------------------------------------------------------------------------

function paramV2(p: Param): JSONSchema {
  const out: JSONSchema = { uniqueItems: true, type: p.type, name: p.name, in: p.in, description: p.description };
  if (p.required) out.required = true;
  return out;
}

function paramV3(p: Param): JSONSchema {
  const out: JSONSchema = { name: p.name, in: p.in, description: p.description, schema: { type: p.type, uniqueItems: true } };
  if (p.required) out.required = true;
  return out;
}

function opV2(op: Op): JSONSchema {
  const params = op.params.map(paramV2);
  if (op.body) params.unshift({ name: 'body', in: 'body', required: true, schema: { $ref: `#/definitions/${op.body.ref}` } });
  const responses: JSONSchema = {};
  for (const r of op.responses) responses[r.code] = { description: r.description, schema: { $ref: `#/definitions/${r.ref}` } };
  responses['401'] = { description: 'Unauthorized' };
  const out: JSONSchema = {
    description: op.description,
    consumes: op.body?.patch ? patchContentTypes : ['*/*'],
    produces: op.watch ? watchResponseTypes : responseTypes,
    schemes: ['https'],
    tags: [op.tag],
    operationId: op.operationId,
  };
  if (params.length) out.parameters = params;
  out.responses = responses;
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}

function opV3(op: Op): JSONSchema {
  const out: JSONSchema = { tags: [op.tag], description: op.description, operationId: op.operationId };
  if (op.params.length) out.parameters = op.params.map(paramV3);
  if (op.body) {
    const schema = { $ref: `#/components/schemas/${op.body.ref}` };
    const types = op.body.patch ? patchContentTypes : ['*/*'];
    out.requestBody = { content: Object.fromEntries(types.map((t) => [t, { schema }])), required: true };
  }
  const responses: JSONSchema = {};
  for (const r of op.responses) {
    const schema = { $ref: `#/components/schemas/${r.ref}` };
    responses[r.code] = { description: r.description, content: Object.fromEntries((op.watch ? watchResponseTypes : responseTypes).map((t) => [t, { schema }])) };
  }
  responses['401'] = { description: 'Unauthorized' };
  out.responses = responses;
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}

function pathsFor(resources: ResourceDef[], reg: SchemaRegistry): PathItem[] {
  return resources.flatMap((r) => resourcePaths(r, reg));
}

export interface ServedDocument {
  /** The serialised JSON, ready to send. */
  body: Buffer;
  /** Upstream-style content hash (SHA-512, upper-case hex); quote it for the ETag header. */
  hash: string;
  etag: string;
}

function serve(doc: object): ServedDocument {
  const body = Buffer.from(JSON.stringify(doc));
  const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
  return { body, hash, etag: `"${hash}"` };
}

interface Cache {
  v2?: { doc: object; served?: ServedDocument };
  v3: Map<string, { doc: object; served?: ServedDocument } | null>;
  index?: { doc: { paths: Record<string, { serverRelativeURL: string }> }; served?: ServedDocument };
}

const caches = new WeakMap<ResourceDef[], Cache>();

function cacheFor(resources: ResourceDef[]): Cache {
  let c = caches.get(resources);
  if (!c) {
    c = { v3: new Map() };
    caches.set(resources, c);
  }
  return c;
}

// --- v2 -------------------------------------------------------------------------------------

function buildV2(resources: ResourceDef[]): object {
  const reg = getSchemaRegistry(resources);
  const paths: Record<string, JSONSchema> = {};
  for (const p of pathsFor(resources, reg)) {
    const item: JSONSchema = {};
    for (const op of p.ops) item[op.method] = opV2(op);
    item.parameters = p.params.map(paramV2);
    paths[p.path] = item;
  }
  const definitions: Record<string, JSONSchema> = {};
  for (const name of Object.keys(reg.definitions).sort()) definitions[name] = reg.definitions[name];
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: kubernetesVersion },
    paths,
    definitions,
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
}

/** The swagger 2.0 document served at /openapi/v2. */
export function openAPIV2(resources: ResourceDef[]): object {
  const c = cacheFor(resources);
  c.v2 ??= { doc: buildV2(resources) };
  return c.v2.doc;
}

export function openAPIV2Document(resources: ResourceDef[]): ServedDocument {
  openAPIV2(resources);
  const c = cacheFor(resources).v2!;
  c.served ??= serve(c.doc);
  return c.served;
}

// --- v3 -------------------------------------------------------------------------------------

function groupVersions(resources: ResourceDef[]): string[] {
  return [...new Set(resources.map((r) => groupVersionPath(r.group, r.version)))];
}

function buildV3(resources: ResourceDef[], gvPath: string): object | undefined {
  const mine = resources.filter((r) => groupVersionPath(r.group, r.version) === gvPath);
  if (!mine.length) return undefined;
  const reg = getSchemaRegistry(resources);
  const items = pathsFor(mine, reg);
  const paths: Record<string, JSONSchema> = {};
  const used = new Set<string>();
  for (const p of items) {
    const item: JSONSchema = {};
    for (const op of p.ops) {
      item[op.method] = opV3(op);
      if (op.body) used.add(op.body.ref);
      for (const r of op.responses) used.add(r.ref);
    }
    item.parameters = p.params.map(paramV3);
    paths[p.path] = item;
  }
  // Upstream lists the group-version's discovery endpoint too.
  paths[`/${gvPath}/`] = {
    get: {
      tags: [tagOf(mine[0].group, mine[0].version)],
      description: 'get available resources',
      operationId: `get${opGroup(mine[0].group, mine[0].version)}APIResources`,
      responses: {
        '200': { description: 'OK', content: Object.fromEntries(responseTypes.map((t) => [t, { schema: { $ref: `#/components/schemas/${metaRef('APIResourceList')}` } }])) },
        '401': { description: 'Unauthorized' },
      },
    },
  };
  used.add(metaRef('APIResourceList'));
  const schemas: Record<string, JSONSchema> = {};
  const v3 = reg.v3Definitions;
  for (const name of reg.closure([...used])) schemas[name] = v3[name];
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: kubernetesVersion },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
}

function v3Entry(resources: ResourceDef[], gvPath: string) {
  const key = gvPath.replace(/^\/+|\/+$/g, '');
  const c = cacheFor(resources);
  if (!c.v3.has(key)) {
    const doc = buildV3(resources, key);
    c.v3.set(key, doc ? { doc } : null);
  }
  return c.v3.get(key) ?? undefined;
}

/** The OpenAPI 3.0 document of one group version ('api/v1', 'apis/apps/v1'), or undefined. */
export function openAPIV3(resources: ResourceDef[], groupVersionPath: string): object | undefined {
  return v3Entry(resources, groupVersionPath)?.doc;
}

/** The serialised v3 document with its hash (for `?hash=` URLs and ETags), or undefined. */
export function openAPIV3Document(resources: ResourceDef[], groupVersionPath: string): ServedDocument | undefined {
  const e = v3Entry(resources, groupVersionPath);
  if (!e) return undefined;
  e.served ??= serve(e.doc);
  return e.served;
}

/** The /openapi/v3 index: every group version with its hash-qualified URL. */
export function openAPIV3Index(resources: ResourceDef[]): { paths: Record<string, { serverRelativeURL: string }> } {
  const c = cacheFor(resources);
  if (!c.index) {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const gv of groupVersions(resources).sort()) {
      const d = openAPIV3Document(resources, gv)!;
      paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${d.hash}` };
    }
    c.index = { doc: { paths } };
  }
  return c.index.doc;
}

export function openAPIV3IndexDocument(resources: ResourceDef[]): ServedDocument {
  openAPIV3Index(resources);
  const idx = cacheFor(resources).index!;
  idx.served ??= serve(idx.doc);
  return idx.served;
}
