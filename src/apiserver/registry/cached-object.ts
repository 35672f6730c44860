// An object as the watch cache holds it. Both forms are lazy: the JSON comes from storage (with
// the resourceVersion spliced in) and is parsed only when someone needs the object, so a LIST
// or a watch event that goes out as JSON costs no parse and no re-serialisation. The parsed
// object is held weakly: readers of one moment (every watcher of an event, one request) share
// it, but the cache does not keep a parsed copy of every object it has ever been asked about.
// Cached objects are shared by every reader and must never be mutated; copy() before changing.

import type { KObject } from '../../api/types.ts';
import type { KeyValue } from '../../storage/store.ts';
import { goEscapeJSON } from '../../machinery/go-json.ts';
import { stringifyJSON } from '../../machinery/json-values.ts';
import { PackedKeyValue, valueBytes } from '../../storage/packed-text.ts';
import { valueEnd, withoutManagedFields } from './json-spans.ts';

export class CachedObject {
  private _obj?: KObject;
  /**
   * The object's JSON; or, when `_at` >= 0, its stored text into which `"resourceVersion":"<_rev>"`
   * goes at `_at`, spliced in whenever the JSON is asked for. The stored text is held as the
   * store's own key/value (the very object its key index holds; the SQLite store's holds it as
   * shared pieces, see storage/packed-text.ts), so a cached object costs no copy of it.
   */
  private _text?: string | KeyValue;
  private _at = -1;
  private _rev = 0;
  /** Metadata is empty in the stored text (no comma after the spliced resourceVersion). */
  private _bare = false;
  /**
   * The object parsed from the text (or as it was written), while something else still holds it:
   * a parsed pod costs several times its JSON, and a cache that kept one for every object it was
   * once asked about (an update, a field-selected watch) held most objects twice.
   */
  private _parsed?: WeakRef<KObject>;
  /**
   * For a resource stored as another's (events.k8s.io Events are core Events): the stored
   * object, from which this one is converted when asked for, instead of holding a converted copy
   * of every object (150,000 pods' Scheduled events held twice, once parsed).
   */
  private _from?: { stored: CachedObject; convert: (o: KObject) => KObject };

  constructor(json: string | undefined, obj?: KObject, written?: KObject) {
    this._text = json;
    this._obj = obj;
    if (written) this._parsed = new WeakRef(written);
  }

  /**
   * An object from its stored text (see withResourceVersion), holding that text, not a copy; or
   * holding the key/value it is read from when given one (stored is then its value).
   */
  static fromStored(stored: string, rev: number, written?: KObject, kv?: KeyValue): CachedObject | undefined {
    const at = resourceVersionOffset(stored);
    if (at < 0) return undefined;
    const c = new CachedObject(undefined, undefined, written);
    c._text = kv ?? stored;
    c._at = at;
    c._rev = rev;
    c._bare = stored.charCodeAt(at) === 125; /* } */
    return c;
  }

  /** An object converted from another resource's stored one when read (see _from); held weakly. */
  static converted(stored: CachedObject, convert: (o: KObject) => KObject): CachedObject {
    const c = new CachedObject(undefined);
    c._from = { stored, convert };
    return c;
  }

  get obj(): KObject {
    if (this._obj) return this._obj;
    if (this._from) {
      const held = this._parsed?.deref();
      if (held) return held;
      const o = this._from.convert(this._from.stored.copy());
      this._parsed = new WeakRef(o);
      return o;
    }
    if (this._text === undefined) throw new Error('cached object without JSON or object');
    const held = this._parsed?.deref();
    if (held) return held;
    const o = JSON.parse(this.json) as KObject;
    this._parsed = new WeakRef(o);
    return o;
  }

  /** The object as JSON. */
  get json(): string {
    // Not kept: a converted object is rarely read, and its stored form is what the cache holds.
    if (this._from) return stringifyJSON(this.obj);
    const st = this._text;
    if (st === undefined) return (this._text = stringifyJSON(this._obj));
    const t = typeof st === 'string' ? st : st.value;
    if (this._at < 0) return t;
    const at = this._at;
    const sep = this._bare ? '' : ',';
    return `${t.slice(0, at)}"resourceVersion":"${this._rev}"${sep}${t.slice(at)}`;
  }

