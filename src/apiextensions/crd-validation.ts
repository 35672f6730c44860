// Validation of CustomResourceDefinition objects, with upstream's rules and messages
// (apiextensions-apiserver pkg/apis/apiextensions/validation). Upstream validates the internal
// form of a CRD, in which per-version schemas, subresources and printer columns that are the same
// for every version are held once at the top (spec.validation, spec.subresources,
// spec.additionalPrinterColumns); its error paths follow that form, and so do Mizzen's.

import type { FieldError } from '../machinery/errors.ts';
import { field } from '../machinery/errors.ts';
import type { KObject } from '../api/types.ts';
import { deepEqual, isDNS1035Label, isDNS1123Subdomain, isDNS1123Label } from '../api/validation.ts';
import { additionalPropertiesOf, child, index, itemsOf, key, type JSONSchemaProps } from './schema/types.ts';
import { validateStructural } from './schema/structural.ts';
import { validateValue } from './schema/value-validation.ts';
import { prune } from './schema/pruning.ts';
import { compileRules } from './cel/compile.ts';
import { validateSimpleJSONPath, crdVersionsOf, type CRDVersion } from './crd-model.ts';

const printerColumnTypes = ['boolean', 'date', 'integer', 'number', 'string'];
const printerColumnFormats = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const openapiTypes = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const allowedAtRootWithStatus = new Set([
  'description',
  'type',
  'format',
  'title',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'required',
  'items',
  'properties',
  'externalDocs',
  'example',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
]);
const allowedAtRootNames = '[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations]';

/** The per-version parts of a spec as upstream's internal form holds them: once when all are equal. */
interface Lifted {
  schema: boolean;
  subresources: boolean;
  columns: boolean;
}

function lifted(versions: CRDVersion[]): Lifted {
  const same = (get: (v: CRDVersion) => unknown, present: (x: unknown) => boolean) =>
    versions.length > 0 && versions.every((v) => present(get(v)) && deepEqual(get(v), get(versions[0])));
  return {
    schema: same((v) => v.schema, (x) => x !== undefined && x !== null),
    subresources: same((v) => v.subresources, (x) => x !== undefined && x !== null),
    columns: same((v) => v.additionalPrinterColumns, (x) => Array.isArray(x) && x.length > 0),
  };
}

