// Protobuf encoding of the etcd v3 messages the store sends, and decoding of the ones it receives,
// written by hand for the subset in etcd-v3.proto (whose field numbers this file follows; a test
// checks both directions against that file through @grpc/proto-loader). By hand because the
// store's hot path is one Txn per write and one WatchResponse per event: plain numbers (no Long or
// BigInt for revisions), keys and values decoded straight to strings, nothing generic. The wire
// format's reading and writing are shared with the kubelet's CRI codec (src/machinery/protobuf-*.ts).

import { ProtobufError, ProtoReader } from '../../machinery/protobuf-reader.ts';
import { ProtoWriter } from '../../machinery/protobuf-writer.ts';

// ---- the requests ----

export interface RangeRequest {
  key: string | Buffer;
  rangeEnd?: string | Buffer;
  limit?: number;
  revision?: number;
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
}

function rangeRequest(r: RangeRequest): ProtoWriter {
  return new ProtoWriter()
    .bytes(1, r.key)
    .bytes(2, r.rangeEnd)
    .uint(3, r.limit ?? 0)
    .uint(4, r.revision ?? 0)
    .bool(7, r.serializable)
    .bool(8, r.keysOnly)
    .bool(9, r.countOnly);
}

export function encodeRangeRequest(r: RangeRequest): Buffer {
  return rangeRequest(r).finish();
}

export type RequestOp =
  | { range: RangeRequest }
  | { put: { key: string; value: string; prevKv?: boolean } }
  | { deleteRange: { key: string; rangeEnd?: string; prevKv?: boolean } };

/** The comparisons Mizzen makes: a key's mod_revision (0 = the key does not exist) or version. */
export interface Compare {
  key: string;
  target: 'mod' | 'version';
  result: 'equal' | 'not-equal';
  value: number;
}

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

const TARGET = { version: 0, mod: 2 } as const;
const RESULT = { equal: 0, 'not-equal': 3 } as const;

/** About what a put op takes encoded (its key and value and a few bytes of tags and lengths). */
function putSize(op: RequestOp): number {
  if ('put' in op) return Buffer.byteLength(op.put.key) + Buffer.byteLength(op.put.value) + 24;
  const r = 'range' in op ? op.range : op.deleteRange;
  return Buffer.byteLength(r.key) + (r.rangeEnd === undefined ? 0 : Buffer.byteLength(r.rangeEnd));
}

/** One RequestOp, written in place (embedded lengths as padded varints: nothing is copied). */
function writeRequestOp(w: ProtoWriter, field: number, op: RequestOp, value?: { at: number; end: number }): void {
  w.tag(field, 2);
  const outer = w.beginLength();
  if ('range' in op) {
    w.tag(1, 2);
    const s = w.beginLength();
    const r = op.range;
    w.bytes(1, r.key).bytes(2, r.rangeEnd).uint(3, r.limit ?? 0).uint(4, r.revision ?? 0).bool(7, r.serializable).bool(8, r.keysOnly).bool(9, r.countOnly);
    w.endLength(s);
  } else if ('put' in op) {
    w.tag(2, 2);
    const s = w.beginLength();
    w.bytes(1, op.put.key);
    const before = w.pos;
    w.bytes(2, op.put.value);
    // Where the value's bytes are: its tag and length precede them.
    if (value && w.pos > before) {
      value.end = w.pos;
      value.at = w.pos - Buffer.byteLength(op.put.value);
    }
    w.bool(4, op.put.prevKv);
    w.endLength(s);
  } else {
    w.tag(3, 2);
    const s = w.beginLength();
    w.bytes(1, op.deleteRange.key).bytes(2, op.deleteRange.rangeEnd).bool(3, op.deleteRange.prevKv);
    w.endLength(s);
  }
  w.endLength(outer);
}

export function encodeTxnRequest(t: TxnRequest): Buffer {
  return encodeTxn(t).body;
}

