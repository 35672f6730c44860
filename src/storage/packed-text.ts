// Stored JSON held as shared pieces. 150,000 pods made from one template repeat most of their
// text: each stored pod is ~2 KB of JSON, of which the parts that differ (name, uid, volume name,
// node name, timestamps) are a few hundred bytes. A packed text is the text cut at those parts —
// string literals of 5 or more characters with a digit in them — into pieces: the runs between
// them (keys, punctuation, the template's values) and the literals themselves, each piece shared
// through a bounded table, so a pod's runs are the same strings as every other pod's and only its
// own literals are its own. The text is joined again when it is read (a LIST item, a GET, a watch
// event of an old version); see PackedKeyValue for who holds it.

import type { KeyValue } from './store.ts';
import { SharedStrings } from '../machinery/shared-strings.ts';

/** Texts shorter than this are kept whole: there is little to share. */
const MIN_PACK = 256;
/** Literals shorter than this stay in their run ("v1", "100m", "True"). */
const MIN_VARIABLE = 5;

export type Packed = string | string[];

/**
 * The shared copy of each piece (two generations, see SharedStrings: pieces still in use are
 * carried over, pieces no longer seen, such as one pod's uid, are let go).
 */
export class PieceTable extends SharedStrings {
  constructor(maxEntries = 50_000) {
    super(maxEntries);
  }

  /**
   * The shared copy of text.slice(a, b). `flat` copies a piece out of the text when it is new: a
   * substring of 13 characters or more is a view into the whole text in V8 and would keep it alive.
   */
  piece(text: string, a: number, b: number, flat: () => Buffer): string {
    const s = text.slice(a, b);
    return this.share(s, () => (b - a >= 13 ? flat().toString('latin1', a, b) : s));
  }
}

export const sharedPieces = new PieceTable();

let packing = true;
/** Turn packing off (values stay whole): for measuring what it saves (bench/lib/stored-footprint.ts). */
export function setPacking(on: boolean): void {
  packing = on;
}

/** Is the literal text[a, b) one that varies between objects (long enough, with a digit)? */
function variable(text: string, a: number, b: number): boolean {
  if (b - a < MIN_VARIABLE) return false;
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/**
 * text as shared pieces, or text itself when it is short or not ASCII (the pieces are copied out
 * through latin1, which only ASCII text survives unchanged).
 */
export function pack(text: string, table: PieceTable = sharedPieces): Packed {
  const n = text.length;
  if (!packing || n < MIN_PACK || Buffer.byteLength(text, 'utf8') !== n) return text;
  let buf: Buffer | undefined;
  const flat = () => (buf ??= Buffer.from(text, 'latin1'));
  const parts: string[] = [];
  let runStart = 0;
  let i = text.indexOf('"');
  while (i >= 0) {
    // A string literal from i (its opening quote) to its closing quote j.
    let j = text.indexOf('"', i + 1);
    while (j > 0 && escaped(text, j)) j = text.indexOf('"', j + 1);
    if (j < 0) return text; // not JSON after all
    if (variable(text, i + 1, j)) {
      parts.push(table.piece(text, runStart, i + 1, flat), table.piece(text, i + 1, j, flat));
      runStart = j;
    }
    i = text.indexOf('"', j + 1);
  }
  if (parts.length === 0) return text;
  parts.push(table.piece(text, runStart, n, flat));
  // An exact-size copy: an array grown by push keeps up to half again its length as spare room.
  return parts.slice();
}

/** Is the quote at j escaped (an odd number of backslashes before it)? */
function escaped(text: string, j: number): boolean {
  let k = j - 1;
  while (text.charCodeAt(k) === 92 /* \ */) k--;
  return (j - 1 - k) % 2 === 1;
}

export function unpack(p: Packed): string {
  return typeof p === 'string' ? p : p.join('');
}

/** The length of the unpacked text, without joining it. */
export function packedLength(p: Packed): number {
  if (typeof p === 'string') return p.length;
  let n = 0;
  for (let i = 0; i < p.length; i++) n += p[i].length;
  return n;
}

/**
 * A stored key/value whose value is held packed once delivered. The SQLite store's key index, its
 * event history, the watch cache's entries and its cached objects all hold this one object, so
 * packing it packs the text for all of them. Until pack() (called a little after the write's
 * watch events are delivered, see pack-queue.ts) the value is the written string itself: the
 * readers of that moment (the watch cache decoding the event, encoding it for every watcher, the
 * next update reading the object) get it without a join.
 */
export class PackedKeyValue implements KeyValue {
  readonly key: string;
  readonly createRevision: number;
  readonly modRevision: number;
  private v: Packed;

  constructor(key: string, value: Packed, createRevision: number, modRevision: number) {
    this.key = key;
    this.v = value;
    this.createRevision = createRevision;
    this.modRevision = modRevision;
  }

  get value(): string {
    return unpack(this.v);
  }

  /** The value's length in characters, without joining it. */
  get valueLength(): number {
    return packedLength(this.v);
  }

  /** The value's UTF-8 length, without joining it (packed text is ASCII). */
  get valueBytes(): number {
    return typeof this.v === 'string' ? Buffer.byteLength(this.v) : packedLength(this.v);
  }

  /** The value as held: the written string, or its shared pieces (never to be changed). */
  get pieces(): Packed {
    return this.v;
  }

  /** Is the value held as pieces (not as the written string)? */
  get packed(): boolean {
    return typeof this.v !== 'string';
  }

  /** Hold the value as shared pieces from now on. */
  pack(table?: PieceTable): void {
    if (typeof this.v === 'string') this.v = pack(this.v, table);
  }

  /** The same value at another revision (a delete's tombstone), sharing its pieces. */
  at(modRevision: number): PackedKeyValue {
    return new PackedKeyValue(this.key, this.v, this.createRevision, modRevision);
  }
}

/** kv.value.length without joining a packed value. */
export function valueLength(kv: KeyValue): number {
  return kv instanceof PackedKeyValue ? kv.valueLength : kv.value.length;
}

/** Buffer.byteLength(kv.value) without joining a packed value. */
export function valueBytes(kv: KeyValue): number {
  return kv instanceof PackedKeyValue ? kv.valueBytes : Buffer.byteLength(kv.value);
}
