// The CRI's protobuf messages without protobufjs: api.proto is read once into small per-message
// field tables, and messages are encoded from / decoded to plain objects straight from the wire.
// The kubelet decodes a ListPodSandbox and a ListContainers answer every second (the PLEG relist);
// protobufjs built a message instance and then a second plain object per message (its toObject),
// and its reflection tree, generated code and module text cost ~3 MB of the kubelet's heap.
//
// The objects are the ones @grpc/proto-loader gave with { keepCase: false, longs: Number, enums:
// String, defaults: true } (what types.ts describes, and what the tests' CRI servers use): camelCase
// field names, 64-bit integers as numbers, enums by name, every field present (scalars their
// zero value, repeated fields [], maps {}, unset messages null, bytes a Buffer). Encoding accepts
// enum names or numbers, and skips unset fields and scalar zero values (proto3's defaults).
//
// The parser reads what api.proto uses: proto3 messages (with nested enums), enums, scalar,
// message and enum fields, `repeated`, `map<scalar, scalar|message>`, services with unary rpcs.

import { readFileSync } from 'node:fs';
import { ProtoReader as Reader } from '../../machinery/protobuf-reader.ts';
import { ProtoWriter as Writer } from '../../machinery/protobuf-writer.ts';

type Scalar = 'string' | 'bytes' | 'bool' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'sint32' | 'sint64' | 'double' | 'float' | 'fixed32' | 'fixed64' | 'sfixed32' | 'sfixed64';
const SCALARS = new Set<string>(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'double', 'float', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);

interface Field {
  no: number;
  name: string;
  /** A scalar's type name, or 'message' / 'enum' (then `type`). */
  kind: Scalar | 'message' | 'enum';
  type?: MessageType | EnumType;
  repeated: boolean;
  /** For maps: the entry's key and value fields (numbers 1 and 2). */
  map?: [Field, Field];
}

export interface MessageType {
  name: string;
  fields: Field[];
  byNo: Map<number, Field>;
}

interface EnumType {
  names: Map<number, string>;
  values: Map<string, number>;
}