// Txn bodies are carved from slabs of 256 KB: Buffer.allocUnsafe's 8 KB pool took a new
// ArrayBuffer every two or three creates of a 2 KB pod (with the gRPC framing's copy, every one or
// two), and an ArrayBuffer costs microseconds to make and more to collect. A slab lives as long as
// one of its bodies (calls in flight), so a stuck call holds at most one slab.
const SLAB_BYTES = 256 * 1024;
let slab = Buffer.alloc(0);
let slabAt = 0;

/** `size` bytes of the current slab (a fresh buffer when larger than a sixteenth of a slab). */
function carve(size: number): Buffer {
  if (size > SLAB_BYTES / 16) return Buffer.allocUnsafe(size);
  if (slabAt + size > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabAt = 0;
  }
  const b = slab.subarray(slabAt, slabAt + size);
  slabAt += size;
  return b;
}

/** Hands back the end of the last carved buffer that was not used (`used` of it was). */
function uncarve(b: Buffer, used: number): void {
  if (b.buffer === slab.buffer && b.byteOffset + b.length === slab.byteOffset + slabAt) slabAt -= b.length - Math.min(b.length, (used + 7) & ~7);
}

/** The gRPC message prefix (not compressed, 4-byte length) that `framed` leaves room for. */
export const GRPC_PREFIX = 5;

/**
 * A TxnRequest written in one buffer sized up front (a 2 KB pod was copied three times when each
 * embedded message had its own writer); `value` is the view of it holding the first put's value
 * bytes, by which the store recognises its own write in the watch (etcd-store.ts, ownValue).
 * `framed` is the same bytes as a gRPC message (the 5-byte prefix, then `body`), which the
 * transport sends as it is instead of copying `body` behind a prefix.
 */
export function encodeTxn(t: TxnRequest): { body: Buffer; value: Buffer | undefined; framed: Buffer } {
  let size = 64 + GRPC_PREFIX;
  for (const c of t.compare) size += Buffer.byteLength(c.key) + 40;
  for (const op of t.success) size += putSize(op) + 64;
  for (const op of t.failure) size += putSize(op) + 64;
  const carved = carve(size);
  const w = new ProtoWriter(size, carved);
  w.pos = GRPC_PREFIX;
  for (const c of t.compare) {
    w.tag(1, 2);
    const s = w.beginLength();
    w.uint(1, RESULT[c.result]).uint(2, TARGET[c.target]).bytes(3, c.key);
    // The compared number is a oneof member: written even when 0, so etcd sees which target it is.
    w.uint(c.target === 'mod' ? 6 : 4, c.value, true);
    w.endLength(s);
  }
  const span = { at: -1, end: -1 };
  for (const op of t.success) writeRequestOp(w, 2, op, span.at < 0 ? span : undefined);
  for (const op of t.failure) writeRequestOp(w, 3, op);
  const framed = w.finish();
  if (w.buf === carved) uncarve(carved, framed.length);
  framed[0] = 0;
  framed.writeUInt32BE(framed.length - GRPC_PREFIX, 1);
  return { body: framed.subarray(GRPC_PREFIX), value: span.at >= 0 ? framed.subarray(span.at, span.end) : undefined, framed };
}

export function encodeCompactionRequest(revision: number, physical = false): Buffer {
  return new ProtoWriter().uint(1, revision).bool(2, physical).finish();
}

export interface WatchCreateRequest {
  key: string | Buffer;
  rangeEnd?: string | Buffer;
  startRevision?: number;
  progressNotify?: boolean;
  prevKv?: boolean;
  watchId?: number;
  fragment?: boolean;
}

export function encodeWatchCreate(c: WatchCreateRequest): Buffer {
  const m = new ProtoWriter()
    .bytes(1, c.key)
    .bytes(2, c.rangeEnd)
    .uint(3, c.startRevision ?? 0)
    .bool(4, c.progressNotify)
    .bool(6, c.prevKv)
    .uint(7, c.watchId ?? 0)
    .bool(8, c.fragment);
  return new ProtoWriter().message(1, m).finish();
}

