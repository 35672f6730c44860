// The durable Store: a kine-style append-only log in SQLite (WAL, synchronous=FULL).
//
// All SQLite work happens on a writer thread (sqlite-writer.mjs), so the fsync of a COMMIT no
// longer stalls the event loop. The main thread keeps what it needs to answer on its own: the live
// keys with their values (gets, lists, preconditions) and a window of recent events (watch replay).
//
// Writes are group-committed and pipelined: the ops issued while the writer is busy are checked
// in order against the committed state plus the earlier ops of the same batch, get consecutive
// revisions, and go to the writer as one transaction. At most one batch is in flight; the next one
// accumulates meanwhile and is sent as soon as the previous COMMIT returns. Only then does the batch
// become visible: the index and the revision move, watchers see the events, and finally the
// callers' promises resolve. So reads never show an unacknowledged write, and a watcher never lags
// behind an acknowledged one.
//
// Watch replay is served from memory. A watch from before the oldest kept event (or, after a
// restart, before the history loaded at open) fails with 'Compacted', and clients re-list.

import fs from 'node:fs';
import path from 'node:path';
import { StorageError, type KeyValue, type ListResult, type Store, type StoreEvent, type WatchHandle } from '../store.ts';
import { WatcherSet } from '../watchers.ts';
import { removeLockPid, writeLockPid } from './lock.ts';
import { EventHistory } from '../event-history.ts';
import { KeyIndex } from '../key-index.ts';
import { SqliteWriter, type HistoryRow, type LoadedState } from './writer-client.ts';
import { PackedKeyValue } from '../packed-text.ts';
import { PackQueue } from '../pack-queue.ts';
import { storageCommitsTotal, storageCommittedRowsTotal } from '../../metrics/prometheus.ts';

export { StoreLockedError } from './lock.ts';

export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created if missing). */
  file: string;
  /** Period of automatic compaction; 0 disables it. Default 5 minutes. */
  compactIntervalMs?: number;
  /** Automatic compaction keeps at least this many recent revisions of history. Default 10,000. */
  compactKeepRevisions?: number;
  /** Events kept in memory for watch replay. Default 20,000. */
  historyEvents?: number;
  /** Bound on the keys and values of those events, in characters. Default 64 Mi. */
  historyBytes?: number;
}

const DEFAULT_COMPACT_INTERVAL_MS = 5 * 60_000;
const DEFAULT_COMPACT_KEEP = 10_000;
const DEFAULT_HISTORY_EVENTS = 20_000;
const DEFAULT_HISTORY_BYTES = 64 * 1024 * 1024;

const enum OpKind {
  Create,
  Update,
  Delete,
}

interface PendingOp {
  kind: OpKind;
  key: string;
  value: string;
  /** Expected modRevision; -1 = unconditional (delete without precondition). */
  expected: number;
  resolve: (kv: KeyValue) => void;
  reject: (e: Error) => void;
}

type Outcome = KeyValue | StorageError;

/** A batch sent to the writer and not yet acknowledged. */
interface Batch {
  ops: PendingOp[];
  outcomes: Outcome[];
  events: StoreEvent[];
  /** The batch's effect on live keys (undefined = deleted), applied once it is durable. */
  changes: Map<string, KeyValue | undefined>;
  lastRevision: number;
}

export class SqliteStore implements Store {
  /** How writes are executed (reported by the store benchmark). */
  readonly mode = 'worker';
  private readonly file: string;
  private readonly writer: SqliteWriter;
  /** Committed live keys only. */
  private readonly index = new KeyIndex();
  private readonly history: EventHistory;
  private readonly watchers = new WatcherSet();
  /** Committed revision. */
  private rev: number;
  /** Committed revision whose events every watcher has been given (see committedRevision). */
  private delivered: number;
  private compacted: number;
  private queue: PendingOp[] = [];
  private flushScheduled = false;
  private repliesScheduled = false;
  private inFlight: Batch | undefined;
  /** Settles when the in-flight batch does (close waits on it). */
  private inFlightDone: Promise<void> | undefined;
  /** No new writes once close() was called. */
  private closing = false;
  private closed = false;
  private compacting: Promise<void> | undefined;
  private closePromise: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  /** Delivered values waiting to be held as shared pieces (off the write path, see pack-queue.ts). */
  private readonly packQueue = new PackQueue();

