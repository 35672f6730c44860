// Kubelet admission: may this pod run here, given the node and the pods already admitted? The
// checks and messages follow upstream's admit handlers in their order: eviction (node pressure),
// sysctl allowlist, then lifecycle/predicate.go (OS, resources, node affinity, node name, host
// ports, NoExecute taints), reusing the scheduler's own fit checks as upstream does.

import { RequiredNodeAffinity, findUntoleratedTaint, tolerationsTolerate } from '../../scheduler/framework/helpers.ts';
import { nodeInfoWith, podHostPorts } from '../../scheduler/framework/node-info.ts';
import { podRequests } from '../../scheduler/framework/resource.ts';
import { ERR_REASON_POD as NODE_AFFINITY_REASON, NAME as NODE_AFFINITY } from '../../scheduler/plugins/node-affinity/node-affinity.ts';
import { ERR_REASON as NODE_NAME_REASON, NAME as NODE_NAME } from '../../scheduler/plugins/node-name/node-name.ts';
import { ERR_REASON as NODE_PORTS_REASON, NAME as NODE_PORTS } from '../../scheduler/plugins/node-ports/node-ports.ts';
import { fitsRequest } from '../../scheduler/plugins/node-resources-fit/node-resources-fit.ts';
import { NAME as TAINT_TOLERATION } from '../../scheduler/plugins/taint-toleration/taint-toleration.ts';
import type { Node, Pod } from './api-types.ts';
import { computePodQOS, isCriticalPod } from './qos.ts';
import { sysctlDotName } from './security-context.ts';

export const TAINT_NOT_TOLERATED = "node(s) had taints that the pod didn't tolerate";
const OS_LABEL = 'kubernetes.io/os';

/** A rejected pod: the core sets phase Failed with this reason and `Pod was rejected: <message>`, and records a Warning event. */
export interface Rejection {
  reason: string;
  message: string;
}

/** The status message upstream writes for a rejected pod. */
export function rejectionStatusMessage(r: Rejection): string {
  return `Pod was rejected: ${r.message}`;
}

// Sysctls that are namespaced and safe to allow by default (upstream sysctl/safe_sysctls.go, 1.32).
const SAFE_SYSCTLS: Record<string, 'ipc' | 'net'> = {
  'kernel.shm_rmid_forced': 'ipc',
  'net.ipv4.ip_local_port_range': 'net',
  'net.ipv4.tcp_syncookies': 'net',
  'net.ipv4.ping_group_range': 'net',
  'net.ipv4.ip_unprivileged_port_start': 'net',
  'net.ipv4.ip_local_reserved_ports': 'net',
  'net.ipv4.tcp_keepalive_time': 'net',
  'net.ipv4.tcp_fin_timeout': 'net',
  'net.ipv4.tcp_keepalive_intvl': 'net',
  'net.ipv4.tcp_keepalive_probes': 'net',
  'net.ipv4.tcp_rmem': 'net',
  'net.ipv4.tcp_wmem': 'net',
};

/** Which namespace a sysctl (or a `prefix*` pattern) belongs to, for the hostNetwork/hostIPC check. */
function sysctlNamespace(name: string): 'ipc' | 'net' | undefined {
  if (name.startsWith('net.')) return 'net';
  if (name.startsWith('kernel.shm') || name.startsWith('kernel.msg') || name === 'kernel.sem' || name.startsWith('fs.mqueue.')) return 'ipc';
  return undefined;
}

export interface AdmissionOptions {
  /** The node's OS (default linux). */
  os?: string;
  /** Node pressure conditions currently true (MemoryPressure, DiskPressure, PIDPressure). */
  pressureConditions?: string[];
  /** The kubelet's --allowed-unsafe-sysctls: names or `prefix*` patterns. */
  allowedUnsafeSysctls?: string[];
  /** Static pods skip the taint check (upstream). */
  isStaticPod?: boolean;
}