export interface Method {
  /** '/runtime.v1.RuntimeService/Version' */
  path: string;
  request: MessageType;
  response: MessageType;
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Parses a .proto's text into its services' methods, by service then method name. */
export function parseProto(text: string): Record<string, Record<string, Method>> {
  const tokens = text.replace(/\/\/[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ').match(/"[^"]*"|[A-Za-z_][\w.]*|\d+|[{}()<>;=,[\]]/g) ?? [];
  let i = 0;
  const next = () => tokens[i++]!;
  const expect = (t: string) => {
    if (tokens[i] !== t) throw new Error(`api.proto: expected "${t}" at token ${i}, found "${tokens[i]}"`);
    i++;
  };
  let pkg = '';
  const messages = new Map<string, MessageType>();
  const enums = new Map<string, EnumType>();
  // Fields name their type before it may be declared: resolved at the end.
  const pending: { field: Field; typeName: string; scope: string }[] = [];
  const services: { name: string; rpcs: [string, string, string][] }[] = [];

  const parseEnum = (scope: string) => {
    const name = next();
    const e: EnumType = { names: new Map(), values: new Map() };
    expect('{');
    while (tokens[i] !== '}') {
      const key = next();
      if (key === 'option' || key === 'reserved') {
        while (next() !== ';');
        continue;
      }
      expect('=');
      const v = Number(next());
      while (next() !== ';');
      if (!e.names.has(v)) e.names.set(v, key);
      e.values.set(key, v);
    }
    expect('}');
    enums.set(scope ? `${scope}.${name}` : name, e);
  };
  const parseField = (m: MessageType, scope: string) => {
    let repeated = false;
    let t = next();
    if (t === 'repeated' || t === 'optional') {
      repeated = t === 'repeated';
      t = next();
    }
    let keyType: string | undefined;
    if (t === 'map') {
      expect('<');
      keyType = next();
      expect(',');
      t = next();
      expect('>');
    }
    const name = next();
    expect('=');
    const no = Number(next());
    while (next() !== ';'); // field options
    const field: Field = { no, name: camel(name), kind: 'message', repeated: repeated || keyType !== undefined };
    const target = (f: Field, typeName: string) => {
      if (SCALARS.has(typeName)) f.kind = typeName as Scalar;
      else pending.push({ field: f, typeName, scope });
    };
    if (keyType !== undefined) {
      const key: Field = { no: 1, name: 'key', kind: keyType as Scalar, repeated: false };
      const value: Field = { no: 2, name: 'value', kind: 'message', repeated: false };
      target(value, t);
      field.map = [key, value];
    } else target(field, t);
    m.fields.push(field);
    m.byNo.set(no, field);
  };
  const parseMessage = (scope: string) => {
    const name = scope ? `${scope}.${next()}` : next();
    const m: MessageType = { name, fields: [], byNo: new Map() };
    messages.set(name, m);
    expect('{');
    while (tokens[i] !== '}') {
      const t = tokens[i];
      if (t === 'message') {
        i++;
        parseMessage(name);
      } else if (t === 'enum') {
        i++;
        parseEnum(name);
      } else if (t === 'reserved' || t === 'option') {
        while (next() !== ';');
      } else if (t === 'oneof') throw new Error('api.proto: oneof is not supported');
      else parseField(m, name);
    }
    expect('}');
  };

  while (i < tokens.length) {
    const t = next();
    if (t === 'syntax' || t === 'option' || t === 'import') while (next() !== ';');
    else if (t === 'package') {
      pkg = next();
      expect(';');
    } else if (t === 'message') parseMessage('');
    else if (t === 'enum') parseEnum('');
    else if (t === 'service') {
      const s = { name: next(), rpcs: [] as [string, string, string][] };
      expect('{');
      while (tokens[i] !== '}') {
        expect('rpc');
        const name = next();
        expect('(');
        const req = next();
        if (req === 'stream') throw new Error('api.proto: streaming rpcs are not supported');
        expect(')');
        expect('returns');
        expect('(');
        const res = next();
        expect(')');
        if (tokens[i] === '{') {
          while (next() !== '}');
        } else expect(';');
        s.rpcs.push([name, req, res]);
      }
      expect('}');
      services.push(s);
    } else if (t !== ';') throw new Error(`api.proto: unexpected "${t}"`);
  }

  // A type name is looked up from the innermost scope outwards, as protoc does.
  const strip = (n: string) => (pkg && n.startsWith(`${pkg}.`) ? n.slice(pkg.length + 1) : n.replace(/^\./, ''));
  const resolve = (typeName: string, scope: string): { kind: 'message' | 'enum'; type: MessageType | EnumType } => {
    const name = strip(typeName);
    for (let s = scope; ; s = s.includes('.') ? s.slice(0, s.lastIndexOf('.')) : '') {
      const full = s ? `${s}.${name}` : name;
      const m = messages.get(full);
      if (m) return { kind: 'message', type: m };
      const e = enums.get(full);
      if (e) return { kind: 'enum', type: e };
      if (!s) throw new Error(`api.proto: unknown type "${typeName}"`);
    }
  };
  for (const p of pending) Object.assign(p.field, resolve(p.typeName, p.scope));
  const out: Record<string, Record<string, Method>> = {};
  for (const s of services) {
    const methods: Record<string, Method> = {};
    for (const [name, req, res] of s.rpcs) {
      const request = resolve(req, '');
      const response = resolve(res, '');
      if (request.kind !== 'message' || response.kind !== 'message') throw new Error(`api.proto: ${name} must take and return messages`);
      methods[name] = { path: `/${pkg ? `${pkg}.` : ''}${s.name}/${name}`, request: request.type as MessageType, response: response.type as MessageType };
    }
    out[pkg ? `${pkg}.${s.name}` : s.name] = methods;
  }
  return out;
}

/** Parses a .proto file (see parseProto). */
export function loadProto(file: string): Record<string, Record<string, Method>> {
  return parseProto(readFileSync(file, 'utf8'));
}

// ---- encoding ----

const WIRE: Record<string, number> = { double: 1, fixed64: 1, sfixed64: 1, float: 5, fixed32: 5, sfixed32: 5, string: 2, bytes: 2, message: 2 };
const wireType = (f: Field) => (f.map ? 2 : (WIRE[f.kind] ?? 0));
const packable = (f: Field) => !f.map && f.kind !== 'string' && f.kind !== 'bytes' && f.kind !== 'message';

const toBigInt = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(typeof v === 'string' ? v : Math.trunc(Number(v))));
const isZero = (f: Field, v: unknown) => v === undefined || v === null || v === '' || v === 0 || v === false || v === '0' || v === 0n || (f.kind === 'bytes' && (v as Uint8Array).length === 0);

function enumNumber(f: Field, v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  return (f.type as EnumType).values.get(String(v));
}

function writeScalar(w: Writer, f: Field, v: unknown): void {
  switch (f.kind) {
    case 'string':
      return w.lengthDelimited(String(v));
    case 'bytes':
      return w.lengthDelimited(typeof v === 'string' ? Buffer.from(v, 'base64') : (v as Uint8Array));
    case 'bool':
      return w.varint(v ? 1 : 0);
    case 'enum':
      return w.varint(enumNumber(f, v) ?? 0);
    case 'int32':
    case 'uint32':
      return w.varint(f.kind === 'uint32' ? Number(v) >>> 0 : Number(v) | 0);
    case 'int64':
    case 'uint64':
      return typeof v === 'number' && v >= 0 && v < 0x80000000 ? w.varint(v) : w.varint64(toBigInt(v));
    case 'sint32':
    case 'sint64': {
      const b = BigInt.asIntN(64, toBigInt(v));
      return w.varint64(b >= 0n ? b << 1n : (-b << 1n) - 1n);
    }
    default: {
      const size = WIRE[f.kind] === 1 ? 8 : 4;
      const b = Buffer.alloc(size);
      if (f.kind === 'double') b.writeDoubleLE(Number(v));
      else if (f.kind === 'float') b.writeFloatLE(Number(v));
      else if (size === 8) b.writeBigUInt64LE(BigInt.asUintN(64, toBigInt(v)));
      else b.writeUInt32LE(Number(v) >>> 0);
      w.room(size);
      w.buf.set(b, w.pos);
      w.pos += size;
    }
  }
}

function writeValue(w: Writer, f: Field, v: unknown): void {
  if (f.kind === 'message') {
    const start = w.beginLength();
    writeMessage(w, f.type as MessageType, v as Record<string, unknown>);
    w.endLength(start);
  } else writeScalar(w, f, v);
}

function writeMessage(w: Writer, t: MessageType, obj: Record<string, unknown>): void {
  for (const f of t.fields) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    const tag = f.no * 8 + wireType(f);
    if (f.map) {
      const [kf, vf] = f.map;
      const entries = v instanceof Map ? [...v.entries()] : Object.entries(v as object);
      for (const [k, x] of entries) {
        w.varint(tag);
        const start = w.beginLength();
        w.varint(kf.no * 8 + wireType(kf));
        writeScalar(w, kf, k);
        if (x !== undefined && x !== null) {
          w.varint(vf.no * 8 + wireType(vf));
          writeValue(w, vf, x);
        }
        w.endLength(start);
      }
    } else if (f.repeated) {
      const items = v as unknown[];
      if (!items.length) continue;
      if (packable(f)) {
        w.varint(f.no * 8 + 2);
        const start = w.beginLength();
        for (const x of items) writeScalar(w, f, x);
        w.endLength(start);
      } else
        for (const x of items) {
          w.varint(tag);
          writeValue(w, f, x);
        }
    } else if (f.kind === 'message') {
      w.varint(tag);
      writeValue(w, f, v);
    } else if (!(f.kind === 'enum' ? !enumNumber(f, v) : isZero(f, v))) {
      w.varint(tag);
      writeScalar(w, f, v);
    }
  }
}

/** The message's wire form. Unknown properties are ignored. */
export function encodeMessage(t: MessageType, obj: Record<string, unknown>): Buffer {
  const w = new Writer();
  writeMessage(w, t, obj);
  return w.buf.subarray(0, w.pos);
}

// ---- decoding ----

function defaultOf(f: Field): unknown {
  if (f.map) return {};
  if (f.repeated) return [];
  switch (f.kind) {
    case 'message':
      return null;
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'bytes':
      return Buffer.alloc(0);
    case 'enum':
      return (f.type as EnumType).names.get(0) ?? 0;
    default:
      return 0;
  }
}

function readScalar(r: Reader, f: Field): unknown {
  switch (f.kind) {
    case 'string':
      return r.string();
    case 'bytes': {
      const n = r.length();
      const b = Buffer.from(r.buf.subarray(r.pos, r.pos + n));
      r.pos += n;
      return b;
    }
    case 'bool':
      return r.varint() !== 0;
    case 'enum': {
      const v = r.int32();
      return (f.type as EnumType).names.get(v) ?? v;
    }
    case 'uint32':
      return r.varint() >>> 0;
    case 'int32':
      return r.int32();
    case 'uint64':
      return r.uint64();
    case 'int64':
      return r.int64();
    case 'sint32':
    case 'sint64':
      return r.sint64();
    default: {
      const size = WIRE[f.kind] === 1 ? 8 : 4;
      const at = r.pos;
      r.pos += size;
      if (r.pos > r.end) throw new Error('protobuf: truncated fixed field');
      const b = r.buf;
      switch (f.kind) {
        case 'double':
          return b.readDoubleLE(at);
        case 'float':
          return b.readFloatLE(at);
        case 'fixed32':
          return b.readUInt32LE(at);
        case 'sfixed32':
          return b.readInt32LE(at);
        case 'fixed64':
          return Number(b.readBigUInt64LE(at));
        default:
          return Number(b.readBigInt64LE(at));
      }
    }
  }
}

function readValue(r: Reader, f: Field): unknown {
  if (f.kind !== 'message') return readScalar(r, f);
  const n = r.length();
  const v = readMessage(r.buf, f.type as MessageType, r.pos, r.pos + n);
  r.pos += n;
  return v;
}

function readMessage(buf: Buffer, t: MessageType, start: number, end: number, into?: Record<string, unknown>): Record<string, unknown> {
  let obj = into;
  if (!obj) {
    obj = {};
    for (const f of t.fields) obj[f.name] = defaultOf(f);
  }
  const r = new Reader(buf, start, end);
  while (r.pos < end) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    const f = t.byNo.get(no);
    if (!f) {
      r.skip(wire);
      continue;
    }
    if (f.map) {
      const n = r.length();
      const e = new Reader(buf, r.pos, r.pos + n);
      r.pos += n;
      const [kf, vf] = f.map;
      let key: unknown = defaultOf(kf);
      let value: unknown = vf.kind === 'message' ? readMessage(buf, vf.type as MessageType, 0, 0) : defaultOf(vf);
      while (e.pos < e.end) {
        const et = e.varint();
        const eno = Math.floor(et / 8);
        if (eno === 1) key = readScalar(e, kf);
        else if (eno === 2) value = readValue(e, vf);
        else e.skip(et & 7);
      }
      (obj[f.name] as Record<string, unknown>)[String(key)] = value;
    } else if (f.repeated) {
      const list = obj[f.name] as unknown[];
      if (wire === 2 && packable(f)) {
        const n = r.length();
        const p = new Reader(buf, r.pos, r.pos + n);
        r.pos += n;
        while (p.pos < p.end) list.push(readScalar(p, f));
      } else list.push(readValue(r, f));
    } else if (f.kind === 'message' && obj[f.name] !== null) {
      // A message field seen twice is merged, as protobuf requires.
      const n = r.length();
      readMessage(buf, f.type as MessageType, r.pos, r.pos + n, obj[f.name] as Record<string, unknown>);
      r.pos += n;
    } else obj[f.name] = readValue(r, f);
    if (r.pos > end) throw new Error('protobuf: field beyond the message');
  }
  return obj;
}

