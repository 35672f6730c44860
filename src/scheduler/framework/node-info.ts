// Per-node aggregates the plugins read: the pods on the node, what they request, the host ports
// they hold and which of them carry (anti-)affinity. Built incrementally by the cache.

import { LabelSelector, labelSelectorFromObject, type LabelRequirement } from '../../machinery/labels.ts';
import { addResource, cloneResource, emptyResource, podRequests, resourceFromList, type Resource } from './resource.ts';
import type { Node, Pod } from './types.ts';

export interface AffinityTerm {
  namespaces: Set<string>;
  /** Selects namespaces by label; nothing when unset. */
  nsSelector: LabelSelector;
  selector: LabelSelector;
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

/** A pod plus what scheduling derives from it, computed once. */
export interface PodInfo {
  pod: Pod;
  requests: Resource;
  nonZeroRequests: Resource;
  requiredAffinity: AffinityTerm[];
  requiredAntiAffinity: AffinityTerm[];
  preferredAffinity: WeightedAffinityTerm[];
  preferredAntiAffinity: WeightedAffinityTerm[];
  /** Queue-visible timestamp and attempt count (set by the queue). */
  timestamp?: number;
  attempts?: number;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

export function podUID(pod: Pod): string {
  return pod.metadata.uid ?? podKey(pod);
}

function labelKeysSelector(base: LabelSelector, pod: Pod, matchKeys?: string[], mismatchKeys?: string[]): LabelSelector {
  const labels = pod.metadata.labels ?? {};
  const extra: LabelRequirement[] = [];
  for (const k of matchKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'in', values: [labels[k]] });
  for (const k of mismatchKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'notin', values: [labels[k]] });
  if (!extra.length || base.selectsNothing) return base;
  return new LabelSelector([...base.requirements, ...extra]);
}

function safeSelector(sel: any): LabelSelector {
  try {
    return labelSelectorFromObject(sel);
  } catch {
    return labelSelectorFromObject(null);
  }
}

export function affinityTerm(pod: Pod, t: any): AffinityTerm {
  const namespaces = new Set<string>(t.namespaces ?? []);
  // Neither namespaces nor a selector: the pod's own namespace.
  if (namespaces.size === 0 && !t.namespaceSelector) namespaces.add(pod.metadata.namespace ?? 'default');
  return {
    namespaces,
    nsSelector: safeSelector(t.namespaceSelector ?? null),
    selector: labelKeysSelector(safeSelector(t.labelSelector ?? null), pod, t.matchLabelKeys, t.mismatchLabelKeys),
    topologyKey: t.topologyKey ?? '',
  };
}

/** Does the term select this pod (given its namespace's labels)? */
export function termMatches(term: AffinityTerm, pod: Pod, nsLabels: Record<string, string> | undefined): boolean {
  const ns = pod.metadata.namespace ?? '';
  if (!term.namespaces.has(ns) && !(nsLabels && term.nsSelector.matches(nsLabels))) return false;
  return term.selector.matches(pod.metadata.labels);
}

/**
 * Shared by every PodInfo without terms of that kind, and by every pod requesting no scalar
 * resources: the scheduler cache holds a PodInfo per pod (150,000 of them), and four empty arrays
 * and two empty Maps cost about 0.7 KB of it. A PodInfo's fields are never changed in place.
 */
const NO_TERMS: never[] = Object.freeze([]) as unknown as never[];
const NO_SCALARS: Map<string, number> = new Map();

/**
 * One Resource per distinct request without scalars: pods of one template ask for the same, and two
 * Resources (with their boxed numbers) are about 0.15 KB of every PodInfo. Bounded, as a pod's
 * requests are whatever its author wrote.
 */
const sharedRequests = new Map<string, Resource>();
const MAX_SHARED_REQUESTS = 4096;

function compactRequests(r: Resource): Resource {
  if (r.scalar.size !== 0) return r;
  r.scalar = NO_SCALARS;
  const key = `${r.milliCPU}/${r.memory}/${r.ephemeralStorage}/${r.allowedPodNumber}`;
  const known = sharedRequests.get(key);
  if (known) return known;
  if (sharedRequests.size < MAX_SHARED_REQUESTS) sharedRequests.set(key, r);
  return r;
}

function terms<T>(list: unknown[] | undefined, f: (t: any) => T): T[] {
  return list && list.length ? list.map(f) : NO_TERMS;
}

export function newPodInfo(pod: Pod): PodInfo {
  const aff = pod.spec?.affinity ?? {};
  const pa = aff.podAffinity ?? {};
  const paa = aff.podAntiAffinity ?? {};
  const weighted = (w: any): WeightedAffinityTerm => ({ ...affinityTerm(pod, w.podAffinityTerm ?? {}), weight: w.weight ?? 0 });
  return {
    pod,
    requests: compactRequests(podRequests(pod)),
    nonZeroRequests: compactRequests(podRequests(pod, true)),
    requiredAffinity: terms(pa.requiredDuringSchedulingIgnoredDuringExecution, (t) => affinityTerm(pod, t)),
    requiredAntiAffinity: terms(paa.requiredDuringSchedulingIgnoredDuringExecution, (t) => affinityTerm(pod, t)),
    preferredAffinity: terms(pa.preferredDuringSchedulingIgnoredDuringExecution, weighted),
    preferredAntiAffinity: terms(paa.preferredDuringSchedulingIgnoredDuringExecution, weighted),
  };
}

