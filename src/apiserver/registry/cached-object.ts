// An object as the watch cache holds it. Both forms are lazy: the JSON comes from storage (with
// the resourceVersion spliced in) and is parsed only when someone needs the object, so a LIST
// or a watch event that goes out as JSON costs no parse and no re-serialisation.
// Cached objects are shared by every reader and must never be mutated; copy() before changing.

import type { KObject } from '../../api/types.ts';
import type { KeyValue } from '../../storage/store.ts';
import { goEscapeJSON } from '../../machinery/go-json.ts';
import { stringifyJSON } from '../../machinery/json-values.ts';

export class CachedObject {
  private _obj?: KObject;
  private _json?: string;
  /** The object as it was written, usable instead of a parse while it is still in memory anyway. */
  private _written?: WeakRef<KObject>;

  constructor(json: string | undefined, obj?: KObject, written?: KObject) {
    this._json = json;
    this._obj = obj;
    if (written) this._written = new WeakRef(written);
  }

  get obj(): KObject {
    if (this._obj) return this._obj;
    // Held weakly until first read: an object nobody reads costs its JSON only, as a parsed one
    // would not (a cache of 10,000 unread pods would hold ~100 MB more).
    const w = this._written?.deref();
    this._written = undefined;
    return (this._obj = w ?? (JSON.parse(this._json!) as KObject));
  }

  /** The object as JSON, computed at most once. */
  get json(): string {
    return (this._json ??= stringifyJSON(this._obj));
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

/** The stored JSON with the resourceVersion spliced into metadata, or undefined if it is not in our layout. */
export function withResourceVersion(stored: string, rev: number): string | undefined {
  const m = head.exec(stored);
  if (!m) return undefined;
  const at = m[0].length;
  const sep = stored.charCodeAt(at) === 125 /* } */ ? '' : ',';
  return `${stored.slice(0, at)}"resourceVersion":"${rev}"${sep}${stored.slice(at)}`;
}

/**
 * Objects being written, by the text they are stored as. While a write is in flight the watch
 * cache keeps a weak reference to the object itself, so a reader (a field-selected watch, the next
 * update of the object) uses it instead of parsing the text again while it is still in memory.
 * The registry adds an entry just before the write and removes it after; a store that reports
 * writes later than that simply finds none and parses.
 */
export const objectsInFlight = new Map<string, KObject>();

/** Stored values are the object's JSON without resourceVersion; it comes from the revision. */
export function decodeKeyValue(kv: KeyValue): CachedObject {
  const json = withResourceVersion(kv.value, kv.modRevision);
  const written = objectsInFlight.get(kv.value);
  if (json !== undefined && written) {
    written.metadata.resourceVersion = String(kv.modRevision);
    return new CachedObject(json, undefined, written);
  }
  if (json !== undefined) return new CachedObject(json);
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
  const { apiVersion, kind, metadata, ...rest } = obj;
  const { resourceVersion: _rv, ...meta } = metadata ?? {};
  return goEscapeJSON(stringifyJSON({ apiVersion, kind, metadata: meta, ...rest }));
}
