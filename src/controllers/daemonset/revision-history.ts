// ControllerRevision bookkeeping shared by the DaemonSet and StatefulSet controllers, as upstream
// keeps it: the data is the template patch in the bytes Go writes, revisions are matched by those
// bytes and named by their FNV-1 hash (plus the collision count, in the "safe" alphabet), rollbacks
// reuse the old revision, and old history is trimmed.

import type { KObject, OwnerReference } from '../../api/types.ts';
import { isAlreadyExists, type ApiClient } from '../../client/api-client.ts';
import { REVISIONS, newControllerRef } from '../job/pod-helpers.ts';
import { goJSON } from '../../machinery/go-json.ts';
import { cloneJSON } from '../../machinery/json-values.ts';

const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** Upstream rand.SafeEncodeString: map each character onto an alphabet without vowels or look-alikes. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += safeAlphabet[s.charCodeAt(i) % safeAlphabet.length];
  return out;
}

/** 32-bit FNV-1 of the UTF-8 bytes of s. */
export function fnv32(s: string, h = 0x811c9dc5): number {
  for (const b of Buffer.from(s, 'utf8')) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ b) >>> 0;
  }
  return h >>> 0;
}

/** JSON with object keys sorted, so equal snapshots always hash alike. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v as object).filter((k) => (v as any)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON((v as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/**
 * The pod template as a Go client sees it after decoding it into its typed struct (what upstream's
 * controller and kubectl marshal): the template's creationTimestamp is always written (null), as
 * is each container's resources; nulls elsewhere are dropped.
 */
function typedTemplate(template: any): any {
  const t = dropNulls(structuredClone(template ?? {})) ?? {};
  t.metadata = { ...(t.metadata ?? {}) };
  if (t.metadata.creationTimestamp === undefined) t.metadata.creationTimestamp = null;
  for (const list of ['initContainers', 'containers']) {
    for (const c of t.spec?.[list] ?? []) if (c && typeof c === 'object') c.resources ??= {};
  }
  return t;
}

function dropNulls(v: any): any {
  if (Array.isArray(v)) return v.map((x) => (x === null ? x : dropNulls(x)));
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else dropNulls(v[k]);
    }
  }
  return v;
}

/**
 * What a DaemonSet's or StatefulSet's revision stores as `data` (upstream getPatch): a strategic
 * merge patch that replaces the pod template, as the JSON text upstream writes, so that clients
 * (kubectl rollout history/undo, upstream's tests) find the current revision by comparing bytes.
 */
export function revisionPatch(template: any): string {
  return goJSON({ spec: { template: { ...typedTemplate(template), $patch: 'replace' } } });
}