/** The message decoded from its wire form (every field present, see the top of the file). */
export function decodeMessage(t: MessageType, buf: Buffer): Record<string, unknown> {
  return readMessage(buf, t, 0, buf.length);
}

/** Bytes of an item's leading fields that name it (CRI items start with their 64-hex id). */
const KEY_BYTES = 96;

interface CachedItem {
  /** The item's fields other than maps, in wire order (see ItemCache). */
  fixed: Buffer;
  /** Where they were in the item: [from, to) offsets from its start, in pairs; and its length. */
  layout: number[];
  length: number;
  obj: Record<string, unknown>;
  /** The last answer (`ItemCache.answers`) that had it. */
  seen: number;
}

/**
 * Decodes the answer of a list call that is repeated all the time (the PLEG relist lists every
 * sandbox and container each second) when its message is one repeated message field: an item
 * that is the same as in an earlier answer comes back as the object decoded then, so an answer
 * about an unchanged runtime costs a compare of bytes instead of a decode and its garbage. The
 * objects are shared between answers: callers must not change them.
 *
 * "The same": the item's fields other than maps have the same bytes. Items are found by their
 * leading bytes (their id), not their position (containerd lists from a Go map, in no fixed
 * order), and map entries are left out of the comparison because containerd writes them in no
 * fixed order either (measured: 6 of 30 containers byte-identical between two calls). A CRI
 * sandbox's or container's labels and annotations are set when it is created and never change;
 * its state, the field that does, is compared.
 */
