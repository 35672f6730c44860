// What serving one CustomResourceDefinition takes, built once per CRD change into an immutable
// bundle (upstream's crdInfo in customresource_handler.go): per served version a ResourceDef (names,
// scope, subresources, printer columns, selectable fields) whose strategy prunes, defaults and
// validates with that version's structural schema and CEL rules, a ResourceStore that converts
// between the version and the storage version, and the converter. Requests take the current
// bundle; a CRD change builds a new one and swaps it in whole.

import type { KObject, ResourceDef, StrategyContext, TableColumn } from '../api/types.ts';
import { humanAge } from '../api/types.ts';
import { errors, type FieldError } from '../machinery/errors.ts';
import { field } from '../machinery/errors.ts';
import type { Store } from '../storage/store.ts';
import { ResourceStore, type Admission, type CacheView, type StorageCodec } from '../apiserver/registry/resource-store.ts';
import { CachedObject } from '../apiserver/registry/cached-object.ts';
import { deepEqual } from '../api/validation.ts';
import { cloneJSON } from '../machinery/json-values.ts';
import { customResourceType } from '../api/field-types.ts';
import type { JSONSchemaProps } from './schema/types.ts';
import { prune } from './schema/pruning.ts';
import { applyDefaults, pruneNonNullableNulls } from './schema/defaulting.ts';
import { coerceMetadata, validateEmbeddedResources } from './schema/objectmeta.ts';
import { validateValue } from './schema/value-validation.ts';
import { validateListTypes } from './schema/listtype.ts';
import { compileRules, type RuleNode } from './cel/compile.ts';
import { evaluateRules } from './cel/validator.ts';
import { findResults, parseJSONPath } from './jsonpath.ts';
import { noneConverter, WebhookConverter, type Converter, type ServiceResolver } from './conversion.ts';
import { crdOpenAPI } from './openapi.ts';
import { compareKubeVersions, crdVersionsOf, isConditionTrue, storageVersionOf, type CRDVersion, type PrinterColumn } from './crd-model.ts';

/** The verbs of every custom resource, in upstream's order. */
export const customResourceVerbs = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

export interface ServingDeps {
  store: Store;
  ctx: StrategyContext;
  admit: Admission;
  services: ServiceResolver;
}

/** One served version of a CRD. */
export interface VersionServing {
  readonly name: string;
  readonly def: ResourceDef;
  readonly store: ResourceStore;
  /** The version's openAPIV3Schema (structural), undefined when fields are preserved as they come. */
  readonly schema?: JSONSchemaProps;
  readonly rules?: RuleNode;
  /** The Warning a request to a deprecated version gets. */
  readonly deprecationWarning?: string;
}

export class CRDServing {
  readonly crd: KObject;
  readonly group: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly storageVersion: string;
  /** Served versions, highest priority first. */
  readonly versions: ReadonlyMap<string, VersionServing>;
  /** Every version's schema (served or not), for reading objects stored in any of them. */
  private readonly schemas = new Map<string, JSONSchemaProps | undefined>();
  readonly converter: Converter;
  readonly terminating: boolean;
  /** Listed in discovery: names accepted and the CRD established. */
  readonly established: boolean;
  /** Served at all: names accepted or established, as upstream's handler requires. */
  readonly active: boolean;
  /** Read conversions already done, per target version (objects in the cache are immutable). */
  private readonly readMemo = new Map<string, WeakMap<CachedObject, CachedObject | Promise<CachedObject>>>();