export function validateCRD(crd: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = crd.spec ?? {};
  const name = crd.metadata?.name;
  if (typeof name === 'string' && name && name !== `${spec.names?.plural}.${spec.group}`) errs.push(field.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  errs.push(...validateSpec(spec));
  errs.push(...validateNames(crd.status?.acceptedNames ?? {}, 'status.acceptedNames'));
  errs.push(...validateStoredVersions(crd.status?.storedVersions, crdVersionsOf(crd), 'status.storedVersions'));
  errs.push(...validateAPIApproval(crd, undefined));
  errs.push(...validatePreserveUnknownFields(crd, undefined));
  return errs;
}

export function validateCRDUpdate(crd: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = crd.spec ?? {};
  const oldSpec = old.spec ?? {};
  errs.push(...validateSpec(spec));
  if (isEstablished(old)) {
    if (spec.scope !== oldSpec.scope) errs.push(field.invalid('spec.scope', spec.scope, 'field is immutable'));
    if (spec.names?.kind !== oldSpec.names?.kind) errs.push(field.invalid('spec.names.kind', spec.names?.kind, 'field is immutable'));
  }
  if (spec.group !== oldSpec.group) errs.push(field.invalid('spec.group', spec.group, 'field is immutable'));
  if (spec.names?.plural !== oldSpec.names?.plural) errs.push(field.invalid('spec.names.plural', spec.names?.plural, 'field is immutable'));
  errs.push(...validateNames(crd.status?.acceptedNames ?? {}, 'status.acceptedNames'));
  errs.push(...validateStoredVersions(crd.status?.storedVersions, crdVersionsOf(crd), 'status.storedVersions'));
  errs.push(...validateAPIApproval(crd, old));
  errs.push(...validatePreserveUnknownFields(crd, old));
  return errs;
}

/** Status updates: only the accepted names are checked. */
export function validateCRDStatus(crd: KObject): FieldError[] {
  return validateNames(crd.status?.acceptedNames ?? {}, 'status.acceptedNames');
}

export function isEstablished(crd: KObject): boolean {
  return (crd.status?.conditions ?? []).some((c: any) => c?.type === 'Established' && c.status === 'True');
}

function validateStoredVersions(stored: unknown, versions: CRDVersion[], path: string): FieldError[] {
  const list = Array.isArray(stored) ? (stored as string[]) : [];
  if (list.length === 0) return [field.invalid(path, list, 'must have at least one stored version')];
  const errs: FieldError[] = [];
  const remaining = new Map(list.map((v, i) => [v, i]));
  for (const v of versions) {
    if (v.storage && !remaining.has(v.name)) errs.push(field.invalid(path, v, `must have the storage version ${v.name}`));
    remaining.delete(v.name);
  }
  for (const [v, i] of remaining) errs.push(field.invalid(index(path, i), v, 'must appear in spec.versions'));
  return errs;
}

function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  const group = spec.group;
  if (!group) errs.push(field.required('spec.group'));
  else if (typeof group !== 'string' || isDNS1123Subdomain(group).length) errs.push(field.invalid('spec.group', group, isDNS1123Subdomain(String(group)).join(',')));
  else if (group.split('.').length < 2) errs.push(field.invalid('spec.group', group, 'should be a domain with at least one dot'));

  if (!spec.scope) errs.push(field.required('spec.scope'));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errs.push(field.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));

  const versions: CRDVersion[] = Array.isArray(spec.versions) ? spec.versions : [];
  if (!Array.isArray(spec.versions) || spec.versions.length === 0) errs.push(field.required('spec.versions'));
  const lift = lifted(versions);
  const preserveUnknown = spec.preserveUnknownFields === true;
  let storage = 0;
  const seen = new Set<string>();
  let unique = true;
  versions.forEach((v, i) => {
    const vp = index('spec.versions', i);
    if (!v || typeof v !== 'object') {
      errs.push(field.invalid(vp, v, 'must be an object'));
      return;
    }
    if (v.storage) storage++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const nameErrs = isDNS1035Label(String(v.name ?? ''));
    if (nameErrs.length) errs.push(field.invalid(child(vp, 'name'), v.name ?? '', nameErrs.join(',')));
    if (v.deprecationWarning !== undefined && v.deprecationWarning !== null) {
      const dw = String(v.deprecationWarning);
      if (!v.deprecated) errs.push(field.invalid(child(vp, 'deprecationWarning'), dw, 'can only be set for deprecated versions'));
      if (dw.length > 256) errs.push(field.invalid(child(vp, 'deprecationWarning'), dw, 'must be <= 256 characters long'));
      if (dw.length === 0) errs.push(field.invalid(child(vp, 'deprecationWarning'), dw, 'must not be an empty string'));
      // eslint-disable-next-line no-control-regex
      const ctl = dw.search(/[\u0000-\u001f\u007f]/);
      if (ctl >= 0) errs.push(field.invalid(child(vp, 'deprecationWarning'), dw, `must only contain printable UTF-8 characters; control character found at index ${ctl}`));
    }
    const statusEnabled = v.subresources?.status !== undefined && v.subresources?.status !== null;
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) errs.push(field.required(`${vp}.schema.openAPIV3Schema`, 'schemas are required'));
    else if (!lift.schema) errs.push(...validateValidation(schema, statusEnabled, child(vp, 'schema'), preserveUnknown));
    if (!lift.subresources) errs.push(...validateSubresources(v.subresources, child(vp, 'subresources')));
    if (!lift.columns) (v.additionalPrinterColumns ?? []).forEach((c: any, j: number) => errs.push(...validateColumn(c, index(child(vp, 'additionalPrinterColumns'), j))));
    errs.push(...validateSelectableFields(v, schema, child(vp, 'selectableFields')));
  });
  // upstream only counts versions when they are there
  if (versions.length > 0) {
    if (!unique) errs.push(field.invalid('spec.versions', versions, 'must contain unique version names'));
    if (storage !== 1) errs.push(field.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  }

  const names = spec.names ?? {};
  if (!names.plural) errs.push(field.required('spec.names.plural'));
  if (!names.singular) errs.push(field.required('spec.names.singular'));
  if (!names.kind) errs.push(field.required('spec.names.kind'));
  if (!names.listKind) errs.push(field.required('spec.names.listKind'));
  errs.push(...validateNames(names, 'spec.names'));

  if (lift.schema) {
    const anyStatus = versions.some((v) => v.subresources?.status !== undefined && v.subresources?.status !== null);
    errs.push(...validateValidation(versions[0].schema!.openAPIV3Schema!, anyStatus, 'spec.validation', preserveUnknown));
  }
  if (lift.subresources) errs.push(...validateSubresources(versions[0].subresources, 'spec.subresources'));
  if (lift.columns) (versions[0].additionalPrinterColumns ?? []).forEach((c: any, j: number) => errs.push(...validateColumn(c, index('spec.additionalPrinterColumns', j))));

  const conv = spec.conversion;
  if (conv && conv.strategy && conv.strategy !== 'None' && preserveUnknown)
    errs.push(field.invalid('spec.conversion.strategy', conv.strategy, 'must be None if spec.preserveUnknownFields is true'));
  errs.push(...validateConversion(conv));
  return errs;
}

