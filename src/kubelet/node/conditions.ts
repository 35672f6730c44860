// The node conditions a real kubelet owns, with upstream's reasons and messages, in upstream's
// order: MemoryPressure, DiskPressure, PIDPressure, Ready. Pressure comes from the eviction
// signals against the hard thresholds; Ready from the runtime's own status (RuntimeReady,
// NetworkReady) and whether the node's runtime answers at all.

import { rfc3339 } from '../../client/api-client.ts';
import { DEFAULT_EVICTION_HARD } from './resources.ts';
import type { FsInfo } from './machine-info.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface NodeCondition {
  type: string;
  status: ConditionStatus;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** What eviction looks at (upstream's signals). */
export interface EvictionSignals {
  memoryCapacityBytes: number;
  memoryWorkingSetBytes: number;
  nodefs: FsInfo;
  /** Where images live (the runtime's root); nodefs when on the same filesystem. */
  imagefs?: FsInfo;
  /** pid_max and processes running, for pid.available. */
  pidMax?: number;
  processes?: number;
}

export interface RuntimeHealth {
  /** The runtime answered Status; false while it is down. */
  reachable: boolean;
  /** Status' conditions: RuntimeReady, NetworkReady (type → {status, reason, message}). */
  conditions: { type: string; status: boolean; reason: string; message: string }[];
  /** An error talking to the runtime, for the message. */
  error?: string;
}

/** How much of the signal is left, against a threshold like `100Mi` or `10%`. */
function below(available: number, capacity: number, threshold: string | undefined): boolean {
  if (!threshold) return false;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(threshold);
  const limit = pct ? (capacity * Number(pct[1])) / 100 : parseBytes(threshold);
  return available < limit;
}

function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(s);
  if (!m) return 0;
  const mult: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
}

export interface Pressure {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

export function pressureFrom(s: EvictionSignals, evictionHard: Record<string, string> = DEFAULT_EVICTION_HARD): Pressure {
  const memAvailable = s.memoryCapacityBytes - s.memoryWorkingSetBytes;
  const imagefs = s.imagefs ?? s.nodefs;
  const disk =
    below(s.nodefs.availableBytes, s.nodefs.capacityBytes, evictionHard['nodefs.available']) ||
    below(s.nodefs.inodesFree, s.nodefs.inodes, evictionHard['nodefs.inodesFree']) ||
    below(imagefs.availableBytes, imagefs.capacityBytes, evictionHard['imagefs.available']) ||
    below(imagefs.inodesFree, imagefs.inodes, evictionHard['imagefs.inodesFree']);
  const pid = s.pidMax !== undefined && s.processes !== undefined && below(s.pidMax - s.processes, s.pidMax, evictionHard['pid.available']);
  return { memory: below(memAvailable, s.memoryCapacityBytes, evictionHard['memory.available']), disk, pid };
}

/** Ready's status and message from the runtime's health (upstream's runtime and network checks). */
export function readiness(h: RuntimeHealth, extraErrors: string[] = []): { ready: boolean; message: string } {
  const errs: string[] = [];
  if (!h.reachable) errs.push(`container runtime is down${h.error ? `: ${h.error}` : ''}`);
  else {
    const rt = h.conditions.find((c) => c.type === 'RuntimeReady');
    const net = h.conditions.find((c) => c.type === 'NetworkReady');
    if (!rt || !rt.status) errs.push(`container runtime not ready: RuntimeReady=false reason:${rt?.reason ?? ''} message:${rt?.message ?? ''}`);
    if (!net || !net.status) errs.push(`container runtime network not ready: NetworkReady=false reason:${net?.reason ?? ''} message:${net?.message ?? ''}`);
  }
  errs.push(...extraErrors);
  return errs.length ? { ready: false, message: errs.join(', ') } : { ready: true, message: 'kubelet is posting ready status' };
}

/**
 * The four conditions, merged into the node's current ones: lastTransitionTime moves only when a
 * status flips; lastHeartbeatTime is now.
 */
export function nodeConditions(existing: any[] | undefined, p: Pressure, r: { ready: boolean; message: string }, now: Date): NodeCondition[] {
  const ts = rfc3339(now);
  const old = new Map<string, any>((existing ?? []).filter((c) => c && typeof c.type === 'string').map((c) => [c.type, c]));
  const make = (type: string, status: ConditionStatus, reason: string, message: string): NodeCondition => {
    const prev = old.get(type);
    return { type, status, lastHeartbeatTime: ts, lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : ts, reason, message };
  };
  return [
    p.memory
      ? make('MemoryPressure', 'True', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available')
      : make('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    p.disk ? make('DiskPressure', 'True', 'KubeletHasDiskPressure', 'kubelet has disk pressure') : make('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    p.pid ? make('PIDPressure', 'True', 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available') : make('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    r.ready ? make('Ready', 'True', 'KubeletReady', r.message) : make('Ready', 'False', 'KubeletNotReady', r.message),
  ];
}

/** The node's pressure conditions as the pod admission (src/kubelet/pods/admission.ts) wants them. */
export function pressureConditionTypes(p: Pressure): string[] {
  return [p.memory && 'MemoryPressure', p.disk && 'DiskPressure', p.pid && 'PIDPressure'].filter((x): x is string => !!x);
}
