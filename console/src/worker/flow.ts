// An object's way through the system, as lanes of steps with the time each took: a Deployment,
// its ReplicaSets (made by the deployment controller), their pods (made by the ReplicaSet
// controller, placed by the scheduler, started by a kubelet). Times come from what the worker saw
// happen (milliseconds) where it was watching, else from the objects' own timestamps and events
// (seconds). Pure: tested with node:test.

import type { EventSummary, Flow, FlowLane, FlowStep, PodSummary, Ref } from '../shared/types.ts';
import { time } from './summaries.ts';

export interface FlowInputs {
  root: Ref;
  /** The root object and the workload objects between it and the pods (ReplicaSets). */
  rootObject?: any;
  middle: any[];
  /** Pods of the root (current, and those seen going away). */
  pods: PodSummary[];
  /** Events by involved object uid. */
  events: (uid: string) => EventSummary[];
  /** When the worker saw objects appear or go, by uid (ms). */
  seen: (uid: string) => { created?: number; deleted?: number } | undefined;
}

const ACTOR_BY_SOURCE: Record<string, string> = {
  'default-scheduler': 'scheduler',
  kubelet: 'kubelet',
};

function actorOf(source: string): string {
  if (ACTOR_BY_SOURCE[source]) return ACTOR_BY_SOURCE[source]!;
  if (source.endsWith('-controller') || source.endsWith('controller-manager')) return `controller manager (${source})`;
  return source || 'someone';
}

function step(actor: string, what: string, seenAt: number | undefined, stamped: number | undefined, warning = false): FlowStep | undefined {
  if (seenAt !== undefined) return { actor, what, at: seenAt, precision: 'ms', warning };
  if (stamped !== undefined) return { actor, what, at: stamped, precision: 's', warning };
  return undefined;
}

/** Who wrote an object first, from its managed fields (the manager of the oldest entry). */
function creator(obj: any): string | undefined {
  const mf = obj?.metadata?.managedFields;
  if (!Array.isArray(mf) || mf.length === 0) return undefined;
  const first = [...mf].sort((a, b) => (time(a.time) ?? 0) - (time(b.time) ?? 0))[0];
  return first?.manager;
}

function eventSteps(events: EventSummary[], skip: Set<string>): FlowStep[] {
  return events
    .filter((e) => !skip.has(e.reason))
    .map((e) => ({ actor: actorOf(e.source), what: `${e.reason}: ${e.message}${e.count > 1 ? ` (×${e.count})` : ''}`, at: e.first, precision: 's' as const, warning: e.type === 'Warning' }));
}

/**
 * Steps in time order, each with the time since the one before (or since `base`). A difference
 * involving a second-precision time is itself only good to a second: it says so (`precision: 's'`).
 */
function finish(steps: (FlowStep | undefined)[], base?: { at: number; precision: 'ms' | 's' }): FlowStep[] {
  // The first step given is the object's creation. An event stamped to the second (its time cut
  // down to the whole second) can read up to a second before a creation seen to the millisecond:
  // it happened after it, so it is put at the creation rather than listed before it.
  const created = steps[0];
  if (created) for (const s of steps) if (s && s !== created && s.precision === 's' && s.at < created.at && created.at - s.at < 1000) s.at = created.at;
  const out = steps.filter((s): s is FlowStep => !!s).sort((a, b) => a.at - b.at);
  let prev = base;
  for (const s of out) {
    if (prev !== undefined) {
      s.took = Math.max(0, s.at - prev.at);
      if (prev.precision === 's') s.tookPrecision = 's';
    }
    if (s.precision === 's') s.tookPrecision = 's';
    prev = s;
  }
  return out;
}

function objectLane(obj: any, ref: Ref, inputs: FlowInputs, createdBy: string): FlowLane {
  const md = obj.metadata ?? {};
  const seen = inputs.seen(md.uid) ?? {};
  const events = inputs.events(md.uid);
  const st = obj.status ?? {};
  const steps = finish([
    step(creator(obj) ?? createdBy, `${ref.kind} ${md.name} created`, seen.created, time(md.creationTimestamp)),
    ...eventSteps(events, new Set()),
    md.deletionTimestamp ? step('garbage collector / user', 'deletion asked', undefined, time(md.deletionTimestamp)) : undefined,
    seen.deleted !== undefined ? step('API server', 'gone', seen.deleted, undefined) : undefined,
  ]);
  const want = obj.spec?.replicas;
  const state = want === undefined ? '' : `${st.readyReplicas ?? 0}/${want} ready${st.replicas !== undefined && st.replicas !== want ? `, ${st.replicas} exist` : ''}`;
  return { ref: { ...ref, name: md.name, namespace: md.namespace, uid: md.uid }, title: `${ref.kind} ${md.name}`, state, steps, gone: seen.deleted !== undefined };
}