  constructor(crd: KObject, cache: CacheView, deps: ServingDeps) {
    this.crd = crd;
    const spec = crd.spec;
    const names = crd.status?.acceptedNames ?? {};
    this.group = spec.group;
    this.plural = spec.names.plural;
    this.kind = names.kind || spec.names.kind;
    this.namespaced = spec.scope === 'Namespaced';
    this.storageVersion = storageVersionOf(crd) ?? crdVersionsOf(crd)[0]?.name;
    this.terminating = isConditionTrue(crd, 'Terminating') || !!crd.metadata.deletionTimestamp;
    this.established = isConditionTrue(crd, 'Established');
    this.active = this.established || isConditionTrue(crd, 'NamesAccepted');
    const preserveAll = spec.preserveUnknownFields === true;
    for (const v of crdVersionsOf(crd)) this.schemas.set(v.name, preserveAll ? undefined : v.schema?.openAPIV3Schema);
    this.converter = this.makeConverter(deps.services);
    const codec = (version: string): StorageCodec => ({
      decode: (obj) => this.decode(obj, version),
      encode: (obj) => this.encode(obj),
    });
    const all = crdVersionsOf(crd).sort((a, b) => compareKubeVersions(a.name, b.name));
    const served = all.filter((v) => v.served);
    const versions = new Map<string, VersionServing>();
    for (const v of all) {
      if (!v.served && v.name !== this.storageVersion) continue;
      const schema = this.schemas.get(v.name);
      const rules = schema ? compileRules(schema, '').root : undefined;
      const def = this.resourceDef(v, schema, rules);
      const store = new ResourceStore(def, deps.store, cache, deps.ctx, deps.admit, codec(v.name));
      const vs = { name: v.name, def, store, schema, rules, deprecationWarning: v.deprecated ? (v.deprecationWarning ?? this.defaultDeprecationWarning(v.name, served)) : undefined };
      if (v.name === this.storageVersion) this.storageStore = store;
      if (v.served) versions.set(v.name, vs);
    }
    this.versions = versions;
  }

  /** The store of the storage version, served or not (deleting every object when the CRD goes). */
  storageStore!: ResourceStore;

  /** The schema of a version (served or not), undefined when it preserves unknown fields everywhere. */
  schemaOf(version: string): JSONSchemaProps | undefined {
    return this.schemas.get(version);
  }

  private makeConverter(services: ServiceResolver): Converter {
    const conv = this.crd.spec.conversion;
    if (conv?.strategy !== 'Webhook') return noneConverter;
    return new WebhookConverter({
      gvkText: `${this.group}/${this.storageVersion}, Kind=${this.kind}`,
      clientConfig: conv.webhook?.clientConfig ?? {},
      reviewVersions: conv.webhook?.conversionReviewVersions ?? ['v1'],
      services,
    });
  }

  private defaultDeprecationWarning(version: string, served: CRDVersion[]): string {
    let msg = `${this.group}/${version} ${this.kind} is deprecated`;
    const newer = served.filter((v) => !v.deprecated && compareKubeVersions(v.name, version) < 0).sort((a, b) => compareKubeVersions(a.name, b.name));
    if (newer.length) msg += `; use ${this.group}/${newer[0].name} ${this.kind}`;
    return msg;
  }

  apiVersion(version: string): string {
    return `${this.group}/${version}`;
  }

  // --- reading and writing across versions ----------------------------------------------------

  /** Applies a version's schema to an object read from storage: prune unknown fields, default. */
  private normalize(obj: KObject, version: string): void {
    const schema = this.schemas.get(version);
    if (!schema) return;
    prune(obj, schema);
    coerceMetadata(obj, schema);
    applyDefaults(obj, schema);
    pruneNonNullableNulls(obj, schema);
  }

  private versionOf(obj: KObject): string {
    const av = String(obj.apiVersion ?? '');
    return av.startsWith(`${this.group}/`) ? av.slice(this.group.length + 1) : this.storageVersion;
  }

  /** Stored objects in `version`: defaulted with their own version's schema, converted, defaulted again. */
  async decodeMany(objs: KObject[], version: string): Promise<KObject[]> {
    // cloneJSON, not structuredClone: a preserve-unknown-fields object may nest up to upstream's
    // 10,000 levels, and structuredClone runs out of stack at about 2,000.
    const copies = objs.map((o) => cloneJSON(o));
    for (const o of copies) this.normalize(o, this.versionOf(o));
    const target = this.apiVersion(version);
    const converted = await this.converter.convert(copies, target);
    return converted.map((o, i) => {
      if (o !== copies[i]) this.normalize(o, version);
      return o;
    });
  }

  async decode(obj: KObject, version: string): Promise<KObject> {
    return (await this.decodeMany([obj], version))[0];
  }

  /** An object of a served version in the storage version. */
  async encode(obj: KObject): Promise<KObject> {
    const target = this.apiVersion(this.storageVersion);
    if (obj.apiVersion === target) return obj;
    const [out] = await this.converter.convert([cloneJSON(obj)], target);
    return out;
  }

