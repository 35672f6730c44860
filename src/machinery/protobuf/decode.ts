// Decodes `application/vnd.kubernetes.protobuf` request bodies into the JSON objects upstream's JSON
// encoding would produce for the same Go value, so the rest of the server only ever sees JSON.
//
// Presence rules (gogo proto2 vs. Go's encoding/json):
// - gogo writes every non-pointer scalar, even at its zero value; JSON omits those (omitempty), so
//   zeros are dropped unless the field is a Go pointer (P) or its tag has no omitempty (K).
// - a message on the wire is either a non-pointer struct (always written, and always printed by
//   encoding/json, even as `{}`) or a non-nil pointer; both are kept, empty or not.
// - the zero metav1.Time prints as null upstream; we leave it out. A non-pointer IntOrString holding
//   int 0 is left out too: upstream's defaulting treats it exactly like an unset value.

import { errors } from '../errors.ts';
import { kinds, messages, type FieldSpec } from './fields.generated.ts';
import { authKinds, authMessages } from './fields-auth.ts';
import { groupKinds, groupMessages } from './fields.groups.ts';
import { ProtobufError, ProtoReader } from '../protobuf-reader.ts';

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const TIME = `${META}.Time`;
const MICRO_TIME = `${META}.MicroTime`;
const FIELDS_V1 = `${META}.FieldsV1`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const QUANTITY = 'k8s.io.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'k8s.io.apimachinery.pkg.util.intstr.IntOrString';
const RAW_EXTENSION = 'k8s.io.apimachinery.pkg.runtime.RawExtension';
const EXTRA_VALUE = 'k8s.io.api.authentication.v1.ExtraValue';

/** Seconds of Go's zero time.Time (0001-01-01T00:00:00Z) relative to the Unix epoch. */
const GO_ZERO_TIME_SECONDS = -62135596800;
const MAX_TIME_SECONDS = 253402300799; // 9999-12-31T23:59:59Z

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;

// Kinds kept outside the generated tables (fields-auth.ts), added once at load.
Object.assign(messages, authMessages);
for (const [gv, ks] of Object.entries(authKinds)) kinds[gv] = { ...(kinds[gv] ?? {}), ...ks };

export interface DecodedObject {
  apiVersion: string;
  kind: string;
  object: Record<string, any>;
}

export function decodeKubernetesProtobuf(body: Buffer | Uint8Array): DecodedObject {
  if (body.length < MAGIC.length || MAGIC.some((b, i) => body[i] !== b)) {
    throw errors.badRequest('the body is not a Kubernetes protobuf message (missing "k8s\\0" prefix)');
  }
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length);
  try {
    return decodeBody(buf);
  } catch (e) {
    // Every read is bounds-checked; malformed or truncated input is the client's error.
    if (e instanceof ProtobufError) throw errors.badRequest(`unable to decode protobuf body: ${e.what}`);
    throw e;
  }
}

function decodeBody(buf: Buffer): DecodedObject {
  const envelope = readUnknown(new ProtoReader(buf, MAGIC.length));
  if (envelope.contentEncoding) {
    throw errors.unsupportedMediaType(`protobuf bodies with content encoding "${envelope.contentEncoding}" are not supported; send application/json instead`);
  }
  const { apiVersion, kind } = envelope;
  const messageName = kind === 'DeleteOptions' ? DELETE_OPTIONS : (kinds[apiVersion]?.[kind] ?? groupKinds[apiVersion]?.[kind]);
  if (!messageName) {
    throw errors.unsupportedMediaType(
      `this server cannot decode ${apiVersion ? `${apiVersion}, ` : ''}Kind=${kind || '(empty)'} from application/vnd.kubernetes.protobuf; send the object as application/json instead`,
    );
  }
  const decoded = decodeMessage(new ProtoReader(buf, ...envelope.raw), messageName);
  return { apiVersion, kind, object: { apiVersion, kind, ...decoded } };
}

interface Unknown {
  apiVersion: string;
  kind: string;
  /** Where the object's message lies in the body. */
  raw: [number, number];
  contentEncoding: string;
}

