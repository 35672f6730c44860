// The Store on etcd v3: what several API servers share (docs/design.md, "etcd").
//
// - Keys are the API server's storage keys (/registry/<group>/<resource>/<ns>/<name>), behind an
//   optional namespace prefix; resourceVersion is etcd's revision (mod_revision of the key).
// - Every write is one Txn guarded by the key's mod_revision (0 for "does not exist"), so CAS,
//   create-if-absent and delete-if-unchanged are atomic in etcd. Txns are pipelined on one HTTP/2
//   connection; writes to the same key keep their issue order (key-order.ts).
// - One watch follows the whole key range from the revision the store opened at (watch-follower.ts).
//   Its events feed an in-memory history (resumes from older revisions are served from it) and
//   the store's watchers. A write or read resolves only after that watch has delivered the
//   revision etcd answered at, so, as with SQLite, a watcher never lags behind an acknowledged
//   write, and a reader that then looks at a watch cache sees at least what it read.
// - A write whose outcome is unknown (the connection broke, the leader changed) is settled by
//   reading the key again and looking for its own event in the history; it is never blindly
//   retried, so a create cannot be reported as "already exists" because of its own first attempt.
// - When etcd cannot be reached, calls fail within requestTimeoutMs with 'Unavailable' (HTTP 503),
//   and at once while the store knows etcd is down; the watch keeps reconnecting and resumes
//   where it stopped, so nothing is lost, unless etcd compacted those revisions meanwhile.

import { StorageError, type KeyValue, type ListResult, type Store, type StoreEvent, type WatchHandle } from '../store.ts';
import { WatcherSet } from '../watchers.ts';
import { EventHistory } from '../event-history.ts';
import { prefixEnd } from '../prefix.ts';
import { EtcdClient, EtcdError, type EtcdTLS } from './client.ts';
import { encodeTxn, type EtcdKeyValue, type TxnRequest, type TxnResponse, type WatchEvent } from './codec.ts';
import { WatchFollower } from './watch-follower.ts';
import { RevisionWaiters } from './revision-waiters.ts';
import { KeyOrder } from './key-order.ts';
import { Compactor, COMPACT_REV_KEY } from './compactor.ts';

export interface EtcdStoreOptions {
  /** Client URLs of the etcd members, e.g. https://10.0.0.1:2379. */
  endpoints: string[];
  /** CA and client certificate (PEM) for https endpoints. */
  tls?: EtcdTLS;
  /** Prefix of every key in etcd ('' = the keys as the API server names them). */
  namespace?: string;
  /** Compaction period (the coordinated compactor); 0 disables it. Default 5 minutes, as upstream. */
  compactIntervalMs?: number;
  /** Events kept in memory for watches that resume from an older revision. Default 20,000. */
  historyEvents?: number;
  /** Bound on the keys and values of those events, in characters. Default 64 Mi. */
  historyBytes?: number;
  /** Longest a call waits for etcd before failing with 'Unavailable'. Default 10 s. */
  requestTimeoutMs?: number;
  /** How long open() keeps trying to reach etcd. Default 30 s. */
  connectTimeoutMs?: number;
  log?: (msg: string) => void;
}

const DEFAULT_COMPACT_INTERVAL_MS = 5 * 60_000;
const DEFAULT_HISTORY_EVENTS = 20_000;
const DEFAULT_HISTORY_BYTES = 64 * 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Keys per Range page when listing (a page of pods is a few MB). */
const LIST_PAGE = 2_000;

/** What a write is, to interpret its Txn response and to recognise its own event. */
type WriteOp =
  | { kind: 'create'; key: string; value: string }
  | { kind: 'update'; key: string; value: string; expected: number }
  | { kind: 'delete'; key: string; expected?: number };