function validateNames(names: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const dns = (v: unknown) => isDNS1035Label(String(v));
  if (names.plural && dns(names.plural).length) errs.push(field.invalid(child(path, 'plural'), names.plural, dns(names.plural).join(',')));
  if (names.singular && dns(names.singular).length) errs.push(field.invalid(child(path, 'singular'), names.singular, dns(names.singular).join(',')));
  if (names.kind && dns(String(names.kind).toLowerCase()).length)
    errs.push(field.invalid(child(path, 'kind'), names.kind, `may have mixed case, but should otherwise match: ${dns(String(names.kind).toLowerCase()).join(',')}`));
  if (names.listKind && dns(String(names.listKind).toLowerCase()).length)
    errs.push(field.invalid(child(path, 'listKind'), names.listKind, `may have mixed case, but should otherwise match: ${dns(String(names.listKind).toLowerCase()).join(',')}`));
  (names.shortNames ?? []).forEach((s: unknown, i: number) => {
    if (dns(s).length) errs.push(field.invalid(index(child(path, 'shortNames'), i), s, dns(s).join(',')));
  });
  if (names.kind && names.kind === names.listKind) errs.push(field.invalid(child(path, 'listKind'), names.listKind, 'kind and listKind may not be the same'));
  (names.categories ?? []).forEach((s: unknown, i: number) => {
    if (dns(s).length) errs.push(field.invalid(index(child(path, 'categories'), i), s, dns(s).join(',')));
  });
  return errs;
}

function validateColumn(col: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!col?.name) errs.push(field.required(child(path, 'name')));
  if (!col?.type) errs.push(field.required(child(path, 'type'), `must be one of ${printerColumnTypes.join(',')}`));
  else if (!printerColumnTypes.includes(col.type)) errs.push(field.invalid(child(path, 'type'), col.type, `must be one of ${printerColumnTypes.join(',')}`));
  if (col?.format && !printerColumnFormats.includes(col.format)) errs.push(field.invalid(child(path, 'format'), col.format, `must be one of ${printerColumnFormats.join(',')}`));
  if (!col?.jsonPath) errs.push(field.required(child(path, 'JSONPath')));
  else errs.push(...validateSimpleJSONPath(col.jsonPath, child(path, 'JSONPath')));
  return errs;
}

function validateSubresources(sub: any, path: string): FieldError[] {
  const scale = sub?.scale;
  if (!scale) return [];
  const errs: FieldError[] = [];
  const check = (value: unknown, name: string, prefixes: string[], why: string) => {
    const p = `${path}.scale.${name}`;
    if (!value) return errs.push(field.required(p));
    const e = validateSimpleJSONPath(String(value), p);
    if (e.length) return errs.push(...e);
    if (!prefixes.some((x) => String(value).startsWith(x))) errs.push(field.invalid(p, value, why));
  };
  check(scale.specReplicasPath, 'specReplicasPath', ['.spec.'], 'should be a json path under .spec');
  check(scale.statusReplicasPath, 'statusReplicasPath', ['.status.'], 'should be a json path under .status');
  if (scale.labelSelectorPath) check(scale.labelSelectorPath, 'labelSelectorPath', ['.spec.', '.status.'], 'should be a json path under either .spec or .status');
  return errs;
}

