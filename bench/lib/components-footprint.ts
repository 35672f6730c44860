// Per-pod heap of the components thread's layers, in-process, after full collections:
// `node --import tsx bench/lib/components-footprint.ts [PODS] [NODES] [--no-share-parts]` (without pod parts shared: as before src/client/share-pod-parts.ts). Pods as `mizzen up` stores
// the scale benchmark's (service-account volume, default tolerations, bound, PodScheduled) go
// through the informers' transform (trimForCache), an Indexer with the namespace, node and owner
// indexes the controllers add, the garbage collector's uid map, the scheduler cache and its
// snapshot. A full-size run says how much a thread holds; this says which layer holds it.

import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trimForCache } from '../../src/client/informer.ts';
import { Indexer, NAMESPACE_INDEX, namespaceIndexFunc, metaNamespaceKey } from '../../src/client/cache.ts';
import { SchedulerCache } from '../../src/scheduler/cache/cache.ts';
import { Snapshot } from '../../src/scheduler/cache/snapshot.ts';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const used = () => {
  gc();
  gc();
  return v8.getHeapStatistics().used_heap_size;
};

const pods = Number(process.argv[2] ?? 30000);
const nodes = Number(process.argv[3] ?? 5000);
const ts = (i: number) => `2026-12-07T11:${String(Math.floor(i / 36000) % 60).padStart(2, '0')}:${String(Math.floor(i / 600) % 60).padStart(2, '0')}Z`;

/** The stored text of bench pod i (as a watch event or list item carries it). */
function podText(i: number): string {
  const vol = `kube-api-access-${Math.random().toString(36).slice(2, 7)}`;
  const t = ts(i);
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      resourceVersion: String(1000 + i),
      labels: { app: 'sched-bench' },
      name: `pod-${i}`,
      namespace: 'bench-basic',
      uid: crypto.randomUUID(),
      creationTimestamp: t,
      managedFields: [
        { manager: 'unknown', operation: 'Update', apiVersion: 'v1', time: t, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"pause"}': { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:resources': { '.': {}, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } }, 'f:terminationMessagePath': {}, 'f:terminationMessagePolicy': {} } }, 'f:dnsPolicy': {}, 'f:enableServiceLinks': {}, 'f:restartPolicy': {}, 'f:schedulerName': {}, 'f:securityContext': {}, 'f:terminationGracePeriodSeconds': {} } } },
      ],
    },
    spec: {
      containers: [
        { name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '500Mi' } }, imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', volumeMounts: [{ name: vol, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] },
      ],
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      serviceAccountName: 'default',
      serviceAccount: 'default',
      volumes: [
        { name: vol, projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } }] } },
      ],
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      nodeName: `sim-${i % nodes}`,
    },
    status: { phase: 'Pending', qosClass: 'Burstable', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: t }] },
  });
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
