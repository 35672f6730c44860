// The pod status the kubelet reports (upstream kubelet_pods.go generateAPIPodStatus, getPhase,
// convertToAPIContainerStatuses and status/generate.go): container statuses from the runtime's
// containers and the waiting reasons of the last sync, the phase, the kubelet's conditions, IPs,
// start time and QoS class. Pure: the core supplies the runtime state and what it decided.

import { rfc3339 } from '../../machinery/time.ts';
import type { Container, ContainerStatus, Pod, PodStatus } from '../pods/api-types.ts';
import { computePodQOS } from '../pods/qos.ts';
import { mergeConditions, type KubeletCondition as Condition } from '../pods/pod-conditions.ts';
import type { PodRuntimeState, RuntimeContainer } from './runtime-state.ts';

export interface WaitingReason {
  reason: string;
  message?: string;
}

export interface StatusInput {
  pod: Pod;
  state?: PodRuntimeState;
  /** Why a container is waiting (CrashLoopBackOff, ErrImagePull, CreateContainerConfigError...), by name. */
  reasons: Map<string, WaitingReason>;
  hostIPs: string[];
  startTime?: string;
  /** e.g. 'containerd' (container IDs are `containerd://<id>`). */
  runtimeName: string;
  /** The pod was rejected at admission. */
  rejection?: WaitingReason;
  /** A phase the pod reached for good (Succeeded/Failed are never left). */
  terminalPhase?: 'Succeeded' | 'Failed';
  /** The pod was deleted and its containers stopped: its phase becomes terminal (upstream 1.27+). */
  stopped?: boolean;
  /** Sets `started` / `ready` (the probe manager's updatePodStatus). */
  setProbeFlags?: (pod: Pod, status: PodStatus) => void;
  now?: Date;
}

const time = (ms: number) => (ms > 0 ? rfc3339(new Date(ms)) : undefined);

function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

function terminatedOf(c: RuntimeContainer, containerID: string): Record<string, unknown> {
  const t: Record<string, unknown> = { exitCode: c.exitCode };
  const reason = c.reason || (c.exitCode === 0 ? 'Completed' : 'Error');
  t.reason = reason;
  if (c.message) t.message = c.message;
  // A container that never started (StartError) has no start time; containerd may report it as 0.
  t.startedAt = time(c.startedAt) ?? null;
  t.finishedAt = time(c.finishedAt) ?? null;
  t.containerID = containerID;
  return t;
}

