// The SQLite writer thread: owns the one connection to the data file (exclusive lock, WAL,
// synchronous=FULL) so that the fsync of every COMMIT happens off the main thread.
//
// Plain JavaScript on purpose: a worker does not inherit tsx's loader hooks, and registering them
// per worker costs about a second. bin/mizzen.js emits this file next to the CLI bundle.
//
// Protocol (see writer-client.ts for the typed side): the main thread passes { file, historyLimit,
// port, signal } as workerData. On start we open and lock the database, load the live keys and the
// recent history, post 'opened' (or 'open-failed') on the port and then flip signal[0] (1 = ok,
// 2 = failed) so the main thread, which waits synchronously, knows the reply is there. After that
// every request { id, type } gets exactly one reply { id, ok, error? } in request order, except
// compactions, which are answered when their background deletes end. After posting a reply we also
// bump signal[1], so a busy main thread can notice the reply without waiting for its event loop to
// come round to the port (see SqliteWriter.hasReplies).

import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** Rows examined per compaction delete, so batches get their turn between chunks. */
const COMPACT_CHUNK = 20_000;
const META_COMPACT_REV = 'compact_rev';
/** Width of one row in a batch's flat array: id, name, created, deleted, create_revision, prev_revision, value. */
const ROW_WIDTH = 7;
/** WAL pages (estimated) after which we checkpoint: SQLite's own autocheckpoint threshold. */
const CHECKPOINT_PAGES = 1000;
const PAGE_SIZE = 4096;

const { file, historyLimit, port, signal } = workerData;

