// The pod the in-process footprint benchmarks hold (stored-footprint.ts, components-footprint.ts):
// the scale benchmark's pod as `mizzen up` stores it (service-account volume, default tolerations,
// managedFields), and the same pod after its binding. Plus the heap reading both take.

import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KObject } from '../../src/api/types.ts';

let gc: (() => void) | undefined;

/** Heap in use after two full collections (what is live, not what awaits collection). */
export function gcHeapUsed(): number {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
  return v8.getHeapStatistics().used_heap_size;
}

/** A timestamp that changes every 600 pods, as the creations of a real run spread over minutes. */
export const benchTimestamp = (i: number) =>
  `2026-12-07T11:${String(Math.floor(i / 36000) % 60).padStart(2, '0')}:${String(Math.floor(i / 600) % 60).padStart(2, '0')}Z`;

const fields = (o: unknown) => ({ manager: 'unknown', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: o });

/** Bench pod i as created (Pending, not yet bound). */
export function benchPod(i: number): KObject {
  const vol = `kube-api-access-${Math.random().toString(36).slice(2, 7)}`;
  const t = benchTimestamp(i);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      namespace: 'bench-basic',
      labels: { app: 'sched-bench' },
      uid: crypto.randomUUID(),
      creationTimestamp: t,
      managedFields: [{ ...fields({ 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"pause"}': { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:resources': { '.': {}, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } }, 'f:terminationMessagePath': {}, 'f:terminationMessagePolicy': {} } }, 'f:dnsPolicy': {}, 'f:enableServiceLinks': {}, 'f:restartPolicy': {}, 'f:schedulerName': {}, 'f:securityContext': {}, 'f:terminationGracePeriodSeconds': {} } }), time: t }],
    },
    spec: {
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '500Mi' } }, imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', volumeMounts: [{ name: vol, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }],
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      serviceAccountName: 'default',
      serviceAccount: 'default',
      volumes: [{ name: vol, projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } }] } }],
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    },
    status: { phase: 'Pending', qosClass: 'Burstable' },
  } as unknown as KObject;
}

/** Pod p (bench pod i) after its binding to one of `nodes` nodes: nodeName, PodScheduled, the binding's managedFields entry. */
export function boundBenchPod(p: KObject, i: number, nodes: number): KObject {
  const b = structuredClone(p) as KObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
  const t = benchTimestamp(i + 300);
  b.spec.nodeName = `sim-${i % nodes}`;
  b.status.conditions = [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: t }];
  b.metadata.managedFields!.push({ ...fields({ 'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"PodScheduled"}': { '.': {}, 'f:status': {}, 'f:type': {} } } } }), time: t, subresource: 'binding' } as never);
  return b;
}
