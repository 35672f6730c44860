// Core scheduler types: pods and nodes as plain JSON, per-node aggregates (NodeInfo), per-cycle
// state, and the plugin interfaces for each extension point.

import type { KObject } from '../../api/types.ts';
import type { MaybeStatus, Status } from './status.ts';
import type { AffinityTerm, NodeInfo, PodInfo } from './node-info.ts';

export type Pod = KObject & { spec?: any; status?: any };
export type Node = KObject & { spec?: any; status?: any };

export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

/** Data plugins share within one scheduling cycle. Cloned for preemption's what-if runs. */
export class CycleState {
  private data = new Map<string, { clone?(): unknown } | unknown>();
  /** Plugins skipped at PreFilter / PreScore for this pod. */
  skipFilter = new Set<string>();
  skipScore = new Set<string>();
  /** Filter plugins left after PreFilter skips (computed once per cycle). */
  activeFilters?: FilterPlugin[];

  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  write(key: string, v: unknown): void {
    this.data.set(key, v);
  }
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) {
      const cl = (v as { clone?: () => unknown })?.clone;
      c.data.set(k, typeof cl === 'function' ? cl.call(v) : v);
    }
    c.skipFilter = new Set(this.skipFilter);
    c.skipScore = new Set(this.skipScore);
    c.activeFilters = this.activeFilters;
    return c;
  }
}

/** A pod in the snapshot and the node it is on. */
export interface PodRef {
  pi: PodInfo;
  ni: NodeInfo;
}

/** Existing pods' required anti-affinity terms grouped by identical term, counted per topology value. */
export interface AntiAffinityGroup {
  term: AffinityTerm;
  counts: Map<string, number>;
}

/** Read access to the cycle's snapshot of the cluster. */
export interface SnapshotLister {
  list(): NodeInfo[];
  get(name: string): NodeInfo | undefined;
  havePodsWithAffinity(): NodeInfo[];
  havePodsWithRequiredAntiAffinity(): NodeInfo[];
  /** Optional indexes (the real snapshot has them) that spare plugins a scan of every pod. */
  podsWithLabel?(namespace: string, key: string, value: string): Iterable<PodRef>;
  /** With labels: only the groups whose terms could select a pod with those labels. */
  antiAffinityGroups?(labels?: Record<string, string>): Iterable<AntiAffinityGroup>;
  /** Changes whenever a node is added or removed or its labels change. */
  nodesVersion?(): number;
  /**
   * Each listed node's value of a label, by its place in list() (a listed NodeInfo's `slot`), so
   * that per-node filters read an array instead of each node's labels.
   */
  labelValues?(key: string): (string | undefined)[];
}

/** Read access to PersistentVolumeClaims, PersistentVolumes and StorageClasses. */
export interface VolumeListers {
  claim(namespace: string, name: string): KObject | undefined;
  volume(name: string): KObject | undefined;
  volumes(): KObject[];
  storageClass(name: string): KObject | undefined;
}

/** A PodDisruptionBudget as preemption needs it. */
export type Pdb = KObject & { spec?: any; status?: any };

/** What plugins may use beyond their args: the snapshot, listers and API writes. */
export interface Handle {
  snapshot(): SnapshotLister;
  /** Labels of a namespace (for namespaceSelector); undefined when unknown. */
  namespaceLabels(name: string): Record<string, string> | undefined;
  /** All namespace names with labels (for namespaceSelector). */
  namespaces(): Array<{ name: string; labels: Record<string, string> }>;
  pdbs(): Pdb[];
  /** Services, ReplicaSets, StatefulSets, ReplicationControllers for default spreading. */
  selectorsForPod?(pod: Pod): import('../../machinery/labels.ts').LabelSelector[];
  /** The framework of the profile (preemption re-runs filters). */
  framework(): FrameworkRunner;
  /** Gracefully delete a victim; patch status of pods; record events. */
  deletePod?(pod: Pod, reason: string): Promise<void>;
  clearNominatedNodeName?(pod: Pod): Promise<void>;
  event?(obj: KObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** POST pods/<name>/binding. */
  bindPod?(pod: Pod, nodeName: string): Promise<void>;
  /** Claims, volumes and storage classes (VolumeBinding); undefined when not watched. */
  volumeListers?(): VolumeListers | undefined;
  /** The scheduler's API client, for plugins that write before binding (VolumeBinding). */
  apiClient?(): import('../../client/api-client.ts').ApiClient | undefined;
  schedulerName: string;
}

/** The subset of the framework runner that plugins (preemption) call back into. */
export interface FrameworkRunner {
  runFilterPlugins(state: CycleState, pod: Pod, node: NodeInfo): Status | undefined;
  runPreFilterExtensionAddPod(state: CycleState, pod: Pod, toAdd: PodInfo, node: NodeInfo): MaybeStatus;
  runPreFilterExtensionRemovePod(state: CycleState, pod: Pod, toRemove: PodInfo, node: NodeInfo): MaybeStatus;
}

export interface Plugin {
  readonly name: string;
}

/** Node names a PreFilter restricts the cycle to; undefined = all nodes. */
export interface PreFilterResult {
  nodeNames?: Set<string>;
  /** Plugins that narrowed the node set (filled in by the framework, for messages). */
  plugins?: string[];
}

export interface PreFilterExtensions {
  addPod(state: CycleState, pod: Pod, toAdd: PodInfo, node: NodeInfo): MaybeStatus;
  removePod(state: CycleState, pod: Pod, toRemove: PodInfo, node: NodeInfo): MaybeStatus;
}

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, nodes: NodeInfo[]): [PreFilterResult | undefined, MaybeStatus];
  preFilterExtensions?(): PreFilterExtensions | undefined;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, node: NodeInfo): MaybeStatus;
}

/** Node name -> the status that rejected it. */
export type NodeToStatus = Map<string, Status>;

export interface PostFilterResult {
  nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: Pod, filtered: NodeToStatus): Promise<[PostFilterResult | undefined, MaybeStatus]>;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: NodeInfo[]): MaybeStatus;
}

export interface NodeScore {
  name: string;
  score: number;
}

export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, node: NodeInfo): [number, MaybeStatus];
  normalizeScore?(state: CycleState, pod: Pod, scores: NodeScore[]): MaybeStatus;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): MaybeStatus;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}

export interface PermitPlugin extends Plugin {
  /** A Wait status holds the pod up to the returned timeout (ms). */
  permit(state: CycleState, pod: Pod, nodeName: string): [MaybeStatus, number];
}

export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): Promise<MaybeStatus>;
}

export interface BindPlugin extends Plugin {
  /** Skip status: let the next bind plugin handle it. */
  bind(state: CycleState, pod: Pod, nodeName: string): Promise<MaybeStatus>;
}

/** Cluster events that may make an unschedulable pod schedulable (queueing hints, coarse). */
export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeUpdate'
  | 'NodeDelete'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  | 'NamespaceChange'
  | 'PdbChange'
  | 'PvcChange'
  | 'PvChange'
  | 'StorageClassChange'
  | 'UnschedulableTimeout'
  | 'ForceActivate';

export interface EnqueueExtensions {
  /** Events after which a pod this plugin rejected is worth retrying. */
  eventsToRegister(): ClusterEvent[];
}

export interface PluginFactoryContext {
  handle: Handle;
  /** pluginConfig args for this plugin (already defaulted by the plugin). */
  args?: any;
}

export type PluginFactory = (ctx: PluginFactoryContext) => Plugin;

export type { NodeInfo, PodInfo };
