// Pods: defaults, create/update strategy, validation and the `kubectl get pods` table.

import { field, type FieldError } from '../../machinery/errors.ts';
import { deepEqual, validateImmutable } from '../validation.ts';
import { humanAge, humanDuration, type KObject, type ResourceDef } from '../types.ts';
import { defaultPodOnlyFields, defaultPodSpec, podQOSClass, validatePodSpec } from './pod-spec.ts';
import { validateTolerations } from './scheduling.ts';

/** Tolerations the DefaultTolerationSeconds admission plugin adds. */
const defaultTolerationKeys = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

export function addDefaultTolerations(spec: any): void {
  const tolerations: any[] = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  const tolerates = (key: string) =>
    tolerations.some((t) => (t?.effect === 'NoExecute' || !t?.effect) && ((t?.operator === 'Exists' && !t?.key) || t?.key === key));
  const added = defaultTolerationKeys.filter((k) => !tolerates(k));
  if (added.length === 0) return;
  spec.tolerations = [...tolerations, ...added.map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }))];
}

export function defaultPod(pod: KObject): void {
  pod.spec ??= {};
  defaultPodSpec(pod.spec);
  defaultPodOnlyFields(pod.spec);
}

const updatableFields =
  '`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function clone<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

/** A compact field-by-field rendering of what changed, in place of upstream's Go diff. */
function specDiff(next: any, prev: any): string {
  const keys = [...new Set([...Object.keys(prev ?? {}), ...Object.keys(next ?? {})])];
  const lines = ['  core.PodSpec{'];
  for (const k of keys) {
    if (deepEqual(next?.[k], prev?.[k])) continue;
    if (prev?.[k] !== undefined) lines.push(`- \t${k}: ${JSON.stringify(prev[k])},`);
    if (next?.[k] !== undefined) lines.push(`+ \t${k}: ${JSON.stringify(next[k])},`);
  }
  lines.push('  }');
  return lines.join('\n') + '\n';
}

function tolerationKey(t: any): string {
  return JSON.stringify([t?.key ?? '', t?.operator ?? '', t?.value ?? '', t?.effect ?? '']);
}