export function encodeWatchCancel(watchId: number): Buffer {
  return new ProtoWriter().message(2, new ProtoWriter().uint(1, watchId)).finish();
}

export function encodeWatchProgress(): Buffer {
  return new ProtoWriter().message(3, new ProtoWriter()).finish();
}

export const EMPTY = Buffer.alloc(0);

// ---- reading ----

/** Iterate a message's fields: fn gets the field number and wire type, and must consume the value (or return false to skip it). */
function fields(buf: Buffer, start: number, end: number, fn: (r: ProtoReader, field: number, wire: number) => boolean | void): void {
  const r = new ProtoReader(buf, start, end);
  while (r.more) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (fn(r, field, wire) === false) r.skip(wire);
  }
}

export interface ResponseHeader {
  clusterId: string;
  memberId: string;
  revision: number;
  raftTerm: number;
}

export interface EtcdKeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: number;
}

// The decoders below run for every write (a Txn's answer) and every event (a WatchResponse): each
// message gets its reader and a plain loop, with no callback and no [start, end] pair per field.

/** Enters the length-delimited field at r.pos: returns where it ends, r.pos at its first byte. */
function enter(r: ProtoReader): number {
  const n = r.length();
  return r.pos + n;
}

/** With ids, the cluster and member IDs too (exact uint64s, slower: only Status needs them). */
function header(buf: Buffer, s: number, e: number, ids = false): ResponseHeader {
  const h: ResponseHeader = { clusterId: '0', memberId: '0', revision: 0, raftTerm: 0 };
  const r = new ProtoReader(buf, s, e);
  while (r.more) {
    const tag = r.varint();
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (w !== 0) r.skip(w);
    else if (f === 3) h.revision = r.int64();
    else if (f === 4) h.raftTerm = r.varint();
    else if (f === 1 && ids) h.clusterId = r.uint64String();
    else if (f === 2 && ids) h.memberId = r.uint64String();
    else r.skip(w);
  }
  return h;
}

/** The header field at r.pos (r moves past it). */
function headerField(r: ProtoReader, ids = false): ResponseHeader {
  const b = enter(r);
  const h = header(r.buf, r.pos, b, ids);
  r.pos = b;
  return h;
}

/**
 * Gives the string a value's bytes (buf[a, b)) decode to without decoding them, when the caller
 * already holds it (a value it just wrote under that key), else undefined.
 */
export type KnownValue = (key: string, buf: Buffer, a: number, b: number) => string | undefined;

function keyValue(buf: Buffer, s: number, e: number, known?: KnownValue): EtcdKeyValue {
  const kv: EtcdKeyValue = { key: '', value: '', createRevision: 0, modRevision: 0, version: 0, lease: 0 };
  const r = new ProtoReader(buf, s, e);
  while (r.more) {
    const tag = r.varint();
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (w === 2) {
      if (f === 1) kv.key = r.string();
      else if (f === 5) {
        if (known) {
          const b = enter(r);
          const a = r.pos;
          r.pos = b;
          kv.value = known(kv.key, buf, a, b) ?? buf.toString('utf8', a, b);
        } else kv.value = r.string();
      } else r.skip(w);
    } else if (w !== 0) r.skip(w);
    else if (f === 2) kv.createRevision = r.int64();
    else if (f === 3) kv.modRevision = r.int64();
    else if (f === 4) kv.version = r.int64();
    else if (f === 6) kv.lease = r.int64();
    else r.skip(w);
  }
  return kv;
}

/** The KeyValue field at r.pos (r moves past it). */
function keyValueField(r: ProtoReader, known?: KnownValue): EtcdKeyValue {
  const b = enter(r);
  const kv = keyValue(r.buf, r.pos, b, known);
  r.pos = b;
  return kv;
}

const NO_HEADER: ResponseHeader = { clusterId: '0', memberId: '0', revision: 0, raftTerm: 0 };

