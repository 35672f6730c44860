// Node lifecycle controller: notices nodes whose kubelet stopped heartbeating (Lease in
// kube-node-lease and the Ready condition both stale for the grace period), marks their conditions
// Unknown and their pods not ready, keeps condition taints (NoSchedule, and NoExecute at a per-zone
// rate) in line with the conditions, and evicts pods that do not tolerate a NoExecute taint.

import type { KObject } from '../../api/types.ts';
import { isConflict, isNotFound, rfc3339 } from '../../client/api-client.ts';
import { metaNamespaceKey } from '../../client/cache.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { nodeRef } from '../nodeipam/index.ts';
import {
  MANAGED_NOSCHEDULE_KEYS,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  desiredNoExecuteKey,
  desiredNoScheduleTaints,
  evictionDeadline,
  nodeCondition,
} from './taints.ts';
import type { Taint } from '../../api/core/taints.ts';
import { ZoneLimiter, computeZoneState, zoneOf, zoneTaintRate, type ZoneState } from './zones.ts';

export * from './taints.ts';

const NODES = { version: 'v1', resource: 'nodes' } as const;
const PODS = { version: 'v1', resource: 'pods' } as const;
const LEASE_NS = 'kube-node-lease';
const POD_NODE_INDEX = 'nodelifecycle:node';
/** The conditions the kubelet owns; all go Unknown when it stops reporting. */
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

interface NodeHealth {
  probeMs: number;
  readyHeartbeat?: string;
  readyStatus?: string;
  leaseRenew?: string;
}

