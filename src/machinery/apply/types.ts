// What server-side apply needs to know about a value's type: the facts upstream's
// structured-merge-diff schema carries. Built-in kinds get theirs from the client-node models
// (src/api/field-types.ts); custom resources from their structural schema
// (openapi-types.ts: x-kubernetes-list-type, -list-map-keys, -map-type, preserve-unknown-fields).

export type FieldType = MapType | ListType | ScalarType | UntypedType;

export interface MapType {
  kind: 'map';
  /** Replaced and owned as a whole (`x-kubernetes-map-type: atomic`, upstream's +structType=atomic). */
  atomic: boolean;
  /** A declared field's type (structs); undefined for a key that is not a declared field. */
  field?(name: string): FieldType | undefined;
  /** Type of keys that are not declared fields (plain maps, preserve-unknown-fields); undefined: not allowed. */
  values?: FieldType;
  /**
   * Fields every object of this type holds even when unset: upstream decodes into Go structs, whose
   * non-pointer struct fields are `{}` and whose lists without omitempty are `null`. Changes are
   * computed as if they were there (it decides where `.` appears in update entries). Built-ins only.
   */
  zero?: ReadonlyArray<ZeroField>;
}

export type ZeroField = readonly [name: string, value: 'object' | 'null'];

export interface ListType {
  kind: 'list';
  items: FieldType;
  /** atomic: replaced as a whole; set: scalars merged by value; map: items merged by their key fields. */
  listType: 'atomic' | 'set' | 'map';
  /** Key fields of a map list. */
  keys?: readonly string[];
  /** Values of key fields an item may leave out (upstream: the fields' schema defaults, e.g. protocol TCP). */
  keyDefaults?: Readonly<Record<string, unknown>>;
}

export interface ScalarType {
  kind: 'scalar';
  scalar: 'string' | 'numeric' | 'boolean' | 'any';
}

/**
 * A value of any shape. Deduced (atomic false): objects are granular maps of untyped values, lists
 * are atomic (upstream's __untyped_deduced_); atomic: owned and replaced as a whole.
 */
export interface UntypedType {
  kind: 'untyped';
  atomic: boolean;
}

export const anyScalar: ScalarType = { kind: 'scalar', scalar: 'any' };
export const deduced: UntypedType = { kind: 'untyped', atomic: false };
export const untypedAtomic: UntypedType = { kind: 'untyped', atomic: true };

/** How a value is handled under a type: as a map, a list, or a leaf. */
export type Shape = 'map' | 'list' | 'leaf';

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The map type a value is walked with, or undefined when it is a leaf under this type. */
export function asMapType(t: FieldType, v: unknown): MapType | undefined {
  if (t.kind === 'map') return t;
  if (t.kind === 'untyped' && isObject(v)) return t.atomic ? atomicUntypedMap : deducedMap;
  return undefined;
}

/** The list type a value is walked with, or undefined when it is a leaf under this type. */
export function asListType(t: FieldType, v: unknown): ListType | undefined {
  if (t.kind === 'list') return t;
  if (t.kind === 'untyped' && Array.isArray(v)) return t.atomic ? atomicUntypedList : deducedList;
  return undefined;
}

const deducedMap: MapType = { kind: 'map', atomic: false, values: deduced };
const atomicUntypedMap: MapType = { kind: 'map', atomic: true, values: untypedAtomic };
const deducedList: ListType = { kind: 'list', items: untypedAtomic, listType: 'atomic' };
const atomicUntypedList: ListType = { kind: 'list', items: untypedAtomic, listType: 'atomic' };

/** A map key's type: the declared field's, else the map's value type. */
export function childType(t: MapType, key: string): FieldType | undefined {
  return t.field?.(key) ?? t.values;
}

/** Whether `key` is a declared field of the map type (a struct field, not a map key). */
export function isDeclaredField(t: MapType, key: string): boolean {
  return t.field?.(key) !== undefined;
}

/** Fields that reset on a write of (sub)resource, by path: upstream's strategies' GetResetFields. */
export type ResetFields = ReadonlyArray<readonly string[]>;