/** A stored revision's data as Go would write it; undefined when it cannot be encoded (too deep). */
export function revisionData(rev: KObject): string | undefined {
  try {
    return goJSON(rev.data);
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/**
 * Upstream's HashControllerRevision: 32-bit FNV-1 of the data bytes, then of the collision count's
 * decimal digits, printed in decimal and mapped onto the safe alphabet.
 */
export function hashRevision(data: string, collisionCount: number | undefined): string {
  let h = fnv32(data);
  if (collisionCount !== undefined && collisionCount !== null) h = fnv32(String(collisionCount), h);
  return safeEncode(String(h));
}

/** Upstream ControllerRevisionName: `<prefix>-<hash>`, the prefix cut so the name stays valid. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** The pod template recorded in a revision. */
export function templateFromRevision(rev: KObject): any {
  const t = cloneJSON(rev.data?.spec?.template ?? {});
  delete t.$patch;
  if (t.metadata?.creationTimestamp === null) delete t.metadata.creationTimestamp;
  return t;
}

export function sortRevisions(revs: KObject[]): KObject[] {
  return [...revs].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
}

export function nextRevisionNumber(revs: KObject[]): number {
  return revs.reduce((m, r) => Math.max(m, r.revision ?? 0), 0) + 1;
}

export interface RevisionSpec {
  namespace: string;
  /** Prefix of the revision name (the owner's name). */
  prefix: string;
  owner: OwnerReference;
  /** The owner's pod template labels (the revision's labels) and annotations (copied, as upstream). */
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** The label that carries the hash: controller-revision-hash (DaemonSets), controller.kubernetes.io/hash (StatefulSets). */
  hashLabel: string;
  /** revisionPatch() of the owner's template. */
  data: string;
}

/** The revision a DaemonSet or StatefulSet (`kind`) wants for its current template. */
export function revisionSpecFor(owner: KObject, kind: string, hashLabel: string): RevisionSpec {
  return {
    namespace: owner.metadata.namespace!,
    prefix: owner.metadata.name!,
    owner: newControllerRef(owner, 'apps/v1', kind),
    labels: { ...(owner.spec?.template?.metadata?.labels ?? {}) },
    annotations: owner.metadata.annotations,
    hashLabel,
    data: revisionPatch(owner.spec?.template),
  };
}

/**
 * The revision for the owner's current template (upstream's constructHistory/getStatefulSetRevisions):
 * the newest of its revisions with the same data bytes, moved to the highest revision number if an
 * older one matches (a rollback keeps its hash, so its pods are not restarted), else a new one,
 * named `<prefix>-<hash>` with the collision count bumped while another revision holds the name.
 *
 * `cached` comes from the controller's cache, which may not have seen the newest revisions yet: the
 * one this controller created a moment ago (its watch event still on the way on a loaded machine)
 * or those of the instance that held the lease before. A new revision numbered from such a cache
 * repeats a number (two revisions 1, and `kubectl rollout history` shows one), so whenever a
 * revision is to be written the owner's revisions are read from the API server first.
 */
export async function ensureRevision(client: ApiClient, cached: KObject[], spec: RevisionSpec, collisionCount: number): Promise<{ revision: KObject; collisionCount: number; revisions: KObject[] }> {
  const newestMatch = (revs: KObject[]) => {
    const sorted = sortRevisions(revs);
    const match = sorted.filter((r) => revisionData(r) === spec.data).pop();
    return { match, newest: match !== undefined && match === sorted[sorted.length - 1] };
  };
  const fromCache = newestMatch(cached);
  if (fromCache.newest) return { revision: fromCache.match!, collisionCount, revisions: cached };
  const owned = await listOwnedRevisions(client, spec);
  const { match, newest } = newestMatch(owned);
  if (match) {
    const revision = newest ? match : await bumpRevision(client, match, nextRevisionNumber(owned));
    return { revision, collisionCount, revisions: owned.map((r) => (r === match ? revision : r)) };
  }
  const revisionNumber = nextRevisionNumber(owned);
  for (let attempt = 0; attempt < 100; attempt++) {
    const hash = hashRevision(spec.data, collisionCount);
    const name = revisionName(spec.prefix, hash);
    const metadata: KObject['metadata'] = { name, namespace: spec.namespace, labels: { ...spec.labels, [spec.hashLabel]: hash }, ownerReferences: [spec.owner] };
    if (spec.annotations && Object.keys(spec.annotations).length) metadata.annotations = { ...spec.annotations };
    const body: KObject = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata, data: JSON.parse(spec.data), revision: revisionNumber };
    try {
      const revision = await client.create<KObject>({ ...REVISIONS, namespace: spec.namespace }, body);
      return { revision, collisionCount, revisions: [...owned, revision] };
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await client.get<KObject>({ ...REVISIONS, namespace: spec.namespace, name });
      const ours = (existing.metadata.ownerReferences ?? []).some((r) => r.uid === spec.owner.uid && r.controller);
      if (ours && revisionData(existing) === spec.data) return { revision: existing, collisionCount, revisions: [...owned, existing] };
      collisionCount++;
    }
  }
  throw new Error(`could not find a free revision name for ${spec.namespace}/${spec.prefix}`);
}

/** The owner's revisions as the API server has them now (not the cache). */
async function listOwnedRevisions(client: ApiClient, spec: RevisionSpec): Promise<KObject[]> {
  const list = await client.list<KObject>({ ...REVISIONS, namespace: spec.namespace });
  return list.items.filter((r) => (r.metadata.ownerReferences ?? []).some((o) => o.controller && o.uid === spec.owner.uid));
}

/** Delete the oldest revisions not in use once there are more than `limit` of them. */
export async function truncateHistory(client: ApiClient, revs: KObject[], live: Set<string>, limit: number): Promise<void> {
  const old = sortRevisions(revs).filter((r) => !live.has(r.metadata.name!));
  const excess = old.length - Math.max(0, limit);
  for (let i = 0; i < excess; i++) {
    try {
      await client.delete({ ...REVISIONS, namespace: old[i].metadata.namespace, name: old[i].metadata.name! });
    } catch (e) {
      if ((e as any)?.code !== 404) throw e;
    }
  }
}

/** Move an existing revision to the newest number (a rollback to an earlier template). */
export async function bumpRevision(client: ApiClient, rev: KObject, revision: number): Promise<KObject> {
  return client.patch({ ...REVISIONS, namespace: rev.metadata.namespace, name: rev.metadata.name! }, 'merge', { revision });
}
