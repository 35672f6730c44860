// Field types from an OpenAPI v3 (structural) schema, as upstream converts a CustomResource-
// Definition's schema for server-side apply: properties are struct fields, additionalProperties
// and x-kubernetes-preserve-unknown-fields give map values, x-kubernetes-list-type /
// x-kubernetes-list-map-keys / x-kubernetes-map-type give list and map semantics (lists default
// to atomic, objects to granular), x-kubernetes-int-or-string is a scalar of either kind, and
// x-kubernetes-embedded-resource adds apiVersion, kind and metadata.

import { anyScalar, deduced, type FieldType, type MapType } from './types.ts';

export type OpenAPISchema = Record<string, any>;

export interface OpenAPITypeOptions {
  /** The type of `metadata` in embedded resources (ObjectMeta); a deduced map without it. */
  objectMeta?: FieldType;
}

const stringScalar: FieldType = { kind: 'scalar', scalar: 'string' };

export function fieldTypeFromOpenAPI(schema: OpenAPISchema | undefined, opts: OpenAPITypeOptions = {}): FieldType {
  return convert(schema, opts);
}

function convert(s: OpenAPISchema | undefined, opts: OpenAPITypeOptions): FieldType {
  if (!s || typeof s !== 'object') return deduced;
  if (s['x-kubernetes-int-or-string']) return anyScalar;
  // allOf/anyOf/oneOf of a structural schema only restate validation of the same shape.
  const type = s.type as string | undefined;
  if (type === 'array') {
    const items = convert(s.items, opts);
    const listType = (s['x-kubernetes-list-type'] as string | undefined) ?? 'atomic';
    if (listType === 'map') {
      const keys: string[] = Array.isArray(s['x-kubernetes-list-map-keys']) ? s['x-kubernetes-list-map-keys'] : [];
      const keyDefaults: Record<string, unknown> = {};
      for (const k of keys) {
        const d = s.items?.properties?.[k]?.default;
        if (d !== undefined) keyDefaults[k] = d;
      }
      return { kind: 'list', items, listType: 'map', keys, keyDefaults: Object.keys(keyDefaults).length ? keyDefaults : undefined };
    }
    return { kind: 'list', items, listType: listType === 'set' ? 'set' : 'atomic' };
  }
  if (type === 'string') return stringScalar;
  if (type === 'integer' || type === 'number') return { kind: 'scalar', scalar: 'numeric' };
  if (type === 'boolean') return { kind: 'scalar', scalar: 'boolean' };
  if (type === 'object' || s.properties || s.additionalProperties || s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-embedded-resource']) {
    const props: Record<string, OpenAPISchema> = { ...(s.properties ?? {}) };
    const fields = new Map<string, FieldType>();
    const lazy = new Map<string, OpenAPISchema>(Object.entries(props));
    if (s['x-kubernetes-embedded-resource']) {
      fields.set('apiVersion', stringScalar);
      fields.set('kind', stringScalar);
      fields.set('metadata', opts.objectMeta ?? deduced);
    }
    let values: FieldType | undefined;
    if (s['x-kubernetes-preserve-unknown-fields']) values = deduced;
    else if (s.additionalProperties && typeof s.additionalProperties === 'object') values = convert(s.additionalProperties, opts);
    else if (s.additionalProperties === true) values = deduced;
    const t: MapType = {
      kind: 'map',
      atomic: s['x-kubernetes-map-type'] === 'atomic',
      field(name) {
        let f = fields.get(name);
        if (f === undefined && lazy.has(name)) {
          f = convert(lazy.get(name), opts);
          fields.set(name, f);
        }
        return f;
      },
      values,
    };
    return t;
  }
  // No type: a preserve-unknown-fields leaf or an unconstrained value.
  return deduced;
}

/**
 * The type of a custom resource from its version's `openAPIV3Schema`: the root always declares
 * apiVersion, kind and metadata (ObjectMeta), whether or not the schema lists them; without a
 * schema everything else is deduced.
 */
export function customResourceFieldType(schema: OpenAPISchema | undefined, objectMeta: FieldType): FieldType {
  const root = schema ? convert(schema, { objectMeta }) : ({ kind: 'map', atomic: false, values: deduced } as MapType);
  const base = root.kind === 'map' ? root : ({ kind: 'map', atomic: false, values: deduced } as MapType);
  return {
    kind: 'map',
    atomic: false,
    values: base.values,
    field(name) {
      if (name === 'apiVersion' || name === 'kind') return stringScalar;
      if (name === 'metadata') return objectMeta;
      return base.field?.(name);
    },
  };
}