function validateSelectableFields(v: CRDVersion, schema: JSONSchemaProps | undefined, path: string): FieldError[] {
  const list = v.selectableFields ?? [];
  const errs: FieldError[] = [];
  if (list.length > 8) errs.push(field.tooMany(path, list.length, 8));
  const seen = new Set<string>();
  list.forEach((f: any, i: number) => {
    const p = child(index(path, i), 'jsonPath');
    const jp = f?.jsonPath;
    if (!jp) return errs.push(field.required(p));
    const e = validateSimpleJSONPath(jp, p);
    if (e.length) return errs.push(...e);
    if (seen.has(jp)) errs.push(field.duplicate(p, jp));
    seen.add(jp);
    let s: JSONSchemaProps | undefined = schema;
    for (const seg of jp.slice(1).split('.')) s = s?.properties?.[seg];
    if (!s) errs.push(field.invalid(p, jp, 'is an invalid path'));
    else if (!['string', 'integer', 'boolean'].includes(s.type ?? '')) errs.push(field.invalid(p, jp, 'must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.'));
  });
  return errs;
}

function validateConversion(conv: any): FieldError[] {
  if (!conv) return [];
  const errs: FieldError[] = [];
  const path = 'spec.conversion';
  if (!conv.strategy) errs.push(field.required(`${path}.strategy`));
  else if (conv.strategy !== 'None' && conv.strategy !== 'Webhook') errs.push(field.notSupported(`${path}.strategy`, conv.strategy, ['None', 'Webhook']));
  const cc = conv.webhook?.clientConfig;
  const reviewVersions: unknown[] = conv.webhook?.conversionReviewVersions ?? [];
  if (conv.strategy === 'Webhook') {
    if (!cc) errs.push(field.required(`${path}.webhookClientConfig`, 'required when strategy is set to Webhook'));
    else if ((cc.url === undefined) === (cc.service === undefined)) errs.push(field.required(`${path}.webhookClientConfig`, 'exactly one of url or service is required'));
    else if (cc.url !== undefined) errs.push(...validateWebhookURL(`${path}.webhookClientConfig.url`, String(cc.url)));
    else errs.push(...validateWebhookService(`${path}.webhookClientConfig.service`, cc.service));
    if (reviewVersions.length === 0) errs.push(field.required(`${path}.conversionReviewVersions`));
    else {
      const seen = new Set<unknown>();
      let accepted = false;
      reviewVersions.forEach((v, i) => {
        if (seen.has(v)) return errs.push(field.invalid(index(`${path}.conversionReviewVersions`, i), v, 'duplicate version'));
        seen.add(v);
        for (const m of isDNS1035Label(String(v))) errs.push(field.invalid(index(`${path}.conversionReviewVersions`, i), v, m));
        if (v === 'v1' || v === 'v1beta1') accepted = true;
      });
      if (!accepted) errs.push(field.invalid(`${path}.conversionReviewVersions`, reviewVersions, 'must include at least one of v1, v1beta1'));
    }
  } else {
    if (cc) errs.push(field.forbidden(`${path}.webhookClientConfig`, 'should not be set when strategy is not set to Webhook'));
    if (reviewVersions.length) errs.push(field.forbidden(`${path}.conversionReviewVersions`, 'should not be set when strategy is not set to Webhook'));
  }
  return errs;
}

function validateWebhookURL(path: string, raw: string): FieldError[] {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return [field.invalid(path, raw, 'host must be specified')];
  }
  const errs: FieldError[] = [];
  if (u.protocol !== 'https:') errs.push(field.invalid(path, raw, "'https' is the only allowed URL scheme"));
  if (!u.host) errs.push(field.invalid(path, raw, 'host must be specified'));
  if (u.username || u.password) errs.push(field.invalid(path, raw, 'user information is not permitted in the URL'));
  if (u.hash) errs.push(field.invalid(path, raw, 'fragments are not permitted in the URL'));
  if (u.search) errs.push(field.invalid(path, raw, 'query parameters are not permitted in the URL'));
  return errs;
}

