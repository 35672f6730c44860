// The schema source of the API server: OpenAPI definitions built at runtime from the models of
// the installed @kubernetes/client-node package (read lazily from node_modules, memoised), plus
// helpers built on the same models: unknown-field detection for server-side field validation
// and the strategic-merge-patch schema.

import { errors, type StatusError } from '../machinery/errors.ts';
import type { ResourceDef } from './types.ts';
import { fieldPatchMeta, type PatchSchema } from './patch-meta.ts';
import { loadModel, type ModelField, type TypeRef } from './schema/models.ts';
import {
  anyFieldTypes,
  coreRootModels,
  definitionName,
  fieldsV1Name,
  intOrStringName,
  metaPackage,
  microTimeName,
  parseModelName,
  patchName,
  quantityFields,
  quantityName,
  rawExtensionName,
  timeName,
} from './schema/names.ts';

export type { PatchSchema } from './patch-meta.ts';
export type JSONSchema = Record<string, any>;

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

export interface SchemaRegistry {
  /** Swagger 2.0 definitions keyed by upstream name; refs are `#/definitions/<name>`. */
  readonly definitions: Record<string, JSONSchema>;
  /** The same definitions in OpenAPI 3.0 form; refs are `#/components/schemas/<name>`. */
  readonly v3Definitions: Record<string, JSONSchema>;
  /** Upstream definition name of a client-node model, if the model is part of this registry. */
  definitionNameOf(model: string): string | undefined;
  /** Names of the definitions reachable from the given definition names (including them). */
  closure(names: string[]): string[];
  /** How long building the registry took, for diagnostics. */
  readonly buildMillis: number;
}

