import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SqliteStore, StoreLockedError } from './sqlite-store.ts';
import { runStoreSuite } from '../store-suite.ts';
import { StorageError, type StoreEvent } from '../store.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const storeModule = path.join(here, 'sqlite-store.ts');
const repoRoot = path.resolve(here, '../../..');

function tempFile(): { file: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mizzen-sqlite-'));
  return { dir, file: path.join(dir, 'state.db') };
}

runStoreSuite('SqliteStore', async () => {
  const { dir, file } = tempFile();
  const store = SqliteStore.open({ file, compactIntervalMs: 0 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore durability and locking', () => {
  it('reopening keeps data, history, the revision and the compaction horizon', async () => {
    const { dir, file } = tempFile();
    try {
      let s = SqliteStore.open({ file, compactIntervalMs: 0 });
      const a = await s.create('/r/a', '1');
      const a2 = await s.update('/r/a', '2', a.modRevision);
      await s.create('/r/b', '1');
      const del = await s.delete('/r/b');
      await s.compact(a2.modRevision);
      await s.close();

      s = SqliteStore.open({ file, compactIntervalMs: 0 });
      assert.equal(await s.currentRevision(), del.modRevision);
      assert.equal(s.compactedRevision(), a2.modRevision);
      const got = (await s.get('/r/a'))!;
      // Compared by field: the store's key/values hold their value packed (a getter).
      assert.deepEqual(
        { key: got.key, value: got.value, createRevision: got.createRevision, modRevision: got.modRevision },
        { key: '/r/a', value: '2', createRevision: a.modRevision, modRevision: a2.modRevision },
      );
      assert.equal(await s.get('/r/b'), undefined);
      const evs: string[] = [];
      s.watch('/r/', a2.modRevision, (ev) => evs.push(`${ev.type} ${ev.kv.key}`));
      assert.deepEqual(evs, ['ADDED /r/b', 'DELETED /r/b']);
      // The revision never goes back, even though the newest rows were compacted away.
      await s.compact(del.modRevision);
      await s.close();
      s = SqliteStore.open({ file, compactIntervalMs: 0 });
      assert.equal(await s.currentRevision(), del.modRevision);
      const c = await s.create('/r/c', '1');
      assert.equal(c.modRevision, del.modRevision + 1);
      const u = await s.update('/r/a', '3', a2.modRevision);
      assert.equal(u.createRevision, a.modRevision);
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close flushes writes that are still queued', async () => {
    const { dir, file } = tempFile();
    try {
      let s = SqliteStore.open({ file, compactIntervalMs: 0 });
      const pending = Promise.all([s.create('/a', '1'), s.create('/b', '2')]);
      await s.close();
      await pending;
      await assert.rejects(s.create('/c', '3'), (e: unknown) => e instanceof StorageError && e.code === 'Unavailable');
      s = SqliteStore.open({ file, compactIntervalMs: 0 });
      assert.equal((await s.list('/')).items.length, 2);
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a second open in the same process fails while the first is open', async () => {
    const { dir, file } = tempFile();
    try {
      const s = SqliteStore.open({ file, compactIntervalMs: 0 });
      assert.throws(
        () => SqliteStore.open({ file, compactIntervalMs: 0 }),
        (e: unknown) => e instanceof StoreLockedError && e.code === 'ELOCKED' && e.pid === process.pid,
      );
      await s.close();
      const again = SqliteStore.open({ file, compactIntervalMs: 0 });
      await again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('another process cannot open a file we hold, and is told our pid', async () => {
    const { dir, file } = tempFile();
    try {
      const s = SqliteStore.open({ file, compactIntervalMs: 0 });
      const script = `
        import(${JSON.stringify(storeModule)}).then(({ SqliteStore }) => {
          try { SqliteStore.open({ file: ${JSON.stringify(file)}, compactIntervalMs: 0 }); console.log('OPENED'); }
          catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, pid: e.pid, message: e.message })); }
        });`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim());
      assert.equal(out.code, 'ELOCKED');
      assert.equal(out.pid, process.pid);
      assert.equal(
        out.message,
        `data directory is in use: ${file} is locked by process ${process.pid} (is another "mizzen up" running?)`,
      );
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('acknowledged writes survive kill -9, and the dead process does not keep the lock', async () => {
    const { dir, file } = tempFile();
    try {
      const n = 200;
      // The child writes n keys concurrently, reports each acknowledged revision, then waits to be killed.
      const script = `
        import(${JSON.stringify(storeModule)}).then(async ({ SqliteStore }) => {
          const s = SqliteStore.open({ file: ${JSON.stringify(file)}, compactIntervalMs: 0 });
          await Promise.all(Array.from({ length: ${n} }, (_, i) => s.create('/k/' + i, 'v' + i)));
          process.stdout.write('ACK ' + (await s.currentRevision()) + '\\n');
          // Keep writing until killed, so the kill lands mid-stream.
          for (let i = 0; ; i++) await s.create('/extra/' + i, 'x');
        });`;
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const acked = await new Promise<number>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d) => {
          buf += d;
          const m = /ACK (\d+)\n/.exec(buf);
          if (m) resolve(Number(m[1]));
        });
        child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
      });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;

      const s = SqliteStore.open({ file, compactIntervalMs: 0 });
      const keys = (await s.list('/k/')).items;
      assert.equal(keys.length, n);
      assert.ok((await s.currentRevision()) >= acked);
      const extra = (await s.list('/extra/')).items;
      // Extra writes are contiguous from revision n+1: whatever committed, committed whole.
      extra.sort((x, y) => x.modRevision - y.modRevision);
      extra.forEach((kv, i) => assert.equal(kv.modRevision, n + 1 + i));
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteStore compaction', () => {
  it('removes superseded rows and tombstones but keeps what watches after the horizon need', async () => {
    const { dir, file } = tempFile();
    try {
      const s = SqliteStore.open({ file, compactIntervalMs: 0 });
      let kv = await s.create('/a', '0');
      for (let i = 1; i <= 50; i++) kv = await s.update('/a', String(i), kv.modRevision);
      for (let i = 0; i < 20; i++) await s.create(`/t/${i}`, 'x');
      for (let i = 0; i < 20; i++) await s.delete(`/t/${i}`);
      const horizon = await s.currentRevision();
      const next = await s.update('/a', 'after', kv.modRevision);
      await s.compact(horizon);
      await s.close();
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(file, { readonly: true });
      const rows = db.prepare('SELECT id, name, deleted FROM kine ORDER BY id').all() as { id: number; name: string; deleted: number }[];
      db.close();
      // Only the newest '/a' row at the horizon (the previous value of the next event) and the next one remain.
      assert.deepEqual(
        rows.map((r) => r.id),
        [kv.modRevision, next.modRevision],
      );
      const s2 = SqliteStore.open({ file, compactIntervalMs: 0 });
      const evs: StoreEvent[] = [];
      s2.watch('/', horizon, (ev) => evs.push(ev));
      assert.equal(evs.length, 1);
      assert.equal(evs[0].prev?.value, '50');
      await s2.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compacts periodically, keeping the configured number of revisions', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const { dir, file } = tempFile();
    try {
      const s = SqliteStore.open({ file, compactIntervalMs: 1000, compactKeepRevisions: 5 });
      let kv = await s.create('/a', '0');
      for (let i = 1; i < 20; i++) kv = await s.update('/a', String(i), kv.modRevision);
      assert.equal(s.compactedRevision(), 0);
      t.mock.timers.tick(1000);
      assert.equal(s.compactedRevision(), 15);
      assert.throws(() => s.watch('/', 14, () => {}), (e: unknown) => e instanceof StorageError && e.code === 'Compacted');
      t.mock.timers.reset();
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteStore writer thread', () => {
  it('a write becomes visible to reads only once durable, and watchers see it first', async () => {
    const { dir, file } = tempFile();
    try {
      const s = SqliteStore.open({ file, compactIntervalMs: 0 });
      const before = await s.currentRevision();
      const seen: number[] = [];
      s.watch('/', before, (ev) => seen.push(ev.revision));
      const write = s.create('/a', '1');
      // Until the batch is acknowledged, reads and the revision show the old state; from the
      // moment they show the write, the watcher has had its event.
      let kv = await s.get('/a');
      while (!kv) {
        assert.equal(await s.currentRevision(), before);
        assert.deepEqual(seen, []);
        await new Promise((r) => setImmediate(r));
        kv = await s.get('/a');
      }
      assert.deepEqual(seen, [kv.modRevision]);
      assert.equal(await s.currentRevision(), kv.modRevision);
      assert.deepEqual(await write, kv);
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checkpoints the WAL between commits, so it stays bounded and reopening keeps everything', async () => {
    const { dir, file } = tempFile();
    try {
      let s = SqliteStore.open({ file, compactIntervalMs: 0 });
      const value = 'v'.repeat(1000);
      // One commit at a time: each rewrites several pages, so without checkpoints (SQLite's own are
      // off, the writer runs them after replying) the WAL would pass 4,000 pages (16 MB).
      for (let i = 0; i < 1000; i++) await s.create(`/k/${i}`, value);
      const walBytes = fs.statSync(`${file}-wal`).size;
      assert.ok(walBytes < 8 * 1024 * 1024, `WAL is ${walBytes} bytes`);
      await s.close();
      s = SqliteStore.open({ file, compactIntervalMs: 0 });
      assert.equal((await s.list('/k/')).items.length, 1000);
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes issued while a batch commits are checked against it and pipelined in order', async () => {
    const { dir, file } = tempFile();
    try {
      const s = SqliteStore.open({ file, compactIntervalMs: 0 });
      const seen: string[] = [];
      s.watch('/', 0, (ev) => seen.push(`${ev.type} ${ev.kv.key}@${ev.revision}`));
      // Outcome as a revision or an error code, observed at once (no unhandled rejection meanwhile).
      const outcome = (p: Promise<{ modRevision: number }>) =>
        p.then(
          (kv) => kv.modRevision,
          (e: StorageError) => e.code,
        );
      const first = outcome(s.create('/k', '0'));
      // Issued in later tasks, so (most likely) while the first batch is in flight.
      await new Promise((r) => setImmediate(r));
      const dup = outcome(s.create('/k', 'dup'));
      await new Promise((r) => setImmediate(r));
      const upd = outcome(s.update('/k', '1', 1));
      assert.deepEqual(await Promise.all([first, dup, upd]), [1, 'Exists', 2]);
      assert.deepEqual(seen, ['ADDED /k@1', 'MODIFIED /k@2']);
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a watch from before the in-memory history is refused as compacted', async () => {
    const { dir, file } = tempFile();
    try {
      let s = SqliteStore.open({ file, compactIntervalMs: 0, historyEvents: 5 });
      let kv = await s.create('/a', '0');
      for (let i = 1; i < 10; i++) kv = await s.update('/a', String(i), kv.modRevision);
      assert.equal(s.compactedRevision(), 5);
      assert.throws(
        () => s.watch('/', 4, () => {}),
        (e: unknown) => e instanceof StorageError && e.code === 'Compacted' && e.revision === 5,
      );
      const evs: StoreEvent[] = [];
      s.watch('/', 5, (ev) => evs.push(ev));
      assert.deepEqual(
        evs.map((e) => `${e.revision}=${e.kv.value} (${e.prev?.value})`),
        ['6=5 (4)', '7=6 (5)', '8=7 (6)', '9=8 (7)', '10=9 (8)'],
      );
      await s.close();
      // After a restart the same window is loaded back from the log, previous values included.
      s = SqliteStore.open({ file, compactIntervalMs: 0, historyEvents: 3 });
      assert.equal(s.compactedRevision(), 7);
      const replay: StoreEvent[] = [];
      s.watch('/', 7, (ev) => replay.push(ev));
      assert.deepEqual(
        replay.map((e) => `${e.type} ${e.revision}=${e.kv.value} (${e.prev?.modRevision}=${e.prev?.value})`),
        ['MODIFIED 8=7 (7=6)', 'MODIFIED 9=8 (8=7)', 'MODIFIED 10=9 (9=8)'],
      );
      assert.throws(() => s.watch('/', 6, () => {}), (e: unknown) => e instanceof StorageError && e.code === 'Compacted');
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a failed commit fails its whole batch and leaves no trace; later writes proceed', async () => {
    const { dir, file } = tempFile();
    try {
      const s = SqliteStore.open({ file, compactIntervalMs: 0 });
      const a = await s.create('/a', '1');
      const seen: number[] = [];
      s.watch('/', a.modRevision, (ev) => seen.push(ev.revision));
      // Make the writer refuse the next transaction, as a full disk would.
      const writer = (s as unknown as { writer: { commit(rows: unknown[]): Promise<void> } }).writer;
      const commit = writer.commit.bind(writer);
      writer.commit = () => {
        writer.commit = commit;
        return Promise.reject(new Error('disk I/O error'));
      };
      const res = await Promise.allSettled([s.update('/a', '2', a.modRevision), s.create('/b', '1'), s.create('/a', 'dup')]);
      for (const r of res) {
        assert.equal(r.status, 'rejected');
        assert.equal((r.reason as StorageError).code, 'Unavailable');
        assert.match((r.reason as StorageError).message, /disk I\/O error/);
      }
      assert.deepEqual(seen, []);
      assert.equal(await s.currentRevision(), a.modRevision);
      assert.deepEqual(await s.get('/a'), a);
      assert.equal(await s.get('/b'), undefined);
      // The revisions the failed batch had taken are used again.
      const b = await s.create('/b', '1');
      assert.equal(b.modRevision, a.modRevision + 1);
      assert.deepEqual(seen, [b.modRevision]);
      await s.close();
      const again = SqliteStore.open({ file, compactIntervalMs: 0 });
      assert.deepEqual(
        (await again.list('/')).items.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}`),
        [`/a=1@${a.modRevision}`, `/b=1@${b.modRevision}`],
      );
      await again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('if the writer thread dies, writes fail as unavailable and close still completes', async () => {
    const { dir, file } = tempFile();
    try {
      const s = SqliteStore.open({ file, compactIntervalMs: 0 });
      await s.create('/a', '1');
      await (s as unknown as { writer: { worker: { terminate(): Promise<number> } } }).writer.worker.terminate();
      await assert.rejects(s.create('/b', '1'), (e: unknown) => e instanceof StorageError && e.code === 'Unavailable');
      assert.equal((await s.get('/a'))?.value, '1');
      await s.close();
      // The lock went with the thread.
      const again = SqliteStore.open({ file, compactIntervalMs: 0 });
      assert.equal((await again.list('/')).items.length, 1);
      await again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the process alive while a write is in flight, but not when idle', () => {
    const { dir, file } = tempFile();
    try {
      // No close(): the process must still finish the awaited write and then exit by itself.
      const script = `
        import(${JSON.stringify(storeModule)}).then(async ({ SqliteStore }) => {
          const s = SqliteStore.open({ file: ${JSON.stringify(file)} });
          const kv = await s.create('/a', '1');
          console.log('DONE ' + kv.modRevision);
        });`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'DONE 1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works bundled, with the writer script emitted beside the bundle', async () => {
    const { dir, file } = tempFile();
    try {
      const esbuild = await import('esbuild');
      const out = path.join(dir, 'dist');
      const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent' } as const;
      await esbuild.build({ ...common, entryPoints: [storeModule], outfile: path.join(out, 'main.mjs') });
      await esbuild.build({ ...common, entryPoints: [path.join(here, 'sqlite-writer.mjs')], outfile: path.join(out, 'sqlite-writer.mjs') });
      // Externals resolve from the repo's node_modules, as they do for dist/cli/main.mjs.
      fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
      const script = `
        const { SqliteStore } = await import(${JSON.stringify(path.join(out, 'main.mjs'))});
        const s = SqliteStore.open({ file: ${JSON.stringify(file)}, compactIntervalMs: 0 });
        const kv = await s.create('/a', 'bundled');
        await s.close();
        console.log(kv.modRevision);`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), '1');
      const s = SqliteStore.open({ file, compactIntervalMs: 0 });
      assert.equal((await s.get('/a'))?.value, 'bundled');
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteStore packing', () => {
  it('delivers and answers a write with its value whole, and packs it later, off the write path', async () => {
    const { dir, file } = tempFile();
    const s = SqliteStore.open({ file, compactIntervalMs: 0 });
    try {
      const text = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pod-12345', uid: 'a1b2c3d4-0000' }, spec: { pad: 'x'.repeat(400) } });
      const seen: StoreEvent[] = [];
      s.watch('/registry/pods/', await s.currentRevision(), (ev) => seen.push(ev));
      const kv = (await s.create('/registry/pods/ns/pod-12345', text)) as { packed?: boolean; value: string };
      assert.equal(kv.packed, false, 'not packed when the caller gets it');
      assert.equal((seen[0].kv as { packed?: boolean }).packed, false);
      const got = (await s.get('/registry/pods/ns/pod-12345')) as { packed?: boolean; value: string };
      assert.equal(got.packed, false);
      s.packPending();
      assert.equal(got.packed, true);
      assert.equal(got.value, text);
    } finally {
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteStore commit counters', () => {
  it('counts transactions and rows on /metrics (writes of one task share one transaction)', async () => {
    const { storageCommitsTotal, storageCommittedRowsTotal } = await import('../../metrics/prometheus.ts');
    const value = async (c: typeof storageCommitsTotal) => (await c.get()).values[0]?.value ?? 0;
    const { dir, file } = tempFile();
    const s = SqliteStore.open({ file, compactIntervalMs: 0 });
    try {
      const [c0, r0] = [await value(storageCommitsTotal), await value(storageCommittedRowsTotal)];
      await Promise.all([s.create('/r/1', 'a'), s.create('/r/2', 'b'), s.create('/r/3', 'c')]);
      await s.create('/r/4', 'd');
      assert.equal((await value(storageCommitsTotal)) - c0, 2);
      assert.equal((await value(storageCommittedRowsTotal)) - r0, 4);
    } finally {
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