function openDatabase() {
  const db = new Database(file, { timeout: 0 });
  try {
    // Exclusive locking mode: the first write takes an OS-level lock held until close (or death).
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // SQLite would checkpoint inside a COMMIT (about 1 ms here), delaying that write's
    // acknowledgement and its watch events; we checkpoint after replying instead (see commit).
    db.pragma('wal_autocheckpoint = 0');
    db.exec('BEGIN IMMEDIATE');
    db.exec('COMMIT');
    // A kine-style append-only log whose id is the global revision, plus bookkeeping values.
    db.exec(`
      CREATE TABLE IF NOT EXISTS kine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        created INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0,
        create_revision INTEGER NOT NULL,
        prev_revision INTEGER NOT NULL DEFAULT 0,
        value TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS kine_name_id ON kine (name, id);
      CREATE TABLE IF NOT EXISTS kine_meta (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      );
    `);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/** Everything the main thread needs to serve reads and watches without touching SQLite. */
function loadState(db) {
  const meta = db.prepare('SELECT value FROM kine_meta WHERE name = ?').get(META_COMPACT_REV);
  const compacted = meta?.value ?? 0;
  const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kine'").get();
  // The autoincrement sequence survives deletion of the newest rows, so the revision never goes back.
  const revision = Math.max(seq?.seq ?? 0, compacted);

  const live = { names: [], createRevisions: [], modRevisions: [], values: [] };
  const liveRows = db.prepare(
    `SELECT k.name, k.id, k.create_revision, k.value FROM kine k
     JOIN (SELECT MAX(id) AS id FROM kine GROUP BY name) m ON m.id = k.id
     WHERE k.deleted = 0 ORDER BY k.name`,
  );
  for (const r of liveRows.iterate()) {
    live.names.push(r.name);
    live.createRevisions.push(r.create_revision);
    live.modRevisions.push(r.id);
    live.values.push(r.value);
  }

  // Recent history for watch replay. Every row after the compaction horizon still exists.
  const historyFrom = Math.max(compacted, revision - historyLimit);
  const history = db
    .prepare(
      `SELECT k.id, k.name, k.created, k.deleted, k.create_revision, k.prev_revision, k.value, p.value AS prev_value
       FROM kine k LEFT JOIN kine p ON p.id = k.prev_revision AND k.created = 0 AND k.deleted = 0
       WHERE k.id > ? ORDER BY k.id`,
    )
    .all(historyFrom);
  return { revision, compacted, live, historyFrom, history };
}

function errorInfo(e) {
  return { code: typeof e?.code === 'string' ? e.code : undefined, message: String(e?.message ?? e) };
}

function start() {
  let db;
  try {
    db = openDatabase();
    port.postMessage({ type: 'opened', state: loadState(db) });
  } catch (e) {
    try {
      db?.close();
    } catch {
      // the open failure is what matters
    }
    port.postMessage({ type: 'open-failed', error: errorInfo(e) });
    Atomics.store(signal, 0, 2);
    Atomics.notify(signal, 0);
    return;
  }
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);

  const insert = db.prepare(
    'INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const setMeta = db.prepare('INSERT INTO kine_meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');
  const minId = db.prepare('SELECT MIN(id) AS id FROM kine');
  // A row at or below the horizon goes if it is a tombstone or if a newer row at or below the
  // horizon supersedes it. The newest row at or below the horizon survives even when a row after
  // the horizon supersedes it: that row's watch event needs it as its previous value.
  const compactRange = db.prepare(
    `DELETE FROM kine WHERE id > ? AND id <= ? AND (deleted = 1 OR EXISTS (
       SELECT 1 FROM kine n WHERE n.name = kine.name AND n.id > kine.id AND n.id <= ?))`,
  );

  let closed = false;
  /** Estimated WAL pages written since the last checkpoint. */
  let walPages = 0;
  /** Compactions run one after another, in the background between batches. */
  let compactions = Promise.resolve();

  function commit(rows) {
    db.exec('BEGIN');
    try {
      let bytes = 0;
      for (let i = 0; i < rows.length; i += ROW_WIDTH) {
        insert.run(rows[i], rows[i + 1], rows[i + 2], rows[i + 3], rows[i + 4], rows[i + 5], rows[i + 6]);
        bytes += rows[i + 6].length + 2 * rows[i + 1].length;
      }
      db.exec('COMMIT');
      // Every commit rewrites at least the table's and the index's last pages and the sequence.
      walPages += 3 + Math.ceil(bytes / PAGE_SIZE);
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }

  /** Copy the WAL into the database file so the WAL starts over (it would grow without end). */
  function checkpoint() {
    walPages = 0;
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A failed checkpoint loses nothing: the WAL keeps the data and the next one retries.
    }
  }

  async function compact(target) {
    if (closed) return;
    setMeta.run(META_COMPACT_REV, target);
    const first = minId.get().id ?? target;
    for (let lo = first - 1; lo < target; lo += COMPACT_CHUNK) {
      if (closed) return;
      const hi = Math.min(lo + COMPACT_CHUNK, target);
      compactRange.run(lo, hi, target);
      checkpoint();
      if (hi < target) await new Promise((r) => setImmediate(r));
    }
  }

  function reply(r) {
    port.postMessage(r);
    Atomics.add(signal, 1, 1);
  }

  port.on('message', (msg) => {
    switch (msg.type) {
      case 'commit':
        try {
          commit(msg.rows);
          reply({ id: msg.id, ok: true });
        } catch (e) {
          reply({ id: msg.id, ok: false, error: errorInfo(e) });
        }
        if (walPages >= CHECKPOINT_PAGES) checkpoint();
        return;
      case 'compact':
        compactions = compactions.then(() =>
          compact(msg.target).then(
            () => reply({ id: msg.id, ok: true }),
            (e) => reply({ id: msg.id, ok: false, error: errorInfo(e) }),
          ),
        );
        return;
      case 'close':
        // Stop compacting at the next chunk, wait for the current one, then release the lock.
        closed = true;
        compactions.then(() => {
          let error;
          try {
            db.close();
          } catch (e) {
            error = errorInfo(e);
          }
          // The main thread terminates us once it has the reply.
          reply({ id: msg.id, ok: error === undefined, error });
        });
        return;
      default:
        reply({ id: msg.id, ok: false, error: { message: `unknown request ${String(msg.type)}` } });
    }
  });
}

start();