function validateWebhookService(path: string, svc: any): FieldError[] {
  const errs: FieldError[] = [];
  if (!svc?.name) errs.push(field.required(`${path}.name`, 'service name is required'));
  if (!svc?.namespace) errs.push(field.required(`${path}.namespace`, 'service namespace is required'));
  else for (const m of isDNS1123Label(svc.namespace)) errs.push(field.invalid(`${path}.namespace`, svc.namespace, m));
  const port = svc?.port ?? 443;
  if (!Number.isInteger(port) || port < 1 || port > 65535) errs.push(field.invalid(`${path}.port`, port, 'port is not valid: must be between 1 and 65535, inclusive'));
  if (svc?.path !== undefined) {
    const p = String(svc.path);
    if (!p.startsWith('/')) errs.push(field.invalid(`${path}.path`, p, "must start with a '/'"));
  }
  return errs;
}

function validateAPIApproval(crd: KObject, old: KObject | undefined): FieldError[] {
  const group: string = crd.spec?.group ?? '';
  const protectedGroup = group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');
  if (!protectedGroup) return [];
  const ann = 'api-approved.kubernetes.io';
  const state = (o: KObject | undefined) => o?.metadata?.annotations?.[ann];
  if (old && state(old) === state(crd)) return [];
  const v = state(crd);
  const p = `metadata.annotations[${ann}]`;
  if (v === undefined) return [field.required(p, `protected groups must have approval annotation "${ann}", see https://github.com/kubernetes/enhancements/pull/1111`)];
  if (v.startsWith('unapproved')) return [];
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' || u.protocol === 'https:') return [];
  } catch {
    // fall through
  }
  return [field.invalid(p, v, `protected groups must have approval annotation "${ann}" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`)];
}

