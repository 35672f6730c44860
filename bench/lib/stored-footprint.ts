// Per-pod heap of the API server's storage layers, in-process, after full collections:
// `node --import tsx bench/lib/stored-footprint.ts [PODS] [--no-pack]`. A real SQLite store (its
// key index and event history) and a pods watch cache decoding into CachedObjects, as `mizzen up`
// has them; PODS pods stored as the scale benchmark's are (service-account volume, default
// tolerations, managedFields), then each bound (nodeName, PodScheduled, a second managedFields
// entry), so the windows hold old versions too. `--no-pack` holds values whole (as before
// storage/packed-text.ts), for comparison. Also times what packing costs: building a 500-item
// page's JSON and a full list's, and the store's write path.

import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { WatchCache } from '../../src/storage/watch-cache.ts';
import { decodeKeyValue, encodeForStorage, type CachedObject } from '../../src/apiserver/registry/cached-object.ts';
import { setPacking, sharedPieces } from '../../src/storage/packed-text.ts';
import { benchPod as pod, boundBenchPod, gcHeapUsed as used } from './bench-pod.ts';

const cpuMs = () => process.cpuUsage().user / 1000;

const pods = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 30000);
const pack = !process.argv.includes('--no-pack');
setPacking(pack);
const nodes = 5000;

const dir = mkdtempSync(path.join(os.tmpdir(), 'mizzen-stored-footprint-'));
try {
  const store = SqliteStore.open({ file: path.join(dir, 'db.sqlite'), compactIntervalMs: 0 });
  const cache = new WatchCache<CachedObject>(store, '/registry/pods/', decodeKeyValue);
  await cache.start();
  const t0 = used();
  let writeCpu = 0;
  const batch = 500;
  for (let i = 0; i < pods; i += batch) {
    const objs = Array.from({ length: Math.min(batch, pods - i) }, (_, k) => pod(i + k));
    const texts = objs.map((o) => encodeForStorage(o));
    const c0 = cpuMs();
    const kvs = await Promise.all(texts.map((t, k) => store.create(`/registry/pods/bench-basic/pod-${i + k}`, t)));
    const ups = objs.map((o, k) => encodeForStorage(boundBenchPod(o, i + k, nodes)));
    await Promise.all(ups.map((t, k) => store.update(kvs[k].key, t, kvs[k].modRevision)));
    writeCpu += cpuMs() - c0;
  }
  store.packPending();
  const t1 = used();
  // What packing costs a reader: the JSON of list items (joined and spliced).
  const entries = cache.entriesUnder();
  const c1 = cpuMs();
  let bytes = 0;
  for (let r = 0; r < 3; r++) for (const e of entries) bytes += e.obj.json.length;
  const perItemUs = ((cpuMs() - c1) * 1000) / (3 * entries.length);
  const page = entries.slice(0, 500);
  const c2 = cpuMs();
  for (let r = 0; r < 20; r++) page.map((e) => e.obj.json).join(',');
  const pageMs = (cpuMs() - c2) / 20;
  console.log(
    JSON.stringify({
      bench: 'stored-footprint',
      pods,
      packed: pack,
      storedTextBytesPerPod: Math.round(bytes / 3 / entries.length),
      watchCacheWindow: cache.windowLength,
      heapBytesPerPod: Math.round((t1 - t0) / pods),
      heapMB: Math.round((t1 - t0) / 1048576),
      pieceTableEntries: sharedPieces.size,
      writeCpuUsPerPod: Math.round((writeCpu * 1000) / pods),
      itemJsonUs: Math.round(perItemUs * 100) / 100,
      page500JsonMs: Math.round(pageMs * 100) / 100,
      loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10),
    }),
  );
  cache.stop();
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