/** Set the kubelet conditions to Unknown; returns the new list, or undefined when nothing changes. */
export function conditionsUnknown(node: KObject, now: string): any[] | undefined {
  const conds: any[] = structuredClone(node.status?.conditions ?? []);
  let changed = false;
  for (const type of KUBELET_CONDITIONS) {
    const c = conds.find((x) => x?.type === type);
    if (!c) {
      conds.push({ type, status: 'Unknown', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: now, reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
      changed = true;
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = now;
      changed = true;
    }
  }
  return changed ? conds : undefined;
}

export const nodeLifecycleController: ControllerFactory = (ctx: ControllerContext): Controller => {
  const recorder = ctx.recorder('node-controller');
  const evictRecorder = ctx.recorder('taint-eviction-controller');
  const nodes = ctx.informers.informerFor(NODES);
  const leases = ctx.informers.informerFor({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' });
  const pods = ctx.informers.informerFor<KObject>({ ...PODS, indexers: { [POD_NODE_INDEX]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) } });
  const opts = ctx.options;
  const health = new Map<string, NodeHealth>();
  const zoneStates = new Map<string, ZoneState>();
  const limiters = new Map<string, ZoneLimiter>();
  let allZonesDisrupted = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let monitoring: Promise<void> = Promise.resolve();
  /** Pods with a pending (timed) eviction, so a cancelled one gets its event. */
  const scheduled = new Map<string, number>();

  const podsOn = (node: string) => pods.indexer.byIndex(POD_NODE_INDEX, node);

  // ---- health monitoring ----

  const markPodsNotReady = async (nodeName: string): Promise<void> => {
    const now = rfc3339();
    for (const pod of podsOn(nodeName)) {
      const ready = ((pod.status?.conditions ?? []) as any[]).find((c) => c?.type === 'Ready');
      if (!ready || ready.status === 'False' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const next = structuredClone(pod);
      const c = (next.status.conditions as any[]).find((x) => x?.type === 'Ready');
      c.status = 'False';
      c.lastTransitionTime = now;
      try {
        await ctx.client.updateStatus({ ...PODS, namespace: pod.metadata.namespace, name: pod.metadata.name! }, next);
        recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
  };

  const markUnknown = async (name: string): Promise<KObject | undefined> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      let node: KObject;
      try {
        node = attempt === 0 ? nodes.indexer.getByKey(name)! : await ctx.client.get({ ...NODES, name });
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      if (!node) return undefined;
      const conds = conditionsUnknown(node, rfc3339());
      if (!conds) return node;
      const next = structuredClone(node);
      next.status = { ...(next.status ?? {}), conditions: conds };
      try {
        return await ctx.client.updateStatus({ ...NODES, name }, next);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        if (!isConflict(e)) throw e;
      }
    }
    return undefined;
  };

  const monitorOnce = async (): Promise<void> => {
    const now = Date.now();
    const all = nodes.indexer.list();
    const names = new Set(all.map((n) => n.metadata.name!));
    for (const name of health.keys()) if (!names.has(name)) health.delete(name);
    for (const node of all) {
      if (stopped) return;
      const name = node.metadata.name!;
      let h = health.get(name);
      if (!h) {
        h = { probeMs: now };
        health.set(name, h);
        recorder.eventf(nodeRef(node), 'Normal', 'RegisteredNode', 'Node %s event: Registered Node %s in Controller', name, name);
      }
      const ready = nodeCondition(node, 'Ready');
      const prevReady = h.readyStatus;
      if (ready?.lastHeartbeatTime !== h.readyHeartbeat || ready?.status !== h.readyStatus) {
        // Our own Unknown write is not a heartbeat; anything else from the kubelet is.
        if (ready?.status !== 'Unknown' || h.readyStatus === undefined) h.probeMs = now;
        h.readyHeartbeat = ready?.lastHeartbeatTime;
        h.readyStatus = ready?.status;
      }
      const lease = leases.indexer.getByKey(`${LEASE_NS}/${name}`);
      const renew: string | undefined = lease?.spec?.renewTime;
      if (renew && renew !== h.leaseRenew) {
        if (!h.leaseRenew || Date.parse(renew) > Date.parse(h.leaseRenew)) h.probeMs = now;
        h.leaseRenew = renew;
      }
      let current = node;
      if (now > h.probeMs + opts.nodeMonitorGracePeriodMs) {
        try {
          current = (await markUnknown(name)) ?? node;
        } catch (e) {
          ctx.log(`node-lifecycle: marking ${name} unknown: ${(e as Error).message}`);
        }
      }
      const status = nodeCondition(current, 'Ready')?.status;
      if (status !== 'True') {
        if (prevReady === 'True') {
          recorder.eventf(nodeRef(node), 'Normal', 'NodeNotReady', 'Node %s status is now: %s', name, 'NodeNotReady');
        }
        h.readyStatus = status;
        try {
          await markPodsNotReady(name);
        } catch (e) {
          ctx.log(`node-lifecycle: marking pods on ${name} not ready: ${(e as Error).message}`);
        }
      }
    }
    updateZones(now);
  };

  const updateZones = (now: number) => {
    const byZone = new Map<string, KObject[]>();
    for (const n of nodes.indexer.list()) {
      const z = zoneOf(n);
      let l = byZone.get(z);
      if (!l) byZone.set(z, (l = []));
      l.push(n);
    }
    let all = byZone.size > 0;
    for (const [z, list] of byZone) {
      const state = computeZoneState(list);
      if (state !== 'FullDisruption') all = false;
      const prev = zoneStates.get(z);
      zoneStates.set(z, state);
      const rate = zoneTaintRate(state, list.length, opts.nodeEvictionRate);
      let lim = limiters.get(z);
      if (!lim) limiters.set(z, (lim = new ZoneLimiter(rate, now)));
      else if (prev !== state) lim.setRate(rate, now);
    }
    for (const z of zoneStates.keys()) if (!byZone.has(z)) zoneStates.delete(z);
    const was = allZonesDisrupted;
    allZonesDisrupted = all;
    // Entering or leaving "every zone is down": the NoExecute taints of every node are reconsidered.
    if (was !== all) {
      // Said plainly: at every start it shows until the first node is Ready, and must not read as a fault.
      ctx.log(
        all
          ? 'node-lifecycle: no node is Ready (every zone is fully disrupted): pods are not evicted from NotReady nodes until one is'
          : 'node-lifecycle: a node is Ready: pods are evicted from NotReady nodes again',
      );
      for (const n of nodes.indexer.list()) taintWorker.add(n.metadata.name!);
    }
  };

  const monitorLoop = () => {
    if (stopped) return;
    monitoring = monitorOnce()
      .catch((e) => ctx.log(`node-lifecycle: monitor pass failed: ${(e as Error).message}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(monitorLoop, opts.nodeMonitorPeriodMs);
      });
  };

  // ---- taints ----

  const syncTaints = async (name: string): Promise<void> => {
    const cached = nodes.indexer.getByKey(name);
    if (!cached) return;
    let wantNoExec = allZonesDisrupted ? undefined : desiredNoExecuteKey(cached);
    const hadNoExec = ((cached.spec?.taints ?? []) as Taint[]).find((t) => t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE));
    if (wantNoExec && !hadNoExec) {
      // A fresh NoExecute taint waits for its zone's rate limiter (a swap between the two does not).
      const lim = limiters.get(zoneOf(cached));
      const wait = lim ? lim.take(Date.now()) : 0;
      if (wait > 0) {
        wantNoExec = undefined;
        taintWorker.addAfter(name, Number.isFinite(wait) ? wait : opts.nodeMonitorPeriodMs);
      }
    }
    for (let attempt = 0; ; attempt++) {
      const node = attempt === 0 ? cached : await ctx.client.get<KObject>({ ...NODES, name });
      const taints: Taint[] = (node.spec?.taints ?? []) as Taint[];
      const now = rfc3339();
      const kept = taints.filter((t) => {
        if (t.effect === 'NoSchedule' && MANAGED_NOSCHEDULE_KEYS.has(t.key)) return false;
        if (t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE)) return false;
        return true;
      });
      const next = [...kept];
      for (const t of desiredNoScheduleTaints(node)) {
        const old = taints.find((o) => o.key === t.key && o.effect === 'NoSchedule');
        next.push(old ?? t);
      }
      // Keep an existing NoExecute taint while waiting on the limiter for a change we could not make yet.
      const noExec = wantNoExec ?? (hadNoExec && desiredNoExecuteKey(node) === hadNoExec.key && !allZonesDisrupted ? hadNoExec.key : undefined);
      if (noExec) {
        const old = taints.find((o) => o.key === noExec && o.effect === 'NoExecute');
        next.push(old ?? { key: noExec, effect: 'NoExecute', timeAdded: now });
      }
      const sameSet = next.length === taints.length && next.every((t) => taints.some((o) => o.key === t.key && o.effect === t.effect));
      if (sameSet) return;
      const updated = structuredClone(node);
      updated.spec = { ...(updated.spec ?? {}), taints: next };
      if (next.length === 0) delete updated.spec.taints;
      try {
        await ctx.client.update({ ...NODES, name }, updated);
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e) || attempt >= 4) throw e;
      }
    }
  };

  const taintWorker = new KeyWorker('node-lifecycle-taints', syncTaints, ctx.log);

  // ---- NoExecute taint eviction ----

  const podRef = (pod: KObject) => ({ apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name });

  const evict = async (pod: KObject): Promise<void> => {
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    evictRecorder.eventf(podRef(pod), 'Normal', 'TaintManagerEviction', 'Marking for deletion Pod %s', `${ns}/${name}`);
    try {
      const now = rfc3339();
      const conds = ((pod.status?.conditions ?? []) as any[]).filter((c) => c?.type !== 'DisruptionTarget');
      conds.push({ type: 'DisruptionTarget', status: 'True', lastProbeTime: null, lastTransitionTime: now, reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' });
      const next = structuredClone(pod);
      next.status = { ...(next.status ?? {}), conditions: conds };
      await ctx.client.updateStatus({ ...PODS, namespace: ns, name }, next);
    } catch (e) {
      if (isNotFound(e)) return;
      if (!isConflict(e)) throw e;
      // A newer pod status: the condition is a courtesy, the deletion is what matters.
    }
    try {
      await ctx.client.delete({ ...PODS, namespace: ns, name }, { preconditions: { uid: pod.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  };

  const syncPod = async (key: string): Promise<void> => {
    const pod = pods.indexer.getByKey(key);
    const node = pod?.spec?.nodeName ? nodes.indexer.getByKey(pod.spec.nodeName) : undefined;
    const taints = ((node?.spec?.taints ?? []) as Taint[]).filter((t) => t.effect === 'NoExecute');
    if (!pod || pod.metadata.deletionTimestamp || !node || taints.length === 0) {
      if (scheduled.delete(key) && pod && !pod.metadata.deletionTimestamp) {
        evictRecorder.eventf(podRef(pod), 'Normal', 'TaintManagerEviction', 'Cancelling deletion of Pod %s', key);
      }
      return;
    }
    const now = Date.now();
    const deadline = evictionDeadline(pod, taints, now);
    if (deadline === Infinity) {
      if (scheduled.delete(key)) evictRecorder.eventf(podRef(pod), 'Normal', 'TaintManagerEviction', 'Cancelling deletion of Pod %s', key);
      return;
    }
    if (deadline > now) {
      scheduled.set(key, deadline);
      podWorker.addAfter(key, deadline - now);
      return;
    }
    scheduled.delete(key);
    await evict(pod);
  };

  const podWorker = new KeyWorker('taint-eviction', syncPod, ctx.log);

  // ---- event wiring ----

  let running = false;
  const taintsOf = (n: KObject) => JSON.stringify(((n.spec?.taints ?? []) as Taint[]).filter((t) => t.effect === 'NoExecute'));
  const conditionStatuses = (n: KObject) => JSON.stringify(((n.status?.conditions ?? []) as any[]).map((c) => [c?.type, c?.status]));
  nodes.addEventHandler({
    onAdd: (n) => {
      if (running) taintWorker.add(n.metadata.name!);
    },
    onUpdate: (o, n) => {
      if (!running) return;
      if (conditionStatuses(o) !== conditionStatuses(n) || !!o.spec?.unschedulable !== !!n.spec?.unschedulable || JSON.stringify(o.spec?.taints ?? []) !== JSON.stringify(n.spec?.taints ?? [])) {
        taintWorker.add(n.metadata.name!);
      }
      if (taintsOf(o) !== taintsOf(n)) for (const p of podsOn(n.metadata.name!)) podWorker.add(metaNamespaceKey(p));
    },
    onDelete: (n) => {
      health.delete(n.metadata.name!);
      recorder.eventf(nodeRef(n), 'Normal', 'RemovingNode', 'Node %s event: Removing Node %s from Controller', n.metadata.name, n.metadata.name);
    },
  });
  pods.addEventHandler({
    onAdd: (p) => {
      if (running && p.spec?.nodeName) podWorker.add(metaNamespaceKey(p));
    },
    onUpdate: (o, n) => {
      if (!running || !n.spec?.nodeName) return;
      if (o.spec?.nodeName !== n.spec.nodeName || JSON.stringify(o.spec?.tolerations) !== JSON.stringify(n.spec?.tolerations)) podWorker.add(metaNamespaceKey(n));
    },
    onDelete: (p) => {
      scheduled.delete(metaNamespaceKey(p));
    },
  });

  return {
    name: 'node-lifecycle-controller',
    run() {
      running = true;
      // Everyone starts with a fresh grace period, as upstream does after a restart.
      monitorLoop();
      for (const n of nodes.indexer.list()) taintWorker.add(n.metadata.name!);
      for (const p of pods.indexer.list()) if (p.spec?.nodeName) podWorker.add(metaNamespaceKey(p));
      taintWorker.run(1);
      podWorker.run(Math.max(1, opts.workers));
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await monitoring;
      await Promise.all([taintWorker.stop(), podWorker.stop()]);
    },
  };
};
