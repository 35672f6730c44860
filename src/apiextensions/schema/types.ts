// The OpenAPI v3 schema of a CustomResourceDefinition version (apiextensions.k8s.io/v1
// JSONSchemaProps) as the plain JSON it is stored as, and small helpers to walk it.
//
// Mizzen keeps schemas in this JSON form instead of converting them into a separate "structural"
// type: a structural schema (upstream's term) is one whose every node names its own type and
// structure, so the structural view of a node is simply its own `type`, `properties`, `items`,
// `additionalProperties` and `x-kubernetes-*` fields, while `allOf`/`anyOf`/`oneOf`/`not` only
// add value validations. validateStructural (structural.ts) checks that a schema is structural;
// everything else (pruning, defaulting, validation, CEL) assumes it.

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate' | string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface JSONSchemaProps {
  type?: string;
  format?: string;
  title?: string;
  description?: string;
  default?: unknown;
  example?: unknown;
  nullable?: boolean;
  enum?: unknown[];
  maximum?: number;
  exclusiveMaximum?: boolean;
  minimum?: number;
  exclusiveMinimum?: boolean;
  multipleOf?: number;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  maxItems?: number;
  minItems?: number;
  uniqueItems?: boolean;
  maxProperties?: number;
  minProperties?: number;
  required?: string[];
  properties?: Record<string, JSONSchemaProps>;
  /** A schema, or a boolean (true: any value; false: no additional properties). */
  additionalProperties?: JSONSchemaProps | boolean;
  /** A schema; an array of schemas is refused by CRD validation. */
  items?: JSONSchemaProps | JSONSchemaProps[];
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  externalDocs?: { description?: string; url?: string };
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map' | string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular' | string;
  'x-kubernetes-validations'?: ValidationRule[];
  // Fields CRD validation refuses, named so it can say so.
  id?: string;
  $ref?: string;
  $schema?: string;
  additionalItems?: unknown;
  patternProperties?: Record<string, JSONSchemaProps>;
  definitions?: Record<string, JSONSchemaProps>;
  dependencies?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The schema of array items (undefined when none or when `items` is an array). */
export function itemsOf(s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  const i = s?.items;
  return i && typeof i === 'object' && !Array.isArray(i) ? i : undefined;
}

/** The schema of map values from `additionalProperties` (undefined for booleans and absence). */
export function additionalPropertiesOf(s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  const a = s?.additionalProperties;
  return a && typeof a === 'object' ? a : undefined;
}

/** Whether unknown fields are kept at this node (objects only). */
export function preservesUnknown(s: JSONSchemaProps | undefined): boolean {
  return s?.['x-kubernetes-preserve-unknown-fields'] === true;
}

/** A JSON type name as schema `type` words it, for messages. */
export function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v; // string, boolean
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// --- field paths, formatted as upstream's field.Path ---------------------------------------

export function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}