export class ItemCache {
  private readonly field: Field;
  private readonly itemType: MessageType;
  private readonly items = new Map<string, CachedItem>();
  private answers = 0;

  constructor(t: MessageType) {
    const f = t.fields[0];
    if (t.fields.length !== 1 || !f || !f.repeated || f.map || f.kind !== 'message') throw new Error(`${t.name}: an item cache needs one repeated message field`);
    this.field = f;
    this.itemType = f.type as MessageType;
  }

  /** The same object as `decodeMessage(t, buf)` would give, with unchanged items shared. */
  decode(buf: Buffer): Record<string, unknown> {
    const round = ++this.answers;
    const list: Record<string, unknown>[] = [];
    const r = new Reader(buf, 0, buf.length);
    while (r.pos < r.end) {
      const tag = r.varint();
      if (tag !== this.field.no * 8 + 2) {
        r.skip(tag & 7);
        continue;
      }
      const n = r.length();
      const start = r.pos;
      const end = start + n;
      r.pos = end;
      const key = buf.toString('latin1', start, this.keyEnd(buf, start, Math.min(end, start + KEY_BYTES)));
      const hit = this.items.get(key);
      if (hit && (this.sameInPlace(buf, start, end, hit) || this.sameFixed(buf, start, end, hit.fixed))) {
        hit.seen = round;
        list.push(hit.obj);
        continue;
      }
      const obj = readMessage(buf, this.itemType, start, end);
      this.items.set(key, { ...this.fixedBytes(buf, start, end), obj, seen: round });
      list.push(obj);
    }
    if (this.items.size > list.length) for (const [key, item] of this.items) if (item.seen !== round) this.items.delete(key);
    return { [this.field.name]: list };
  }