  /** Cached objects as `version` (memoised per object; one webhook call for the batch). */
  async readMany(items: CachedObject[], version: string): Promise<CachedObject[]> {
    let memo = this.readMemo.get(version);
    if (!memo) this.readMemo.set(version, (memo = new WeakMap()));
    const out: Array<CachedObject | Promise<CachedObject> | undefined> = items.map((c) => memo!.get(c));
    const todo: number[] = [];
    out.forEach((c, i) => c === undefined && todo.push(i));
    if (todo.length) {
      const batch = this.decodeMany(
        todo.map((i) => items[i].obj),
        version,
      ).then((objs) => objs.map((o, k) => this.cached(items[todo[k]], o)));
      todo.forEach((i, k) => {
        const p = batch.then((list) => list[k]);
        p.catch(() => memo!.delete(items[i]));
        memo!.set(items[i], p);
        out[i] = p;
      });
      // Settled values replace the promises so later reads need no await.
      batch.then((list) => todo.forEach((i, k) => memo!.set(items[i], list[k]))).catch(() => undefined);
    }
    return Promise.all(out as Array<CachedObject | Promise<CachedObject>>);
  }

  /** The cached object itself when reading changed nothing, else a new one. */
  private cached(orig: CachedObject, obj: KObject): CachedObject {
    return deepEqual(obj, orig.obj) ? orig : new CachedObject(undefined, obj);
  }

  // --- the ResourceDef of a version --------------------------------------------------------------

  private resourceDef(v: CRDVersion, schema: JSONSchemaProps | undefined, rules: RuleNode | undefined): ResourceDef {
    const names = this.crd.status?.acceptedNames ?? {};
    const specNames = this.crd.spec.names;
    const hasStatus = !!v.subresources?.status;
    const scale = v.subresources?.scale;
    const kind = this.kind;
    const group = this.group;
    const validate = (obj: KObject, old: KObject | undefined): FieldError[] => {
      const errs: FieldError[] = [];
      if (schema) {
        errs.push(...validateValue(schema, obj));
        errs.push(...validateListTypes(obj, schema));
        errs.push(...validateEmbeddedResources(obj, schema));
        // As upstream: rules are not run on a value whose types are already wrong.
        if (errs.some((e) => e.type === 'FieldValueTypeInvalid' || e.type === 'FieldValueNotSupported'))
          errs.push({ type: 'FieldValueInvalid', field: '<nil>', detail: 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' });
        else errs.push(...evaluateRules(rules, obj, old, old !== undefined));
      }
      if (scale) errs.push(...validateScale(obj, scale));
      return errs;
    };
    const listKind = names.listKind || specNames.listKind || `${kind}List`;
    const model = `${group.split('.').reverse().join('.')}.${v.name}.${kind}`;
    const def: ResourceDef = {
      group,
      version: v.name,
      kind,
      listKind,
      plural: this.plural,
      singular: names.singular || specNames.singular || kind.toLowerCase(),
      namespaced: this.namespaced,
      shortNames: names.shortNames,
      categories: names.categories,
      verbs: customResourceVerbs,
      model,
      openAPI: crdOpenAPI(model, group, v.name, kind, listKind, this.plural, schema),
      // Server-side apply and managed fields read list and map semantics (x-kubernetes-list-type,
      // -list-map-keys, -map-type) from this version's schema; the def is new with every CRD change.
      fieldType: () => customResourceType(schema),
      tracksGeneration: hasStatus,
      strategy: {
        defaults: (obj) => {
          if (schema) applyDefaults(obj, schema);
          if (schema) pruneNonNullableNulls(obj, schema);
        },
        prepareForCreate: (obj) => {
          // Without a status subresource every change counts for generation; with one the generic
          // registry counts spec changes only.
          if (!hasStatus) obj.metadata.generation = 1;
        },
        prepareForUpdate: (obj, old) => {
          if (hasStatus) return;
          obj.metadata.generation = old.metadata.generation ?? 1;
          if (!sameExceptMetadata(obj, old)) obj.metadata.generation += 1;
        },
        validate: (obj) => validate(obj, undefined),
        validateUpdate: (obj, old) => validate(obj, old),
      },
      status: hasStatus
        ? {
            prepareForUpdate: (obj) => {
              // A status write is decoded like any other body: pruned and defaulted.
              if (schema) {
                prune(obj, schema);
                applyDefaults(obj, schema);
                pruneNonNullableNulls(obj, schema);
              }
            },
            validateUpdate: (obj, old) => validate(obj, old),
          }
        : undefined,
      scale: scale
        ? {
            specReplicasPath: scale.specReplicasPath.replace(/^\./, ''),
            statusReplicasPath: scale.statusReplicasPath.replace(/^\./, ''),
            selector: (obj) => {
              if (!scale.labelSelectorPath) return '';
              const steps = parseJSONPath(scale.labelSelectorPath);
              const got = steps ? findResults(obj, steps) : [];
              return typeof got[0] === 'string' ? got[0] : '';
            },
          }
        : undefined,
      table: printerTable(v.additionalPrinterColumns ?? []),
      fieldSelectors: selectableFields(v),
    };
    return def;
  }
}

function sameExceptMetadata(a: KObject, b: KObject): boolean {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (k === 'metadata') continue;
    if (!deepEqual(a[k], b[k])) return false;
  }
  return true;
}

/** Upstream's checks of the scale paths' values (a replica count is a non-negative integer, the selector a string). */
function validateScale(obj: KObject, scale: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string }): FieldError[] {
  const errs: FieldError[] = [];
  const at = (p: string) => {
    const steps = parseJSONPath(p);
    return steps ? findResults(obj, steps) : [];
  };
  for (const p of [scale.specReplicasPath, scale.statusReplicasPath]) {
    const got = at(p);
    if (!got.length || got[0] === null) continue;
    const v = got[0];
    const path = p.replace(/^\./, '');
    if (typeof v !== 'number' || !Number.isInteger(v)) errs.push(field.invalid(path, v, 'must be an integer'));
    else if (v < 0) errs.push(field.invalid(path, v, 'should be a non-negative integer'));
    else if (v > 2147483647) errs.push(field.invalid(path, v, 'should be less than or equal to 2147483647'));
  }
  if (scale.labelSelectorPath) {
    const got = at(scale.labelSelectorPath);
    if (got.length && got[0] !== null && typeof got[0] !== 'string') errs.push(field.invalid(scale.labelSelectorPath.replace(/^\./, ''), got[0], 'must be a string'));
  }
  return errs;
}

