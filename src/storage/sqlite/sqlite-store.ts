// The durable Store: a kine-style append-only log in SQLite (WAL, synchronous=FULL).
//
// Writes are group-committed: every create/update/delete issued during one turn of the event loop
// is applied in a single SQLite transaction (one fsync) on the next turn, then watchers see the
// events, then the callers' promises resolve. Preconditions are checked against an in-memory index
// of the live keys (key -> create/mod revision), which also serves as the source of truth for get.

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StorageError, type KeyValue, type ListResult, type Store, type StoreEvent, type WatchHandle } from '../store.ts';
import { WatcherSet } from '../watchers.ts';
import { prefixEnd } from '../prefix.ts';
import { ensureSchema, type LogRow } from './schema.ts';
import { StoreLockedError, readLockPid, removeLockPid, writeLockPid } from './lock.ts';

export { StoreLockedError } from './lock.ts';

export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created if missing). */
  file: string;
  /** Period of automatic compaction; 0 disables it. Default 5 minutes. */
  compactIntervalMs?: number;
  /** Automatic compaction keeps at least this many recent revisions of history. Default 10,000. */
  compactKeepRevisions?: number;
}

const DEFAULT_COMPACT_INTERVAL_MS = 5 * 60_000;
const DEFAULT_COMPACT_KEEP = 10_000;
/** Rows examined per compaction transaction, so a big compaction doesn't stall the event loop. */
const COMPACT_CHUNK = 20_000;
const META_COMPACT_REV = 'compact_rev';

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

/** What the index knows about a live key. */
interface KeyState {
  createRevision: number;
  modRevision: number;
}

