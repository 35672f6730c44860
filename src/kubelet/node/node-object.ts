// The Node a real kubelet registers: name, labels (the well-known ones plus --node-labels),
// taints (--register-with-taints, and the uninitialized taint under --cloud-provider=external)
// and the status it reports: capacity, allocatable, conditions, addresses, daemon endpoints,
// nodeInfo and images.

import { isQualifiedName, isValidLabelValue } from '../../api/validation.ts';
import type { KObject } from '../../api/types.ts';
import type { VersionResponse, Image } from '../cri/types.ts';
import { kubernetesVersion } from '../../apiserver/version.ts';
import type { MachineInfo } from './machine-info.ts';
import type { NodeCondition } from './conditions.ts';

/** What `kubectl get nodes` shows as VERSION: the version the API server reports. */
export const KUBELET_VERSION = `v${kubernetesVersion.major}.${kubernetesVersion.minor}.${kubernetesVersion.patch}+mizzen`;

/** Taint the cloud node controller removes once it has initialised a node (upstream cloudproviderapi). */
export const UNINITIALIZED_TAINT = { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' };

/** Upstream's nodeStatusMaxImages. */
export const MAX_IMAGES_IN_STATUS = 50;

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** Parses `--register-with-taints key=value:Effect,key:Effect`. Throws a message for the command line. */
export function parseTaints(text: string): Taint[] {
  const out: Taint[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim();
    if (!t) continue;
    const colon = t.lastIndexOf(':');
    if (colon <= 0) throw new Error(`invalid taint "${t}": expected KEY[=VALUE]:EFFECT`);
    const effect = t.slice(colon + 1);
    if (effect !== 'NoSchedule' && effect !== 'PreferNoSchedule' && effect !== 'NoExecute') throw new Error(`invalid taint effect "${effect}" in "${t}": must be NoSchedule, PreferNoSchedule or NoExecute`);
    const kv = t.slice(0, colon);
    const eq = kv.indexOf('=');
    const key = eq >= 0 ? kv.slice(0, eq) : kv;
    const value = eq >= 0 ? kv.slice(eq + 1) : undefined;
    const kp = isQualifiedName(key);
    if (kp.length) throw new Error(`invalid taint key "${key}": ${kp[0]}`);
    if (value !== undefined) {
      const vp = isValidLabelValue(value);
      if (vp.length) throw new Error(`invalid taint value "${value}": ${vp[0]}`);
    }
    out.push(value === undefined || value === '' ? { key, effect } : { key, value, effect });
  }
  return out;
}

export interface NodeIdentity {
  nodeName: string;
  machine: MachineInfo;
  /** --node-labels */
  labels?: Record<string, string>;
  /** --register-with-taints */
  taints?: Taint[];
  /** --cloud-provider=external: register with the uninitialized taint. */
  externalCloudProvider?: boolean;
}

/** The labels a kubelet sets on its own Node (upstream's default labels plus --node-labels). */
export function defaultNodeLabels(id: NodeIdentity): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': id.machine.architecture,
    'beta.kubernetes.io/os': id.machine.operatingSystem,
    'kubernetes.io/arch': id.machine.architecture,
    'kubernetes.io/hostname': id.nodeName,
    'kubernetes.io/os': id.machine.operatingSystem,
  };
}

export function registrationTaints(id: NodeIdentity): Taint[] {
  const taints = [...(id.taints ?? [])];
  if (id.externalCloudProvider && !taints.some((t) => t.key === UNINITIALIZED_TAINT.key)) taints.push({ ...UNINITIALIZED_TAINT } as Taint);
  return taints;
}

export interface StatusInputs {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  conditions: NodeCondition[];
  addresses: { type: string; address: string }[];
  kubeletPort: number;
  runtimeVersion: VersionResponse;
  images: Image[];
}

export function nodeInfo(m: MachineInfo, runtime: VersionResponse): Record<string, string> {
  return {
    machineID: m.machineID,
    systemUUID: m.systemUUID,
    bootID: m.bootID,
    kernelVersion: m.kernelVersion,
    osImage: m.osImage,
    containerRuntimeVersion: `${runtime.runtimeName}://${runtime.runtimeVersion}`,
    kubeletVersion: KUBELET_VERSION,
    // Deprecated, still set by a 1.32 kubelet.
    kubeProxyVersion: KUBELET_VERSION,
    operatingSystem: m.operatingSystem,
    architecture: m.architecture,
  };
}

/** The images in node status: every name (digests, then tags), largest first, at most 50. */
export function statusImages(images: Image[]): { names: string[]; sizeBytes: number }[] {
  return images
    .map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: Number(i.size) || 0 }))
    .filter((i) => i.names.length > 0)
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, MAX_IMAGES_IN_STATUS);
}

export function nodeStatus(id: NodeIdentity, s: StatusInputs): Record<string, any> {
  return {
    capacity: s.capacity,
    allocatable: s.allocatable,
    conditions: s.conditions,
    addresses: s.addresses,
    daemonEndpoints: { kubeletEndpoint: { Port: s.kubeletPort } },
    nodeInfo: nodeInfo(id.machine, s.runtimeVersion),
    images: statusImages(s.images),
  };
}

export function buildNode(id: NodeIdentity, status: Record<string, any>): KObject {
  const taints = registrationTaints(id);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.nodeName,
      labels: { ...defaultNodeLabels(id), ...(id.labels ?? {}) },
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: taints.length ? { taints } : {},
    status,
  };
}

/** The status without what changes on every report (heartbeat times), to tell whether anything changed. */
export function statusFingerprint(status: Record<string, any>): string {
  const conds = (status.conditions ?? []).map((c: NodeCondition) => ({ ...c, lastHeartbeatTime: undefined }));
  return JSON.stringify({ ...status, conditions: conds });
}