const nameColumn: TableColumn = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', priority: 0 };
const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  jsonPath: '.metadata.creationTimestamp',
};

/** Name plus the version's printer columns (Age alone when it declares none), cells as upstream's table convertor makes them. */
function printerTable(cols: PrinterColumn[]): ResourceDef['table'] {
  const columns = cols.length ? cols : [ageColumn];
  const paths = columns.map((c) => parseJSONPath(c.jsonPath));
  return {
    columns: [
      nameColumn,
      ...columns.map((c) => ({ name: c.name, type: c.type as TableColumn['type'], format: c.format, description: c.description ?? '', priority: c.priority ?? 0 })),
    ],
    row: (obj, now) => [
      obj.metadata.name,
      ...columns.map((c, i) => {
        const steps = paths[i];
        const got = steps ? findResults(obj, steps) : [];
        if (!got.length || got[0] === undefined) return null;
        return cell(c.type, got[0], now);
      }),
    ],
  };
}

function cell(type: string, v: unknown, now: number): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'date':
      if (typeof v !== 'string') return null;
      return Number.isNaN(Date.parse(v)) ? '<invalid>' : humanAge(v, now);
    case 'string':
      return typeof v === 'string' ? v : JSON.stringify(v);
    default:
      return null;
  }
}

/** selectableFields: field selectors by JSONPath into the version's objects. */
function selectableFields(v: CRDVersion): ResourceDef['fieldSelectors'] {
  const out: NonNullable<ResourceDef['fieldSelectors']> = {};
  for (const f of v.selectableFields ?? []) {
    const steps = parseJSONPath(f.jsonPath);
    if (!steps) continue;
    out[f.jsonPath.replace(/^\./, '')] = (obj) => {
      const got = findResults(obj, steps);
      return got.length && got[0] !== null && got[0] !== undefined ? String(got[0]) : undefined;
    };
  }
  return out;
}

/** The error a create in a terminating CRD's resources gets, as upstream words it. */
export function terminatingError(verb: string): Error {
  return errors.methodNotAllowed(`${verb} not allowed while custom resource definition is terminating`);
}
