// Builders for tests: terse pods and nodes.

import type { NodeInfo } from './node-info.ts';
import type { FrameworkRunner, Handle, Node, Pdb, Pod } from './types.ts';

let seq = 0;

export interface PodOpts {
  ns?: string;
  uid?: string;
  labels?: Record<string, string>;
  requests?: Record<string, string>[];
  init?: Array<{ requests: Record<string, string>; sidecar?: boolean }>;
  overhead?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  spec?: Record<string, unknown>;
  start?: string;
}

export function mkPod(name: string, o: PodOpts = {}): Pod {
  const containers = (o.requests ?? [{}]).map((r, i) => ({ name: `c${i}`, image: 'pause', resources: Object.keys(r).length ? { requests: r } : {} }));
  const spec: any = { containers, ...(o.spec ?? {}) };
  if (o.init) spec.initContainers = o.init.map((c, i) => ({ name: `i${i}`, image: 'pause', resources: { requests: c.requests }, ...(c.sidecar ? { restartPolicy: 'Always' } : {}) }));
  if (o.overhead) spec.overhead = o.overhead;
  if (o.nodeName) spec.nodeName = o.nodeName;
  if (o.priority !== undefined) spec.priority = o.priority;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.ns ?? 'default', uid: o.uid ?? `uid-${name}-${++seq}`, labels: o.labels, creationTimestamp: o.start ?? '2024-01-01T00:00:00Z' },
    spec,
    status: o.start ? { startTime: o.start } : {},
  };
}

export function mkNode(name: string, alloc: Record<string, string> = { cpu: '4', memory: '8Gi', pods: '110' }, o: { labels?: Record<string, string>; taints?: any[]; unschedulable?: boolean } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { allocatable: alloc, capacity: alloc },
  };
}

/**
 * A Handle over fixed nodes. `indexed` adds the snapshot's label index (podsWithLabel), as the real
 * cache has, so plugins take their indexed paths.
 */
export function fakeHandle(nodes: NodeInfo[], o: { namespaces?: Record<string, Record<string, string>>; pdbs?: Pdb[]; framework?: FrameworkRunner; selectors?: Handle['selectorsForPod']; indexed?: boolean } = {}): Handle & { deleted: string[] } {
  const deleted: string[] = [];
  return {
    deleted,
    schedulerName: 'default-scheduler',
    snapshot: () => ({
      list: () => nodes,
      get: (n: string) => nodes.find((x) => x.name === n),
      havePodsWithAffinity: () => nodes.filter((n) => n.podsWithAffinity.length),
      havePodsWithRequiredAntiAffinity: () => nodes.filter((n) => n.podsWithRequiredAntiAffinity.length),
      ...(o.indexed
        ? {
            podsWithLabel: (ns: string, key: string, value: string) =>
              nodes.flatMap((ni) => ni.pods.filter((pi) => (pi.pod.metadata.namespace ?? '') === ns && pi.pod.metadata.labels?.[key] === value).map((pi) => ({ pi, ni }))),
          }
        : {}),
    }),
    namespaceLabels: (n: string) => o.namespaces?.[n] ?? {},
    namespaces: () => Object.entries(o.namespaces ?? {}).map(([name, labels]) => ({ name, labels })),
    pdbs: () => o.pdbs ?? [],
    framework: () => o.framework!,
    selectorsForPod: o.selectors,
    deletePod: async (p) => void deleted.push(p.metadata.name!),
  };
}
