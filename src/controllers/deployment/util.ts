// Deployment helpers (upstream deployment/util): template hashing, revisions and annotations,
// maxSurge/maxUnavailable, replica-set arithmetic and conditions.

import type { KObject } from '../../api/types.ts';
import { rfc3339 } from '../../client/api-client.ts';
import { scaledValue } from '../../machinery/intstr.ts';

export const DEFAULT_HASH_LABEL = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
const MAX_REV_HISTORY_CHARS = 2000;

/** Deployment annotations that are not copied onto its ReplicaSets. */
const notCopied = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

// ---- hashing ----

/** JSON with object keys sorted, so equal templates hash equally whatever their key order. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(s, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// Consonants and digits only, so generated names cannot spell words (as upstream's SafeEncodeString).
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * Drop nulls and empty objects/arrays recursively: upstream compares templates semantically, where
 * an unset field, a null (e.g. `creationTimestamp: null` that kubectl sends back on rollout undo)
 * and an empty map or slice are all the same thing.
 */
export function pruneEmpty(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out = v.map(pruneEmpty).filter((x) => x !== undefined);
    return out.length ? out : undefined;
  }
  if (v === null) return undefined;
  if (typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const p = pruneEmpty(x);
    if (p !== undefined) out[k] = p;
  }
  return Object.keys(out).length ? out : undefined;
}

/** A short, stable name-safe hash of a pod template (and the collision count, when set). */
export function computeHash(template: unknown, collisionCount?: number): string {
  let s = stableStringify(pruneEmpty(template) ?? {});
  if (collisionCount !== undefined && collisionCount !== null) s += `#${collisionCount}`;
  const digits = String(fnv32a(s));
  return [...digits].map((d) => SAFE_ALPHABET[Number(d) % SAFE_ALPHABET.length]).join('');
}

/** Templates equal once the pod-template-hash label is ignored (upstream EqualIgnoreHash). */
export function equalIgnoreHash(a: any, b: any): boolean {
  const strip = (t: any) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) {
      delete c.metadata.labels[DEFAULT_HASH_LABEL];
      if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
    }
    return stableStringify(pruneEmpty(c) ?? {});
  };
  return strip(a) === strip(b);
}

// ---- fenceposts ----


export const isRollingUpdate = (d: KObject) => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
export const replicasOf = (o: KObject | undefined): number => (o ? (o.spec?.replicas ?? 1) : 0);

/** [maxSurge, maxUnavailable] for a desired count: surge rounds up, unavailable down; never both 0. */
export function resolveFenceposts(d: KObject): [number, number] {
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const desired = replicasOf(d);
  const surge = scaledValue(ru.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

export function maxSurge(d: KObject): number {
  if (!isRollingUpdate(d)) return 0;
  return resolveFenceposts(d)[0];
}

export function maxUnavailable(d: KObject): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  return Math.min(resolveFenceposts(d)[1], replicasOf(d));
}

// ---- replica sets ----

export const sumSpecReplicas = (rss: (KObject | undefined)[]) => rss.reduce((n, rs) => n + (rs ? replicasOf(rs) : 0), 0);
export const sumStatus = (rss: (KObject | undefined)[], f: string) => rss.reduce((n, rs) => n + (rs?.status?.[f] ?? 0), 0);
export const activeRSs = (rss: (KObject | undefined)[]): KObject[] => rss.filter((rs): rs is KObject => !!rs && replicasOf(rs) > 0);

const created = (o: KObject) => Date.parse(o.metadata.creationTimestamp ?? '') || 0;
/** Oldest first; name breaks ties. */
export function byCreation(a: KObject, b: KObject): number {
  return created(a) - created(b) || (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0);
}

export function revisionOf(o: KObject | undefined): number {
  const v = o?.metadata.annotations?.[REVISION_ANNOTATION];
  const n = v === undefined ? 0 : Number(v);
  return Number.isFinite(n) ? n : 0;
}

export const maxRevision = (rss: KObject[]) => rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);

/** The oldest ReplicaSet whose template matches the deployment's (upstream FindNewReplicaSet). */
export function findNewRS(d: KObject, rss: KObject[]): KObject | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

function intAnnotation(rs: KObject, name: string): number | undefined {
  const v = rs.metadata.annotations?.[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}
export const desiredReplicasAnnotation = (rs: KObject) => intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
export const maxReplicasAnnotation = (rs: KObject) => intAnnotation(rs, MAX_REPLICAS_ANNOTATION);

/** Set desired/max replicas annotations; true if they changed. */
export function setReplicasAnnotations(rs: KObject, desired: number, max: number): boolean {
  const a = (rs.metadata.annotations ??= {});
  const d = String(desired);
  const m = String(max);
  if (a[DESIRED_REPLICAS_ANNOTATION] === d && a[MAX_REPLICAS_ANNOTATION] === m) return false;
  a[DESIRED_REPLICAS_ANNOTATION] = d;
  a[MAX_REPLICAS_ANNOTATION] = m;
  return true;
}

/**
 * Copy the deployment's annotations onto the new RS and move its revision to newRevision if that
 * is higher, remembering the old one in revision-history; true if anything changed.
 */
export function setNewReplicaSetAnnotations(d: KObject, rs: KObject, newRevision: number, exists: boolean): boolean {
  const a = (rs.metadata.annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (notCopied.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const oldRevision = a[REVISION_ANNOTATION];
  const oldNum = oldRevision === undefined ? 0 : Number(oldRevision) || 0;
  if (oldNum < newRevision) {
    a[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (oldRevision) {
      const hist = a[REVISION_HISTORY_ANNOTATION] ? a[REVISION_HISTORY_ANNOTATION].split(',') : [];
      hist.push(oldRevision);
      while (hist.join(',').length > MAX_REV_HISTORY_CHARS && hist.length > 1) hist.shift();
      a[REVISION_HISTORY_ANNOTATION] = hist.join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

// ---- conditions ----

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export function newCondition(type: string, status: DeploymentCondition['status'], reason: string, message: string): DeploymentCondition {
  const now = rfc3339();
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

export function getCondition(status: any, type: string): DeploymentCondition | undefined {
  return (status?.conditions ?? []).find((c: DeploymentCondition) => c.type === type);
}

/** Upstream SetDeploymentCondition: same status and reason is a no-op; same status keeps the transition time. */
export function setCondition(status: any, cond: DeploymentCondition): void {
  const cur = getCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  if (cur && cur.status === cond.status) cond.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c: DeploymentCondition) => c.type !== cond.type), cond];
}

export function removeCondition(status: any, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c: DeploymentCondition) => c.type !== type);
  if (status.conditions.length === 0) delete status.conditions;
}