  private constructor(writer: SqliteWriter, state: LoadedState, file: string, opts: SqliteStoreOptions) {
    this.writer = writer;
    this.file = file;
    this.rev = state.revision;
    this.delivered = state.revision;
    this.compacted = state.compacted;
    const { names, createRevisions, modRevisions, values } = state.live;
    for (let i = 0; i < names.length; i++) {
      const kv = new PackedKeyValue(names[i], values[i], createRevisions[i], modRevisions[i]);
      kv.pack();
      this.index.set(kv);
    }
    this.history = new EventHistory(
      { maxEvents: opts.historyEvents ?? DEFAULT_HISTORY_EVENTS, maxBytes: opts.historyBytes ?? DEFAULT_HISTORY_BYTES },
      state.historyFrom,
    );
    for (const r of state.history) this.history.push(rowToEvent(r));

    const interval = opts.compactIntervalMs ?? DEFAULT_COMPACT_INTERVAL_MS;
    const keep = opts.compactKeepRevisions ?? DEFAULT_COMPACT_KEEP;
    if (interval > 0) {
      this.timer = setInterval(() => this.autoCompact(keep), interval);
      this.timer.unref();
    }
  }

  /** Open (creating if needed) the database; throws StoreLockedError if another process has it. */
  static open(opts: SqliteStoreOptions): SqliteStore {
    const file = path.resolve(opts.file);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const { writer, state } = SqliteWriter.start({ file, historyLimit: opts.historyEvents ?? DEFAULT_HISTORY_EVENTS });
    writeLockPid(file);
    try {
      return new SqliteStore(writer, state, file, opts);
    } catch (e) {
      void writer
        .close()
        .catch(() => undefined)
        .finally(() => removeLockPid(file));
      throw e;
    }
  }

  create(key: string, value: string): Promise<KeyValue> {
    return this.enqueue(OpKind.Create, key, value, -1);
  }

