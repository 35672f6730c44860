// The contract between the API server's generic registry and each kind.
// A kind is data (names, scope, verbs) plus a small stateless strategy, never a subclass.

import type { FieldError } from '../machinery/errors.ts';
import type { FieldType } from '../machinery/apply/types.ts';

/** A Kubernetes object as plain JSON. */
export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: any;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [key: string]: any;
}

/** Context a strategy may need (e.g. allocators for Services). */
export interface StrategyContext {
  /** Look up another object (read-only, from the watch cache). */
  get?(resource: string, group: string, namespace: string | undefined, name: string): KObject | undefined;
  /** Allocate/release cluster IPs and node ports (Services). */
  allocators?: {
    allocateClusterIP(requested?: string): string;
    releaseClusterIP(ip: string): void;
    allocateNodePort(requested?: number): number;
    releaseNodePort(port: number): void;
    /**
     * With storage shared by several API servers, allocations are also claimed in storage, where
     * only one server can hold a value: resolves true when this one now holds it, false when
     * another does (it is then marked taken here too).
     */
    claim?(kind: 'ip' | 'port', value: string | number, owner: string): Promise<boolean>;
    /** Give up a claim made by claim() (the object that held the value is gone). */
    unclaim?(kind: 'ip' | 'port', value: string | number): void;
  };
}

export interface Strategy {
  /** Fill in defaults, as upstream's SetDefaults_* (mutates obj). Runs on create and update, before validation. */
  defaults?(obj: KObject): void;
  /**
   * Clear fields the client may not set on create (e.g. status for kinds with a status
   * subresource). May return a promise (Services claiming their IPs on shared storage).
   */
  prepareForCreate?(obj: KObject, ctx: StrategyContext): void | Promise<void>;
  /** Adjust an update (e.g. keep the old status when updating the main resource). May return a promise. */
  prepareForUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): void | Promise<void>;
  /** Validation on create: list of field errors, never throws. Object metadata is validated generically. */
  validate?(obj: KObject): FieldError[];
  /** Validation on update (immutable fields, etc.). */
  validateUpdate?(obj: KObject, old: KObject): FieldError[];
  /** Non-fatal warnings returned as `Warning` headers. */
  warnings?(obj: KObject, old?: KObject): string[];
  /**
   * Called once when deletion is first requested, on the copy that will be stored (e.g. to add a
   * finalizer, as upstream's CRD registry adds the custom resource cleanup finalizer).
   */
  prepareForDelete?(obj: KObject): void;
  /** Called when an object is finally removed from storage (release allocated IPs/ports). */
  afterDelete?(obj: KObject, ctx: StrategyContext): void;
}

/** How a status subresource update differs from the main resource's. */
export interface StatusStrategy {
  /**
   * Keep everything but status from old (default behaviour when omitted: copy metadata+spec from old).
   * `subresource` is `status`, or another status-like subresource the kind serves (`approval`).
   */
  prepareForUpdate?(obj: KObject, old: KObject, subresource?: string): void;
  validateUpdate?(obj: KObject, old: KObject): FieldError[];
}

/** One column of `kubectl get` table output (meta.k8s.io/v1 TableColumnDefinition). */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string; // e.g. 'name'
  description?: string;
  /** 0 = default view; 1 = only with -o wide. */
  priority: number;
}

export interface TableDef {
  columns: TableColumn[];
  /** Cells for one object, in column order. Ages are rendered by the server as strings (e.g. "5m"). */
  row(obj: KObject, now: number): unknown[];
  /**
   * row() depends on `now` only through the object's age (its creationTimestamp, in the columns
   * named Age): the API server may then keep an unchanged object's cells and redo only the ages.
   */
  agesOnly?: boolean | ((obj: KObject) => boolean);
}

/** Scale subresource mapping (autoscaling/v1 Scale). */
export interface ScaleDef {
  specReplicasPath: string; // e.g. 'spec.replicas'
  statusReplicasPath: string; // e.g. 'status.replicas'
  /** Label selector string for status.selector (from spec.selector). */
  selector(obj: KObject): string;
}

export interface ResourceDef {
  group: string; // '' for core
  version: string;
  kind: string;
  listKind?: string; // default `${kind}List`
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Verbs on the main resource; default: create delete deletecollection get list patch update watch. */
  verbs?: string[];
  strategy: Strategy;
  /** Present if the kind has a status subresource. */
  status?: StatusStrategy;
  scale?: ScaleDef;
  /**
   * Printer columns for `kubectl get`, ALL of them in upstream's order including Name and Age
   * (e.g. pods: Name, Ready, Status, Restarts, Age, IP*, Node*, Nominated Node*, Readiness Gates*;
   * * = priority 1, shown with -o wide). Without a table the server prints Name and Age.
   */
  table?: TableDef;
  /** Clients may set status on create (upstream: nodes, so a kubelet registers with its status). */
  statusOnCreate?: boolean;
  /** The kind's rule for metadata.name (default: DNS-1123 subdomain). Returns messages; empty = valid. */
  nameValidator?: (name: string) => string[];
  /** metadata.generation is set to 1 on create and bumped when anything but metadata/status changes. */
  tracksGeneration?: boolean;
  /** Field selectors beyond metadata.name and metadata.namespace (which are always supported). */
  fieldSelectors?: Record<string, (obj: KObject) => string | undefined>;
  /** The @kubernetes/client-node model name, e.g. 'V1Deployment' (used for OpenAPI and patch metadata). */
  model: string;
  /**
   * The kind's server-side apply type (list and map semantics, for managed fields and apply),
   * when `model` does not give it: custom resources pass customResourceType(openAPIV3Schema)
   * from src/api/field-types.ts. Called once per endpoint.
   */
  fieldType?: () => FieldType;
  /**
   * This resource is another API's objects seen in another shape (upstream: events.k8s.io/v1 Events
   * are the core/v1 Events): stored under that resource's keys in its form, converted on the way
   * in (toStored) and out (fromStored), so both APIs list, watch and change the same objects.
   */
  storedAs?: { group: string; plural: string; toStored(obj: KObject): KObject; fromStored(obj: KObject): KObject };
  /**
   * Never stored: a POST is a question the server answers (upstream's TokenReview,
   * SubjectAccessReview and friends). The API server routes it to a handler by group and plural.
   */
  virtual?: boolean;
  /** Subresources that write status like `status` does, with their own rules (CSR `approval`). */
  statusLikeSubresources?: string[];
  /**
   * OpenAPI definitions of a kind that has no @kubernetes/client-node model (custom resources),
   * by definition name (`model` and `${model}List`), in swagger 2.0 and OpenAPI 3.0 form.
   */
  openAPI?: { v2: Record<string, Record<string, unknown>>; v3: Record<string, Record<string, unknown>> };
}

/** Human age as kubectl shows it ("5s", "3m2s", "4h", "2d"). */
export function humanAge(timestamp: string | undefined, now: number): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<invalid>';
  return humanDuration(Math.max(0, now - t));
}

/** Port of apimachinery's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}
