// Is a schema structural? Upstream's rules (apiextensions-apiserver schema/validation.go and
// complete.go), with its messages: every node specifies its type (except under
// x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields), allOf/anyOf/oneOf/not only
// add value validations to fields the structural part already specifies, metadata at the root may
// only restrict name and generateName, and additionalProperties is not allowed at the root.

import type { FieldError } from '../../machinery/errors.ts';
import { child, itemsOf, key, index, additionalPropertiesOf, type JSONSchemaProps } from './types.ts';
import { field } from '../../machinery/errors.ts';
import { compiledPattern } from './patterns.ts';

type Level = 'root' | 'item' | 'field';

/** Structural-schema errors of `s` (the openAPIV3Schema), at `path`; sorted as upstream sorts them. */
export function validateStructural(s: JSONSchemaProps, path: string): FieldError[] {
  const errs = [...invariants(s, 'root', path), ...structuralCompleteness(s, path)];
  return errs.sort((a, b) => (errorText(a) < errorText(b) ? -1 : errorText(a) > errorText(b) ? 1 : 0));
}

function errorText(e: FieldError): string {
  return `${e.field}: ${e.detail}`;
}

const isIntOrStringPair = (list: JSONSchemaProps[] | undefined): boolean =>
  !!list &&
  list.length === 2 &&
  list[0].type === 'integer' &&
  list[1].type === 'string' &&
  Object.keys(list[0]).length === 1 &&
  Object.keys(list[1]).length === 1;

