// Validates a value against an OpenAPI v3 schema the way upstream's kube-openapi validator does,
// and reports the failures as upstream's field errors: the path is the validator's
// (`spec.ports.0.name`: list items by a dot and their index) and the messages are its own
// (`spec.replicas in body must be of type integer: "string"`).

import type { FieldError } from '../../machinery/errors.ts';
import { field } from '../../machinery/errors.ts';
import { deepEqual } from '../../api/validation.ts';
import { matchesFormat, integerFormatRange } from './formats.ts';
import { additionalPropertiesOf, isObject, itemsOf, type JSONSchemaProps } from './types.ts';
import { compiledPattern } from './patterns.ts';

/** Field errors of `value` against `schema` (value validations only: no CEL, no list types). */
export function validateValue(schema: JSONSchemaProps, value: unknown, rootPath = ''): FieldError[] {
  const errs: FieldError[] = [];
  walk(schema, value, rootPath, errs);
  return errs;
}

/** `<path> in body`, as the validator names a value. */
function inBody(path: string): string {
  return path ? `${path} in body` : 'in body';
}

function goValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function typeInvalid(path: string, value: unknown, detail: string): FieldError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : value === null || value === undefined ? 'null' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return { type: 'FieldValueTypeInvalid', field: path, detail: `Invalid value: ${shown}: ${detail}` };
}

/** Does the value have the JSON type a schema `type` names? */
function hasType(type: string, v: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return isObject(v);
    default:
      return true;
  }
}

/** The validator's name for the type of a value ("string", "integer", "number", "boolean", "array", "object", "null"). */
function foundType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function walk(s: JSONSchemaProps | undefined, v: unknown, path: string, errs: FieldError[]): void {
  if (!s || typeof s !== 'object') return;
  if (v === null) {
    // null is a value only where the schema says nullable (or says nothing about the type).
    if (s.nullable) return;
    const types = s['x-kubernetes-int-or-string'] ? 'integer,string' : s.type;
    if (types) errs.push(typeInvalid(path, null, `${inBody(path)} must be of type ${types}: "null"`));
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) {
      errs.push(typeInvalid(path, v, `${inBody(path)} must be of type integer,string: ${JSON.stringify(foundType(v))}`));
      return;
    }
  } else if (s.type && !hasType(s.type, v)) {
    errs.push(typeInvalid(path, v, `${inBody(path)} must be of type ${s.type}: ${JSON.stringify(foundType(v))}`));
    return;
  }
  if (s.enum && Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, v))) {
    // Upstream quotes each allowed value, JSON-encoding the ones that are not strings first.
    const allowed = s.enum.map((e) => JSON.stringify(typeof e === 'string' ? e : JSON.stringify(e))).join(', ');
    errs.push({ type: 'FieldValueNotSupported', field: path, detail: `Unsupported value: ${JSON.stringify(v)}: supported values: ${allowed}` });
  }
  if (typeof v === 'string') stringChecks(s, v, path, errs);
  else if (typeof v === 'number') numberChecks(s, v, path, errs);
  else if (Array.isArray(v)) arrayChecks(s, v, path, errs);
  else if (isObject(v)) objectChecks(s, v, path, errs);
  compositions(s, v, path, errs);
}

function stringChecks(s: JSONSchemaProps, v: string, path: string, errs: FieldError[]): void {
  const len = [...v].length;
  if (typeof s.maxLength === 'number' && len > s.maxLength) errs.push(field.tooLong(path, s.maxLength));
  if (typeof s.minLength === 'number' && len < s.minLength) errs.push(field.invalid(path, v, `${inBody(path)} should be at least ${s.minLength} chars long`));
  if (typeof s.pattern === 'string' && s.pattern) {
    const re = compiledPattern(s.pattern);
    if (re && !re.test(v)) errs.push(field.invalid(path, v, `${inBody(path)} should match '${s.pattern}'`));
  }
  if (typeof s.format === 'string' && s.format && !matchesFormat(s.format, v)) errs.push(typeInvalid(path, v, `${inBody(path)} must be of type ${s.format}: ${JSON.stringify(v)}`));
}

