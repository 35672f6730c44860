// Which Services want a cloud balancer, which changes matter to it, and which nodes may be its
// backends (upstream's service controller, with StableLoadBalancerNodeSet, GA since 1.30: a node's
// readiness does not move it in or out of balancers; exclusion, deletion and the autoscaler's
// taint do).

import type { KObject } from '../../../api/types.ts';
import { FINALIZER_LB_CLEANUP, LABEL_EXCLUDE_FROM_LB, TAINT_TO_BE_DELETED } from '../../labels.ts';

/** type LoadBalancer without a loadBalancerClass (a class hands the Service to another implementation). */
export function wantsLoadBalancer(svc: KObject): boolean {
  return svc.spec?.type === 'LoadBalancer' && (svc.spec?.loadBalancerClass ?? null) === null;
}

export function hasLBFinalizer(svc: KObject): boolean {
  return (svc.metadata.finalizers ?? []).includes(FINALIZER_LB_CLEANUP);
}

/** The balancer must go: the Service is being deleted, or stopped being a LoadBalancer, and we still hold it. */
export function needsCleanup(svc: KObject): boolean {
  if (!hasLBFinalizer(svc)) return false;
  return !!svc.metadata.deletionTimestamp || svc.spec?.type !== 'LoadBalancer';
}

export function nodeIncluded(node: KObject): boolean {
  return !(LABEL_EXCLUDE_FROM_LB in (node.metadata.labels ?? {}));
}

export function nodeHasProviderID(node: KObject): boolean {
  return !!node.spec?.providerID;
}

export function nodeUntainted(node: KObject): boolean {
  return !((node.spec?.taints ?? []) as any[]).some((t) => t?.key === TAINT_TO_BE_DELETED);
}

export function nodeNotDeleted(node: KObject): boolean {
  return !node.metadata.deletionTimestamp;
}

export function nodeReady(node: KObject): boolean {
  const c = ((node.status?.conditions ?? []) as any[]).find((x) => x?.type === 'Ready');
  return c?.status === 'True';
}

export type NodePredicate = (node: KObject) => boolean;

/** Upstream's stableNodeSetPredicates. */
export const loadBalancerNodePredicates: NodePredicate[] = [nodeNotDeleted, nodeIncluded, nodeHasProviderID, nodeUntainted];

export function eligibleNodes(nodes: KObject[]): KObject[] {
  return nodes.filter((n) => loadBalancerNodePredicates.every((p) => p(n))).sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
}

/** A node update that can change any balancer's node set (upstream shouldSyncUpdatedNode). */
export function shouldSyncUpdatedNode(oldNode: KObject, newNode: KObject): boolean {
  return nodeIncluded(oldNode) !== nodeIncluded(newNode) || nodeHasProviderID(oldNode) !== nodeHasProviderID(newNode);
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The fields of a port a balancer depends on. */
function portKey(p: any): string {
  return JSON.stringify([p?.name ?? '', p?.protocol ?? 'TCP', p?.port, p?.nodePort ?? 0, p?.targetPort ?? null, p?.appProtocol ?? null]);
}

export function portsEqualForLB(a: KObject, b: KObject): boolean {
  const x: any[] = a.spec?.ports ?? [];
  const y: any[] = b.spec?.ports ?? [];
  return x.length === y.length && x.every((p, i) => portKey(p) === portKey(y[i]));
}

export interface ChangeEvent {
  reason: string;
  message: string;
}

/**
 * Whether a Service update needs its balancer synced, and the Normal event upstream records for
 * the changes it names (Type, LoadBalancerSourceRanges, LoadbalancerIP, ExternalIP, UID,
 * ExternalTrafficPolicy, HealthCheckNodePort, IPFamilies).
 */
export function needsUpdate(oldSvc: KObject, newSvc: KObject): { update: boolean; event?: ChangeEvent } {
  const o = oldSvc.spec ?? {};
  const n = newSvc.spec ?? {};
  const wantsOld = wantsLoadBalancer(oldSvc);
  const wantsNew = wantsLoadBalancer(newSvc);
  if (!wantsOld && !wantsNew) return { update: false };
  if (wantsOld !== wantsNew) return { update: true, event: { reason: 'Type', message: `${o.type ?? ''} -> ${n.type ?? ''}` } };
  if (wantsNew && !sameJSON(o.loadBalancerSourceRanges, n.loadBalancerSourceRanges))
    return { update: true, event: { reason: 'LoadBalancerSourceRanges', message: `${goList(o.loadBalancerSourceRanges)} -> ${goList(n.loadBalancerSourceRanges)}` } };
  if (!portsEqualForLB(oldSvc, newSvc) || o.sessionAffinity !== n.sessionAffinity) return { update: true };
  if (!sameJSON(o.sessionAffinityConfig, n.sessionAffinityConfig)) return { update: true };
  if ((o.loadBalancerIP ?? '') !== (n.loadBalancerIP ?? '')) return { update: true, event: { reason: 'LoadbalancerIP', message: `${o.loadBalancerIP ?? ''} -> ${n.loadBalancerIP ?? ''}` } };
  const oe: string[] = o.externalIPs ?? [];
  const ne: string[] = n.externalIPs ?? [];
  if (oe.length !== ne.length) return { update: true, event: { reason: 'ExternalIP', message: `Count: ${oe.length} -> ${ne.length}` } };
  for (let i = 0; i < oe.length; i++) if (oe[i] !== ne[i]) return { update: true, event: { reason: 'ExternalIP', message: `Added: ${ne[i]}` } };
  if (!sameJSON(oldSvc.metadata.annotations, newSvc.metadata.annotations)) return { update: true };
  if (oldSvc.metadata.uid !== newSvc.metadata.uid) return { update: true, event: { reason: 'UID', message: `${oldSvc.metadata.uid} -> ${newSvc.metadata.uid}` } };
  if ((o.externalTrafficPolicy ?? '') !== (n.externalTrafficPolicy ?? ''))
    return { update: true, event: { reason: 'ExternalTrafficPolicy', message: `${o.externalTrafficPolicy ?? ''} -> ${n.externalTrafficPolicy ?? ''}` } };
  if ((o.healthCheckNodePort ?? 0) !== (n.healthCheckNodePort ?? 0))
    return { update: true, event: { reason: 'HealthCheckNodePort', message: `${o.healthCheckNodePort ?? 0} -> ${n.healthCheckNodePort ?? 0}` } };
  const of = (o.ipFamilies ?? []).length;
  const nf = (n.ipFamilies ?? []).length;
  if (of !== nf) return { update: true, event: { reason: 'IPFamilies', message: `Count: ${of} -> ${nf}` } };
  return { update: false };
}

/** A list as Go's %v prints it: [a b c]. */
function goList(v: unknown): string {
  return `[${((v as string[] | undefined) ?? []).join(' ')}]`;
}

/** Status equality as upstream's LoadBalancerStatusEqual (order matters). */
export function loadBalancerStatusEqual(a: unknown, b: unknown): boolean {
  const norm = (s: any) => ((s?.ingress ?? []) as any[]).map((i) => ({ ip: i?.ip ?? '', hostname: i?.hostname ?? '', ipMode: i?.ipMode ?? '', ports: i?.ports ?? [] }));
  return sameJSON(norm(a), norm(b));
}