  update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.enqueue(OpKind.Update, key, value, expectedRevision);
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.enqueue(OpKind.Delete, key, '', expectedRevision ?? -1);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.checkOpen(key);
    return this.index.get(key);
  }

  async list(prefix: string): Promise<ListResult> {
    this.checkOpen(prefix);
    return { items: this.index.list(prefix), revision: this.rev };
  }

  watch(prefix: string, fromRevision: number, onEvent: (ev: StoreEvent) => void): WatchHandle {
    this.checkOpen(prefix);
    const oldest = this.compactedRevision();
    if (fromRevision < oldest) {
      throw new StorageError(
        'Compacted',
        prefix,
        `required revision ${fromRevision} has been compacted (oldest available: ${oldest})`,
        oldest,
      );
    }
    // Replay synchronously (before returning): no batch can become visible in between, so the
    // replay and the live stream join without a gap or a duplicate.
    if (fromRevision < this.rev) {
      for (const ev of this.history.since(fromRevision, prefix)) onEvent(ev);
    }
    return this.watchers.add(prefix, fromRevision, onEvent);
  }

  async currentRevision(): Promise<number> {
    return this.rev;
  }

  /** Moves only once a batch's events are all delivered, so no watcher is behind it mid-delivery. */
  committedRevision(): number {
    return this.delivered;
  }

  /** Pack every delivered value now instead of a little later (tests, benchmarks' settled figures). */
  packPending(): void {
    this.packQueue.packAll();
  }

  compactedRevision(): number {
    // History evicted from memory is as unavailable to watches as compacted history.
    return Math.max(this.compacted, this.history.startRevision);
  }

  compact(revision: number): Promise<void> {
    if (this.closing) return Promise.reject(new StorageError('Unavailable', '', 'store is closed'));
    const target = Math.min(revision, this.rev);
    if (target <= this.compacted) return this.compacting ?? Promise.resolve();
    // Raise the horizon at once (watches from older revisions are refused from now on); the writer
    // records it and removes rows in the background, one compaction after another.
    this.compacted = target;
    this.history.dropThrough(target);
    const run = this.writer.compact(target).catch((e: Error) => {
      throw new StorageError('Unavailable', '', `compaction failed: ${e.message}`);
    });
    const tracked = run.finally(() => {
      if (this.compacting === tracked) this.compacting = undefined;
    });
    this.compacting = tracked;
    return tracked;
  }

  close(): Promise<void> {
    this.closePromise ??= this.closeNow();
    return this.closePromise;
  }

  private async closeNow(): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    this.packQueue.stop();
    // Everything accepted before close is committed (or fails) before the connection goes away.
    while (this.inFlight || this.queue.length > 0) {
      if (!this.inFlight) this.flush();
      if (this.inFlightDone) await this.inFlightDone;
    }
    if (this.compacting) await this.compacting.catch(() => undefined);
    try {
      await this.writer.close();
    } finally {
      this.closed = true;
      this.watchers.clear();
      removeLockPid(this.file);
    }
  }

  // ---- write path ----

  private enqueue(kind: OpKind, key: string, value: string, expected: number): Promise<KeyValue> {
    if (this.closing) return Promise.reject(new StorageError('Unavailable', key, 'store is closed'));
    return new Promise<KeyValue>((resolve, reject) => {
      this.queue.push({ kind, key, value, expected, resolve, reject });
      // With nothing in flight, send as soon as the current task ends (a microtask still groups a
      // synchronous burst of writes); with a batch in flight, wait for it (see committed()). So the
      // commit runs while the main thread goes on with the requests after this one.
      if (!this.flushScheduled && !this.inFlight) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      } else if (this.inFlight && !this.repliesScheduled && this.writer.hasReplies()) {
        // The batch in flight is already durable: take the acknowledgement right after this task
        // rather than when the event loop gets to the port, so the next batch goes out sooner.
        this.repliesScheduled = true;
        queueMicrotask(() => {
          this.repliesScheduled = false;
          this.writer.takeReplies();
        });
      }
    });
  }

  /** Check the queued ops, assign revisions and send them to the writer as one transaction. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.inFlight || this.queue.length === 0) return;
    const ops = this.queue;
    this.queue = [];

    const outcomes: Outcome[] = new Array(ops.length);
    const events: StoreEvent[] = [];
    const changes = new Map<string, KeyValue | undefined>();
    const rows: (string | number)[] = [];
    let rev = this.rev;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const { key } = op;
      // Checked against the committed state plus the earlier ops of this batch.
      const cur = changes.has(key) ? changes.get(key) : this.index.get(key);
      if (op.kind === OpKind.Create) {
        if (cur) {
          outcomes[i] = new StorageError('Exists', key);
          continue;
        }
        rev++;
        const kv = new PackedKeyValue(key, op.value, rev, rev);
        rows.push(rev, key, 1, 0, rev, 0, op.value);
        changes.set(key, kv);
        events.push({ type: 'ADDED', kv, revision: rev });
        outcomes[i] = kv;
        continue;
      }
      if (!cur) {
        outcomes[i] = new StorageError('NotFound', key);
        continue;
      }
      if (op.expected !== -1 && op.expected !== cur.modRevision) {
        outcomes[i] = new StorageError('Conflict', key, undefined, cur.modRevision);
        continue;
      }
      rev++;
      if (op.kind === OpKind.Update) {
        const kv = new PackedKeyValue(key, op.value, cur.createRevision, rev);
        rows.push(rev, key, 0, 0, cur.createRevision, cur.modRevision, op.value);
        changes.set(key, kv);
        events.push({ type: 'MODIFIED', kv, prev: cur, revision: rev });
        outcomes[i] = kv;
      } else {
        // The tombstone carries the last value so a replayed DELETED event can show it.
        const kv = cur instanceof PackedKeyValue ? cur.at(rev) : { key, value: cur.value, createRevision: cur.createRevision, modRevision: rev };
        rows.push(rev, key, 0, 1, cur.createRevision, cur.modRevision, kv.value);
        changes.set(key, undefined);
        events.push({ type: 'DELETED', kv, prev: cur, revision: rev });
        outcomes[i] = kv;
      }
    }

    const batch: Batch = { ops, outcomes, events, changes, lastRevision: rev };
    if (rows.length === 0) {
      // Nothing to write (every op failed its precondition).
      this.settle(batch);
      return;
    }
    this.inFlight = batch;
    storageCommitsTotal.inc();
    storageCommittedRowsTotal.inc(events.length); // one history row per event
    this.inFlightDone = this.writer.commit(rows).then(
      () => this.committed(batch),
      (e: Error) => this.failed(batch, e),
    );
  }

  /** The batch is durable: make it visible, tell watchers, then the callers; send the next one. */
  private committed(batch: Batch): void {
    for (const [key, kv] of batch.changes) {
      if (kv) this.index.set(kv);
      else this.index.delete(key);
    }
    this.rev = batch.lastRevision;
    for (const ev of batch.events) this.history.push(ev);
    for (const ev of batch.events) this.watchers.emit(ev);
    // Every watcher has had the written text; a little later the index, the history and the
    // watch cache hold it as shared pieces (see packed-text.ts, pack-queue.ts).
    for (const ev of batch.events) if (ev.kv instanceof PackedKeyValue) this.packQueue.add(ev.kv);
    this.delivered = batch.lastRevision;
    this.finishInFlight();
    this.settle(batch);
    // Ops queued during the commit go out at once, so the writer is busy while callers proceed.
    this.flush();
  }

  /** The transaction failed: nothing of the batch became visible, and every op of it fails. */
  private failed(batch: Batch, e: Error): void {
    this.finishInFlight();
    const err = new StorageError('Unavailable', '', `storage write failed: ${e.message}`);
    for (const op of batch.ops) op.reject(err);
    // Later ops were not checked against this batch, so they can proceed (or fail the same way).
    this.flush();
  }

  private finishInFlight(): void {
    this.inFlight = undefined;
    this.inFlightDone = undefined;
  }

  private settle(batch: Batch): void {
    const { ops, outcomes } = batch;
    for (let i = 0; i < ops.length; i++) {
      const o = outcomes[i];
      if (o instanceof StorageError) ops[i].reject(o);
      else ops[i].resolve(o);
    }
  }

  private autoCompact(keep: number): void {
    const target = this.rev - keep;
    if (target <= this.compacted) return;
    this.compact(target).catch((e) => console.error('storage: automatic compaction failed:', e));
  }

  private checkOpen(key: string): void {
    if (this.closed) throw new StorageError('Unavailable', key, 'store is closed');
  }
}

function rowToEvent(r: HistoryRow): StoreEvent {
  const kv = new PackedKeyValue(r.name, r.value, r.create_revision, r.id);
  kv.pack();
  if (r.created) return { type: 'ADDED', kv, revision: r.id };
  if (r.deleted) {
    const prev: KeyValue = { key: r.name, value: r.value, createRevision: r.create_revision, modRevision: r.prev_revision };
    return { type: 'DELETED', kv, prev, revision: r.id };
  }
  const prev: KeyValue | undefined =
    r.prev_value == null ? undefined : { key: r.name, value: r.prev_value, createRevision: r.create_revision, modRevision: r.prev_revision };
  return { type: 'MODIFIED', kv, prev, revision: r.id };
}