/** Upstream ValidatePodUpdate, minus metadata (generic). */
export function validatePodUpdate(pod: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = validatePodSpec(pod.spec, 'spec');
  const spec = pod.spec ?? {};
  const oldSpec = old.spec ?? {};
  const containers: any[] = Array.isArray(spec.containers) ? spec.containers : [];
  const oldContainers: any[] = Array.isArray(oldSpec.containers) ? oldSpec.containers : [];
  if (containers.length !== oldContainers.length) {
    errs.push(field.forbidden('spec.containers', 'pod updates may not add or remove containers'));
    return errs;
  }
  const initContainers: any[] = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  const oldInit: any[] = Array.isArray(oldSpec.initContainers) ? oldSpec.initContainers : [];
  if (initContainers.length !== oldInit.length) {
    errs.push(field.forbidden('spec.initContainers', 'pod updates may not add or remove containers'));
    return errs;
  }
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    if (typeof oldSpec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds > oldSpec.activeDeadlineSeconds)
      errs.push(field.invalid('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be less than or equal to previous value'));
  } else if (typeof oldSpec.activeDeadlineSeconds === 'number') {
    errs.push(field.invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  if (oldSpec.nodeName) errs.push(...validateImmutable(spec.nodeName, oldSpec.nodeName, 'spec.nodeName'));

  // Tolerations: existing ones stay, only their tolerationSeconds (NoExecute) may shrink.
  const newTols: any[] = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  const oldTols: any[] = Array.isArray(oldSpec.tolerations) ? oldSpec.tolerations : [];
  let tolerationsOK = true;
  for (const ot of oldTols) {
    const match = newTols.find((nt) => tolerationKey(nt) === tolerationKey(ot));
    if (!match) {
      tolerationsOK = false;
      continue;
    }
    if (!deepEqual(match.tolerationSeconds, ot.tolerationSeconds)) {
      const shrinking = typeof ot.tolerationSeconds === 'number' && typeof match.tolerationSeconds === 'number' && match.tolerationSeconds <= ot.tolerationSeconds;
      if (!shrinking) tolerationsOK = false;
    }
  }
  if (!tolerationsOK) errs.push(field.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
  errs.push(...validateTolerations(spec.tolerations, 'spec.tolerations'));

  // Scheduling gates may only be removed.
  const oldGates = new Set<string>((oldSpec.schedulingGates ?? []).map((g: any) => g?.name));
  for (const g of spec.schedulingGates ?? [])
    if (!oldGates.has(g?.name)) errs.push(field.forbidden('spec.schedulingGates', `only deletion is allowed, but found new scheduling gate '${g?.name}'`));

  // Everything else must be unchanged: overlay the mutable parts with the old values and compare.
  const munged = clone(spec);
  munged.containers = containers.map((c, i) => ({ ...clone(c), image: oldContainers[i]?.image }));
  if (initContainers.length) munged.initContainers = initContainers.map((c, i) => ({ ...clone(c), image: oldInit[i]?.image }));
  for (const k of ['activeDeadlineSeconds', 'tolerations', 'schedulingGates'] as const) {
    if (oldSpec[k] === undefined) delete munged[k];
    else munged[k] = clone(oldSpec[k]);
  }
  if (typeof oldSpec.terminationGracePeriodSeconds === 'number' && oldSpec.terminationGracePeriodSeconds < 0 && munged.terminationGracePeriodSeconds === 1)
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  // The server's binding sets nodeName once; an unset nodeName is not a change we report here.
  if (!oldSpec.nodeName) {
    if (oldSpec.nodeName === undefined) delete munged.nodeName;
    else munged.nodeName = oldSpec.nodeName;
  } else munged.nodeName = oldSpec.nodeName;
  if (!deepEqual(munged, oldSpec)) errs.push(field.forbidden('spec', `pod updates may not change fields other than ${updatableFields}\n${specDiff(munged, oldSpec)}`));

  for (const [list, name] of [[containers, 'containers'], [initContainers, 'initContainers']] as const)
    list.forEach((c: any, i: number) => {
      if (!c?.image) {
        if (!errs.some((e) => e.field === `spec.${name}[${i}].image`)) errs.push(field.required(`spec.${name}[${i}].image`));
      }
    });
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Table

function isRestartableInit(c: any): boolean {
  return c?.restartPolicy === 'Always';
}

function laterDate(a: number, b: string | undefined): number {
  const t = b ? Date.parse(b) : NaN;
  return !Number.isNaN(t) && t > a ? t : a;
}

/** Ready, Status and Restarts cells as upstream's pod printer computes them; `timed`: Restarts says how long ago. */
export function podStatusCells(pod: KObject, now: number): { ready: string; reason: string; restarts: string; timed: boolean } {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const conditions: any[] = Array.isArray(status.conditions) ? status.conditions : [];
  let restarts = 0;
  let sidecarRestarts = 0;
  let totalContainers = Array.isArray(spec.containers) ? spec.containers.length : 0;
  let readyContainers = 0;
  let lastRestart = 0;
  let lastSidecarRestart = 0;
  let reason: string = status.reason || status.phase || '';
  if (conditions.some((c) => c?.type === 'PodScheduled' && c?.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const initSpecs = new Map<string, any>();
  for (const c of spec.initContainers ?? []) {
    initSpecs.set(c?.name, c);
    if (isRestartableInit(c)) totalContainers++;
  }
  const initCount = Array.isArray(spec.initContainers) ? spec.initContainers.length : 0;

  let initializing = false;
  const initStatuses: any[] = Array.isArray(status.initContainerStatuses) ? status.initContainerStatuses : [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] ?? {};
    restarts += cs.restartCount ?? 0;
    const lastTerm = cs.lastState?.terminated;
    if (lastTerm) lastRestart = laterDate(lastRestart, lastTerm.finishedAt);
    const sidecar = isRestartableInit(initSpecs.get(cs.name));
    if (sidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      if (lastTerm) lastSidecarRestart = laterDate(lastSidecarRestart, lastTerm.finishedAt);
    }
    const term = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (term && (term.exitCode ?? 0) === 0) continue;
    if (sidecar && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode ?? 0}`;
      else reason = `Init:${term.reason}`;
    } else if (waiting && waiting.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
    break;
  }

  const initializedTrue = conditions.some((c) => c?.type === 'Initialized' && c?.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses: any[] = Array.isArray(status.containerStatuses) ? status.containerStatuses : [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] ?? {};
      restarts += cs.restartCount ?? 0;
      if (cs.lastState?.terminated) lastRestart = laterDate(lastRestart, cs.lastState.terminated.finishedAt);
      const waiting = cs.state?.waiting;
      const term = cs.state?.terminated;
      if (waiting && waiting.reason) reason = waiting.reason;
      else if (term && term.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c?.type === 'Ready' && c?.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  const phase = status.phase;
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsText = String(restarts);
  const timed = restarts !== 0 && lastRestart !== 0;
  if (timed) restartsText = `${restarts} (${humanDuration(Math.max(0, now - lastRestart))} ago)`;
  return { ready: `${readyContainers}/${totalContainers}`, reason, restarts: restartsText, timed };
}

function podRow(pod: KObject, now: number): unknown[] {
  const { ready, reason, restarts } = podStatusCells(pod, now);
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const podIP = (Array.isArray(status.podIPs) && status.podIPs[0]?.ip) || '<none>';
  let gates = '<none>';
  const readinessGates: any[] = Array.isArray(spec.readinessGates) ? spec.readinessGates : [];
  if (readinessGates.length > 0) {
    let trueCount = 0;
    for (const g of readinessGates) {
      const c = (status.conditions ?? []).find((x: any) => x?.type === g?.conditionType);
      if (c?.status === 'True') trueCount++;
    }
    gates = `${trueCount}/${readinessGates.length}`;
  }
  return [
    pod.metadata.name,
    ready,
    reason,
    restarts,
    humanAge(pod.metadata.creationTimestamp, now),
    podIP,
    spec.nodeName || '<none>',
    status.nominatedNodeName || '<none>',
    gates,
  ];
}

export const pods: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  model: 'V1Pod',
  strategy: {
    defaults: defaultPod,
    prepareForCreate(obj) {
      obj.spec ??= {};
      addDefaultTolerations(obj.spec);
      obj.status = { phase: 'Pending', qosClass: podQOSClass(obj) };
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    validate: (obj) => validatePodSpec(obj.spec, 'spec'),
    validateUpdate: validatePodUpdate,
  },
  status: {
    prepareForUpdate(obj, old) {
      obj.spec = clone(old.spec);
      // pods/status cannot touch owner references (upstream: old kubelets corrupted them).
      if (old.metadata.ownerReferences === undefined) delete obj.metadata.ownerReferences;
      else obj.metadata.ownerReferences = clone(old.metadata.ownerReferences);
      // qosClass is derived from the spec and never changes.
      if (old.status?.qosClass) {
        obj.status ??= {};
        obj.status.qosClass = old.status.qosClass;
      }
    },
    validateUpdate(obj) {
      const errs: FieldError[] = [];
      const phases = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];
      const phase = obj.status?.phase;
      if (phase !== undefined && phase !== '' && !phases.includes(phase)) errs.push(field.notSupported('status.phase', phase, phases));
      if (obj.status?.nominatedNodeName) {
        // Upstream validates it as a node name (DNS subdomain).
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(obj.status.nominatedNodeName))
          errs.push(field.invalid('status.nominatedNodeName', obj.status.nominatedNodeName, 'must be a valid node name'));
      }
      return errs;
    },
  },
  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', priority: 0, description: 'Name must be unique within a namespace.' },
      { name: 'Ready', type: 'string', priority: 0, description: 'The aggregate readiness state of this pod for accepting traffic.' },
      { name: 'Status', type: 'string', priority: 0, description: 'The aggregate status of the containers in this pod.' },
      { name: 'Restarts', type: 'string', priority: 0, description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.' },
      { name: 'Age', type: 'string', priority: 0, description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' },
      { name: 'IP', type: 'string', priority: 1, description: 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.' },
      { name: 'Node', type: 'string', priority: 1, description: 'NodeName is a request to schedule this pod onto a specific node.' },
      { name: 'Nominated Node', type: 'string', priority: 1, description: 'nominatedNodeName is set only when this pod preempts other pods on the node.' },
      { name: 'Readiness Gates', type: 'string', priority: 1, description: 'If specified, all readiness gates will be evaluated for pod readiness.' },
    ],
    row: podRow,
    // Only a restart's "(5m ago)" depends on the time besides the age: the API server keeps the
    // other pods' cells, so listing 150,000 pods as a Table again parses none of them.
    agesOnly: (pod) => !podStatusCells(pod, 0).timed,
  },
  fieldSelectors: {
    'spec.nodeName': (o) => o.spec?.nodeName ?? '',
    'spec.restartPolicy': (o) => o.spec?.restartPolicy ?? '',
    'spec.schedulerName': (o) => o.spec?.schedulerName ?? '',
    'spec.serviceAccountName': (o) => o.spec?.serviceAccountName ?? '',
    'spec.hostNetwork': (o) => String(o.spec?.hostNetwork === true),
    'status.phase': (o) => o.status?.phase ?? '',
    'status.podIP': (o) => o.status?.podIPs?.[0]?.ip ?? o.status?.podIP ?? '',
    'status.podIPs': (o) => o.status?.podIPs?.[0]?.ip ?? o.status?.podIP ?? '',
    'status.nominatedNodeName': (o) => o.status?.nominatedNodeName ?? '',
  },
};