  /**
   * Pushes `json` onto `out` as pieces and says true, when the stored text is held packed (ASCII
   * pieces, see packed-text.ts): its own shared pieces with the resourceVersion spliced in, for a
   * LIST writer that copies many objects into one piece without joining each object's text first.
   * Otherwise pushes nothing and says false.
   */
  pushJSON(out: string[]): boolean {
    const st = this._text;
    const at = this._at;
    if (!(st instanceof PackedKeyValue) || this._from || at < 0) return false;
    const parts = st.pieces;
    if (typeof parts === 'string' || parts.length === 0 || parts[0].length < at) return false;
    const first = parts[0];
    out.push(first.slice(0, at), this._bare ? `"resourceVersion":"${this._rev}"` : `"resourceVersion":"${this._rev}",`, first.slice(at));
    for (let i = 1; i < parts.length; i++) out.push(parts[i]);
    return true;
  }

  /** The UTF-8 length of `json`, without building it (a LIST's Content-Length). */
  get jsonBytes(): number {
    const t = this._text;
    if (t === undefined || this._at < 0) return Buffer.byteLength(this.json);
    // The resourceVersion goes just after `"metadata":{`: followed by `}` when metadata is empty.
    const sep = this._bare ? 0 : 1;
    return (typeof t === 'string' ? Buffer.byteLength(t) : valueBytes(t)) + '"resourceVersion":""'.length + String(this._rev).length + sep;
  }

  /**
   * The stored text (pieces joined, without the resourceVersion) and where metadata's JSON ends
   * in it, for cutting several parts from one join (metadataJSONIn, forCellsIn). `metaEnd`, if
   * known from an earlier call on this object, saves the scan. Undefined when the object is not
   * held as stored text.
   */
  storedWithMetadata(metaEnd = -1): { text: string; metaEnd: number } | undefined {
    const st = this._text;
    if (st === undefined || this._at < 0 || this._from) return undefined;
    const text = typeof st === 'string' ? st : st.value;
    const end = metaEnd >= 0 ? metaEnd : valueEnd(text, this._at - 1);
    return end < 0 ? undefined : { text, metaEnd: end };
  }

  /**
   * The JSON of metadata (with the resourceVersion), cut from the stored text without a parse:
   * a Table row's PartialObjectMetadata. Undefined when the object is not held as stored text.
   */
  get metadataJSON(): string | undefined {
    const s = this.storedWithMetadata();
    return s && this.metadataJSONIn(s);
  }

  /** metadataJSON from storedWithMetadata()'s answer. */
  metadataJSONIn(s: { text: string; metaEnd: number }): string {
    const sep = this._bare ? '' : ',';
    return `{"resourceVersion":"${this._rev}"${sep}${s.text.slice(this._at, s.metaEnd)}`;
  }

  /**
   * The object for reading a few fields of once (a Table row's cells): the parsed object if it is
   * still held, else a parse of the stored text without metadata.managedFields and without the
   * resourceVersion, not kept. Never to be written to or sent.
   */
  get forCells(): KObject {
    const held = this._obj ?? this._parsed?.deref();
    if (held) return held;
    const s = this.storedWithMetadata();
    if (!s) return this.obj;
    return this.forCellsIn(s);
  }

  /** forCells from storedWithMetadata()'s answer. */
  forCellsIn(s: { text: string; metaEnd: number }): KObject {
    const held = this._obj ?? this._parsed?.deref();
    if (held) return held;
    return JSON.parse(withoutManagedFields(s.text, this._at - 1, s.metaEnd)) as KObject;
  }

  /** A private deep copy for a handler to modify. */
  copy(): KObject {
    return JSON.parse(this.json);
  }

  get namespace(): string | undefined {
    return this.obj.metadata.namespace;
  }

