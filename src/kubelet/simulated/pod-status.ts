// What a kubelet would report in pod.status for a simulated pod: pure functions of the pod and a few
// facts (addresses, times), so the runner only decides when to write.

import { createHash } from 'node:crypto';
import type { KObject } from '../../api/types.ts';
import { rfc3339 } from '../../client/api-client.ts';
import { parseDuration } from '../../machinery/duration.ts';
import { KUBELET_CONDITIONS, mergeConditions, type KubeletCondition as Condition } from '../pods/pod-conditions.ts';

/**
 * Job-style pods (restartPolicy Never or OnFailure) carrying this annotation finish that long after
 * they start. The value is a Go-style duration: `2s`, `500ms`, `1m30s`. Pods of a Job without it
 * succeed after JOB_POD_DEFAULT_RUN_MS.
 */
export const SIMULATE_DURATION_ANNOTATION = 'mizzen.dev/simulate-duration';
/**
 * Exit code of the finished containers (default 0). Non-zero makes the pod Failed (for OnFailure
 * too: the simulator does not restart containers). Without a duration the pod finishes at once.
 */
export const SIMULATE_EXIT_CODE_ANNOTATION = 'mizzen.dev/simulate-exit-code';


export interface CompletionPlan {
  afterMs: number;
  exitCode: number;
}

/**
 * How long a Job's pod runs when its annotations do not say: a short run that succeeds, as kwok's
 * default stages complete Job pods, so `kubectl create job pi --image=busybox -- true` completes.
 */
export const JOB_POD_DEFAULT_RUN_MS = 1000;

/** Owned by a batch/v1 Job (its controller reference). */
function ownedByJob(pod: KObject): boolean {
  return (pod.metadata.ownerReferences ?? []).some((r) => r.kind === 'Job' && typeof r.apiVersion === 'string' && r.apiVersion.startsWith('batch/'));
}

/** When and how a job-style pod should finish, or undefined for pods that run until deleted. */
export function completionPlan(pod: KObject): CompletionPlan | undefined {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Always') return undefined;
  const ann = pod.metadata.annotations ?? {};
  const dur = ann[SIMULATE_DURATION_ANNOTATION];
  const code = ann[SIMULATE_EXIT_CODE_ANNOTATION];
  if (dur === undefined && code === undefined) return ownedByJob(pod) ? { afterMs: JOB_POD_DEFAULT_RUN_MS, exitCode: 0 } : undefined;
  let afterMs = 0;
  if (dur !== undefined) {
    try {
      afterMs = parseDuration(dur);
    } catch {
      return undefined; // a typo must not kill the pod at once
    }
  }
  let exitCode = 0;
  if (code !== undefined) {
    const n = Number(code);
    exitCode = Number.isInteger(n) && n >= 0 && n <= 255 ? n : 1;
  }
  return { afterMs, exitCode };
}

/** The image reference as a containerd-based runtime reports it: registry, repository and tag spelled out. */
export function normalizeImage(image: string): string {
  if (!image) return image;
  let name = image;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = `docker.io/${slash < 0 ? `library/${name}` : name}`;
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  if (!name.includes('@') && !lastPart.includes(':')) name += ':latest';
  return name;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `repo@sha256:…`, stable per image so identical images share an ID as on a real node. */
export function imageID(image: string): string {
  let id = imageIDs.get(image);
  if (id === undefined) {
    // Few distinct images, thousands of pods: hash each once.
    if (imageIDs.size > 1000) imageIDs.clear();
    imageIDs.set(image, (id = computeImageID(image)));
  }
  return id;
}

const imageIDs = new Map<string, string>();

function computeImageID(image: string): string {
  const norm = normalizeImage(image);
  const at = norm.indexOf('@');
  if (at >= 0) return norm;
  const colon = norm.lastIndexOf(':');
  const repo = colon > norm.lastIndexOf('/') ? norm.slice(0, colon) : norm;
  return `${repo}@sha256:${sha256(`image/${norm}`)}`;
}

export function containerID(podUid: string, container: string): string {
  return `simulated://${sha256(`${podUid}/${container}`)}`;
}

export interface PodFacts {
  hostIP: string;
  podIP: string;
  startedAt: Date;
  now: Date;
}


/** Ready=False while a readiness gate's condition is missing or not True, with upstream's message. */
function readinessGateProblem(pod: KObject): string | undefined {
  const gates: any[] = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return undefined;
  const conds: any[] = pod.status?.conditions ?? [];
  const msgs: string[] = [];
  for (const g of gates) {
    const c = conds.find((x) => x?.type === g?.conditionType);
    if (!c) msgs.push(`corresponding condition of pod readiness gate "${g?.conditionType}" does not exist.`);
    else if (c.status !== 'True') msgs.push(`the status of pod readiness gate "${g?.conditionType}" is not "True", but ${c.status}`);
  }
  return msgs.length ? msgs.join(', ') : undefined;
}

function baseContainer(pod: KObject, c: any): Record<string, any> {
  return {
    name: c.name,
    image: normalizeImage(c.image ?? ''),
    imageID: imageID(c.image ?? ''),
    containerID: containerID(pod.metadata.uid ?? pod.metadata.name ?? '', c.name),
    lastState: {},
    restartCount: 0,
  };
}

function terminated(pod: KObject, c: any, exitCode: number, startedAt: string, finishedAt: string): Record<string, any> {
  const base = baseContainer(pod, c);
  return {
    ...base,
    ready: false,
    started: false,
    state: {
      terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt, containerID: base.containerID },
    },
  };
}