// Definitions that client-node flattens to primitives; upstream names them.
const syntheticV2: Record<string, JSONSchema> = {
  [timeName]: {
    description: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.',
    type: 'string',
    format: 'date-time',
  },
  [microTimeName]: { description: 'MicroTime is version of Time with microsecond level precision.', type: 'string', format: 'date-time' },
  [intOrStringName]: {
    description: 'IntOrString is a type that can hold an int32 or a string.',
    type: 'string',
    format: 'int-or-string',
  },
  [quantityName]: {
    description: "Quantity is a fixed-point representation of a number, serialized as a string such as '100m' or '1Gi'.",
    type: 'string',
  },
  [fieldsV1Name]: { description: 'FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.', type: 'object' },
  [rawExtensionName]: { description: 'RawExtension is used to hold extensions in external versions.', type: 'object' },
  [patchName]: { description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.', type: 'object' },
};

// OpenAPI v3 can say "one of", which upstream uses for the dual-typed scalars.
const syntheticV3Overrides: Record<string, JSONSchema> = {
  [intOrStringName]: { ...syntheticV2[intOrStringName], type: undefined, oneOf: [{ type: 'integer' }, { type: 'string' }] },
  [quantityName]: { ...syntheticV2[quantityName], type: undefined, oneOf: [{ type: 'string' }, { type: 'number' }] },
};

function modelChildren(t: TypeRef, out: string[]): void {
  if (t.kind === 'model') out.push(t.name);
  else if (t.kind === 'array') modelChildren(t.items, out);
  else if (t.kind === 'map') modelChildren(t.values, out);
}

function childModels(model: string): string[] {
  const info = loadModel(model);
  const out: string[] = [];
  for (const f of info?.fields ?? []) modelChildren(f.parsed, out);
  return out;
}

let coreClosure: Set<string> | undefined;

/** Every model reachable from a core/v1 kind: those belong to core even when reached elsewhere. */
function coreModels(): Set<string> {
  if (coreClosure) return coreClosure;
  const seen = new Set<string>();
  const queue = coreRootModels.filter((m) => loadModel(m));
  for (const m of queue) seen.add(m);
  while (queue.length) {
    const m = queue.shift()!;
    for (const c of childModels(m))
      if (!seen.has(c) && loadModel(c)) {
        seen.add(c);
        queue.push(c);
      }
  }
  coreClosure = seen;
  return seen;
}

const registries = new WeakMap<ResourceDef[], SchemaRegistry>();

/** The schema registry for a resource list (memoised per list). */
export function getSchemaRegistry(resources: ResourceDef[]): SchemaRegistry {
  let reg = registries.get(resources);
  if (!reg) {
    reg = buildRegistry(resources);
    registries.set(resources, reg);
  }
  return reg;
}

interface Root {
  model: string;
  group: string;
  gvk?: GVK;
}

function rootsFor(resources: ResourceDef[]): Root[] {
  const roots: Root[] = [];
  const add = (model: string, group: string, gvk?: GVK) => {
    if (loadModel(model)) roots.push({ model, group, gvk });
  };
  for (const r of resources) {
    add(r.model, r.group, { group: r.group, version: r.version, kind: r.kind });
    add(`${r.model}List`, r.group, { group: r.group, version: r.version, kind: r.listKind ?? `${r.kind}List` });
  }
  // Types every API path refers to, and the kinds of subresources.
  for (const m of ['V1Status', 'V1DeleteOptions', 'V1WatchEvent', 'V1APIResourceList', 'V1APIGroupList', 'V1APIGroup', 'V1APIVersions'])
    add(m, '', { group: '', version: 'v1', kind: m.slice(2) });
  if (resources.some((r) => r.scale)) add('V1Scale', 'autoscaling', { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  if (resources.some((r) => r.group === '' && r.plural === 'pods')) {
    add('V1Eviction', 'policy', { group: 'policy', version: 'v1', kind: 'Eviction' });
    add('V1Binding', '', { group: '', version: 'v1', kind: 'Binding' });
  }
  return roots;
}

function buildRegistry(resources: ResourceDef[]): SchemaRegistry {
  const started = performance.now();
  const core = coreModels();
  const roots = rootsFor(resources);
  // Breadth-first from all top-level kinds at once: a model takes the group of the first kind
  // that reaches it, unless its name or the core closure already decides it.
  const groupOf = new Map<string, string>();
  const gvks = new Map<string, GVK[]>();
  const queue: Array<{ model: string; group: string }> = [];
  for (const r of roots) {
    if (r.gvk) {
      const list = gvks.get(r.model) ?? [];
      if (!list.some((g) => g.group === r.gvk!.group && g.version === r.gvk!.version && g.kind === r.gvk!.kind)) list.push(r.gvk);
      gvks.set(r.model, list);
    }
    queue.push({ model: r.model, group: r.group });
  }
  while (queue.length) {
    const { model, group } = queue.shift()!;
    if (groupOf.has(model) || !loadModel(model)) continue;
    const own = parseModelName(model)?.group ?? (core.has(model) ? '' : group);
    groupOf.set(model, own);
    for (const c of childModels(model)) if (!groupOf.has(c)) queue.push({ model: c, group: own });
  }

  const nameOf = new Map<string, string>();
  for (const [model, group] of groupOf) {
    const name = definitionName(model, group);
    if (name) nameOf.set(model, name);
  }

  const definitions: Record<string, JSONSchema> = {};
  for (const [model, name] of nameOf) definitions[name] = modelDefinition(model, nameOf, gvks.get(model));
  // Kinds without a client-node model (custom resources) bring their own definitions.
  const ownV3: Record<string, JSONSchema> = {};
  for (const r of resources) {
    if (!r.openAPI) continue;
    for (const [name, d] of Object.entries(r.openAPI.v2)) {
      definitions[name] = d;
      nameOf.set(name, name);
    }
    Object.assign(ownV3, r.openAPI.v3);
  }
  // Only the synthetic types something refers to (plus Patch, which every PATCH operation uses).
  const referenced = new Set<string>([patchName]);
  collectRefs(definitions, referenced);
  for (const [name, def] of Object.entries(syntheticV2)) if (referenced.has(name)) definitions[name] = structuredClone(def);
  // DeleteOptions is accepted by every group version, as upstream advertises.
  const deleteOptions = definitions[`${metaPackage}.DeleteOptions`];
  if (deleteOptions) {
    const gvs = new Set<string>();
    const list: GVK[] = [];
    for (const r of resources)
      if (!gvs.has(`${r.group}/${r.version}`)) {
        gvs.add(`${r.group}/${r.version}`);
        list.push({ group: r.group, version: r.version, kind: 'DeleteOptions' });
      }
    if (!gvs.has('/v1')) list.unshift({ group: '', version: 'v1', kind: 'DeleteOptions' });
    deleteOptions['x-kubernetes-group-version-kind'] = list;
  }

  let v3: Record<string, JSONSchema> | undefined;
  const buildMillis = performance.now() - started;
  return {
    definitions,
    get v3Definitions() {
      if (!v3) {
        v3 = {};
        for (const [name, def] of Object.entries(definitions)) {
          const over = syntheticV3Overrides[name];
          v3[name] = ownV3[name] ?? (over ? stripUndefined(over) : toV3(def));
        }
      }
      return v3;
    },
    definitionNameOf: (model) => nameOf.get(model),
    closure: (names) => closureOf(definitions, names),
    buildMillis,
  };
}

function collectRefs(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) for (const n of node) collectRefs(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.add(v.slice(v.lastIndexOf('/') + 1));
      else collectRefs(v, out);
    }
  }
}

function closureOf(definitions: Record<string, JSONSchema>, names: string[]): string[] {
  const seen = new Set<string>();
  const queue = names.filter((n) => definitions[n]);
  for (const n of queue) seen.add(n);
  while (queue.length) {
    const n = queue.shift()!;
    const refs = new Set<string>();
    collectRefs(definitions[n], refs);
    for (const r of refs)
      if (!seen.has(r) && definitions[r]) {
        seen.add(r);
        queue.push(r);
      }
  }
  return [...seen].sort();
}

const ref = (name: string): JSONSchema => ({ $ref: `#/definitions/${name}` });

function typeSchema(t: TypeRef, nameOf: Map<string, string>, quantity: boolean): JSONSchema {
  switch (t.kind) {
    case 'primitive':
      if (t.type === 'string') return quantity ? ref(quantityName) : t.format ? { type: 'string', format: t.format } : { type: 'string' };
      if (t.type === 'boolean') return { type: 'boolean' };
      if (t.format === 'int32' || t.format === 'int64') return { type: 'integer', format: t.format };
      return t.format ? { type: 'number', format: t.format } : { type: 'number' };
    case 'date':
      return ref(t.format === 'date-time-micro' ? microTimeName : timeName);
    case 'intOrString':
      return ref(intOrStringName);
    case 'any':
      return { type: 'object' };
    case 'array':
      return { type: 'array', items: typeSchema(t.items, nameOf, quantity) };
    case 'map':
      return { type: 'object', additionalProperties: typeSchema(t.values, nameOf, quantity) };
    case 'model': {
      const name = nameOf.get(t.name);
      return name ? ref(name) : { type: 'object' };
    }
  }
}

function propertySchema(model: string, f: ModelField, nameOf: Map<string, string>): JSONSchema {
  const named = anyFieldTypes[model]?.[f.baseName];
  const s: JSONSchema = named ? ref(named) : typeSchema(f.parsed, nameOf, quantityFields[model]?.includes(f.baseName) ?? false);
  // client-node drops the description of fields that refer to another model; use the model's own,
  // so `kubectl explain` field lists describe every field (explaining that field itself then shows
  // the text twice: once for the field, once for its type).
  const description = f.description ?? (f.parsed.kind === 'model' ? loadModel(f.parsed.name)?.description : undefined);
  const out: JSONSchema = description ? { description, ...s } : s;
  const meta = fieldPatchMeta(model, f.baseName);
  if (meta?.listType) out['x-kubernetes-list-type'] = meta.listType;
  if (meta?.listMapKeys) out['x-kubernetes-list-map-keys'] = meta.listMapKeys;
  if (meta?.mapType) out['x-kubernetes-map-type'] = meta.mapType;
  if (meta?.mergeKey) out['x-kubernetes-patch-merge-key'] = meta.mergeKey;
  if (meta?.strategy) out['x-kubernetes-patch-strategy'] = meta.strategy;
  return out;
}

function modelDefinition(model: string, nameOf: Map<string, string>, gvks: GVK[] | undefined): JSONSchema {
  const info = loadModel(model)!;
  const def: JSONSchema = {};
  if (info.description) def.description = info.description;
  const properties: Record<string, JSONSchema> = {};
  const required: string[] = [];
  for (const f of info.fields) {
    properties[f.baseName] = propertySchema(model, f, nameOf);
    if (f.required) required.push(f.baseName);
  }
  if (required.length) def.required = required;
  def.type = 'object';
  def.properties = properties;
  if (gvks?.length) def['x-kubernetes-group-version-kind'] = gvks.map((g) => ({ group: g.group, kind: g.kind, version: g.version }));
  return def;
}

function stripUndefined(s: JSONSchema): JSONSchema {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined));
}

