// `mizzen migrate --data-dir DIR --datastore-endpoint URL`: copy a SQLite data store into an empty
// etcd, every key with its stored value (so every object keeps its uid, creationTimestamp and all
// else; only resourceVersions change, since they are the new store's revisions).
//
// So that no resourceVersion a client still holds from SQLite can be mistaken for one of etcd's,
// etcd's revision is then moved past SQLite's (one throw-away write per missing revision, when
// that takes less than about a minute): every old resourceVersion is then older than anything the
// new API servers have, and clients get 410 Gone and list again. When the gap is too large for
// that, old resourceVersions are ahead of etcd, the API server answers "Too large resource
// version", and clients list again too (see docs/design.md, "Migrating from SQLite").

import path from 'node:path';
import { SqliteStore } from '../storage/sqlite/sqlite-store.ts';
import { EtcdStore } from '../storage/etcd/etcd-store.ts';
import { readFileSync } from 'node:fs';
import type { DatastoreOptions } from '../storage/open.ts';
import type { CliIO } from './io.ts';

export interface MigrateOptions {
  /** The SQLite file (DIR/state.db). */
  sqliteFile: string;
  datastore: DatastoreOptions;
  /** Most throw-away writes to move etcd's revision past SQLite's (default 300,000). */
  maxPadding?: number;
}

const PADDING_KEY = 'mizzen-migrate-padding';
const IN_FLIGHT = 64;

/** Run `work(i)` for i in [0, n) with at most `width` running at once. */
async function pool(n: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        await work(i);
      }
    }),
  );
}

export async function runMigrate(opts: MigrateOptions, io: CliIO): Promise<number> {
  const ds = opts.datastore;
  const pem = (f?: string) => (f ? readFileSync(f, 'utf8') : undefined);
  const tls = ds.caFile || ds.certFile ? { ca: pem(ds.caFile), cert: pem(ds.certFile), key: pem(ds.keyFile) } : undefined;
  let sqlite: SqliteStore | undefined;
  let etcd: EtcdStore | undefined;
  try {
    // Opening takes SQLite's lock: it fails while an API server still uses the data dir.
    sqlite = SqliteStore.open({ file: opts.sqliteFile, compactIntervalMs: 0 });
    etcd = await EtcdStore.open({ endpoints: ds.endpoints!, tls, namespace: ds.prefix, compactIntervalMs: 0, log: (m) => io.err(`mizzen migrate: etcd: ${m}`) });
    const already = await etcd.client.range({ key: `${ds.prefix ?? ''}/registry/`, rangeEnd: `${ds.prefix ?? ''}/registry0`, countOnly: true }, 10_000);
    if (already.count > 0) {
      io.err(`mizzen migrate: etcd already holds ${already.count} keys under /registry/; migrate into an empty etcd`);
      return 1;
    }
    const { items, revision: sqliteRevision } = await sqlite.list('');
    io.out(`mizzen migrate: copying ${items.length} keys from ${opts.sqliteFile} (revision ${sqliteRevision}) to etcd at ${ds.endpoints!.join(',')}`);
    const started = Date.now();
    await pool(items.length, IN_FLIGHT, async (i) => {
      await etcd!.create(items[i].key, items[i].value);
    });

    // Every key there, with the same value.
    const copied = await etcd.list('/');
    const want = new Map(items.map((kv) => [kv.key, kv.value]));
    const wrong = copied.items.filter((kv) => want.has(kv.key) && want.get(kv.key) !== kv.value).length;
    const missing = items.length - copied.items.filter((kv) => want.has(kv.key)).length;
    if (wrong || missing) {
      io.err(`mizzen migrate: verification failed: ${missing} keys missing and ${wrong} with other values in etcd`);
      return 1;
    }
    io.out(`mizzen migrate: copied and checked ${items.length} keys in ${((Date.now() - started) / 1000).toFixed(1)}s`);

    let etcdRevision = await etcd.currentRevision();
    const gap = sqliteRevision - etcdRevision;
    const maxPadding = opts.maxPadding ?? 300_000;
    if (gap > 0 && gap <= maxPadding) {
      const key = `${ds.prefix ?? ''}${PADDING_KEY}`;
      await pool(gap, IN_FLIGHT, async () => {
        await etcd!.client.txn({ compare: [], success: [{ put: { key, value: '' } }], failure: [] }, 30_000);
      });
      await etcd.client.txn({ compare: [], success: [{ deleteRange: { key } }], failure: [] }, 30_000);
      etcdRevision = await etcd.currentRevision();
      io.out(`mizzen migrate: moved etcd's revision past SQLite's (${sqliteRevision} → ${etcdRevision}): resourceVersions clients still hold from SQLite now read as too old (410), and they list again`);
    } else if (gap > 0) {
      io.out(
        `mizzen migrate: etcd's revision (${etcdRevision}) stays below SQLite's (${sqliteRevision}); clients holding a resourceVersion from SQLite get "Too large resource version" and list again — restart long-running clients (components, agents) that might not reconnect soon`,
      );
    }
    io.out(`mizzen migrate: done; start the API servers with --datastore-endpoint ${ds.endpoints!.join(',')} (${path.dirname(opts.sqliteFile)}/state.db is left as it was)`);
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ELOCKED') {
      io.err(`mizzen migrate: ${(e as Error).message}; stop the API server first`);
      return 1;
    }
    io.err(`mizzen migrate: ${(e as Error).message}`);
    return 1;
  } finally {
    await etcd?.close();
    await sqlite?.close();
  }
}