/** A field's number and wire type; field 0 does not exist. */
function tag(r: ProtoReader): { field: number; wire: number } {
  const v = r.varint();
  const field = Math.floor(v / 8);
  if (field === 0) throw new ProtobufError('field number 0');
  return { field, wire: v % 8 };
}

/** runtime.Unknown: typeMeta = 1 { apiVersion = 1, kind = 2 }, raw = 2, contentEncoding = 3, contentType = 4. */
function readUnknown(r: ProtoReader): Unknown {
  const out: Unknown = { apiVersion: '', kind: '', raw: [0, 0], contentEncoding: '' };
  while (r.more) {
    const { field, wire } = tag(r);
    if (field === 1 && wire === WIRE_BYTES) {
      const tm = r.sub();
      while (tm.more) {
        const t = tag(tm);
        if (t.field === 1 && t.wire === WIRE_BYTES) out.apiVersion = tm.string();
        else if (t.field === 2 && t.wire === WIRE_BYTES) out.kind = tm.string();
        else tm.skip(t.wire);
      }
    } else if (field === 2 && wire === WIRE_BYTES) out.raw = r.span();
    else if (field === 3 && wire === WIRE_BYTES) out.contentEncoding = r.string();
    else r.skip(wire);
  }
  return out;
}

const indexCache = new Map<string, Map<number, FieldSpec>>();

function fieldIndex(name: string): Map<number, FieldSpec> {
  let idx = indexCache.get(name);
  if (!idx) {
    const specs = messages[name] ?? groupMessages[name];
    if (!specs) throw errors.internal(`no protobuf field table for ${name}`);
    idx = new Map(specs.map((s) => [s[0], s]));
    indexCache.set(name, idx);
  }
  return idx;
}

const SCALARS = new Set(['string', 'bytes', 'bool', 'int32', 'int64']);

function decodeMessage(r: ProtoReader, name: string): Record<string, any> {
  const idx = fieldIndex(name);
  const out: Record<string, any> = {};
  while (r.more) {
    const { field, wire } = tag(r);
    const spec = idx.get(field);
    if (!spec) {
      r.skip(wire);
      continue;
    }
    const [, jsonName, type, flags] = spec;
    const path = `${name.slice(name.lastIndexOf('.') + 1)}.${jsonName}`;
    if (type.startsWith('map<')) {
      expectWire(wire, WIRE_BYTES, path);
      const [k, v] = readMapEntry(r.sub(), type, path);
      (out[jsonName] ??= {})[k] = v;
    } else if (flags.includes('R')) {
      const list: unknown[] = (out[jsonName] ??= []);
      if (wire === WIRE_BYTES && (type === 'int32' || type === 'int64' || type === 'bool')) {
        // Packed encoding of a repeated number field.
        const packed = r.sub();
        while (packed.more) list.push(readScalar(packed, WIRE_VARINT, type, path));
      } else {
        const v = readValue(r, wire, type, path, true);
        if (v !== undefined) list.push(v);
      }
    } else {
      const keepZero = flags.includes('P') || flags.includes('K');
      const v = readValue(r, wire, type, path, keepZero);
      if (v === undefined || (!keepZero && isZeroScalar(v, type))) {
        delete out[jsonName];
      } else if (flags.includes('I') && v && typeof v === 'object') {
        Object.assign(out, v);
      } else {
        out[jsonName] = v;
      }
    }
  }
  return out;
}

function isZeroScalar(v: unknown, type: string): boolean {
  if (!SCALARS.has(type)) return false;
  return v === '' || v === 0 || v === false;
}

function expectWire(actual: number, expected: number, path: string): void {
  if (actual !== expected) throw errors.badRequest(`unable to decode protobuf body: field ${path} has wire type ${actual}, expected ${expected}`);
}

function readScalar(r: ProtoReader, wire: number, type: string, path: string): string | number | boolean {
  switch (type) {
    case 'string':
      expectWire(wire, WIRE_BYTES, path);
      return r.string();
    case 'bytes':
      expectWire(wire, WIRE_BYTES, path);
      return r.buf.toString('base64', ...r.span());
    case 'bool':
      expectWire(wire, WIRE_VARINT, path);
      return r.varint() !== 0;
    case 'int32':
      expectWire(wire, WIRE_VARINT, path);
      return r.int32();
    default:
      expectWire(wire, WIRE_VARINT, path);
      return r.int64();
  }
}