function numberChecks(s: JSONSchemaProps, v: number, path: string, errs: FieldError[]): void {
  const range = s.type === 'integer' ? integerFormatRange(s.format) : undefined;
  if (range && (v < range[0] || v > range[1])) errs.push(typeInvalid(path, v, `${inBody(path)} must be of type ${s.format}: ${JSON.stringify(goValue(v))}`));
  if (typeof s.maximum === 'number') {
    if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)
      errs.push(field.invalid(path, v, `${inBody(path)} should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
  }
  if (typeof s.minimum === 'number') {
    if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)
      errs.push(field.invalid(path, v, `${inBody(path)} should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
  }
  if (typeof s.multipleOf === 'number' && s.multipleOf > 0) {
    const q = v / s.multipleOf;
    if (Math.abs(q - Math.round(q)) > 1e-9) errs.push(field.invalid(path, v, `${inBody(path)} should be a multiple of ${s.multipleOf}`));
  }
}

function arrayChecks(s: JSONSchemaProps, v: unknown[], path: string, errs: FieldError[]): void {
  if (typeof s.maxItems === 'number' && v.length > s.maxItems) errs.push(field.tooMany(path, v.length, s.maxItems));
  if (typeof s.minItems === 'number' && v.length < s.minItems) errs.push(field.invalid(path, v, `${inBody(path)} should have at least ${s.minItems} items`));
  if (s.uniqueItems) {
    for (let i = 0; i < v.length; i++)
      for (let j = i + 1; j < v.length; j++)
        if (deepEqual(v[i], v[j])) {
          errs.push(field.invalid(path, v, `${inBody(path)} shouldn't contain duplicates`));
          i = v.length;
          break;
        }
  }
  const items = itemsOf(s);
  if (items) v.forEach((item, i) => walk(items, item, `${path}.${i}`, errs));
}

function objectChecks(s: JSONSchemaProps, v: Record<string, unknown>, path: string, errs: FieldError[]): void {
  const n = Object.keys(v).length;
  if (typeof s.maxProperties === 'number' && n > s.maxProperties) errs.push(field.tooMany(path, n, s.maxProperties));
  if (typeof s.minProperties === 'number' && n < s.minProperties) errs.push(field.invalid(path, v, `${inBody(path)} should have at least ${s.minProperties} properties`));
  for (const r of s.required ?? []) if (!(r in v)) errs.push(field.required(path ? `${path}.${r}` : r));
  const props = s.properties ?? {};
  const extra = additionalPropertiesOf(s);
  for (const [k, val] of Object.entries(v)) {
    const p = path ? `${path}.${k}` : k;
    const ps = props[k];
    if (ps) walk(ps, val, p, errs);
    else if (extra) walk(extra, val, p, errs);
    else if (s.additionalProperties === false && !s['x-kubernetes-preserve-unknown-fields'])
      errs.push(field.forbidden(p, `${inBody(p)} is a forbidden property`));
  }
}

/** allOf / anyOf / oneOf / not: alternatives are judged by whether they add errors. */
function compositions(s: JSONSchemaProps, v: unknown, path: string, errs: FieldError[]): void {
  for (const sub of s.allOf ?? []) {
    const e: FieldError[] = [];
    walk(sub, v, path, e);
    if (e.length) {
      errs.push(...e);
      errs.push(field.invalid(path, v, `${inBody(path)} must validate all the schemas (allOf)`));
      break;
    }
  }
  if (s.anyOf?.length) {
    const results = s.anyOf.map((sub) => validateValue(sub, v, path));
    if (!results.some((r) => r.length === 0)) errs.push(field.invalid(path, v, `${inBody(path)} must validate at least one schema (anyOf)`), ...results[0]);
  }
  if (s.oneOf?.length) {
    const valid = s.oneOf.filter((sub) => validateValue(sub, v, path).length === 0).length;
    if (valid !== 1)
      errs.push(field.invalid(path, v, `${inBody(path)} must validate one and only one schema (oneOf). ${valid === 0 ? 'Found none valid' : `Found ${valid} valid alternatives`}`));
  }
  if (s.not && validateValue(s.not, v, path).length === 0) errs.push(field.invalid(path, v, `${inBody(path)} must not validate the schema (not)`));
}