function evictionAdmit(pod: Pod, conditions: string[]): Rejection | undefined {
  if (!conditions.length || isCriticalPod(pod)) return undefined;
  if (conditions.length === 1 && conditions[0] === 'MemoryPressure') {
    if (computePodQOS(pod) !== 'BestEffort') return undefined;
    if (tolerationsTolerate(pod.spec.tolerations, { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' })) return undefined;
  }
  return { reason: 'Evicted', message: `The node had condition: [${conditions.join(' ')}]. ` };
}

function sysctlAdmit(pod: Pod, allowedUnsafe: string[]): Rejection | undefined {
  for (const s of pod.spec.securityContext?.sysctls ?? []) {
    const name = sysctlDotName(s.name);
    let ns: 'ipc' | 'net' | undefined;
    let allowed = false;
    if (name in SAFE_SYSCTLS) {
      ns = SAFE_SYSCTLS[name];
      allowed = true;
    } else {
      for (const p of allowedUnsafe) {
        const dotted = sysctlDotName(p);
        if (dotted === name || (dotted.endsWith('*') && name.startsWith(dotted.slice(0, -1)))) {
          allowed = true;
          ns = sysctlNamespace(dotted.endsWith('*') ? dotted.slice(0, -1) : dotted);
          break;
        }
      }
    }
    let err: string | undefined;
    if (!allowed) err = `"${name}" not allowlisted`;
    else if (ns === 'ipc' && pod.spec.hostIPC) err = `"${name}" not allowed with host ipc enabled`;
    else if (ns === 'net' && pod.spec.hostNetwork) err = `"${name}" not allowed with host net enabled`;
    if (err) return { reason: 'SysctlForbidden', message: `forbidden sysctl: ${err}` };
  }
  return undefined;
}

const RESOURCE_REASONS: Record<string, string> = { cpu: 'OutOfcpu', memory: 'OutOfmemory', 'ephemeral-storage': 'OutOfephemeral-storage', pods: 'OutOfpods' };

/**
 * Admit `pod` onto `node` where `activePods` (admitted, not terminal, not this pod) already run.
 * Returns undefined to admit, or the first reason for rejection.
 */
export function admitPod(pod: Pod, node: Node, activePods: Pod[], opts: AdmissionOptions = {}): Rejection | undefined {
  const evicted = evictionAdmit(pod, opts.pressureConditions ?? []);
  if (evicted) return evicted;
  const sysctl = sysctlAdmit(pod, opts.allowedUnsafeSysctls ?? []);
  if (sysctl) return sysctl;

  // The node's own OS is what counts (upstream corrects a wrong node label to runtime.GOOS).
  const os = opts.os ?? 'linux';
  const podOS = pod.metadata.labels?.[OS_LABEL];
  if (podOS !== undefined && podOS !== os) {
    return { reason: 'PodOSSelectorNodeLabelDoesNotMatch', message: 'Failed to admit pod as the `kubernetes.io/os` label doesn\'t match node label' };
  }
  if (pod.spec.os?.name && pod.spec.os.name !== os) {
    return { reason: 'PodOSNotSupported', message: "Failed to admit pod as the OS field doesn't match node OS" };
  }

  const info = nodeInfoWith(node, activePods.filter((p) => p.metadata.uid !== pod.metadata.uid));
  const req = podRequests(pod);
  // Extended resources the node does not have are cluster-level (or DRA) resources: not checked here.
  const missingExtended = new Set([...req.scalar.keys()].filter((k) => !info.allocatable.scalar.has(k)));
  const insufficient = fitsRequest(req, info, missingExtended);
  if (insufficient.length) {
    const r = insufficient[0];
    return {
      reason: RESOURCE_REASONS[r.resourceName] ?? `OutOf${r.resourceName}`,
      message: `Node didn't have enough resource: ${r.resourceName}, requested: ${r.requested}, used: ${r.used}, capacity: ${r.capacity}`,
    };
  }
  const predicate = (name: string, desc: string): Rejection => ({ reason: name, message: `Predicate ${name} failed: ${desc}` });
  if (!new RequiredNodeAffinity(pod).match(node)) return predicate(NODE_AFFINITY, NODE_AFFINITY_REASON);
  if (pod.spec.nodeName && pod.spec.nodeName !== node.metadata.name) return predicate(NODE_NAME, NODE_NAME_REASON);
  for (const hp of podHostPorts(pod)) {
    if (info.usedPorts.conflicts(hp)) return predicate(NODE_PORTS, NODE_PORTS_REASON);
  }
  if (!opts.isStaticPod && findUntoleratedTaint(node.spec?.taints, pod.spec.tolerations, (e) => e === 'NoExecute')) {
    return predicate(TAINT_TOLERATION, TAINT_NOT_TOLERATED);
  }
  return undefined;
}