function running(pod: KObject, c: any, startedAt: string): Record<string, any> {
  return { ...baseContainer(pod, c), ready: true, started: true, state: { running: { startedAt } } };
}

function isSidecar(c: any): boolean {
  return c?.restartPolicy === 'Always';
}

function addresses(facts: PodFacts): Record<string, any> {
  return {
    hostIP: facts.hostIP,
    hostIPs: [{ ip: facts.hostIP }],
    podIP: facts.podIP,
    podIPs: [{ ip: facts.podIP }],
    startTime: rfc3339(facts.startedAt),
  };
}

/** The status of a pod whose containers all started and are ready. */
export function runningStatus(pod: KObject, facts: PodFacts): Record<string, any> {
  const started = rfc3339(facts.startedAt);
  const gateProblem = readinessGateProblem(pod);
  const conditions: Condition[] = [
    { type: 'PodReadyToStartContainers', status: 'True' },
    { type: 'Initialized', status: 'True' },
    gateProblem ? { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: gateProblem } : { type: 'Ready', status: 'True' },
    { type: 'ContainersReady', status: 'True' },
  ];
  const status: Record<string, any> = {
    phase: 'Running',
    conditions: mergeConditions(pod.status?.conditions, conditions, facts.now),
    ...addresses(facts),
    containerStatuses: (pod.spec?.containers ?? []).map((c: any) => running(pod, c, started)),
  };
  const inits: any[] = pod.spec?.initContainers ?? [];
  if (inits.length)
    status.initContainerStatuses = inits.map((c) => {
      if (isSidecar(c)) return running(pod, c, started);
      return { ...terminated(pod, c, 0, started, started), ready: true };
    });
  return status;
}

/** The status of a pod whose containers have all exited with exitCode (Succeeded when 0, else Failed). */
export function terminalStatus(pod: KObject, facts: PodFacts & { exitCode: number }): Record<string, any> {
  const started = rfc3339(facts.startedAt);
  const finished = rfc3339(facts.now);
  const phase = facts.exitCode === 0 ? 'Succeeded' : 'Failed';
  const reason = phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
  const conditions: Condition[] = [
    { type: 'PodReadyToStartContainers', status: 'False' },
    phase === 'Succeeded' ? { type: 'Initialized', status: 'True', reason: 'PodCompleted' } : { type: 'Initialized', status: 'True' },
    { type: 'Ready', status: 'False', reason },
    { type: 'ContainersReady', status: 'False', reason },
  ];
  const status: Record<string, any> = {
    phase,
    conditions: mergeConditions(pod.status?.conditions, conditions, facts.now),
    ...addresses(facts),
    containerStatuses: (pod.spec?.containers ?? []).map((c: any) => terminated(pod, c, facts.exitCode, started, finished)),
  };
  const inits: any[] = pod.spec?.initContainers ?? [];
  if (inits.length)
    status.initContainerStatuses = inits.map((c) =>
      isSidecar(c) ? terminated(pod, c, 0, started, finished) : { ...terminated(pod, c, 0, started, started), ready: true },
    );
  return status;
}

/** A compact fingerprint of what matters in a status, to skip writes that would change nothing. */
export function statusFingerprint(status: any): string {
  if (!status) return '';
  const conds = (status.conditions ?? [])
    .filter((c: any) => KUBELET_CONDITIONS.includes(c?.type))
    .map((c: any) => `${c.type}=${c.status}/${c.reason ?? ''}/${c.message ?? ''}`)
    .join(',');
  const cs = (list: any[] | undefined) =>
    (list ?? []).map((c: any) => `${c?.name}:${Object.keys(c?.state ?? {})[0] ?? ''}:${c?.ready}:${c?.state?.terminated?.exitCode ?? ''}`).join(',');
  return [status.phase ?? '', status.podIP ?? '', status.hostIP ?? '', status.startTime ?? '', conds, cs(status.containerStatuses), cs(status.initContainerStatuses)].join('|');
}