export class EtcdStore implements Store {
  readonly shared = true;
  readonly client: EtcdClient;
  private readonly ns: string;
  private readonly timeoutMs: number;
  private readonly log: (msg: string) => void;
  private readonly history: EventHistory;
  private readonly watchers = new WatcherSet();
  private readonly lostHandlers = new Map<WatchHandle, (err: StorageError) => void>();
  private readonly waiters = new RevisionWaiters();
  private readonly order = new KeyOrder();
  private readonly follower: WatchFollower;
  private readonly compactor: Compactor | undefined;
  /** Every event up to this revision has been delivered. */
  private seen: number;
  private compacted = 0;
  /** Why etcd is considered unreachable right now (calls fail at once), or undefined. */
  private down: string | undefined;
  /** Endpoints that refused a connection since the last success; all of them = down. */
  private readonly refused = new Set<string>();
  private downProbe: NodeJS.Timeout | undefined;
  private closed = false;
  // currentRevision() calls share Range requests, but never one sent before they were made.
  private revisionWaiting: { resolve: (r: number) => void; reject: (e: Error) => void }[] = [];
  private revisionInFlight = false;
  /**
   * The value of each write in flight and its bytes in the Txn, by etcd key (one write per key is
   * in flight, key-order.ts): the watch event of the write carries the same bytes, and takes this
   * string instead of a decoded copy, so the history, the watch caches and the caller share the
   * written text (as with SQLite) and the event costs no UTF-8 decoding of the value.
   */
  private readonly writing = new Map<string, { value: string; bytes: Buffer }>();

  private constructor(client: EtcdClient, revision: number, opts: EtcdStoreOptions) {
    this.client = client;
    this.ns = opts.namespace ?? '';
    this.timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.log = opts.log ?? ((m) => console.error(`storage: ${m}`));
    this.seen = revision;
    this.history = new EventHistory(
      { maxEvents: opts.historyEvents ?? DEFAULT_HISTORY_EVENTS, maxBytes: opts.historyBytes ?? DEFAULT_HISTORY_BYTES },
      revision,
    );
    // The watch covers all of etcd, not just the namespace: every revision then arrives as an
    // event, which is what lets a caller wait for "everything up to revision R" exactly.
    this.follower = new WatchFollower(client, Buffer.from('\0'), Buffer.from('\0'), revision, {
      onEvents: (evs, rev) => this.onEvents(evs, rev),
      onProgress: (rev, requested) => this.onProgress(rev, requested),
      onCompacted: (rev) => void this.onHistoryLost(rev),
      onState: (up, err) => {
        if (up) this.markUp();
        else if (err) this.log(err);
      },
      knownValue: (key, buf, a, b) => this.ownValue(key, buf, a, b),
    });
    this.follower.start();
    const interval = opts.compactIntervalMs ?? DEFAULT_COMPACT_INTERVAL_MS;
    if (interval > 0) {
      this.compactor = new Compactor({
        client,
        key: this.ns + COMPACT_REV_KEY,
        intervalMs: interval,
        timeoutMs: this.timeoutMs,
        compact: (rev) => this.compact(rev),
        log: this.log,
      });
      this.compactor.start();
    }
  }

