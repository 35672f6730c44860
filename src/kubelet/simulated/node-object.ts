// The Node and Lease objects a simulated kubelet registers and keeps fresh.

import { createHash } from 'node:crypto';
import type { KObject } from '../../api/types.ts';
import { microTime, rfc3339 } from '../../client/api-client.ts';
import { nodeInternalIP } from './addresses.ts';

export const SIMULATED_LABEL = 'mizzen.dev/simulated';
export const KUBELET_VERSION = 'v1.32.4-mizzen';
export const CONTAINER_RUNTIME_VERSION = 'simulated://1.0';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The kubelet's default lease duration (--node-lease-duration-seconds). */
export const LEASE_DURATION_SECONDS = 40;

export interface NodeTemplate {
  capacity: Record<string, string>;
  /** Extra labels on every node (may override the defaults, except the hostname). */
  labels?: Record<string, string>;
}

/** The conditions a healthy kubelet reports, in upstream's order, with its reasons and messages. */
const HEALTHY_CONDITIONS: ReadonlyArray<{ type: string; status: 'True' | 'False'; reason: string; message: string }> = [
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
];

/** A stable fake identifier (machine-id style: 32 hex digits) derived from the node name. */
function fakeId(name: string, salt: string): string {
  return createHash('sha256').update(`${salt}/${name}`).digest('hex').slice(0, 32);
}

function uuidFrom(hex32: string): string {
  return `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20, 32)}`;
}

export function nodeLabels(name: string, tpl: NodeTemplate): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': 'simulated',
    [SIMULATED_LABEL]: 'true',
    ...(tpl.labels ?? {}),
    'kubernetes.io/hostname': name,
  };
}

/**
 * Merge the healthy kubelet conditions into a node's current ones: other writers' conditions are
 * kept, lastHeartbeatTime moves to now, lastTransitionTime only moves when the status flips.
 */
export function healthyNodeConditions(existing: any[] | undefined, now: Date): any[] {
  const ts = rfc3339(now);
  const old = new Map<string, any>();
  for (const c of existing ?? []) if (c && typeof c.type === 'string') old.set(c.type, c);
  const ours = HEALTHY_CONDITIONS.map((h) => {
    const prev = old.get(h.type);
    return {
      type: h.type,
      status: h.status,
      lastHeartbeatTime: ts,
      lastTransitionTime: prev && prev.status === h.status && prev.lastTransitionTime ? prev.lastTransitionTime : ts,
      reason: h.reason,
      message: h.message,
    };
  });
  const ourTypes = new Set(HEALTHY_CONDITIONS.map((h) => h.type));
  const others = (existing ?? []).filter((c) => c && !ourTypes.has(c.type));
  return [...ours, ...others];
}

/** True when every condition we own says what a healthy kubelet would say. */
export function nodeLooksHealthy(node: KObject): boolean {
  const conds: any[] = node.status?.conditions ?? [];
  return HEALTHY_CONDITIONS.every((h) => conds.some((c) => c?.type === h.type && c.status === h.status && c.reason === h.reason));
}

/** Everything the kubelet reports in node.status, as of now. */
export function nodeStatus(name: string, index: number, tpl: NodeTemplate, existingConditions: any[] | undefined, now: Date): Record<string, any> {
  const machineId = fakeId(name, 'machine');
  return {
    capacity: { ...tpl.capacity },
    allocatable: { ...tpl.capacity },
    conditions: healthyNodeConditions(existingConditions, now),
    addresses: [
      { type: 'InternalIP', address: nodeInternalIP(index) },
      { type: 'Hostname', address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: machineId,
      systemUUID: uuidFrom(fakeId(name, 'system')),
      bootID: uuidFrom(fakeId(name, 'boot')),
      kernelVersion: '6.1.0-mizzen-simulated',
      osImage: 'Mizzen Simulated Node',
      containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
      kubeletVersion: KUBELET_VERSION,
      // Deprecated, and still set by a 1.32 kubelet (DisableNodeKubeProxyVersion is off until 1.33).
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/** The Node object a kubelet registers (status included; see registration for servers that drop it). */
export function buildNode(name: string, index: number, tpl: NodeTemplate, now: Date): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: nodeLabels(name, tpl),
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {},
    status: nodeStatus(name, index, tpl, undefined, now),
  };
}

/** The node's heartbeat Lease in kube-node-lease, owned by the Node as the kubelet makes it. */
export function buildLease(nodeName: string, nodeUid: string | undefined, now: Date, durationSeconds = LEASE_DURATION_SECONDS): KObject {
  const metadata: KObject['metadata'] = { name: nodeName, namespace: NODE_LEASE_NAMESPACE };
  if (nodeUid) metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }];
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata,
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) },
  };
}