export interface RangeResponse {
  header: ResponseHeader;
  kvs: EtcdKeyValue[];
  more: boolean;
  count: number;
}

function rangeResponse(buf: Buffer, s: number, e: number): RangeResponse {
  const out: RangeResponse = { header: NO_HEADER, kvs: [], more: false, count: 0 };
  const r = new ProtoReader(buf, s, e);
  while (r.more) {
    const tag = r.varint();
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 1 && w === 2) out.header = headerField(r);
    else if (f === 2 && w === 2) out.kvs.push(keyValueField(r));
    else if (f === 3 && w === 0) out.more = r.varint() !== 0;
    else if (f === 4 && w === 0) out.count = r.int64();
    else r.skip(w);
  }
  return out;
}

export function decodeRangeResponse(buf: Buffer): RangeResponse {
  return rangeResponse(buf, 0, buf.length);
}

export interface PutResponse {
  header: ResponseHeader;
  prevKv?: EtcdKeyValue;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prevKvs: EtcdKeyValue[];
}

export type ResponseOp = { range: RangeResponse } | { put: PutResponse } | { deleteRange: DeleteRangeResponse };

function responseOp(buf: Buffer, s: number, e: number): ResponseOp {
  let out: ResponseOp | undefined;
  const r = new ProtoReader(buf, s, e);
  while (r.more) {
    const tag = r.varint();
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (w !== 2 || f < 1 || f > 3) {
      r.skip(w);
      continue;
    }
    const b = enter(r);
    if (f === 1) out = { range: rangeResponse(buf, r.pos, b) };
    else {
      const r2 = new ProtoReader(buf, r.pos, b);
      if (f === 2) {
        const put: PutResponse = { header: NO_HEADER };
        while (r2.more) {
          const tag2 = r2.varint();
          const f2 = Math.floor(tag2 / 8);
          const w2 = tag2 & 7;
          if (f2 === 1 && w2 === 2) put.header = headerField(r2);
          else if (f2 === 2 && w2 === 2) put.prevKv = keyValueField(r2);
          else r2.skip(w2);
        }
        out = { put };
      } else {
        const del: DeleteRangeResponse = { header: NO_HEADER, deleted: 0, prevKvs: [] };
        while (r2.more) {
          const tag2 = r2.varint();
          const f2 = Math.floor(tag2 / 8);
          const w2 = tag2 & 7;
          if (f2 === 1 && w2 === 2) del.header = headerField(r2);
          else if (f2 === 2 && w2 === 0) del.deleted = r2.int64();
          else if (f2 === 3 && w2 === 2) del.prevKvs.push(keyValueField(r2));
          else r2.skip(w2);
        }
        out = { deleteRange: del };
      }
    }
    r.pos = b;
  }
  if (!out) throw new ProtobufError('empty ResponseOp');
  return out;
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export function decodeTxnResponse(buf: Buffer): TxnResponse {
  const out: TxnResponse = { header: NO_HEADER, succeeded: false, responses: [] };
  const r = new ProtoReader(buf, 0, buf.length);
  while (r.more) {
    const tag = r.varint();
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 1 && w === 2) out.header = headerField(r);
    else if (f === 2 && w === 0) out.succeeded = r.varint() !== 0;
    else if (f === 3 && w === 2) {
      const b = enter(r);
      out.responses.push(responseOp(buf, r.pos, b));
      r.pos = b;
    } else r.skip(w);
  }
  return out;
}

/** Responses that carry only a header (CompactionResponse). */
export function decodeHeaderOnly(buf: Buffer): { header: ResponseHeader } {
  let h = NO_HEADER;
  fields(buf, 0, buf.length, (r, f, w) => {
    if (f === 1 && w === 2) h = headerField(r);
    else return false;
  });
  return { header: h };
}

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  kv: EtcdKeyValue;
  prevKv?: EtcdKeyValue;
}

export interface WatchResponse {
  header: ResponseHeader;
  watchId: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  fragment: boolean;
  events: WatchEvent[];
}