  /** Connect to etcd (retrying until connectTimeoutMs) and start following it. */
  static async open(opts: EtcdStoreOptions): Promise<EtcdStore> {
    const client = new EtcdClient({ endpoints: opts.endpoints, tls: opts.tls });
    const deadline = Date.now() + (opts.connectTimeoutMs ?? 30_000);
    const ns = opts.namespace ?? '';
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        const r = await client.range({ key: ns + '\0', countOnly: true }, Math.max(1000, Math.min(5000, deadline - Date.now())));
        return new EtcdStore(client, r.header.revision, opts);
      } catch (e) {
        if (Date.now() + delay >= deadline || (e instanceof EtcdError && e.permanent)) {
          client.close();
          throw new StorageError('Unavailable', '', `cannot reach etcd at ${opts.endpoints.join(', ')}: ${(e as Error).message}`);
        }
        await sleep(delay);
      }
    }
  }

  // ---- writes ----

  create(key: string, value: string): Promise<KeyValue> {
    return this.write({ kind: 'create', key, value });
  }

  update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.write({ kind: 'update', key, value, expected: expectedRevision });
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.write({ kind: 'delete', key, expected: expectedRevision });
  }

  private write(op: WriteOp): Promise<KeyValue> {
    try {
      this.check(op.key);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.order.run(op.key, () => this.writeNow(op));
  }

  private txnFor(op: WriteOp): TxnRequest {
    const k = this.ns + op.key;
    const current = [{ range: { key: k } }];
    switch (op.kind) {
      case 'create':
        return { compare: [{ key: k, target: 'mod', result: 'equal', value: 0 }], success: [{ put: { key: k, value: op.value } }], failure: current };
      case 'update':
        return { compare: [{ key: k, target: 'mod', result: 'equal', value: op.expected }], success: [{ put: { key: k, value: op.value } }], failure: current };
      case 'delete':
        return op.expected === undefined
          ? { compare: [], success: [{ deleteRange: { key: k } }], failure: [] }
          : { compare: [{ key: k, target: 'mod', result: 'equal', value: op.expected }], success: [{ deleteRange: { key: k } }], failure: current };
    }
  }

  private async writeNow(op: WriteOp): Promise<KeyValue> {
    const { framed, value } = encodeTxn(this.txnFor(op));
    const k = this.ns + op.key;
    // Only text that UTF-8 carries unchanged (no lone surrogates) is the same string once decoded.
    const own = value && op.kind !== 'delete' && wellFormed(op.value) ? { value: op.value, bytes: value } : undefined;
    if (!own) return this.send(op, framed);
    this.writing.set(k, own);
    try {
      return await this.send(op, framed);
    } finally {
      if (this.writing.get(k) === own) this.writing.delete(k);
    }
  }

  /** The string of a value the watch delivers, when it is one being written here (see `writing`). */
  private ownValue(key: string, buf: Buffer, a: number, b: number): string | undefined {
    const w = this.writing.get(key);
    if (!w || w.bytes.length !== b - a || w.bytes.compare(buf, a, b) !== 0) return undefined;
    return w.value;
  }

  /** `framed`: the Txn as a framed gRPC message (encodeTxn's). */
  private async send(op: WriteOp, framed: Buffer): Promise<KeyValue> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      this.failIfDown(op.key);
      const before = this.seen;
      let res: TxnResponse;
      try {
        res = await this.client.txn({ framed }, this.left(deadline));
      } catch (e) {
        if (e instanceof EtcdError && e.tooLarge) throw new StorageError('TooLarge', op.key, `etcd refused the object: ${e.details}`);
        if (e instanceof EtcdError && e.permanent) throw new StorageError('Unavailable', op.key, e.message);
        this.noteFailure(e);
        if (!notSent(e)) {
          // It may have been applied: find out rather than send it again.
          const done = await this.settleUnknown(op, before, deadline, e as Error);
          if (done) return done;
        }
        if (Date.now() + backoff(attempt) >= deadline) throw this.unavailable(op.key, e as Error);
        await sleep(backoff(attempt));
        continue;
      }
      this.markUp();
      return this.outcome(op, res, deadline);
    }
  }

  /** Turn a Txn response into the write's result, once the watch has delivered its revision. */
  private async outcome(op: WriteOp, res: TxnResponse, deadline: number): Promise<KeyValue> {
    const rev = res.header.revision;
    await this.caughtUp(rev, deadline, op.key);
    if (res.succeeded) {
      if (op.kind === 'delete' && op.expected === undefined) {
        const dr = res.responses[0];
        if (!dr || !('deleteRange' in dr) || dr.deleteRange.deleted === 0) throw new StorageError('NotFound', op.key);
      }
      const ev = this.eventAt(op.key, rev);
      if (ev) return ev.kv;
      // Only if the history dropped it already (a huge burst): rebuild what we can.
      if (op.kind === 'delete') throw new StorageError('Unavailable', op.key, 'the delete was applied but its event is no longer in memory');
      return { key: op.key, value: op.value, createRevision: op.kind === 'create' ? rev : 0, modRevision: rev };
    }
    const r = res.responses[0];
    const cur: EtcdKeyValue | undefined = r && 'range' in r ? r.range.kvs[0] : undefined;
    if (op.kind === 'create') throw new StorageError('Exists', op.key);
    if (!cur) throw new StorageError('NotFound', op.key);
    throw new StorageError('Conflict', op.key, undefined, cur.modRevision);
  }

  /**
   * After a write failed in a way that leaves its outcome unknown: read the key (so the watch
   * catches up to a revision past the write, if it happened) and look for the write's own event
   * among those after `before`. Returns its result if it was applied, undefined if not (it may be
   * sent again), or throws when etcd stays unreachable until the deadline.
   */
  private async settleUnknown(op: WriteOp, before: number, deadline: number, cause: Error): Promise<KeyValue | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.client.range({ key: this.ns + op.key, countOnly: true }, this.left(deadline));
        this.markUp();
        await this.caughtUp(r.header.revision, deadline, op.key);
        break;
      } catch (e) {
        if (e instanceof StorageError) throw e;
        this.noteFailure(e);
        if (Date.now() + backoff(attempt) >= deadline)
          throw new StorageError('Unavailable', op.key, `etcd is unreachable and the write may or may not have been applied: ${cause.message}`);
        await sleep(backoff(attempt));
      }
    }
    if (before < this.history.startRevision) {
      throw new StorageError('Unavailable', op.key, `cannot tell whether the write was applied (too many changes since): ${cause.message}`);
    }
    for (const ev of this.history.since(before, op.key)) {
      if (ev.kv.key !== op.key) continue;
      if (op.kind === 'create' && ev.type === 'ADDED' && ev.kv.value === op.value) return ev.kv;
      if (op.kind === 'update' && ev.type === 'MODIFIED' && ev.kv.value === op.value && ev.prev?.modRevision === op.expected) return ev.kv;
      if (op.kind === 'delete' && ev.type === 'DELETED' && (op.expected === undefined || ev.prev?.modRevision === op.expected)) return ev.kv;
    }
    return undefined;
  }

  /** The event the watch delivered for key at revision (a write of ours that just succeeded). */
  private eventAt(key: string, revision: number): StoreEvent | undefined {
    return this.history.find(revision, key);
  }

  // ---- reads ----

  async get(key: string): Promise<KeyValue | undefined> {
    this.check(key);
    const r = await this.read(key, (left) => this.client.range({ key: this.ns + key }, left));
    const kv = r.kvs[0];
    return kv ? this.toKeyValue(kv) : undefined;
  }

  async list(prefix: string): Promise<ListResult> {
    this.check(prefix);
    const [from, end] = this.rangeOf(prefix);
    for (;;) {
      // Pages after the first are read at the first one's revision: one consistent snapshot.
      const items: KeyValue[] = [];
      let start = from;
      let revision = 0;
      try {
        for (;;) {
          const r = await this.read(prefix, (left) => this.client.range({ key: start, rangeEnd: end, limit: LIST_PAGE, revision }, left), false);
          if (revision === 0) revision = r.header.revision;
          for (const kv of r.kvs) items.push(this.toKeyValue(kv));
          if (!r.more || r.kvs.length === 0) break;
          start = r.kvs[r.kvs.length - 1].key + '\0';
        }
      } catch (e) {
        // Compacted between two pages: read it all again at a newer revision.
        if (e instanceof StorageError && e.code === 'Compacted') continue;
        throw e;
      }
      await this.caughtUp(revision, Date.now() + this.timeoutMs, prefix);
      return { items, revision };
    }
  }

  /** A read with retries until the deadline; with `sync`, resolves once the watch has caught up to it. */
  private async read<T extends { header: { revision: number } }>(key: string, call: (leftMs: number) => Promise<T>, sync = true): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      this.failIfDown(key);
      try {
        const r = await call(this.left(deadline));
        this.markUp();
        if (sync) await this.caughtUp(r.header.revision, deadline, key);
        return r;
      } catch (e) {
        if (e instanceof StorageError) throw e;
        if (e instanceof EtcdError && e.compacted) throw new StorageError('Compacted', key, e.details, this.compacted);
        if (e instanceof EtcdError && e.permanent) throw new StorageError('Unavailable', key, e.message);
        this.noteFailure(e);
        if (Date.now() + backoff(attempt) >= deadline) throw this.unavailable(key, e as Error);
        await sleep(backoff(attempt));
      }
    }
  }

  currentRevision(): Promise<number> {
    if (this.closed) return Promise.reject(new StorageError('Unavailable', '', 'store is closed'));
    return new Promise((resolve, reject) => {
      this.revisionWaiting.push({ resolve, reject });
      if (!this.revisionInFlight) this.readRevision();
    });
  }

  /** One Range for every currentRevision() call made before it was sent. */
  private readRevision(): void {
    const batch = this.revisionWaiting;
    this.revisionWaiting = [];
    this.revisionInFlight = true;
    this.read('', (left) => this.client.range({ key: this.ns + '\0', countOnly: true }, left)).then(
      (r) => {
        for (const w of batch) w.resolve(r.header.revision);
      },
      (e: Error) => {
        for (const w of batch) w.reject(e);
      },
    ).finally(() => {
      this.revisionInFlight = false;
      if (this.revisionWaiting.length) this.readRevision();
    });
  }

  // ---- watch ----

  watch(prefix: string, fromRevision: number, onEvent: (ev: StoreEvent) => void, onLost?: (err: StorageError) => void): WatchHandle {
    this.check(prefix);
    const oldest = this.compactedRevision();
    if (fromRevision < oldest) {
      throw new StorageError('Compacted', prefix, `required revision ${fromRevision} has been compacted (oldest available: ${oldest})`, oldest);
    }
    // Replay synchronously: events are delivered only from the watch handler, which cannot run
    // in between, so replay and live events join without a gap or a duplicate.
    if (fromRevision < this.seen) for (const ev of this.history.since(fromRevision, prefix)) onEvent(ev);
    const h = this.watchers.add(prefix, Math.max(fromRevision, this.seen), onEvent);
    if (!onLost) return h;
    this.lostHandlers.set(h, onLost);
    return {
      stop: () => {
        this.lostHandlers.delete(h);
        h.stop();
      },
    };
  }

  compactedRevision(): number {
    return Math.max(this.compacted, this.history.startRevision);
  }

  async compact(revision: number): Promise<void> {
    this.check('');
    const target = Math.min(revision, this.seen);
    if (target <= this.compacted) return;
    try {
      await this.client.compact(target, this.timeoutMs);
    } catch (e) {
      // Compacted already (by another API server, to this revision or a later one) is fine.
      if (!(e instanceof EtcdError && e.compacted)) throw this.unavailable('', e as Error);
    }
    if (target > this.compacted) this.compacted = target;
    this.history.dropThrough(target);
  }

  async checkHealth(): Promise<string | undefined> {
    if (this.closed) return 'store is closed';
    try {
      await this.client.range({ key: this.ns + 'health', countOnly: true }, 2000);
      this.markUp();
    } catch (e) {
      this.noteFailure(e);
      return `etcd is unreachable: ${(e as Error).message}`;
    }
    if (!this.follower.connected) return 'the watch of etcd is reconnecting';
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compactor?.stop();
    this.follower.stop();
    clearTimeout(this.downProbe);
    this.waiters.rejectAll(new StorageError('Unavailable', '', 'store is closed'));
    this.watchers.clear();
    this.lostHandlers.clear();
    this.client.close();
  }

  // ---- following etcd ----

  private onEvents(events: WatchEvent[], revision: number): void {
    const ns = this.ns;
    const n = ns.length;
    for (const e of events) {
      if (n && !e.kv.key.startsWith(ns)) continue;
      const ev = this.toStoreEvent(e, n);
      this.history.push(ev);
      this.watchers.emit(ev);
    }
    this.seen = revision;
    this.waiters.release(revision);
    this.markUp();
  }

  private onProgress(revision: number, requested: boolean): void {
    // Periodic notifications come in order with the events. A requested one (never asked for
    // here) may overtake events in etcd before 3.4.25 (etcd-io/etcd#15220), so it is not used.
    if (requested || revision <= this.seen) return;
    this.seen = revision;
    this.waiters.release(revision);
  }

  /** etcd compacted revisions the watch had not read: every watcher must start over from a list. */
  private async onHistoryLost(compactRevision: number): Promise<void> {
    this.log(`etcd compacted revision ${compactRevision} while the store's watch was behind at ${this.seen}; watchers restart from a new list`);
    const err = new StorageError('Compacted', '', `events after revision ${this.seen} were compacted in etcd`, compactRevision);
    for (const [h, lost] of [...this.lostHandlers]) {
      h.stop();
      try {
        lost(err);
      } catch (e) {
        this.log(`watch lost handler threw: ${(e as Error).message}`);
      }
    }
    this.lostHandlers.clear();
    this.watchers.clear();
    for (;;) {
      if (this.closed) return;
      try {
        const r = await this.client.range({ key: this.ns + '\0', countOnly: true }, this.timeoutMs);
        this.seen = r.header.revision;
        this.compacted = Math.max(this.compacted, compactRevision);
        this.history.dropThrough(this.seen);
        this.waiters.release(this.seen);
        this.follower.resume(this.seen);
        return;
      } catch {
        await sleep(500);
      }
    }
  }

  private toStoreEvent(e: WatchEvent, n: number): StoreEvent {
    const key = e.kv.key.slice(n);
    const revision = e.kv.modRevision;
    const prev = e.prevKv ? { key, value: e.prevKv.value, createRevision: e.prevKv.createRevision, modRevision: e.prevKv.modRevision } : undefined;
    if (e.type === 'DELETE') {
      const kv: KeyValue = { key, value: prev?.value ?? '', createRevision: prev?.createRevision ?? 0, modRevision: revision };
      return { type: 'DELETED', kv, prev, revision };
    }
    const kv: KeyValue = { key, value: e.kv.value, createRevision: e.kv.createRevision, modRevision: revision };
    if (e.kv.version === 1) return { type: 'ADDED', kv, revision };
    return { type: 'MODIFIED', kv, prev, revision };
  }

  /** Wait until the watch has delivered revision (every event up to it). */
  private caughtUp(revision: number, deadline: number, key: string): Promise<void> {
    if (revision <= this.seen) return Promise.resolve();
    const p = this.waiters.wait(revision, deadline - Date.now(), () =>
      this.follower.connected
        ? `timed out waiting for the watch of etcd to reach revision ${revision} (at ${this.seen})`
        : `etcd is unreachable: the store's watch is reconnecting (at revision ${this.seen}, waiting for ${revision})`,
    );
    return p.catch((e: StorageError) => {
      throw new StorageError('Unavailable', key, e.message);
    });
  }

  // ---- availability ----

  private failIfDown(key: string): void {
    if (this.closed) throw new StorageError('Unavailable', key, 'store is closed');
    if (this.down) throw new StorageError('Unavailable', key, this.down);
  }

  private check(key: string): void {
    if (this.closed) throw new StorageError('Unavailable', key, 'store is closed');
  }

  /** A call failed: once no member can even be connected to, etcd is down until a probe succeeds. */
  private noteFailure(e: unknown): void {
    if (!(e instanceof EtcdError) || !notSent(e)) return;
    this.refused.add(e.endpoint);
    if (this.down || this.refused.size < this.client.endpoints.length) return;
    this.down = `etcd is unreachable: ${e.message}`;
    this.log(this.down);
    const probe = () => {
      this.downProbe = setTimeout(() => {
        this.client.range({ key: this.ns + 'health', countOnly: true }, 1000).then(
          () => this.markUp(),
          () => {
            if (this.down && !this.closed) probe();
          },
        );
      }, 250);
      this.downProbe.unref?.();
    };
    probe();
  }

  private markUp(): void {
    if (this.refused.size) this.refused.clear();
    if (!this.down) return;
    this.down = undefined;
    clearTimeout(this.downProbe);
    this.log('etcd is reachable again');
  }

  private unavailable(key: string, e: Error): StorageError {
    return new StorageError('Unavailable', key, this.down ?? `etcd did not answer in time: ${e.message}`);
  }

  private left(deadline: number): number {
    return Math.max(1, deadline - Date.now());
  }

  /** [key, range_end) of a prefix inside the namespace ('\0' ends = to the end of the keyspace). */
  private rangeOf(prefix: string): [string, string] {
    const p = this.ns + prefix;
    if (p === '') return ['\0', '\0'];
    return [p, prefixEnd(p) ?? '\0'];
  }

  private toKeyValue(kv: EtcdKeyValue): KeyValue {
    return { key: kv.key.slice(this.ns.length), value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision };
  }
}

/** No lone surrogates (String#isWellFormed, Node 20; not in the ES2022 lib). */
function wellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** The call never reached etcd (no connection): safe to send again. */
function notSent(e: unknown): boolean {
  return e instanceof EtcdError && e.notSent;
}

function backoff(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 1000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
