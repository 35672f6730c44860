// What the pod sync needs from the kubelet around it, and the kubelet's record of one pod.

import type { ApiClient } from '../../client/api-client.ts';
import type { CriClient } from '../cri/services.ts';
import type { ObjectSources } from '../objects/sources.ts';
import type { Node, Pod, PodStatus, ResourceList } from '../pods/api-types.ts';
import type { DNSOptions } from '../pods/dns.ts';
import type { ExecSync } from '../prober/exec.ts';
import type { ProbeManager } from '../prober/manager.ts';
import type { KubeletPaths } from '../volumes/paths.ts';
import type { VolumeManager } from '../volumes/volume-manager.ts';
import type { Backoff } from './backoff.ts';
import type { ImagePuller } from './image-puller.ts';
import type { Limiter } from './limiter.ts';
import type { WaitingReason } from './pod-status.ts';
import type { RuntimeState } from './runtime-state.ts';

export type EventType = 'Normal' | 'Warning';

export interface PodRecord {
  uid: string;
  /** The latest pod object from the API (or the last one seen before it was deleted). */
  pod: Pod;
  admitted: boolean;
  rejection?: WaitingReason;
  /** The API no longer has the pod (deleted, or force-deleted). */
  deletedFromApi: boolean;
  /** Its containers were stopped after deletion; only clean-up is left. */
  terminated: boolean;
  /** DELETE with grace 0 sent (once). */
  deleteSent: boolean;
  /** Succeeded/Failed, reached for good. */
  terminalPhase?: 'Succeeded' | 'Failed';
  /** Waiting reasons of the last sync, by container name. */
  reasons: Map<string, WaitingReason>;
  /** Containers to kill for a failed liveness/startup probe, by name. */
  killRequests: Map<string, { containerId: string; reason: 'Liveness' | 'Startup' }>;
  startTime?: string;
  /** The status last computed (the probe workers read it) and the last one written. */
  status?: PodStatus;
  lastWritten?: string;
  /** The ready sandbox. */
  sandboxId?: string;
  /** Events already recorded for a given key (e.g. one BackOff per container exit), to avoid floods. */
  recorded: Set<string>;
  /** While a deleted pod's containers are being stopped: their IDs and the grace period in use. */
  stopping?: { grace: number; containerIds: string[] };
  /** First failed volume set-up, for upstream's 2-minute "Unable to attach or mount volumes". */
  volumeWaitSince?: number;
}

export interface SyncContext {
  client: ApiClient;
  cri: CriClient;
  runtimeName: string;
  nodeName: string;
  paths: KubeletPaths;
  podLogsDir: string;
  cgroupRoot: string;
  sources: ObjectSources;
  volumes: VolumeManager;
  probes: ProbeManager;
  images: ImagePuller;
  restartBackoff: Backoff;
  state: RuntimeState;
  /** Bounds concurrent RunPodSandbox calls. */
  sandboxLimiter: Limiter;
  execSync: ExecSync;
  dns: DNSOptions;
  node(): Node | undefined;
  hostIPs(): string[];
  memoryCapacity(): number;
  nodeAllocatable(): ResourceList | undefined;
  record(pod: Pod, type: EventType, reason: string, message: string, fieldPath?: string): void;
  log(msg: string): void;
}

export function newRecord(pod: Pod): PodRecord {
  return {
    uid: pod.metadata.uid ?? '',
    pod,
    admitted: false,
    deletedFromApi: false,
    terminated: false,
    deleteSent: false,
    reasons: new Map(),
    killRequests: new Map(),
    recorded: new Set(),
  };
}

export function containerFieldPath(pod: Pod, name: string): string {
  const init = (pod.spec.initContainers ?? []).some((c) => c.name === name) && !pod.spec.containers.some((c) => c.name === name);
  return `spec.${init ? 'initContainers' : 'containers'}{${name}}`;
}