/** Swagger 2.0 schema to OpenAPI 3.0: new ref prefix, and refs with siblings wrapped in allOf. */
export function toV3(node: any): any {
  if (Array.isArray(node)) return node.map(toV3);
  if (!node || typeof node !== 'object') return node;
  const out: JSONSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref') continue;
    out[k] = k.startsWith('x-kubernetes-') ? structuredClone(v) : toV3(v);
  }
  if (typeof node.$ref === 'string') {
    const r = { $ref: (node.$ref as string).replace('#/definitions/', '#/components/schemas/') };
    if (Object.keys(out).length === 0) return r;
    return { allOf: [r], ...out };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server-side field validation

/** The first value whose JSON type the schema cannot hold, as upstream's JSON decoder reports it. */
export interface TypeMismatch {
  /** Upstream-style field path without list indexes: `Container.spec.containers.image`. */
  goField: string;
  /** JSON kind found: string, number, bool, array, object. */
  found: string;
  /** Go-ish type expected: string, int32, bool, []T, map[string]T, struct name. */
  expected: string;
}

interface Walk {
  unknown: string[];
  mismatch?: TypeMismatch;
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function shortModel(model: string): string {
  return model.replace(/^(Core|Events|Discovery|Policy|Authentication|Storage|Networking|Rbac|Flowcontrol)?V\d+(alpha\d+|beta\d+)?/, '');
}

/**
 * The walk's position: path segments (field and map keys, list indexes) on a stack, turned into
 * the path strings only for what is reported, so a valid object costs no strings.
 */
interface Position {
  root: string;
  segs: Array<string | number>;
  /** Per segment: a struct field (part of the Go field path; map keys and indexes are not). */
  field: boolean[];
}

function pathOf(pos: Position): string {
  let p = '';
  for (const s of pos.segs) p = typeof s === 'number' ? `${p}[${s}]` : p ? `${p}.${s}` : s;
  return p;
}

function goPathOf(pos: Position): string {
  let g = shortModel(pos.root);
  for (let i = 0; i < pos.segs.length; i++) if (pos.field[i]) g = `${g}.${pos.segs[i]}`;
  return g;
}

function walkUnknown(model: string, obj: unknown, w: Walk, pos: Position): void {
  const info = loadModel(model);
  if (!info || !obj || typeof obj !== 'object' || Array.isArray(obj)) return;
  const o = obj as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    pos.segs.push(key);
    pos.field.push(true);
    const f = info.byJSONName.get(key);
    if (!f) w.unknown.push(pathOf(pos));
    // Free-form fields (fieldsV1, RawExtension) are not walked.
    else if (!anyFieldTypes[model]?.[key]) walkType(f.parsed, o[key], w, pos, quantityFields[model]?.includes(f.baseName) ?? false);
    pos.segs.pop();
    pos.field.pop();
  }
}

function expectedName(t: TypeRef): string {
  switch (t.kind) {
    case 'primitive':
      return t.type === 'number' ? t.format || 'float64' : t.type === 'boolean' ? 'bool' : 'string';
    case 'date':
      return 'v1.Time';
    case 'intOrString':
      return 'intstr.IntOrString';
    case 'any':
      return 'interface {}';
    case 'array':
      return `[]${expectedName(t.items)}`;
    case 'map':
      return `map[string]${expectedName(t.values)}`;
    case 'model':
      return `v1.${shortModel(t.name)}`;
  }
}

/** The first wrongly typed value is the one reported. */
function mismatch(w: Walk, pos: Position, t: TypeRef, value: unknown): void {
  w.mismatch ??= { goField: goPathOf(pos), found: jsonKind(value), expected: expectedName(t) };
}

function walkType(t: TypeRef, value: unknown, w: Walk, pos: Position, quantity = false): void {
  if (value === null || value === undefined) return;
  switch (t.kind) {
    case 'model':
      // Names client-node declares but does not generate (V1MicroTime) are scalars, not objects.
      if (!loadModel(t.name)) {
        if (/Time$/.test(t.name) && typeof value !== 'string') mismatch(w, pos, t, value);
        return;
      }
      if (typeof value !== 'object' || Array.isArray(value)) return mismatch(w, pos, t, value);
      return walkUnknown(t.name, value, w, pos);
    case 'array':
      if (!Array.isArray(value)) return mismatch(w, pos, t, value);
      for (let i = 0; i < value.length; i++) {
        pos.segs.push(i);
        pos.field.push(false);
        walkType(t.items, value[i], w, pos, quantity);
        pos.segs.pop();
        pos.field.pop();
      }
      return;
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return mismatch(w, pos, t, value);
      const m = value as Record<string, unknown>;
      for (const k of Object.keys(m)) {
        pos.segs.push(k);
        pos.field.push(false);
        walkType(t.values, m[k], w, pos, quantity);
        pos.segs.pop();
        pos.field.pop();
      }
      return;
    }
    case 'primitive':
      if (t.type === 'string') {
        // Quantities may be written as JSON numbers (`cpu: 1`).
        if (typeof value !== 'string' && !(quantity && typeof value === 'number')) mismatch(w, pos, t, value);
      } else if (t.type === 'boolean') {
        if (typeof value !== 'boolean') mismatch(w, pos, t, value);
      } else if (typeof value !== 'number' || (t.format.startsWith('int') && !Number.isInteger(value))) mismatch(w, pos, t, value);
      return;
    case 'date':
      if (typeof value !== 'string') mismatch(w, pos, t, value);
      return;
    case 'intOrString':
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) mismatch(w, pos, t, value);
      return;
  }
}

