// What the kubelet's HTTPS server needs from the rest of the kubelet: the container runtime's
// streaming calls (CRI Exec, Attach, PortForward), the pods the kubelet runs, the containers' log
// files, and node stats. The server knows nothing else about how pods are run.

import type { KObject } from '../../api/types.ts';

/** CRI ExecRequest (runtime.v1). */
export interface ExecRequest {
  containerId: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  /** Never true together with tty (CRI refuses it). */
  stderr: boolean;
}

/** CRI AttachRequest (runtime.v1). */
export interface AttachRequest {
  containerId: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** CRI PortForwardRequest (runtime.v1). */
export interface PortForwardRequest {
  podSandboxId: string;
  port: number[];
}

/**
 * The CRI streaming calls. Each answers a single-use URL of the runtime's streaming server
 * (containerd: http://127.0.0.1:PORT/exec/TOKEN), which speaks SPDY: remotecommand v1-v4 for
 * exec and attach, portforward.k8s.io for port-forward. A rejected call throws an Error whose
 * message is shown to the user; `code` may carry the gRPC status code (5 = NOT_FOUND, ...).
 */
export interface StreamingRuntime {
  exec(req: ExecRequest): Promise<{ url: string }>;
  attach(req: AttachRequest): Promise<{ url: string }>;
  portForward(req: PortForwardRequest): Promise<{ url: string }>;
}

/** The pods this kubelet runs, as the kubelet sees them. */
export interface KubeletPods {
  /** Every pod bound to this node that the kubelet knows (GET /pods). */
  list(): KObject[];
  /** A pod by namespace and name; with a uid, only that instance of the pod. */
  get(namespace: string, name: string, uid?: string): KObject | undefined;
  /** The CRI sandbox ID of the pod while it has one. */
  sandboxId(pod: KObject): string | undefined;
  /** The runtime ID (without the `containerd://` scheme) of the running container of that name. */
  runningContainerId(pod: KObject, container: string): string | undefined;
}

/** The runtime's view of a container's log (CRI ContainerStatus). */
export interface ContainerLogSource {
  /** The container's CRI log file (ContainerStatus.log_path), if it has one. */
  logPath(containerId: string): Promise<string | undefined>;
  /** Whether the container still runs: following its log stops when it does not. */
  isRunning(containerId: string): Promise<boolean>;
}

/** Node and pod statistics for GET /stats/summary (a kubelet stats API Summary object). */
export interface StatsProvider {
  summary(): Promise<unknown>;
  /** GET /metrics/resource: upstream's resource metrics in the Prometheus text format. */
  resourceMetrics?(): Promise<string>;
}

/** The ID of a container from its status' containerID (`containerd://abc` → `abc`). */
export function runtimeId(containerID: string | undefined): string | undefined {
  if (!containerID) return undefined;
  const i = containerID.indexOf('://');
  return i >= 0 ? containerID.slice(i + 3) : containerID;
}

/**
 * The running container of that name according to the pod's status: what a KubeletPods can
 * answer when its pod objects carry the kubelet's own status.
 */
export function runningContainerIdFromStatus(pod: KObject, container: string): string | undefined {
  const all = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
  const s = all.find((c: any) => c?.name === container);
  return s?.state?.running ? runtimeId(s.containerID) : undefined;
}