function podLane(p: PodSummary, ownerCreated: { at: number; precision: 'ms' | 's' } | undefined, inputs: FlowInputs): FlowLane {
  const events = inputs.events(p.uid);
  const created = events.find((e) => e.reason === 'SuccessfulCreate');
  const scheduled = events.find((e) => e.reason === 'Scheduled');
  const steps: (FlowStep | undefined)[] = [
    step(p.owner ? `controller manager (${created?.source || `${p.owner.kind.toLowerCase()}-controller`})` : creatorOfPod(p), `pod created${p.owner ? ` for ${p.owner.kind} ${p.owner.name}` : ''}`, p.seen.created, p.created),
  ];
  if (p.node) steps.push(step('scheduler', `assigned to ${p.node}`, p.seen.scheduled, p.scheduledAt ?? (scheduled ? scheduled.first : undefined)));
  else if (p.unschedulable) steps.push({ actor: 'scheduler', what: `cannot place it: ${p.unschedulable.message || p.unschedulable.reason}`, at: lastFailure(events) ?? p.created, precision: 's', warning: true });
  if (p.startedAt !== undefined || p.seen.running !== undefined) steps.push(step(`kubelet on ${p.node}`, 'containers started', p.seen.running, p.startedAt));
  if (p.ready) steps.push(step(`kubelet on ${p.node}`, 'Ready', p.seen.ready, p.readyAt));
  if (p.terminating) steps.push(step('API server', 'deletion asked (terminating)', p.seen.deleting, p.deletingAt));
  if (p.seen.deleted !== undefined) steps.push(step(p.node ? `kubelet on ${p.node}` : 'API server', 'gone', p.seen.deleted, undefined));
  // Other events (probes failing, evictions, kills) are steps too; those already shown are skipped.
  steps.push(...eventSteps(events, new Set(['Scheduled', 'SuccessfulCreate', 'FailedScheduling'])));
  return {
    ref: { group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespace: p.namespace, name: p.name, uid: p.uid },
    title: `Pod ${p.name}`,
    state: p.seen.deleted !== undefined ? 'gone' : p.status,
    node: p.node || undefined,
    steps: finish(steps, ownerCreated),
    gone: p.seen.deleted !== undefined,
  };
}

function creatorOfPod(_p: PodSummary): string {
  return 'user';
}

function lastFailure(events: EventSummary[]): number | undefined {
  const f = events.filter((e) => e.reason === 'FailedScheduling');
  return f.length ? Math.max(...f.map((e) => e.time)) : undefined;
}

const MIDDLE_REF: Record<string, Omit<Ref, 'name'>> = {
  ReplicaSet: { group: 'apps', version: 'v1', kind: 'ReplicaSet', resource: 'replicasets' },
};

export function buildFlow(inputs: FlowInputs): Flow {
  const root = inputs.root;
  // A node already gone when its flow is opened still has the pods that were on it to show.
  const goneNode = !inputs.rootObject && root.kind === 'Node' && inputs.pods.length > 0;
  if (!inputs.rootObject && root.kind !== 'Pod' && !goneNode) return { root, found: false, message: `${root.kind} ${root.namespace ? `${root.namespace}/` : ''}${root.name} was not found`, start: Date.now(), lanes: [] };
  const lanes: FlowLane[] = [];
  const rootCreated = time(inputs.rootObject?.metadata?.creationTimestamp);
  if (inputs.rootObject && root.kind !== 'Pod') lanes.push(objectLane(inputs.rootObject, root, inputs, 'user'));
  const createdOf = new Map<string, { at: number; precision: 'ms' | 's' } | undefined>();
  const at = (seen: number | undefined, stamped: number | undefined) => (seen !== undefined ? { at: seen, precision: 'ms' as const } : stamped !== undefined ? { at: stamped, precision: 's' as const } : undefined);
  if (inputs.rootObject) createdOf.set(inputs.rootObject.metadata?.uid, at(inputs.seen(inputs.rootObject.metadata?.uid)?.created, rootCreated));
  const middle = [...inputs.middle].sort((a, b) => (time(a.metadata?.creationTimestamp) ?? 0) - (time(b.metadata?.creationTimestamp) ?? 0));
  for (const m of middle) {
    const ref = { ...(MIDDLE_REF[m.kind] ?? { group: 'apps', version: 'v1', kind: m.kind ?? 'ReplicaSet', resource: 'replicasets' }), name: m.metadata?.name };
    const lane = objectLane(m, ref as Ref, inputs, 'controller manager (deployment-controller)');
    // The ReplicaSet's first step took this long after the Deployment appeared.
    const rootAt = createdOf.get(inputs.rootObject?.metadata?.uid);
    if (lane.steps[0] && rootAt) {
      lane.steps[0].took = Math.max(0, lane.steps[0].at - rootAt.at);
      if (rootAt.precision === 's' || lane.steps[0].precision === 's') lane.steps[0].tookPrecision = 's';
    }
    lanes.push(lane);
    createdOf.set(m.metadata?.uid, at(inputs.seen(m.metadata?.uid)?.created, time(m.metadata?.creationTimestamp)));
  }
  const pods = [...inputs.pods].sort((a, b) => (a.seen.created ?? a.created) - (b.seen.created ?? b.created) || a.name.localeCompare(b.name));
  for (const p of pods) lanes.push(podLane(p, p.owner ? createdOf.get(p.owner.uid) : undefined, inputs));
  const starts = lanes.flatMap((l) => l.steps.map((s) => s.at));
  return { root, found: true, start: starts.length ? Math.min(...starts) : (rootCreated ?? Date.now()), lanes };
}
