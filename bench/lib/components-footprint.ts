// Per-pod heap of the components thread's layers, in-process, after full collections:
// `node --import tsx bench/lib/components-footprint.ts [PODS] [NODES] [--no-share-parts]` (without pod parts shared: as before src/client/share-pod-parts.ts). Pods as `mizzen up` stores
// the scale benchmark's (service-account volume, default tolerations, bound, PodScheduled) go
// through the informers' transform (trimForCache), an Indexer with the namespace, node and owner
// indexes the controllers add, the garbage collector's uid map, the scheduler cache and its
// snapshot. A full-size run says how much a thread holds; this says which layer holds it.

import { trimForCache } from '../../src/client/informer.ts';
import { Indexer, NAMESPACE_INDEX, namespaceIndexFunc, metaNamespaceKey } from '../../src/client/cache.ts';
import { SchedulerCache } from '../../src/scheduler/cache/cache.ts';
import { Snapshot } from '../../src/scheduler/cache/snapshot.ts';
import { benchPod, boundBenchPod, gcHeapUsed as used } from './bench-pod.ts';

const pods = Number(process.argv[2] ?? 30000);
const nodes = Number(process.argv[3] ?? 5000);

/** The text of bound bench pod i as a watch event or list item carries it (resourceVersion first in metadata, as the API server splices it). */
function podText(i: number): string {
  const p = boundBenchPod(benchPod(i), i, nodes);
  return JSON.stringify({ ...p, metadata: { resourceVersion: String(1000 + i), ...p.metadata } });
}

const texts = Array.from({ length: pods }, (_, i) => podText(i));
const t0 = used();
const transform = trimForCache({ sharePodParts: !process.argv.includes("--no-share-parts") });
const objs = texts.map((t) => transform(JSON.parse(t)));
const t1 = used();
const indexer = new Indexer({
  [NAMESPACE_INDEX]: namespaceIndexFunc,
  node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []),
  owner: (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid),
});
for (const p of objs) indexer.add(p);
const t2 = used();
const byUid = new Map<string, { monitor: number; key: string }>();
for (const p of objs) byUid.set(p.metadata.uid!, { monitor: 1, key: metaNamespaceKey(p) });
const t3 = used();
const cache = new SchedulerCache();
for (let n = 0; n < nodes; n++) cache.addNode({ metadata: { name: `sim-${n}`, labels: {} }, status: { allocatable: { cpu: '32', memory: '256Gi', pods: '110' } } } as never);
const t4 = used();
for (const p of objs) cache.addPod(p as never);
const t5 = used();
const snapshot = new Snapshot();
snapshot.update(cache);
const t6 = used();
const per = (a: number, b: number) => Math.round((b - a) / pods);
console.log(
  JSON.stringify({
    bench: 'components-footprint',
    pods,
    nodes,
    storedTextBytesPerPod: Math.round(texts.reduce((a, t) => a + t.length, 0) / pods),
    bytesPerPod: {
      parsedTrimmedInterned: per(t0, t1),
      indexer: per(t1, t2),
      garbageCollectorUids: per(t2, t3),
      schedulerCachePods: per(t4, t5),
      schedulerSnapshot: per(t5, t6),
      total: per(t0, t6) - per(t3, t4),
    },
    schedulerCacheNodesMB: Math.round((t4 - t3) / 1048576),
  }),
);
(globalThis as { keep?: unknown }).keep = [texts, objs, indexer, byUid, cache, snapshot];
