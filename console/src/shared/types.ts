// What the data worker and the pages say to each other. The worker holds the cluster's objects
// (watched from the API) and sends the pages small summaries, in batches, and windows of long
// lists on request: a tab showing 150,000 pods never holds 150,000 objects on its main thread.

/** The least of an object the pages need to name and link it. */
export interface Ref {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** Plural resource name, for URLs. */
  resource: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** One pod as the worker keeps it (and lists show it). */
export interface PodSummary {
  uid: string;
  namespace: string;
  name: string;
  node: string;
  phase: Phase;
  ready: boolean;
  /** Being deleted (deletionTimestamp set). */
  terminating: boolean;
  /** What kubectl's STATUS column would say (Running, ContainerCreating, Completed, Terminating...). */
  status: string;
  /** Why it is not scheduled: the PodScheduled condition's reason and message. */
  unschedulable?: { reason: string; message: string };
  owner?: { kind: string; name: string; uid: string };
  /** Milliseconds since the epoch, from the object (second precision). */
  created: number;
  scheduledAt?: number;
  startedAt?: number;
  readyAt?: number;
  deletingAt?: number;
  /** When the worker saw these happen (ms precision, only for what happened while watching). */
  seen: { created?: number; scheduled?: number; running?: number; ready?: number; deleting?: number; deleted?: number };
  /** Requests summed over containers: millicores and bytes. */
  cpu: number;
  memory: number;
  restarts: number;
}

export type NodeHealth = 'Ready' | 'NotReady' | 'Unknown';

export interface NodeSummary {
  name: string;
  uid: string;
  health: NodeHealth;
  /** Why not Ready, or which pressure conditions are on. */
  problems: string[];
  unschedulable: boolean;
  taints: string[];
  simulated: boolean;
  kubeletVersion: string;
  created: number;
  /** The node's Lease renewTime (ms), the kubelet's heartbeat. */
  heartbeat?: number;
  leaseDurationSeconds?: number;
  cpuAllocatable: number;
  memoryAllocatable: number;
  podsAllocatable: number;
  pods: number;
  running: number;
  pending: number;
  failed: number;
  succeeded: number;
  cpuRequested: number;
  memoryRequested: number;
  /** Pods on this node, by name and state, when the cluster is small enough to draw each one. */
  podList?: MiniPod[];
}

export interface MiniPod {
  uid: string;
  namespace: string;
  name: string;
  phase: Phase;
  ready: boolean;
  terminating: boolean;
  status: string;
}

/** A control-plane component as its leader Lease shows it. */
export interface ComponentHealth {
  name: string;
  lease?: { holder: string; renewTime: number; durationSeconds: number; transitions: number };
}

export type ResourceState = 'loading' | 'synced' | 'forbidden' | 'error';

export interface ResourceStatus {
  state: ResourceState;
  /** The Status message for forbidden or error. */
  message?: string;
  /** Objects received so far (while loading) or held. */
  count: number;
  /** Events watched from now on only (too many to load); `total` is the server's count. */
  partial?: { total: number };
}

/** What the overview shows: counts, components, connection. Sent when anything in it changes. */
export interface Overview {
  connection: { state: 'connecting' | 'connected' | 'reconnecting'; since: number; attempts: number; lastError?: string };
  /** Server clock minus this clock, from the Date header (ms). */
  skewMs: number;
  resources: Record<string, ResourceStatus>;
  nodes: { total: number; ready: number; notReady: number; unknown: number; simulated: number };
  pods: { total: number; running: number; pending: number; unscheduled: number; succeeded: number; failed: number; terminating: number; orphaned: number };
  components: ComponentHealth[];
  /** Writes seen in the last 10 s, by who did them (inferred from what changed). */
  activity: Record<string, number>;
  /** Pods without a node, for the scheduler's queue on the map (first 50). */
  queue: MiniPod[];
  /** Pods bound to a node that does not exist (its pods wait for the garbage collector). */
  orphans: Record<string, MiniPod[]>;
  /** Whether pods are drawn one by one on the map (small clusters) or counted. */
  detailed: boolean;
}

export interface EventSummary {
  uid: string;
  namespace: string;
  type: string;
  reason: string;
  message: string;
  object: { kind: string; namespace?: string; name: string; uid?: string; apiVersion?: string };
  source: string;
  count: number;
  /** Last seen (ms). */
  time: number;
  first: number;
}

export interface PodFilter {
  namespace?: string;
  node?: string;
  /** 'unscheduled' = no node and Pending; 'pending' = any Pending. */
  phase?: Phase | 'unscheduled';
  text?: string;
  ownerUid?: string;
}

export interface EventFilter {
  type?: string;
  reason?: string;
  kind?: string;
  namespace?: string;
  uid?: string;
  text?: string;
}

export type Query =
  | { kind: 'pods'; filter: PodFilter; offset: number; limit: number }
  | { kind: 'events'; filter: EventFilter; offset: number; limit: number }
  | { kind: 'flow'; root: Ref };

export interface Window<T> {
  total: number;
  offset: number;
  rows: T[];
}

/** A step of an object's way through the system (see worker/flow.ts). */
export interface FlowStep {
  /** Which part of the system acted. */
  actor: string;
  what: string;
  /** When it happened (ms), and how precisely we know it. */
  at: number;
  precision: 'ms' | 's';
  /** Time since the previous step of the same lane (ms). */
  took?: number;
  /** 's' when `took` involves a second-precision timestamp (good to a second only). */
  tookPrecision?: 'ms' | 's';
  warning?: boolean;
}

export interface FlowLane {
  ref: Ref;
  title: string;
  state: string;
  node?: string;
  steps: FlowStep[];
  gone?: boolean;
}

export interface Flow {
  root: Ref;
  found: boolean;
  message?: string;
  /** Time the root was created (ms): lanes' times are drawn from it. */
  start: number;
  lanes: FlowLane[];
}

export type ToWorker =
  /** `nodeTable`: the page fetches the nodes' Table itself and sends it in a `nodeTable` message. */
  | { t: 'init'; token?: string; detailLimit?: number; nodeTable?: boolean }
  /**
   * The nodes' Table's body as the page got it (undefined: it could not, the worker asks itself);
   * `drawn`: the page drew its nodes already (the worker does not send them again).
   */
  | { t: 'nodeTable'; body?: ArrayBuffer; drawn?: boolean }
  | { t: 'subscribe'; id: number; query: Query }
  | { t: 'unsubscribe'; id: number }
  | { t: 'follow'; armed: boolean };

export type FromWorker =
  | { t: 'overview'; overview: Overview }
  | { t: 'nodes'; upsert: NodeSummary[]; remove: string[]; reset?: boolean }
  /**
   * Nodes whose pods alone changed (or their heartbeat): COUNT_FIELDS of each, in that order,
   * `COUNT_FIELDS.length` numbers a node (a heartbeat of NaN: none). A pod page of 5,000 pods
   * touches every node of 5,000; their whole summaries were 10 messages of ~190 kB whose
   * structured clone alone took the page's main thread 7-24 ms each on this machine.
   */
  | { t: 'nodeCounts'; names: string[]; values: Float64Array }
  | { t: 'result'; id: number; data: unknown }
  | { t: 'auth'; message: string }
  | { t: 'followed'; root: Ref };

/** What a 'nodeCounts' message carries for each node, in order. */
export const COUNT_FIELDS = ['pods', 'running', 'pending', 'failed', 'succeeded', 'cpuRequested', 'memoryRequested', 'heartbeat'] as const;

/** The nodes as a Table without the objects: the map's first drawing. */
export const NODE_TABLE = { path: '/api/v1/nodes?includeObject=None', accept: 'application/json;as=Table;g=meta.k8s.io;v=v1, application/json' };

/** The map draws each node as a card (with each pod) up to this many nodes, else a canvas cell each. */
export const DETAIL_NODES = 60;