  /** Where the item's key ends: at `limit`, or before its first map field if that comes first. */
  private keyEnd(buf: Buffer, start: number, limit: number): number {
    const r = new Reader(buf, start, buf.length);
    while (r.pos < limit) {
      const at = r.pos;
      const tag = r.varint();
      if (this.itemType.byNo.get(Math.floor(tag / 8))?.map) return at;
      r.skip(tag & 7);
    }
    return limit;
  }

  /**
   * Calls `run(from, to)` for each stretch of buf[start, end) made of fields that are not maps
   * (adjacent fields together), in wire order.
   */
  private runs(buf: Buffer, start: number, end: number, run: (from: number, to: number) => boolean): boolean {
    const r = new Reader(buf, start, end);
    let from = start;
    while (r.pos < end) {
      const at = r.pos;
      const tag = r.varint();
      const isMap = !!this.itemType.byNo.get(Math.floor(tag / 8))?.map;
      r.skip(tag & 7);
      if (isMap) {
        if (at > from && !run(from, at)) return false;
        from = r.pos;
      }
    }
    return end > from ? run(from, end) : true;
  }

  /**
   * The usual case without walking the item's fields (which, interpreted, cost the relist most of
   * its CPU): the same length, the fields other than maps with the same bytes where they were,
   * and a map field's tag right after each of them, as before. Map entries written in another
   * order take the same bytes in total (an item's maps never change), so the other fields stay
   * where they were. False sends the caller to the field walk (sameFixed).
   */
  private sameInPlace(buf: Buffer, start: number, end: number, hit: CachedItem): boolean {
    if (end - start !== hit.length) return false;
    const layout = hit.layout;
    let off = 0;
    for (let i = 0; i < layout.length; i += 2) {
      const from = start + layout[i]!;
      const to = start + layout[i + 1]!;
      if (buf.compare(hit.fixed, off, off + to - from, from, to) !== 0) return false;
      off += to - from;
      if (to < end) {
        const tag = buf[to]!; // CRI items' field numbers are below 16: one-byte tags
        if (tag >= 0x80 || !this.itemType.byNo.get(tag >>> 3)?.map) return false;
      }
    }
    return true;
  }

  private sameFixed(buf: Buffer, start: number, end: number, fixed: Buffer): boolean {
    let off = 0;
    const same = this.runs(buf, start, end, (from, to) => {
      const n = to - from;
      if (off + n > fixed.length || buf.compare(fixed, off, off + n, from, to) !== 0) return false;
      off += n;
      return true;
    });
    return same && off === fixed.length;
  }

  /** A copy (the answer's buffer is the connection's 64 KB read buffer, not to be held for good). */
  private fixedBytes(buf: Buffer, start: number, end: number): { fixed: Buffer; layout: number[]; length: number } {
    const parts: Buffer[] = [];
    const layout: number[] = [];
    this.runs(buf, start, end, (from, to) => layout.push(from - start, to - start) > 0 && parts.push(buf.subarray(from, to)) > 0);
    const out = Buffer.allocUnsafeSlow(parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts) off += p.copy(out, off);
    return { fixed: out, layout, length: end - start };
  }
}
