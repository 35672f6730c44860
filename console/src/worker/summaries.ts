// From API objects to the small summaries the pages draw (pure functions: tested with node:test).

import type { MiniPod, NodeHealth, NodeSummary, Phase, PodSummary } from '../shared/types.ts';

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number of units (cpu: cores, memory: bytes); 0 when unreadable. */
export function quantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return 0;
  const m = /^([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+))?([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return 0;
  const mult = SUFFIX[m[3]!];
  if (mult === undefined) return 0;
  return Number(m[1]) * (m[2] ? 10 ** Number(m[2]) : 1) * mult;
}

export function time(s: unknown): number | undefined {
  if (typeof s !== 'string' || !s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

function condition(obj: any, type: string): any {
  return (obj?.status?.conditions ?? []).find((c: any) => c?.type === type);
}

/** What kubectl's STATUS column says, close enough for a glance. */
export function podStatusText(pod: any): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  const st = pod.status ?? {};
  if (st.reason) return st.reason;
  for (const cs of [...(st.initContainerStatuses ?? [])]) {
    if (cs.state?.waiting?.reason && cs.state.waiting.reason !== 'PodInitializing') return `Init:${cs.state.waiting.reason}`;
  }
  for (const cs of st.containerStatuses ?? []) {
    if (cs.state?.waiting?.reason) return cs.state.waiting.reason;
    if (cs.state?.terminated?.reason && st.phase !== 'Running') return cs.state.terminated.reason;
  }
  if (st.phase === 'Pending' && pod.spec?.nodeName) return 'ContainerCreating';
  return st.phase || 'Pending';
}

function requests(pod: any): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of pod.spec?.containers ?? []) {
    cpu += quantity(c.resources?.requests?.cpu);
    memory += quantity(c.resources?.requests?.memory);
  }
  // An init container runs alone: it counts when it asks for more than the app containers together.
  for (const c of pod.spec?.initContainers ?? []) {
    cpu = Math.max(cpu, quantity(c.resources?.requests?.cpu));
    memory = Math.max(memory, quantity(c.resources?.requests?.memory));
  }
  for (const [k, v] of Object.entries(pod.spec?.overhead ?? {})) {
    if (k === 'cpu') cpu += quantity(v);
    if (k === 'memory') memory += quantity(v);
  }
  return { cpu: Math.round(cpu * 1000), memory };
}

/** A pod's summary. `prev` carries the times the worker saw things happen. */
export function podSummary(pod: any, prev: PodSummary | undefined, now: number | undefined): PodSummary {
  const md = pod.metadata ?? {};
  const st = pod.status ?? {};
  const phase: Phase = st.phase ?? 'Pending';
  const node: string = pod.spec?.nodeName ?? '';
  const ready = condition(pod, 'Ready')?.status === 'True';
  const sched = condition(pod, 'PodScheduled');
  const owner = (md.ownerReferences ?? []).find((o: any) => o.controller) ?? md.ownerReferences?.[0];
  let startedAt: number | undefined;
  for (const cs of st.containerStatuses ?? []) {
    const t = time(cs.state?.running?.startedAt) ?? time(cs.state?.terminated?.startedAt);
    if (t !== undefined && (startedAt === undefined || t > startedAt)) startedAt = t;
  }
  const terminating = !!md.deletionTimestamp;
  const seen = { ...(prev?.seen ?? {}) };
  if (now !== undefined) {
    // Live: note the moment each milestone is first seen.
    if (!prev) seen.created ??= now;
    if (node && !prev?.node) seen.scheduled ??= now;
    if (phase === 'Running' && prev?.phase !== 'Running') seen.running ??= now;
    if (ready && !prev?.ready) seen.ready ??= now;
    if (terminating && !prev?.terminating) seen.deleting ??= now;
  }
  const req = requests(pod);
  const s: PodSummary = {
    uid: md.uid ?? `${md.namespace}/${md.name}`,
    namespace: md.namespace ?? '',
    name: md.name ?? '',
    node,
    phase,
    ready,
    terminating,
    status: podStatusText(pod),
    created: time(md.creationTimestamp) ?? 0,
    scheduledAt: sched?.status === 'True' ? time(sched.lastTransitionTime) : undefined,
    startedAt,
    readyAt: ready ? time(condition(pod, 'Ready')?.lastTransitionTime) : undefined,
    deletingAt: terminating ? time(md.deletionTimestamp) : undefined,
    seen,
    cpu: req.cpu,
    memory: req.memory,
    restarts: (st.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0),
  };
  if (owner) s.owner = { kind: owner.kind, name: owner.name, uid: owner.uid };
  if (!node && sched?.status === 'False') s.unschedulable = { reason: sched.reason ?? '', message: sched.message ?? '' };
  return s;
}