/** One value of `type`; undefined means "absent in JSON" (e.g. the zero Time). */
function readValue(r: ProtoReader, wire: number, type: string, path: string, keepZero: boolean): unknown {
  if (SCALARS.has(type)) return readScalar(r, wire, type, path);
  expectWire(wire, WIRE_BYTES, path);
  const sub = r.sub();
  switch (type) {
    case TIME:
    case MICRO_TIME:
      return readTime(sub, type === MICRO_TIME, path);
    case QUANTITY:
      return readQuantity(sub);
    case INT_OR_STRING:
      return readIntOrString(sub, keepZero);
    case RAW_EXTENSION:
    case FIELDS_V1:
      return readEmbeddedJSON(sub, path);
    case EXTRA_VALUE:
      return decodeMessage(sub, type).items ?? [];
    default:
      // authorization's and certificates' ExtraValue are string lists in JSON too.
      if (type.endsWith('.ExtraValue')) return decodeMessage(sub, type).items ?? [];
      return decodeMessage(sub, type);
  }
}

function readMapEntry(r: ProtoReader, type: string, path: string): [string, unknown] {
  const valueType = type.slice(type.indexOf(',') + 1, -1);
  let key = '';
  let value: unknown;
  while (r.more) {
    const { field, wire } = tag(r);
    if (field === 1) key = String(readScalar(r, wire, 'string', `${path} key`));
    else if (field === 2) value = readValue(r, wire, valueType, `${path}[${key}]`, true);
    else r.skip(wire);
  }
  // An entry written without its value holds the zero value of the value type.
  if (value === undefined) value = valueType === 'string' || valueType === 'bytes' ? '' : valueType === QUANTITY ? '0' : {};
  return [key, value];
}

function readTime(r: ProtoReader, micro: boolean, path: string): string | undefined {
  let seconds = 0;
  let nanos = 0;
  while (r.more) {
    const { field, wire } = tag(r);
    if (field === 1) seconds = Number(readScalar(r, wire, 'int64', path));
    else if (field === 2) nanos = Number(readScalar(r, wire, 'int32', path));
    else r.skip(wire);
  }
  if ((seconds === 0 && nanos === 0) || (seconds === GO_ZERO_TIME_SECONDS && nanos === 0)) return undefined;
  if (seconds < GO_ZERO_TIME_SECONDS || seconds > MAX_TIME_SECONDS || nanos < 0 || nanos > 999_999_999) {
    throw errors.badRequest(`unable to decode protobuf body: field ${path} holds an out-of-range timestamp`);
  }
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

function readQuantity(r: ProtoReader): string {
  let s = '';
  while (r.more) {
    const { field, wire } = tag(r);
    if (field === 1) s = String(readScalar(r, wire, 'string', 'Quantity.string'));
    else r.skip(wire);
  }
  return s || '0';
}

function readIntOrString(r: ProtoReader, keepZero: boolean): number | string | undefined {
  let type = 0;
  let intVal = 0;
  let strVal = '';
  while (r.more) {
    const { field, wire } = tag(r);
    if (field === 1) type = Number(readScalar(r, wire, 'int64', 'IntOrString.type'));
    else if (field === 2) intVal = Number(readScalar(r, wire, 'int32', 'IntOrString.intVal'));
    else if (field === 3) strVal = String(readScalar(r, wire, 'string', 'IntOrString.strVal'));
    else r.skip(wire);
  }
  const value = type === 1 ? strVal : intVal;
  if (!keepZero && (value === 0 || value === '')) return undefined;
  return value;
}

/** RawExtension / FieldsV1: `bytes raw = 1` holding JSON text. */
function readEmbeddedJSON(r: ProtoReader, path: string): unknown {
  let raw = '';
  while (r.more) {
    const { field, wire } = tag(r);
    if (field === 1) {
      expectWire(wire, WIRE_BYTES, path);
      raw = r.string();
    } else r.skip(wire);
  }
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw errors.badRequest(`unable to decode protobuf body: field ${path} does not hold JSON`);
  }
}
