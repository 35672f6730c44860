// The Handle given to plugins: the cycle snapshot, listers for namespaces, PDBs and workload
// selectors, and the API writes preemption and binding need.

import { rfc3339 } from '../machinery/time.ts';
import { hostname } from 'node:os';
import type { ApiClient } from '../client/api-client.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import type { Informer } from '../client/informer.ts';
import type { KObject } from '../api/types.ts';
import { labelSelectorFromObject, selectorFromSet, type LabelSelector } from '../machinery/labels.ts';
import type { Snapshot } from './cache/snapshot.ts';
import type { Framework } from './framework/framework.ts';
import type { Handle, Pdb, Pod } from './framework/types.ts';

export interface HandleDeps {
  client?: ApiClient;
  recorder?: EventRecorder;
  snapshot: Snapshot;
  namespaces?: Informer;
  pdbs?: Informer;
  services?: Informer;
  replicaSets?: Informer;
  statefulSets?: Informer;
  replicationControllers?: Informer;
  persistentVolumeClaims?: Informer;
  persistentVolumes?: Informer;
  storageClasses?: Informer;
}

const safeSelector = (s: unknown): LabelSelector | undefined => {
  try {
    return labelSelectorFromObject(s as any);
  } catch {
    return undefined;
  }
};

export function makeHandle(deps: HandleDeps, schedulerName: string, fwk: () => Framework): Handle {
  const { client } = deps;
  return {
    schedulerName,
    snapshot: () => deps.snapshot,
    framework: () => fwk(),
    namespaceLabels: (name) => (deps.namespaces?.indexer.getByKey(name) as KObject | undefined)?.metadata.labels ?? (deps.namespaces ? undefined : {}),
    namespaces: () => (deps.namespaces?.indexer.list() ?? []).map((n) => ({ name: n.metadata.name!, labels: n.metadata.labels ?? {} })),
    pdbs: () => (deps.pdbs?.indexer.list() ?? []) as Pdb[],
    selectorsForPod(pod: Pod): LabelSelector[] {
      const out: LabelSelector[] = [];
      const ns = pod.metadata.namespace ?? '';
      const labels = pod.metadata.labels ?? {};
      for (const svc of deps.services?.indexer.list() ?? []) {
        if (svc.metadata.namespace !== ns) continue;
        const sel = svc.spec?.selector;
        if (!sel || !Object.keys(sel).length) continue;
        const s = selectorFromSet(sel);
        if (s.matches(labels)) out.push(s);
      }
      for (const ref of pod.metadata.ownerReferences ?? []) {
        if (!ref.controller) continue;
        const inf = ref.kind === 'ReplicaSet' ? deps.replicaSets : ref.kind === 'StatefulSet' ? deps.statefulSets : ref.kind === 'ReplicationController' ? deps.replicationControllers : undefined;
        const owner = inf?.indexer.getByKey(`${ns}/${ref.name}`);
        if (!owner) continue;
        const s = ref.kind === 'ReplicationController' ? selectorFromSet(owner.spec?.selector) : safeSelector(owner.spec?.selector);
        if (s && !s.empty()) out.push(s);
      }
      return out;
    },
    event: (obj, type, reason, message) => deps.recorder?.event(obj, type, reason, message),
    volumeListers() {
      const { persistentVolumeClaims: pvcs, persistentVolumes: pvs, storageClasses: classes } = deps;
      if (!pvcs || !pvs || !classes) return undefined;
      return {
        claim: (ns, name) => pvcs.indexer.getByKey(`${ns}/${name}`),
        volume: (name) => pvs.indexer.getByKey(name),
        volumes: () => pvs.indexer.list(),
        storageClass: (name) => classes.indexer.getByKey(name),
      };
    },
    apiClient: () => client,
    async deletePod(pod, message) {
      if (!client) return;
      const ref = { version: 'v1', resource: 'pods', namespace: pod.metadata.namespace, name: pod.metadata.name! };
      // Mark why the pod goes away (DisruptionTarget), as upstream does before deleting.
      try {
        await client.patch({ ...ref, subresource: 'status' }, 'strategic', {
          status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message, lastTransitionTime: rfc3339() }] },
        });
      } catch {
        // Best effort: the delete below is what matters.
      }
      try {
        await client.delete(ref, pod.metadata.uid ? { preconditions: { uid: pod.metadata.uid } } : {});
      } catch (e: any) {
        if (e?.code !== 404) throw e;
      }
    },
    async bindPod(pod, nodeName) {
      if (!client) throw new Error('no API client');
      await client.bind(pod.metadata.namespace ?? 'default', pod.metadata.name!, nodeName, pod.metadata.uid);
    },
  };
}

export function defaultIdentity(): string {
  return `${hostname()}_${Math.random().toString(36).slice(2, 10)}`;
}