export function miniPod(p: PodSummary): MiniPod {
  return { uid: p.uid, namespace: p.namespace, name: p.name, phase: p.phase, ready: p.ready, terminating: p.terminating, status: p.status };
}

const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'];

/** A node's summary, without its pods' numbers (the worker adds those). */
export function nodeSummary(node: any): Omit<NodeSummary, 'pods' | 'running' | 'pending' | 'failed' | 'succeeded' | 'cpuRequested' | 'memoryRequested'> {
  const md = node.metadata ?? {};
  const ready = condition(node, 'Ready');
  const health: NodeHealth = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
  const problems: string[] = [];
  if (health !== 'Ready') problems.push(ready ? `${ready.reason || 'NotReady'}${ready.message ? `: ${ready.message}` : ''}` : 'no Ready condition yet');
  for (const t of PRESSURE) if (condition(node, t)?.status === 'True') problems.push(t);
  const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
  return {
    name: md.name,
    uid: md.uid ?? md.name,
    health,
    problems,
    unschedulable: !!node.spec?.unschedulable,
    taints: (node.spec?.taints ?? []).map((t: any) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`),
    simulated: md.labels?.['mizzen.dev/simulated'] === 'true',
    kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? '',
    created: time(md.creationTimestamp) ?? 0,
    cpuAllocatable: Math.round(quantity(alloc.cpu) * 1000),
    memoryAllocatable: quantity(alloc.memory),
    podsAllocatable: quantity(alloc.pods),
  };
}

/**
 * Node summaries from a `kubectl get nodes` Table (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`,
 * `includeObject=None`): a tenth of the bytes of the nodes themselves, and all the map needs to
 * draw every node with its health. Columns are found by name (Name, Status, Version; Age and the
 * wide ones are not needed). What a Table does not carry (uid, conditions other than Ready,
 * taints, allocatable) comes with the full list that follows.
 */
export function nodeSummariesFromTable(table: any): ReturnType<typeof nodeSummary>[] {
  const cols: string[] = (table?.columnDefinitions ?? []).map((c: any) => String(c?.name ?? '').toLowerCase());
  const at = (name: string) => cols.indexOf(name);
  const iName = at('name');
  const iStatus = at('status');
  const iVersion = at('version');
  if (iName < 0 || iStatus < 0) return [];
  const out: ReturnType<typeof nodeSummary>[] = [];
  for (const row of table?.rows ?? []) {
    const cells: unknown[] = row?.cells ?? [];
    const name = cells[iName];
    if (typeof name !== 'string' || !name) continue;
    // "Ready", "NotReady", "Unknown", with ",SchedulingDisabled" when cordoned.
    const parts = String(cells[iStatus] ?? '').split(',');
    const health: NodeHealth = parts[0] === 'Ready' ? 'Ready' : parts[0] === 'NotReady' ? 'NotReady' : 'Unknown';
    out.push({
      name,
      uid: row?.object?.metadata?.uid ?? name,
      health,
      problems: health === 'Ready' ? [] : [health === 'NotReady' ? 'NotReady' : 'no Ready condition yet'],
      unschedulable: parts.includes('SchedulingDisabled'),
      taints: [],
      simulated: false,
      kubeletVersion: iVersion >= 0 ? String(cells[iVersion] ?? '') : '',
      created: 0,
      cpuAllocatable: 0,
      memoryAllocatable: 0,
      podsAllocatable: 0,
    });
  }
  return out;
}