function invariants(s: JSONSchemaProps | undefined, lvl: Level, path: string): FieldError[] {
  if (!s || typeof s !== 'object') return [];
  const errs: FieldError[] = [];
  const items = itemsOf(s);
  if (s.type === 'array' && !items) errs.push(field.required(child(path, 'items'), 'must be specified'));
  errs.push(...invariants(items, 'item', child(path, 'items')));
  for (const [k, v] of Object.entries(s.properties ?? {})) errs.push(...invariants(v, 'field', key(child(path, 'properties'), k)));
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
    if (lvl === 'root') errs.push(field.forbidden(child(path, 'additionalProperties'), 'must not be used at the root'));
    errs.push(...invariants(additionalPropertiesOf(s), 'field', child(path, 'additionalProperties')));
  }
  const xInt = s['x-kubernetes-int-or-string'] === true;
  const xPreserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const xEmbedded = s['x-kubernetes-embedded-resource'] === true;
  if (xInt && xPreserve) errs.push(field.invalid(child(path, 'x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
  if (xInt && xEmbedded) errs.push(field.invalid(child(path, 'x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));

  // The two shapes x-kubernetes-int-or-string may use: anyOf [integer, string], or allOf whose first entry has it.
  const skipAnyOf = isIntOrStringPair(s.anyOf);
  const skipFirstAllOfAnyOf = !!s.allOf?.length && isIntOrStringPair(s.allOf[0].anyOf);
  errs.push(...valueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, path));

  const checkMetadata = lvl === 'root' || xEmbedded;
  if (xEmbedded && s.type !== 'object') {
    if (!s.type) errs.push(field.required(child(path, 'type'), 'must be object if x-kubernetes-embedded-resource is true'));
    else errs.push(field.invalid(child(path, 'type'), s.type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (!s.type && !xInt && !xPreserve) {
    const why = lvl === 'root' ? 'must not be empty at the root' : lvl === 'item' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
    errs.push(field.required(child(path, 'type'), why));
  }
  if (xEmbedded && s.additionalProperties !== undefined && s.additionalProperties !== false)
    errs.push(field.forbidden(child(path, 'additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
  if (lvl === 'root' && s.type && s.type !== 'object') errs.push(field.invalid(child(path, 'type'), s.type, 'must be object at the root'));

  const props = s.properties ?? {};
  const propsPath = child(path, 'properties');
  if (props.kind && checkMetadata && props.kind.type !== 'string') errs.push(field.invalid(child(key(propsPath, 'kind'), 'type'), props.kind.type ?? '', 'must be string'));
  if (props.apiVersion && checkMetadata && props.apiVersion.type !== 'string')
    errs.push(field.invalid(child(key(propsPath, 'apiVersion'), 'type'), props.apiVersion.type ?? '', 'must be string'));
  if (props.metadata) errs.push(...metadataInvariants(props.metadata, checkMetadata, lvl, key(propsPath, 'metadata')));
  if (xEmbedded && !xPreserve && Object.keys(props).length === 0)
    errs.push(field.required(child(path, 'properties'), 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  return errs;
}

function metadataInvariants(s: JSONSchemaProps, checkMetadata: boolean, lvl: Level, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (checkMetadata && s.type !== 'object') errs.push(field.invalid(child(path, 'type'), s.type ?? '', 'must be object'));
  if (lvl === 'root') {
    // At the root, metadata may only restrict name and generateName: nothing else may remain once
    // those, the type and the default are taken away.
    const rest: Record<string, unknown> = { ...s };
    const props = Object.keys(s.properties ?? {});
    if (props.length > 0 && props.every((p) => p === 'name' || p === 'generateName')) delete rest.properties;
    delete rest.type;
    delete rest.default;
    // Upstream compares what is left with an empty node: value validations count too.
    if (Object.keys(rest).length > 0)
      errs.push(field.forbidden(path, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  }
  return errs;
}

const valueValidationKeys = ['allOf', 'anyOf', 'oneOf', 'not'] as const;

/** Value validation of a structural node: its allOf/anyOf/oneOf/not and its pattern. */
function valueValidation(s: JSONSchemaProps, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!skipAnyOf) (s.anyOf ?? []).forEach((v, i) => errs.push(...nested(v, false, index(child(path, 'anyOf'), i))));
  (s.allOf ?? []).forEach((v, i) => errs.push(...nested(v, skipFirstAllOfAnyOf && i === 0, index(child(path, 'allOf'), i))));
  (s.oneOf ?? []).forEach((v, i) => errs.push(...nested(v, false, index(child(path, 'oneOf'), i))));
  if (s.not) errs.push(...nested(s.not, false, child(path, 'not')));
  if (typeof s.pattern === 'string' && s.pattern !== '') {
    const problem = patternProblem(s.pattern);
    if (problem) errs.push(field.invalid(child(path, 'pattern'), s.pattern, `must be a valid regular expression, but isn't: ${problem}`));
  }
  return errs;
}

/** Why a pattern does not compile, or undefined. */
export function patternProblem(pattern: string): string | undefined {
  if (compiledPattern(pattern)) return undefined;
  try {
    new RegExp(pattern);
    return 'error parsing regexp';
  } catch (e) {
    return `error parsing regexp: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
}

/** A schema under allOf/anyOf/oneOf/not: only value validations, no structure. */
function nested(v: JSONSchemaProps | undefined, skipAnyOf: boolean, path: string): FieldError[] {
  if (!v || typeof v !== 'object') return [];
  const errs: FieldError[] = [];
  errs.push(...valueValidation(v, skipAnyOf, false, path));
  const items = itemsOf(v);
  if (items) errs.push(...nested(items, false, child(path, 'items')));
  for (const [k, p] of Object.entries(v.properties ?? {})) errs.push(...nested(p, false, key(child(path, 'properties'), k)));
  if (v.type) errs.push(field.forbidden(child(path, 'type'), 'must be empty to be structural'));
  if (v.additionalProperties !== undefined) errs.push(field.forbidden(child(path, 'additionalProperties'), 'must be undefined to be structural'));
  if (v.default !== undefined) errs.push(field.forbidden(child(path, 'default'), 'must be undefined to be structural'));
  if (v.title) errs.push(field.forbidden(child(path, 'title'), 'must be empty to be structural'));
  if (v.description) errs.push(field.forbidden(child(path, 'description'), 'must be empty to be structural'));
  if (v.nullable) errs.push(field.forbidden(child(path, 'nullable'), 'must be false to be structural'));
  if (v.externalDocs) errs.push(field.forbidden(child(path, 'externalDocs'), 'must be undefined to be structural'));
  if (v['x-kubernetes-preserve-unknown-fields']) errs.push(field.forbidden(child(path, 'x-kubernetes-preserve-unknown-fields'), 'must be false to be structural'));
  if (v['x-kubernetes-embedded-resource']) errs.push(field.forbidden(child(path, 'x-kubernetes-embedded-resource'), 'must be false to be structural'));
  if (v['x-kubernetes-int-or-string']) errs.push(field.forbidden(child(path, 'x-kubernetes-int-or-string'), 'must be false to be structural'));
  if (v['x-kubernetes-list-map-keys']?.length) errs.push(field.forbidden(child(path, 'x-kubernetes-list-map-keys'), 'must be empty to be structural'));
  if (v['x-kubernetes-list-type'] !== undefined) errs.push(field.forbidden(child(path, 'x-kubernetes-list-type'), 'must be undefined to be structural'));
  if (v['x-kubernetes-map-type'] !== undefined) errs.push(field.forbidden(child(path, 'x-kubernetes-map-type'), 'must be undefined to be structural'));
  if (v['x-kubernetes-validations']?.length) errs.push(field.forbidden(child(path, 'x-kubernetes-validations'), 'must be empty to be structural'));
  if (v.properties && 'metadata' in v.properties) errs.push(field.forbidden(key(child(path, 'properties'), 'metadata'), 'must not be specified in a nested context'));
  return errs;
}

// --- completeness: what value validations name must exist in the structure ------------------

/** Completeness of every structural node's value validations. */
function structuralCompleteness(s: JSONSchemaProps | undefined, path: string): FieldError[] {
  if (!s || typeof s !== 'object') return [];
  const errs = completeness(s, s, path, path);
  for (const [k, p] of Object.entries(s.properties ?? {})) errs.push(...structuralCompleteness(p, key(child(path, 'properties'), k)));
  errs.push(...structuralCompleteness(itemsOf(s), child(path, 'items')));
  errs.push(...structuralCompleteness(additionalPropertiesOf(s), child(path, 'additionalProperties')));
  return errs;
}

function completeness(v: JSONSchemaProps | undefined, s: JSONSchemaProps | undefined, sPath: string, vPath: string): FieldError[] {
  if (!v || typeof v !== 'object') return [];
  if (!s) return [field.required(sPath, `because it is defined in ${vPath}`)];
  const errs: FieldError[] = [];
  if (v.not) errs.push(...nestedCompleteness(v.not, s, sPath, child(vPath, 'not')));
  for (const k of valueValidationKeys) {
    if (k === 'not') continue;
    (v[k] ?? []).forEach((n, i) => errs.push(...nestedCompleteness(n, s, sPath, index(child(vPath, k), i))));
  }
  return errs;
}

function nestedCompleteness(v: JSONSchemaProps, s: JSONSchemaProps | undefined, sPath: string, vPath: string): FieldError[] {
  if (!v || typeof v !== 'object') return [];
  if (!s) return [field.required(sPath, `because it is defined in ${vPath}`)];
  const errs = completeness(v, s, sPath, vPath);
  const vItems = itemsOf(v);
  if (vItems) errs.push(...nestedCompleteness(vItems, itemsOf(s), child(sPath, 'items'), child(vPath, 'items')));
  for (const [k, p] of Object.entries(v.properties ?? {})) {
    const sp = s.properties?.[k];
    if (!sp) errs.push(field.required(key(child(sPath, 'properties'), k), `because it is defined in ${key(child(vPath, 'properties'), k)}`));
    else errs.push(...nestedCompleteness(p, sp, key(child(sPath, 'properties'), k), key(child(vPath, 'properties'), k)));
  }
  return errs;
}