function validatePreserveUnknownFields(crd: KObject, old: KObject | undefined): FieldError[] {
  if (old?.spec?.preserveUnknownFields === true) return [];
  if (crd.spec?.preserveUnknownFields === true)
    return [field.invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-preserve-unknown-fields to true in spec.versions[*].schema instead')];
  return [];
}

// --- the schema -------------------------------------------------------------------------------

function validateValidation(schema: JSONSchemaProps, statusEnabled: boolean, path: string, preserveUnknown: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const sp = child(path, 'openAPIV3Schema');
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return [field.invalid(sp, schema, 'must be an object')];
  if (statusEnabled) {
    for (const k of Object.keys(schema)) {
      if (k === 'type') {
        if (schema.type !== 'object') {
          errs.push(field.invalid(`${sp}.type`, schema.type, 'only "object" is allowed as the type at the root of the schema if the status subresource is enabled'));
          break;
        }
        continue;
      }
      if (!allowedAtRootWithStatus.has(k)) {
        errs.push(field.invalid(sp, schema, `only ${allowedAtRootNames} fields are allowed at the root of the schema if the status subresource is enabled`));
        break;
      }
    }
  }
  if (schema.nullable) errs.push(field.forbidden(`${sp}.nullable`, 'nullable cannot be true at the root'));
  errs.push(...validateSchemaNode(schema, sp, { isRoot: true, insideResourceMeta: false, allowDefaults: true }));
  if (errs.length === 0 && !preserveUnknown) {
    const structural = validateStructural(schema, sp);
    if (structural.length) errs.push(...structural);
    else errs.push(...validateDefaults(schema, sp, true));
  }
  if (errs.length === 0) errs.push(...compileRules(schema, sp).errors);
  return errs;
}

interface NodeOpts {
  isRoot: boolean;
  insideResourceMeta: boolean;
  allowDefaults: boolean;
  defaultsReason?: string;
}

function validateSchemaNode(s: JSONSchemaProps | undefined, path: string, o: NodeOpts): FieldError[] {
  if (s === undefined || s === null) return [];
  if (typeof s !== 'object' || Array.isArray(s)) return [field.invalid(path, s, 'must be a schema object')];
  const errs: FieldError[] = [];
  // specStandardValidatorV3
  if (s.type && !openapiTypes.includes(s.type)) {
    if (s.type === 'null') errs.push(field.forbidden(child(path, 'type'), 'type cannot be set to null, use nullable as an alternative'));
    else errs.push(field.notSupported(child(path, 'type'), s.type, openapiTypes));
  }
  if (s.default !== undefined && !o.allowDefaults) errs.push(field.forbidden(child(path, 'default'), `must not be set${o.defaultsReason ? ` ${o.defaultsReason}` : ''}`));
  if (s.id) errs.push(field.forbidden(child(path, 'id'), 'id is not supported'));
  if (s.additionalItems !== undefined) errs.push(field.forbidden(child(path, 'additionalItems'), 'additionalItems is not supported'));
  if (s.patternProperties && Object.keys(s.patternProperties).length) errs.push(field.forbidden(child(path, 'patternProperties'), 'patternProperties is not supported'));
  if (s.definitions && Object.keys(s.definitions).length) errs.push(field.forbidden(child(path, 'definitions'), 'definitions is not supported'));
  if (s.dependencies !== undefined) errs.push(field.forbidden(child(path, 'dependencies'), 'dependencies is not supported'));
  if (s.$ref !== undefined) errs.push(field.forbidden(child(path, '$ref'), '$ref is not supported'));
  if (Array.isArray(s.items)) errs.push(field.forbidden(child(path, 'items'), 'items must be a schema object and not an array'));
  if (o.insideResourceMeta && s['x-kubernetes-embedded-resource']) errs.push(field.forbidden(child(path, 'x-kubernetes-embedded-resource'), 'must not be used inside of resource meta'));
  if (s.uniqueItems === true) errs.push(field.forbidden(child(path, 'uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));

  const extra = s.additionalProperties;
  if (extra !== undefined) {
    if (s.properties && Object.keys(s.properties).length && (extra === false || typeof extra === 'object'))
      errs.push(field.forbidden(child(path, 'additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
    const sub = o.insideResourceMeta ? { ...o, isRoot: false, allowDefaults: false, defaultsReason: 'inside additionalProperties applying to object metadata' } : { ...o, isRoot: false };
    if (typeof extra === 'object') errs.push(...validateSchemaNode(extra, child(path, 'additionalProperties'), sub));
  }
  for (const [k, ps] of Object.entries(s.properties ?? {})) {
    let sub: NodeOpts = { ...o, isRoot: false };
    if ((o.isRoot || s['x-kubernetes-embedded-resource']) && (k === 'metadata' || k === 'kind' || k === 'apiVersion')) {
      sub = { ...sub, insideResourceMeta: true };
      if (o.isRoot) sub = { ...sub, allowDefaults: false, defaultsReason: `in top-level ${k}` };
    }
    errs.push(...validateSchemaNode(ps, key(child(path, 'properties'), k), sub));
  }
  if (s.not) errs.push(...validateSchemaNode(s.not, child(path, 'not'), { ...o, isRoot: false }));
  for (const k of ['allOf', 'oneOf', 'anyOf'] as const) (s[k] ?? []).forEach((x, i) => errs.push(...validateSchemaNode(x, index(child(path, k), i), { ...o, isRoot: false })));
  const items = itemsOf(s);
  if (items) errs.push(...validateSchemaNode(items, child(path, 'items'), { ...o, isRoot: false }));

  if (s['x-kubernetes-preserve-unknown-fields'] === false) errs.push(field.invalid(child(path, 'x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  const mapType = s['x-kubernetes-map-type'];
  if (mapType !== undefined && s.type !== 'object') {
    if (!s.type) errs.push(field.required(child(path, 'type'), 'must be object if x-kubernetes-map-type is specified'));
    else errs.push(field.invalid(child(path, 'type'), s.type, 'must be object if x-kubernetes-map-type is specified'));
  }
  if (mapType !== undefined && mapType !== 'atomic' && mapType !== 'granular') errs.push(field.notSupported(child(path, 'x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
  const listType = s['x-kubernetes-list-type'];
  if (listType !== undefined && s.type !== 'array') {
    if (!s.type) errs.push(field.required(child(path, 'type'), 'must be array if x-kubernetes-list-type is specified'));
    else errs.push(field.invalid(child(path, 'type'), s.type, 'must be array if x-kubernetes-list-type is specified'));
  } else if (listType === 'set' && items) {
    if (items.type === 'array' && items['x-kubernetes-list-type'] !== undefined && items['x-kubernetes-list-type'] !== 'atomic')
      errs.push(field.invalid(child(child(path, 'items'), 'x-kubernetes-list-type'), items['x-kubernetes-list-type'], 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    if (items.type === 'object' && items['x-kubernetes-map-type'] !== 'atomic')
      errs.push(field.invalid(child(child(path, 'items'), 'x-kubernetes-map-type'), items['x-kubernetes-map-type'] ?? null, 'must be atomic as item of a list with x-kubernetes-list-type=set'));
  }
  if (listType !== undefined && !['atomic', 'set', 'map'].includes(listType)) errs.push(field.notSupported(child(path, 'x-kubernetes-list-type'), listType, ['atomic', 'set', 'map']));
  const mapKeys = s['x-kubernetes-list-map-keys'];
  if (Array.isArray(mapKeys) && mapKeys.length) {
    if (listType === undefined) errs.push(field.required(child(path, 'x-kubernetes-list-type'), 'must be map if x-kubernetes-list-map-keys is non-empty'));
    else if (listType !== 'map') errs.push(field.invalid(child(path, 'x-kubernetes-list-type'), listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  if (listType === 'map') {
    if (!mapKeys?.length) errs.push(field.required(child(path, 'x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'));
    if (s.items === undefined) errs.push(field.required(child(path, 'items'), 'must have a schema if x-kubernetes-list-type is map'));
    if (items && items.type !== 'object') errs.push(field.invalid(child(child(path, 'items'), 'type'), items.type ?? '', "must be object if parent array's x-kubernetes-list-type is map"));
    if (items?.type === 'object') {
      const seen = new Set<string>();
      for (const k of mapKeys ?? []) {
        const ps = items.properties?.[k];
        if (ps) {
          if (ps.type === 'array' || ps.type === 'object')
            errs.push(field.invalid(child(key(child(child(path, 'items'), 'properties'), k), 'type'), items.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
        } else errs.push(field.invalid(child(path, 'x-kubernetes-list-map-keys'), mapKeys, 'entries must all be names of item properties'));
        if (seen.has(k)) errs.push(field.invalid(child(path, 'x-kubernetes-list-map-keys'), mapKeys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  if ((listType === 'set' || listType === 'map') && items) {
    if (items.nullable) errs.push(field.forbidden(child(child(path, 'items'), 'nullable'), `cannot be nullable when x-kubernetes-list-type is ${listType}`));
    if (listType === 'map')
      for (const k of mapKeys ?? []) {
        const ps = items.properties?.[k];
        if (!ps) continue;
        if (!(items.required ?? []).includes(k) && ps.default === undefined)
          errs.push(field.required(child(key(child(child(path, 'items'), 'properties'), k), 'default'), 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
        if (ps.nullable) errs.push(field.forbidden(child(key(child(child(path, 'items'), 'properties'), k), 'nullable'), 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable'));
      }
  }
  return errs;
}

/** Every default must be valid for its schema and hold no field the schema would prune. */
function validateDefaults(s: JSONSchemaProps | undefined, path: string, isRoot: boolean): FieldError[] {
  if (!s || typeof s !== 'object') return [];
  const errs: FieldError[] = [];
  if (s.default !== undefined && !isRoot) {
    const dp = child(path, 'default');
    if (s.default === null && !s.nullable) errs.push(field.invalid(dp, null, 'must not be null'));
    else if (s.default !== null) {
      const copy = structuredClone(s.default);
      const pruned = prune(copy, s, false);
      if (pruned.length) errs.push(field.invalid(dp, s.default, `must not have unknown fields, got: ${pruned.join(', ')}`));
      for (const e of validateValue(s, s.default)) errs.push({ ...e, field: e.field ? `${dp}.${e.field}` : dp });
    }
  }
  for (const [k, ps] of Object.entries(s.properties ?? {})) errs.push(...validateDefaults(ps, key(child(path, 'properties'), k), false));
  errs.push(...validateDefaults(itemsOf(s), child(path, 'items'), false));
  errs.push(...validateDefaults(additionalPropertiesOf(s), child(path, 'additionalProperties'), false));
  return errs;
}