  get name(): string {
    return this.obj.metadata.name!;
  }
}

/** Stored JSON starts with these keys (encodeForStorage writes them first), so the resourceVersion can be spliced in. */
const head = /^\{"apiVersion":"[^"\\]*","kind":"[^"\\]*","metadata":\{/;

/** Where the resourceVersion goes in stored JSON: just inside metadata; -1 if it is not in our layout. */
function resourceVersionOffset(stored: string): number {
  const m = head.exec(stored);
  return m ? m[0].length : -1;
}

/** The stored JSON with the resourceVersion spliced into metadata, or undefined if it is not in our layout. */
export function withResourceVersion(stored: string, rev: number): string | undefined {
  const at = resourceVersionOffset(stored);
  if (at < 0) return undefined;
  const sep = stored.charCodeAt(at) === 125 /* } */ ? '' : ',';
  return `${stored.slice(0, at)}"resourceVersion":"${rev}"${sep}${stored.slice(at)}`;
}

/**
 * Objects being written, by storage key, with the text they are stored as. While a write is in
 * flight the watch cache keeps a weak reference to the object itself, so a reader (a
 * field-selected watch, the next update of the object) uses it instead of parsing the text again
 * while it is still in memory. The registry adds an entry just before the write and removes it
 * after; a store that reports writes later than that simply finds none and parses. An event whose
 * value is not the entry's text (another write of the key) parses too. Keyed by the key, not by
 * the text: a Map keyed by the text hashed all of it, ~2 KB per write.
 */
export const objectsInFlight = new Map<string, { stored: string; obj: KObject }>();

/** Stored values are the object's JSON without resourceVersion; it comes from the revision. */
export function decodeKeyValue(kv: KeyValue): CachedObject {
  const stored = kv.value;
  const inFlight = objectsInFlight.get(kv.key);
  // The same string when the store hands back the written text (etcd's ownValue, SQLite), else compared.
  const written = inFlight !== undefined && inFlight.stored === stored ? inFlight.obj : undefined;
  const c = CachedObject.fromStored(stored, kv.modRevision, written, kv);
  if (c) {
    if (written) written.metadata.resourceVersion = String(kv.modRevision);
    return c;
  }
  const obj = JSON.parse(kv.value) as KObject;
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(kv.modRevision);
  return new CachedObject(undefined, obj);
}

/**
 * The JSON of objects just written, so the response reuses the stored text instead of
 * serialising the object again. Weak: entries go with the objects.
 */
export const writtenJSON = new WeakMap<object, string>();

/**
 * What goes to storage: apiVersion, kind and metadata first, without resourceVersion. Strings
 * escape <, >, & and U+2028/2029 as Go's encoding/json does, so the text (which is what clients
 * receive) has upstream's bytes: clients compare a ControllerRevision's raw `data` bytes with
 * their own json.Marshal of a template.
 */
export function encodeForStorage(obj: KObject): string {
  // A created object is usually in that layout already (clients send apiVersion, kind and metadata
  // first, and create drops resourceVersion): written as it is, without copying it and its metadata.
  if (inStoredLayout(obj)) return goEscapeJSON(stringifyJSON(obj));
  const { apiVersion, kind, metadata, ...rest } = obj;
  const { resourceVersion: _rv, ...meta } = metadata ?? {};
  return goEscapeJSON(stringifyJSON({ apiVersion, kind, metadata: meta, ...rest }));
}

/** Whether obj's first keys are apiVersion, kind and metadata, in that order, and metadata has no resourceVersion. */
function inStoredLayout(obj: KObject): boolean {
  const m = obj.metadata;
  if (typeof m !== 'object' || m === null || Array.isArray(m) || Object.hasOwn(m, 'resourceVersion') || obj.apiVersion === undefined || obj.kind === undefined) return false;
  let i = 0;
  for (const k in obj) {
    if (k !== (i === 0 ? 'apiVersion' : i === 1 ? 'kind' : 'metadata')) return false;
    if (++i === 3) return true;
  }
  return false;
}