function containerStatus(input: StatusInput, spec: Container, init: boolean, defaultWaiting: string): ContainerStatus & Record<string, any> {
  const all = (input.state?.containers ?? []).filter((c) => c.name === spec.name);
  const latest = all[0];
  const previous = all[1];
  const id = (c: RuntimeContainer) => `${input.runtimeName}://${c.id}`;
  const s: Record<string, any> = { name: spec.name, state: {}, lastState: {}, ready: false, restartCount: latest?.restartCount ?? 0, image: spec.image ?? '', imageID: '' };
  if (init) delete s.ready;
  const waiting = input.reasons.get(spec.name);
  if (latest) {
    s.imageID = latest.imageRef;
    s.containerID = id(latest);
    if (previous && previous.state === 'CONTAINER_EXITED') s.lastState = { terminated: terminatedOf(previous, id(previous)) };
    switch (latest.state) {
      case 'CONTAINER_RUNNING':
        s.state = { running: { startedAt: time(latest.startedAt) } };
        break;
      case 'CONTAINER_CREATED':
        s.state = { waiting: { reason: waiting?.reason ?? 'ContainerCreating', ...(waiting?.message ? { message: waiting.message } : {}) } };
        break;
      case 'CONTAINER_EXITED':
      case 'CONTAINER_UNKNOWN': {
        const term = latest.state === 'CONTAINER_UNKNOWN' ? { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', containerID: id(latest) } : terminatedOf(latest, id(latest));
        if (waiting) {
          // It will be started again: waiting, with the exit as its last state.
          s.lastState = { terminated: term };
          s.state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
        } else {
          s.state = { terminated: term };
        }
        break;
      }
    }
  } else {
    s.state = { waiting: { reason: waiting?.reason ?? defaultWaiting, ...(waiting?.message ? { message: waiting.message } : {}) } };
  }
  s.started = false;
  return s as ContainerStatus & Record<string, any>;
}


/** Upstream getPhase. */
export function podPhase(pod: Pod, init: ContainerStatus[], regular: ContainerStatus[], stoppedForGood = false): string {
  // Nothing restarts in a pod that was stopped for good: exited containers decide as with Never.
  const policy = stoppedForGood ? 'Never' : pod.spec.restartPolicy ?? 'Always';
  const inits = pod.spec.initContainers ?? [];
  let pendingInit = 0;
  let failedInit = 0;
  for (const spec of inits) {
    const s = init.find((x) => x.name === spec.name);
    if (isSidecar(spec)) {
      if (!s?.started) pendingInit++;
      continue;
    }
    const t = s?.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (t && t.exitCode !== 0) failedInit++;
    else if ((s?.state?.waiting && (s as any).lastState?.terminated?.exitCode !== 0 && (s as any).lastState?.terminated)) failedInit++;
    pendingInit++;
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const spec of pod.spec.containers) {
    const s = regular.find((x) => x.name === spec.name);
    const st = s?.state ?? {};
    if (st.running) running++;
    else if (st.terminated) {
      stopped++;
      if (st.terminated.exitCode === 0) succeeded++;
    } else if (st.waiting) {
      if ((s as any).lastState?.terminated) stopped++;
      else waiting++;
    } else waiting++;
  }
  if (pendingInit > 0 && running === 0 && stopped === 0) {
    return failedInit > 0 && policy === 'Never' ? 'Failed' : 'Pending';
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

export function buildPodStatus(input: StatusInput): PodStatus & Record<string, any> {
  const { pod } = input;
  const now = input.now ?? new Date();
  const sandbox = input.state?.sandboxes[0];
  const sandboxReady = sandbox?.state === 'SANDBOX_READY';
  const podIPs = sandboxReady ? sandbox!.ips : [];
  const inits = pod.spec.initContainers ?? [];

  const initStatuses = inits.map((c) => containerStatus(input, c, true, 'PodInitializing'));
  const initDone = inits.every((c) => {
    const s = initStatuses.find((x) => x.name === c.name);
    return isSidecar(c) ? !!s?.state?.running : s?.state?.terminated?.exitCode === 0;
  });
  const regular = pod.spec.containers.map((c) => containerStatus(input, c, false, initDone ? 'ContainerCreating' : 'PodInitializing'));

  const status: PodStatus & Record<string, any> = {};
  if (input.rejection) {
    status.phase = 'Failed';
    status.reason = input.rejection.reason;
    status.message = input.rejection.message;
  }
  status.hostIP = input.hostIPs[0];
  status.hostIPs = input.hostIPs.map((ip) => ({ ip }));
  if (podIPs.length) {
    status.podIP = podIPs[0];
    status.podIPs = podIPs.map((ip) => ({ ip }));
  } else if (pod.status?.podIP && input.terminalPhase) {
    // A finished pod keeps the IP it had (upstream keeps the last known one).
    status.podIP = pod.status.podIP;
    status.podIPs = pod.status.podIPs;
  }
  if (input.startTime) status.startTime = input.startTime;
  status.qosClass = computePodQOS(pod);
  status.containerStatuses = regular;
  if (inits.length) status.initContainerStatuses = initStatuses;
  input.setProbeFlags?.(pod, status);

  if (!input.rejection) status.phase = input.terminalPhase ?? podPhase(pod, initStatuses, regular, input.stopped);
  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  const conds: Condition[] = [];
  conds.push({ type: 'PodReadyToStartContainers', status: sandboxReady && podIPs.length + (pod.spec.hostNetwork ? 1 : 0) > 0 ? 'True' : 'False' });
  const incompleteInit = inits.filter((c) => {
    const s = initStatuses.find((x) => x.name === c.name);
    return isSidecar(c) ? !s?.started : s?.state?.terminated?.exitCode !== 0;
  });
  if (incompleteInit.length && !(terminal && status.phase === 'Succeeded')) {
    conds.push({ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incompleteInit.map((c) => c.name).join(' ')}]` });
  } else {
    conds.push({ type: 'Initialized', status: 'True', ...(status.phase === 'Succeeded' ? { reason: 'PodCompleted' } : {}) });
  }
  const unready = pod.spec.containers.filter((c) => !regular.find((x) => x.name === c.name)?.ready);
  let containersReady: Condition;
  if (status.phase === 'Succeeded') containersReady = { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  else if (status.phase === 'Failed') containersReady = { type: 'ContainersReady', status: 'False', reason: 'PodFailed' };
  else if (unready.length || !initDone) {
    const names = unready.map((c) => c.name);
    containersReady = { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${names.join(' ')}]` };
  } else containersReady = { type: 'ContainersReady', status: 'True' };
  let ready: Condition = { ...containersReady, type: 'Ready' };
  if (ready.status === 'True') {
    const gateProblems: string[] = [];
    for (const g of (pod.spec as any).readinessGates ?? []) {
      const c = (pod.status as any)?.conditions?.find((x: any) => x?.type === g?.conditionType);
      if (!c) gateProblems.push(`corresponding condition of pod readiness gate "${g?.conditionType}" does not exist.`);
      else if (c.status !== 'True') gateProblems.push(`the status of pod readiness gate "${g?.conditionType}" is not "True", but ${c.status}`);
    }
    if (gateProblems.length) ready = { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: gateProblems.join(', ') };
  }
  conds.push(ready, containersReady);
  status.conditions = mergeConditions((pod.status as any)?.conditions, conds, now) as any;
  return status;
}

/** The status without times that change on their own, to decide whether a write is needed. */
export function statusKey(status: unknown): string {
  return JSON.stringify(status);
}