/**
 * Paths of the fields in `obj` that the model does not declare, in document order, formatted
 * as upstream's strict JSON decoding reports them: `spec.replicass`,
 * `spec.template.spec.containers[0].imagee`.
 */
export function unknownFields(model: string, obj: unknown): string[] {
  return checkFields(model, obj).unknown;
}

/** Unknown fields and the first wrongly typed value, in one walk. */
export function checkFields(model: string, obj: unknown): Walk {
  const w: Walk = { unknown: [] };
  walkUnknown(model, obj, w, { root: model, segs: [], field: [] });
  return w;
}

/** The 400 upstream's decoder gives for a value of the wrong JSON type. */
export function typeMismatchError(kind: string, version: string, m: TypeMismatch): StatusError {
  return errors.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: json: cannot unmarshal ${m.found} into Go struct field ${m.goField} of type ${m.expected}`);
}

/** `unknown field "spec.foo"`: one entry per path (fieldValidation=Warn sends each as a warning). */
export function unknownFieldWarnings(paths: string[]): string[] {
  return paths.map((p) => `unknown field "${p}"`);
}

/** Upstream's strict decoding error text: `strict decoding error: unknown field "a", unknown field "b"`. */
export function strictDecodingMessage(paths: string[]): string {
  return `strict decoding error: ${unknownFieldWarnings(paths).join(', ')}`;
}

/**
 * The 400 BadRequest for fieldValidation=Strict on create/update:
 * `Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicass"`.
 */
export function unknownFieldsError(kind: string, version: string, paths: string[]): StatusError {
  return errors.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${strictDecodingMessage(paths)}`);
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch schema

const patchSchemas = new Map<string, PatchSchema>();
const emptyPatchSchema: PatchSchema = { field: () => undefined, meta: () => undefined };

function innerModel(t: TypeRef): string | undefined {
  if (t.kind === 'model') return t.name;
  if (t.kind === 'array') return innerModel(t.items);
  if (t.kind === 'map') return innerModel(t.values);
  return undefined;
}

/** Patch strategies and merge keys of a client-node model and, through `field`, of its fields. */
export function patchSchemaFor(model: string): PatchSchema {
  const hit = patchSchemas.get(model);
  if (hit) return hit;
  if (!loadModel(model)) return emptyPatchSchema;
  const schema: PatchSchema = {
    field(name) {
      const f = loadModel(model)?.byJSONName.get(name);
      const inner = f && innerModel(f.parsed);
      return inner ? patchSchemaFor(inner) : undefined;
    },
    meta(name) {
      const m = fieldPatchMeta(model, name);
      if (!m || (!m.strategy && !m.mergeKey)) return undefined;
      const out: { strategy?: string; mergeKey?: string } = {};
      if (m.strategy) out.strategy = m.strategy;
      if (m.mergeKey) out.mergeKey = m.mergeKey;
      return out;
    },
  };
  patchSchemas.set(model, schema);
  return schema;
}