type Outcome = KeyValue | StorageError;

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly file: string;
  /** Live keys only; deleted keys are removed. */
  private readonly index = new Map<string, KeyState>();
  private readonly watchers = new WatcherSet();
  private rev: number;
  private compacted: number;
  private queue: PendingOp[] = [];
  private flushScheduled = false;
  private closed = false;
  private compacting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  private readonly stmt: {
    insert: Database.Statement<[number, string, number, number, number, number, string]>;
    valueById: Database.Statement<[number], { value: string }>;
    replayAll: Database.Statement<[number], LogRow>;
    replayRange: Database.Statement<[number, string, string], LogRow>;
    setMeta: Database.Statement<[string, number]>;
    compactRange: Database.Statement<[number, number, number]>;
  };

  private constructor(db: Database.Database, file: string, opts: SqliteStoreOptions) {
    this.db = db;
    this.file = file;
    this.stmt = {
      insert: db.prepare(
        'INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      valueById: db.prepare('SELECT value FROM kine WHERE id = ?'),
      replayAll: db.prepare(
        `SELECT k.id, k.name, k.created, k.deleted, k.create_revision, k.prev_revision, k.value, p.value AS prev_value
         FROM kine k LEFT JOIN kine p ON p.id = k.prev_revision AND k.created = 0 AND k.deleted = 0
         WHERE k.id > ? ORDER BY k.id`,
      ),
      replayRange: db.prepare(
        `SELECT k.id, k.name, k.created, k.deleted, k.create_revision, k.prev_revision, k.value, p.value AS prev_value
         FROM kine k LEFT JOIN kine p ON p.id = k.prev_revision AND k.created = 0 AND k.deleted = 0
         WHERE k.id > ? AND k.name >= ? AND k.name < ? ORDER BY k.id`,
      ),
      setMeta: db.prepare('INSERT INTO kine_meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
      // A row at or below the horizon goes if it is a tombstone or if a newer row at or below the
      // horizon supersedes it. The newest row at or below the horizon survives even when a row after
      // the horizon supersedes it: that row's watch event needs it as its previous value.
      compactRange: db.prepare(
        `DELETE FROM kine WHERE id > ? AND id <= ? AND (deleted = 1 OR EXISTS (
           SELECT 1 FROM kine n WHERE n.name = kine.name AND n.id > kine.id AND n.id <= ?))`,
      ),
    };

    const meta = db.prepare('SELECT value FROM kine_meta WHERE name = ?').get(META_COMPACT_REV) as { value: number } | undefined;
    this.compacted = meta?.value ?? 0;
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kine'").get() as { seq: number } | undefined;
    // The autoincrement sequence survives deletion of the newest rows, so the revision never goes back.
    this.rev = Math.max(seq?.seq ?? 0, this.compacted);

    const live = db.prepare(
      `SELECT k.name, k.id, k.create_revision FROM kine k
       JOIN (SELECT MAX(id) AS id FROM kine GROUP BY name) m ON m.id = k.id
       WHERE k.deleted = 0`,
    );
    for (const r of live.iterate() as IterableIterator<{ name: string; id: number; create_revision: number }>) {
      this.index.set(r.name, { createRevision: r.create_revision, modRevision: r.id });
    }

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
    const db = new Database(file, { timeout: 0 });
    try {
      // Exclusive locking mode: the first write takes an OS-level lock held until close (or death).
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('BEGIN IMMEDIATE');
      db.exec('COMMIT');
      ensureSchema(db);
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY' || (e as { code?: string }).code === 'SQLITE_LOCKED') {
        throw new StoreLockedError(file, readLockPid(file));
      }
      throw e;
    }
    writeLockPid(file);
    try {
      return new SqliteStore(db, file, opts);
    } catch (e) {
      db.close();
      removeLockPid(file);
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
    const st = this.index.get(key);
    if (!st) return undefined;
    return { key, value: this.valueAt(st.modRevision), createRevision: st.createRevision, modRevision: st.modRevision };
  }

  async list(prefix: string): Promise<ListResult> {
    this.checkOpen(prefix);
    const keys: string[] = [];
    for (const k of this.index.keys()) if (k.startsWith(prefix)) keys.push(k);
    keys.sort();
    const items: KeyValue[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const st = this.index.get(keys[i])!;
      items[i] = { key: keys[i], value: this.valueAt(st.modRevision), createRevision: st.createRevision, modRevision: st.modRevision };
    }
    return { items, revision: this.rev };
  }

  watch(prefix: string, fromRevision: number, onEvent: (ev: StoreEvent) => void): WatchHandle {
    this.checkOpen(prefix);
    if (fromRevision < this.compacted) {
      throw new StorageError(
        'Compacted',
        prefix,
        `required revision ${fromRevision} has been compacted (oldest available: ${this.compacted})`,
        this.compacted,
      );
    }
    // Replay synchronously (before returning): no batch can commit in between, so the replay and the
    // live stream join without a gap or a duplicate.
    if (fromRevision < this.rev) {
      const end = prefixEnd(prefix);
      // Read everything first: a handler may use the store, and the connection can't run a statement
      // while an iterator is open.
      const rows = end === undefined ? this.stmt.replayAll.all(fromRevision) : this.stmt.replayRange.all(fromRevision, prefix, end);
      for (const r of rows) {
        if (r.name.startsWith(prefix)) onEvent(rowToEvent(r));
      }
    }
    return this.watchers.add(prefix, fromRevision, onEvent);
  }

  async currentRevision(): Promise<number> {
    return this.rev;
  }

  compactedRevision(): number {
    return this.compacted;
  }

  compact(revision: number): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('Unavailable', '', 'store is closed'));
    const target = Math.min(revision, this.rev);
    if (target <= this.compacted) return this.compacting ?? Promise.resolve();
    // Raise the horizon at once (watches from older revisions are refused from now on), then remove
    // rows in the background. Removals are serialised; each is idempotent.
    this.compacted = target;
    this.stmt.setMeta.run(META_COMPACT_REV, target);
    const run = (this.compacting ?? Promise.resolve()).then(() => this.removeHistory(target));
    const tracked = run.finally(() => {
      if (this.compacting === tracked) this.compacting = undefined;
    });
    this.compacting = tracked;
    return tracked;
  }

  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // Let a running compaction finish its current chunk loop before the handle goes away.
    if (this.compacting) await this.compacting.catch(() => undefined);
    this.flush();
    this.closed = true;
    this.watchers.clear();
    this.db.close();
    removeLockPid(this.file);
  }

  // ---- write path ----

  private enqueue(kind: OpKind, key: string, value: string, expected: number): Promise<KeyValue> {
    if (this.closed) return Promise.reject(new StorageError('Unavailable', key, 'store is closed'));
    return new Promise<KeyValue>((resolve, reject) => {
      this.queue.push({ kind, key, value, expected, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit everything queued in one transaction, notify watchers, then settle the promises. */
  private flush(): void {
    this.flushScheduled = false;
    const ops = this.queue;
    if (ops.length === 0 || this.closed) return;
    this.queue = [];

    const outcomes: Outcome[] = new Array(ops.length);
    const events: StoreEvent[] = [];
    // Index changes made by this batch, to undo if the transaction fails.
    const undo: Array<[string, KeyState | undefined]> = [];
    const startRev = this.rev;
    try {
      this.db.exec('BEGIN');
      try {
        for (let i = 0; i < ops.length; i++) outcomes[i] = this.apply(ops[i], events, undo);
        this.db.exec('COMMIT');
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    } catch (e) {
      for (let i = undo.length - 1; i >= 0; i--) {
        const [key, st] = undo[i];
        if (st) this.index.set(key, st);
        else this.index.delete(key);
      }
      this.rev = startRev;
      const err = new StorageError('Unavailable', '', `storage write failed: ${(e as Error).message}`);
      for (const op of ops) op.reject(err);
      return;
    }

    for (let i = 0; i < events.length; i++) this.watchers.emit(events[i]);
    for (let i = 0; i < ops.length; i++) {
      const o = outcomes[i];
      if (o instanceof StorageError) ops[i].reject(o);
      else ops[i].resolve(o);
    }
  }

  /** Check one op against the state left by everything before it and write its log row. */
  private apply(op: PendingOp, events: StoreEvent[], undo: Array<[string, KeyState | undefined]>): Outcome {
    const { key } = op;
    const cur = this.index.get(key);
    if (op.kind === OpKind.Create) {
      if (cur) return new StorageError('Exists', key);
      const rev = this.rev + 1;
      this.stmt.insert.run(rev, key, 1, 0, rev, 0, op.value);
      this.rev = rev;
      undo.push([key, undefined]);
      this.index.set(key, { createRevision: rev, modRevision: rev });
      const kv: KeyValue = { key, value: op.value, createRevision: rev, modRevision: rev };
      events.push({ type: 'ADDED', kv, revision: rev });
      return kv;
    }
    if (!cur) return new StorageError('NotFound', key);
    if (op.expected !== -1 && op.expected !== cur.modRevision) return new StorageError('Conflict', key, undefined, cur.modRevision);
    const rev = this.rev + 1;
    if (op.kind === OpKind.Update) {
      this.stmt.insert.run(rev, key, 0, 0, cur.createRevision, cur.modRevision, op.value);
      this.rev = rev;
      undo.push([key, cur]);
      this.index.set(key, { createRevision: cur.createRevision, modRevision: rev });
      const kv: KeyValue = { key, value: op.value, createRevision: cur.createRevision, modRevision: rev };
      // The previous value costs a read; only pay for it when someone will see the event.
      const prev: KeyValue | undefined = this.watchers.interested(key)
        ? { key, value: this.valueAt(cur.modRevision), createRevision: cur.createRevision, modRevision: cur.modRevision }
        : undefined;
      events.push({ type: 'MODIFIED', kv, prev, revision: rev });
      return kv;
    }
    // Delete: the tombstone carries the last value so a replayed DELETED event can show it.
    const last = this.valueAt(cur.modRevision);
    this.stmt.insert.run(rev, key, 0, 1, cur.createRevision, cur.modRevision, last);
    this.rev = rev;
    undo.push([key, cur]);
    this.index.delete(key);
    const kv: KeyValue = { key, value: last, createRevision: cur.createRevision, modRevision: rev };
    const prev: KeyValue = { key, value: last, createRevision: cur.createRevision, modRevision: cur.modRevision };
    events.push({ type: 'DELETED', kv, prev, revision: rev });
    return kv;
  }

  private valueAt(id: number): string {
    const row = this.stmt.valueById.get(id);
    if (!row) throw new StorageError('Unavailable', '', `log row ${id} is missing`);
    return row.value;
  }

  // ---- compaction ----

  private async removeHistory(target: number): Promise<void> {
    if (this.closed) return;
    const first = (this.db.prepare('SELECT MIN(id) AS id FROM kine').get() as { id: number | null }).id ?? target;
    for (let lo = first - 1; lo < target; lo += COMPACT_CHUNK) {
      if (this.closed) return;
      const hi = Math.min(lo + COMPACT_CHUNK, target);
      this.stmt.compactRange.run(lo, hi, target);
      if (hi < target) await new Promise<void>((r) => setImmediate(r));
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

function rowToEvent(r: LogRow): StoreEvent {
  const kv: KeyValue = { key: r.name, value: r.value, createRevision: r.create_revision, modRevision: r.id };
  if (r.created) return { type: 'ADDED', kv, revision: r.id };
  if (r.deleted) {
    const prev: KeyValue = { key: r.name, value: r.value, createRevision: r.create_revision, modRevision: r.prev_revision };
    return { type: 'DELETED', kv, prev, revision: r.id };
  }
  const prev: KeyValue | undefined =
    r.prev_value == null ? undefined : { key: r.name, value: r.prev_value, createRevision: r.create_revision, modRevision: r.prev_revision };
  return { type: 'MODIFIED', kv, prev, revision: r.id };
}
