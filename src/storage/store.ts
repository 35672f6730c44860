// The narrow storage contract every backend implements (SQLite, etcd v3, memory for tests).
//
// Semantics (kine/etcd): one global, monotonically increasing revision. Every successful write
// (create, update, delete) gets the next revision. Writes to one key are applied in the order they
// were issued; concurrent writes to different keys may be applied in any order (etcd does not
// promise more). An object's resourceVersion is the revision of
// its last write (`modRevision`). Values are opaque strings (the API server stores JSON without
// metadata.resourceVersion; it is filled in from modRevision on read).

export type StorageErrorCode = 'NotFound' | 'Exists' | 'Conflict' | 'Compacted' | 'Unavailable' | 'TooLarge';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly key: string;
  /** For Compacted: the oldest revision still available. For Conflict: the current modRevision. */
  readonly revision?: number;
  constructor(code: StorageErrorCode, key: string, message?: string, revision?: number) {
    super(message ?? `${code}: ${key}`);
    this.code = code;
    this.key = key;
    this.revision = revision;
  }
}

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this key (etcd's create_revision). */
  createRevision: number;
  /** Revision of the last write to this key (becomes metadata.resourceVersion). */
  modRevision: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  /** For DELETED: the last value before deletion, with modRevision = the delete's revision. */
  kv: KeyValue;
  /** Previous value for MODIFIED and DELETED. */
  prev?: KeyValue;
  /** Revision of this event (equals kv.modRevision). */
  revision: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The store's revision at the time of the read. */
  revision: number;
}

export interface WatchHandle {
  stop(): void;
}

export interface Store {
  /** Create key; throws StorageError('Exists') if present. Resolves with the new revision after durable commit. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Current value or undefined. */
  get(key: string): Promise<KeyValue | undefined>;
  /** All keys starting with prefix, sorted by key. */
  list(prefix: string): Promise<ListResult>;
  /**
   * Compare-and-swap: replace the value if the key's current modRevision equals expectedRevision.
   * Throws StorageError('NotFound') if missing, ('Conflict') if the revision differs.
   */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /**
   * Delete; if expectedRevision is given, only when the key's modRevision equals it (else 'Conflict').
   * Resolves with the deleted value (modRevision = the delete's revision). Throws 'NotFound' if missing.
   */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;
  /**
   * Deliver every change to keys under prefix with revision > fromRevision, in revision order, then
   * live changes. Throws StorageError('Compacted') synchronously if fromRevision < compacted horizon.
   * Handlers are called in order; in every backend, events are delivered before the write's
   * promise resolves, so a watcher never lags behind an acknowledged write.
   * onLost: called (once; the watch is stopped then) when the backend lost events it would have
   * delivered, e.g. etcd compacted them while it was unreachable; the watcher must list again.
   */
  watch(prefix: string, fromRevision: number, onEvent: (ev: StoreEvent) => void, onLost?: (err: StorageError) => void): WatchHandle;
  /** The latest revision; every event up to it has been delivered to watchers when this resolves. */
  currentRevision(): Promise<number>;
  /**
   * The latest committed revision, for backends that know it without a round trip and deliver
   * every event up to it before it moves (SQLite, memory). Lets an idle resource's watch cache
   * answer lists at the store's revision instead of its own last event's.
   */
  committedRevision?(): number;
  /** Oldest revision a watch can start from (events after it are retained). */
  compactedRevision(): number;
  /** Drop history at or below revision (keeps the latest value of every live key). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
  /**
   * True when other processes write to the same storage (several API servers on one etcd): the
   * local view may then lag a write made elsewhere, so a read that must be current first asks for
   * currentRevision(), which resolves once every event up to that revision was delivered.
   */
  readonly shared?: boolean;
  /**
   * True when the key's stored form is out of date though its value is not (encryption at rest:
   * written with a key that is no longer the first); the registry then writes even a no-op update.
   */
  isStale?(key: string): boolean;
  /**
   * Stored values under a prefix (or at a key) that cannot be read (encryption at rest: no key
   * decrypts them), with why. They are left out of lists so the rest of the resource is served;
   * the registry answers reads that reach them with an internal error naming them.
   */
  unreadable?(prefix: string): { key: string; reason: string }[];
  /** Why the storage cannot serve now (for /readyz), or undefined when it can. */
  checkHealth?(): Promise<string | undefined>;
}

/**
 * Read-modify-write with retry on conflict (upstream's GuaranteedUpdate).
 * tryUpdate receives the current value and returns the new one, or undefined for "no change".
 */
export async function guaranteedUpdate(
  store: Store,
  key: string,
  tryUpdate: (current: KeyValue) => string | undefined | Promise<string | undefined>,
  maxRetries = 16,
): Promise<KeyValue> {
  for (let attempt = 0; ; attempt++) {
    const current = await store.get(key);
    if (!current) throw new StorageError('NotFound', key);
    const next = await tryUpdate(current);
    if (next === undefined) return current;
    try {
      return await store.update(key, next, current.modRevision);
    } catch (e) {
      if (e instanceof StorageError && e.code === 'Conflict' && attempt < maxRetries) continue;
      throw e;
    }
  }
}
