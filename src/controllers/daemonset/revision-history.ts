// ControllerRevision bookkeeping shared by the DaemonSet and StatefulSet controllers: a stable hash
// of a template snapshot (FNV-1 32 plus the collision count, encoded with the "safe" alphabet as
// upstream does), creating revisions with collision handling, and trimming old history.

import type { KObject, OwnerReference } from '../../api/types.ts';
import { isAlreadyExists, type ApiClient } from '../../client/api-client.ts';
import { REVISIONS } from '../job/pod-helpers.ts';

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

export function hashData(data: unknown, collisionCount?: number): string {
  let h = fnv32(canonicalJSON(data));
  if (collisionCount !== undefined && collisionCount !== null) h = fnv32(String(collisionCount), h);
  return safeEncode(String(h));
}

/** Upstream ControllerRevisionName: `<prefix>-<hash>`, the prefix cut so the name stays valid. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** Snapshot of a workload's template stored in a revision (a strategic patch that replaces the template). */
export function templateSnapshot(template: any): any {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: 'replace' } } };
}

/** The pod template recorded in a revision. */
export function templateFromRevision(rev: KObject): any {
  const t = structuredClone(rev.data?.spec?.template ?? {});
  delete t.$patch;
  return t;
}

export function sortRevisions(revs: KObject[]): KObject[] {
  return [...revs].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
}

export function nextRevisionNumber(revs: KObject[]): number {
  return revs.reduce((m, r) => Math.max(m, r.revision ?? 0), 0) + 1;
}

export function sameData(a: KObject, data: unknown): boolean {
  return canonicalJSON(a.data) === canonicalJSON(data);
}

export interface NewRevision {
  namespace: string;
  /** Prefix of the revision name (the owner's name). */
  prefix: string;
  labels: Record<string, string>;
  owner: OwnerReference;
  data: unknown;
  revision: number;
  /** Extra label carrying the hash (DaemonSets label revisions with controller-revision-hash). */
  hashLabel?: string;
}

/**
 * Create a revision, bumping the collision count while a different object already holds the name.
 * Returns the revision (new, or an identical existing one of ours) and the final collision count.
 */
export async function createRevision(client: ApiClient, spec: NewRevision, collisionCount: number): Promise<{ revision: KObject; collisionCount: number }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const hash = hashData(spec.data, collisionCount);
    const name = revisionName(spec.prefix, hash);
    const labels = { ...spec.labels };
    if (spec.hashLabel) labels[spec.hashLabel] = hash;
    const body: KObject = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: { name, namespace: spec.namespace, labels, ownerReferences: [spec.owner] },
      data: spec.data,
      revision: spec.revision,
    };
    try {
      return { revision: await client.create({ ...REVISIONS, namespace: spec.namespace }, body), collisionCount };
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await client.get<KObject>({ ...REVISIONS, namespace: spec.namespace, name });
      const ours = (existing.metadata.ownerReferences ?? []).some((r) => r.uid === spec.owner.uid && r.controller);
      if (ours && sameData(existing, spec.data)) return { revision: existing, collisionCount };
      collisionCount++;
    }
  }
  throw new Error(`could not find a free revision name for ${spec.namespace}/${spec.prefix}`);
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