/** `known`: values the caller holds already (see KnownValue), for the events' new values. */
export function decodeWatchResponse(buf: Buffer, known?: KnownValue): WatchResponse {
  const out: WatchResponse = { header: NO_HEADER, watchId: 0, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment: false, events: [] };
  const r = new ProtoReader(buf, 0, buf.length);
  while (r.more) {
    const tag = r.varint();
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (w === 0) {
      const v = r.int64();
      if (f === 2) out.watchId = v;
      else if (f === 3) out.created = v !== 0;
      else if (f === 4) out.canceled = v !== 0;
      else if (f === 5) out.compactRevision = v;
      else if (f === 7) out.fragment = v !== 0;
    } else if (w !== 2) r.skip(w);
    else if (f === 1) out.header = headerField(r);
    else if (f === 6) out.cancelReason = r.string();
    else if (f === 11) {
      const b = enter(r);
      const r2 = new ProtoReader(buf, r.pos, b);
      const ev: WatchEvent = { type: 'PUT', kv: undefined as unknown as EtcdKeyValue };
      while (r2.more) {
        const tag2 = r2.varint();
        const f2 = Math.floor(tag2 / 8);
        const w2 = tag2 & 7;
        if (f2 === 1 && w2 === 0) ev.type = r2.varint() === 1 ? 'DELETE' : 'PUT';
        else if (f2 === 2 && w2 === 2) ev.kv = keyValueField(r2, known);
        else if (f2 === 3 && w2 === 2) ev.prevKv = keyValueField(r2);
        else r2.skip(w2);
      }
      r.pos = b;
      if (!ev.kv) throw new ProtobufError('watch event without a key-value');
      out.events.push(ev);
    } else r.skip(w);
  }
  return out;
}

export interface StatusResponse {
  header: ResponseHeader;
  version: string;
  dbSize: number;
  leader: string;
  raftIndex: number;
  raftTerm: number;
  errors: string[];
  isLearner: boolean;
}

export function decodeStatusResponse(buf: Buffer): StatusResponse {
  const out: StatusResponse = { header: NO_HEADER, version: '', dbSize: 0, leader: '0', raftIndex: 0, raftTerm: 0, errors: [], isLearner: false };
  fields(buf, 0, buf.length, (r, f, w) => {
    if (f === 1 && w === 2) out.header = headerField(r, true);
    else if (f === 2 && w === 2) out.version = r.string();
    else if (f === 8 && w === 2) out.errors.push(r.string());
    else if (w !== 0) return false;
    else if (f === 3) out.dbSize = r.int64();
    else if (f === 4) out.leader = r.uint64String();
    else if (f === 5) out.raftIndex = r.varint();
    else if (f === 6) out.raftTerm = r.varint();
    else if (f === 10) out.isLearner = r.varint() !== 0;
    else return false;
  });
  return out;
}

export interface Member {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export function decodeMemberListResponse(buf: Buffer): { header: ResponseHeader; members: Member[] } {
  const out = { header: NO_HEADER, members: [] as Member[] };
  fields(buf, 0, buf.length, (r, f, w) => {
    if (f === 1 && w === 2) out.header = headerField(r, true);
    else if (f === 2 && w === 2) {
      const m: Member = { id: '0', name: '', peerURLs: [], clientURLs: [], isLearner: false };
      const [a, b] = r.span();
      fields(buf, a, b, (r2, f2, w2) => {
        if (f2 === 1 && w2 === 0) m.id = r2.uint64String();
        else if (f2 === 2 && w2 === 2) m.name = r2.string();
        else if (f2 === 3 && w2 === 2) m.peerURLs.push(r2.string());
        else if (f2 === 4 && w2 === 2) m.clientURLs.push(r2.string());
        else if (f2 === 5 && w2 === 0) m.isLearner = r2.varint() !== 0;
        else return false;
      });
      out.members.push(m);
    } else return false;
  });
  return out;
}