/** Terms that make an existing pod matter to InterPodAffinity scoring of others. */
export function hasScoredAffinity(pi: PodInfo): boolean {
  return pi.requiredAffinity.length + pi.preferredAffinity.length + pi.preferredAntiAffinity.length > 0;
}

export function hasAffinity(pi: PodInfo): boolean {
  return pi.requiredAffinity.length + pi.requiredAntiAffinity.length + pi.preferredAffinity.length + pi.preferredAntiAffinity.length > 0;
}

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

/** Host ports a pod asks for: app containers and sidecars, defaults 0.0.0.0 / TCP. */
export function podHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c: any) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return out;
}

/** Used host ports: ip -> set of "protocol/port". */
export class HostPortInfo {
  private byIP = new Map<string, Map<string, number>>();

  add(hp: HostPort): void {
    let m = this.byIP.get(hp.ip);
    if (!m) this.byIP.set(hp.ip, (m = new Map()));
    const k = `${hp.protocol}/${hp.port}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  remove(hp: HostPort): void {
    const m = this.byIP.get(hp.ip);
    const k = `${hp.protocol}/${hp.port}`;
    const n = m?.get(k);
    if (!m || n === undefined) return;
    if (n <= 1) m.delete(k);
    else m.set(k, n - 1);
    if (m.size === 0) this.byIP.delete(hp.ip);
  }
  /** 0.0.0.0 conflicts with every IP; a specific IP conflicts with itself and 0.0.0.0. */
  conflicts(hp: HostPort): boolean {
    const k = `${hp.protocol}/${hp.port}`;
    if (hp.ip === '0.0.0.0') {
      for (const m of this.byIP.values()) if (m.has(k)) return true;
      return false;
    }
    return !!this.byIP.get(hp.ip)?.has(k) || !!this.byIP.get('0.0.0.0')?.has(k);
  }
  get size(): number {
    return this.byIP.size;
  }
  clone(): HostPortInfo {
    const c = new HostPortInfo();
    for (const [ip, m] of this.byIP) c.byIP.set(ip, new Map(m));
    return c;
  }
}

/**
 * A snapshot node's numbers, packed: each NodeInfo the Snapshot lists has PACKED_STRIDE doubles at
 * slot * PACKED_STRIDE of one shared Float64Array. The filter and score loops visit hundreds of
 * nodes per pod; reading three Resource objects and their boxed numbers per node cost a cache
 * miss each (`npm run bench -- scheduling-cycle`).
 */
export const PACKED_STRIDE = 10;
export const P_ALLOC_CPU = 0;
export const P_ALLOC_MEMORY = 1;
export const P_ALLOC_EPHEMERAL = 2;
export const P_ALLOC_PODS = 3;
export const P_REQ_CPU = 4;
export const P_REQ_MEMORY = 5;
export const P_REQ_EPHEMERAL = 6;
export const P_PODS = 7;
export const P_NONZERO_CPU = 8;
export const P_NONZERO_MEMORY = 9;

export class NodeInfo {
  private nodeObj: Node | undefined;
  /**
   * Copies of the node fields every filter and score reads, kept on the NodeInfo itself: going
   * through node.spec for each of hundreds of nodes per pod costs a cache miss per object.
   */
  name = '';
  unschedulable = false;
  taints: any[] = NO_TAINTS;
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** How many pods here have terms that InterPodAffinity scoring looks at (hasScoredAffinity). */
  scoredAffinityPods = 0;
  usedPorts = new HostPortInfo();
  requested: Resource = emptyResource();
  /** Requests with the scoring defaults for containers that request nothing. */
  nonZeroRequested: Resource = emptyResource();
  allocatable: Resource = emptyResource();
  /** Bumped on every change; the snapshot copies nodes whose generation moved. */
  generation = 0;
  /**
   * Pods not being deleted, grouped by namespace and labels. Pods of one controller share both, so
   * counting the pods a selector matches (topology spreading) is a few checks per node, not one
   * per pod.
   */
  labelGroups = new Map<string, LabelGroup>();
  /**
   * Where the Snapshot packed this node's numbers (see PACKED_STRIDE); undefined for NodeInfos
   * outside a snapshot, and cleared by any change, so readers fall back to the objects.
   */
  packed: Float64Array | undefined = undefined;
  slot = -1;

  constructor(node?: Node) {
    if (node) this.setNode(node);
  }

  get node(): Node | undefined {
    return this.nodeObj;
  }

  set node(node: Node | undefined) {
    this.nodeObj = node;
    this.name = node?.metadata.name ?? '';
    this.unschedulable = !!node?.spec?.unschedulable;
    const taints = node?.spec?.taints;
    this.taints = Array.isArray(taints) && taints.length ? taints : NO_TAINTS;
  }

  setNode(node: Node): void {
    this.packed = undefined;
    this.node = node;
    this.allocatable = resourceFromList(node.status?.allocatable ?? node.status?.capacity);
  }

  addPodInfo(pi: PodInfo): void {
    this.packed = undefined;
    this.pods.push(pi);
    if (hasAffinity(pi)) this.podsWithAffinity.push(pi);
    if (pi.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity.push(pi);
    if (hasScoredAffinity(pi)) this.scoredAffinityPods++;
    addResource(this.requested, pi.requests);
    addResource(this.nonZeroRequested, pi.nonZeroRequests);
    for (const hp of podHostPorts(pi.pod)) this.usedPorts.add(hp);
    if (!pi.pod.metadata.deletionTimestamp) {
      const key = labelGroupKey(pi.pod);
      const g = this.labelGroups.get(key);
      if (g) g.count++;
      else this.labelGroups.set(key, { namespace: pi.pod.metadata.namespace ?? '', labels: pi.pod.metadata.labels ?? {}, count: 1 });
    }
  }

  addPod(pod: Pod): void {
    this.addPodInfo(newPodInfo(pod));
  }

  /** Remove by uid; returns whether it was there. */
  removePod(pod: Pod): boolean {
    const uid = podUID(pod);
    const i = this.pods.findIndex((p) => podUID(p.pod) === uid);
    if (i < 0) return false;
    this.packed = undefined;
    const [pi] = this.pods.splice(i, 1);
    const drop = (list: PodInfo[]) => {
      const j = list.indexOf(pi);
      if (j >= 0) list.splice(j, 1);
    };
    drop(this.podsWithAffinity);
    drop(this.podsWithRequiredAntiAffinity);
    if (hasScoredAffinity(pi)) this.scoredAffinityPods--;
    subtract(this.requested, pi.requests);
    subtract(this.nonZeroRequested, pi.nonZeroRequests);
    for (const hp of podHostPorts(pi.pod)) this.usedPorts.remove(hp);
    if (!pi.pod.metadata.deletionTimestamp) {
      const key = labelGroupKey(pi.pod);
      const g = this.labelGroups.get(key);
      if (g && --g.count <= 0) this.labelGroups.delete(key);
    }
    return true;
  }

  /** Write this node's numbers at `slot` of a snapshot's packed array and read them from there. */
  packInto(packed: Float64Array, slot: number): void {
    const b = slot * PACKED_STRIDE;
    const a = this.allocatable;
    const r = this.requested;
    packed[b + P_ALLOC_CPU] = a.milliCPU;
    packed[b + P_ALLOC_MEMORY] = a.memory;
    packed[b + P_ALLOC_EPHEMERAL] = a.ephemeralStorage;
    packed[b + P_ALLOC_PODS] = a.allowedPodNumber;
    packed[b + P_REQ_CPU] = r.milliCPU;
    packed[b + P_REQ_MEMORY] = r.memory;
    packed[b + P_REQ_EPHEMERAL] = r.ephemeralStorage;
    packed[b + P_PODS] = this.pods.length;
    packed[b + P_NONZERO_CPU] = this.nonZeroRequested.milliCPU;
    packed[b + P_NONZERO_MEMORY] = this.nonZeroRequested.memory;
    this.packed = packed;
    this.slot = slot;
  }

  clone(): NodeInfo {
    const c = new NodeInfo();
    c.nodeObj = this.nodeObj;
    c.name = this.name;
    c.unschedulable = this.unschedulable;
    c.taints = this.taints;
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.scoredAffinityPods = this.scoredAffinityPods;
    c.usedPorts = this.usedPorts.clone();
    c.requested = cloneResource(this.requested);
    c.nonZeroRequested = cloneResource(this.nonZeroRequested);
    c.allocatable = cloneResource(this.allocatable);
    c.generation = this.generation;
    c.labelGroups = new Map([...this.labelGroups].map(([k, g]) => [k, { ...g }]));
    return c;
  }
}

/** Pods of one namespace with identical labels, counted together. */
export interface LabelGroup {
  namespace: string;
  labels: Record<string, string>;
  count: number;
}

function labelGroupKey(pod: Pod): string {
  const labels = pod.metadata.labels ?? {};
  const keys = Object.keys(labels).sort();
  let k = pod.metadata.namespace ?? '';
  for (const key of keys) k += `\u0000${key}=${labels[key]}`;
  return k;
}

const NO_TAINTS: any[] = [];

function subtract(into: Resource, r: Resource): void {
  into.milliCPU -= r.milliCPU;
  into.memory -= r.memory;
  into.ephemeralStorage -= r.ephemeralStorage;
  for (const [k, v] of r.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) - v);
}

/** A NodeInfo for tests and what-if runs. */
export function nodeInfoWith(node: Node, pods: Pod[] = []): NodeInfo {
  const ni = new NodeInfo(node);
  for (const p of pods) ni.addPod(p);
  return ni;
}
