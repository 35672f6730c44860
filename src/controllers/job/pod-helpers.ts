// Small pod and ownership helpers shared by the Job, CronJob, DaemonSet and StatefulSet controllers.

import type { KObject, OwnerReference } from '../../api/types.ts';
import type { ResourceRef } from '../../client/api-client.ts';
import { isConflict, isNotFound } from '../../client/api-client.ts';
import type { ApiClient } from '../../client/api-client.ts';

export const PODS: ResourceRef = { version: 'v1', resource: 'pods' };
export const NODES: ResourceRef = { version: 'v1', resource: 'nodes' };
export const PVCS: ResourceRef = { version: 'v1', resource: 'persistentvolumeclaims' };
export const JOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'jobs' };
export const CRONJOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'cronjobs' };
export const DAEMONSETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'daemonsets' };
export const STATEFULSETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets' };
export const REVISIONS: ResourceRef = { group: 'apps', version: 'v1', resource: 'controllerrevisions' };

export function controllerRef(obj: KObject): OwnerReference | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}

export function isControlledBy(obj: KObject, owner: KObject): boolean {
  return controllerRef(obj)?.uid === owner.metadata.uid;
}

export function newControllerRef(owner: KObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function ownerKey(obj: KObject): string {
  return `${obj.metadata.namespace}/${obj.metadata.name}`;
}

/** Milliseconds since epoch of an RFC 3339 time, or undefined. */
export function parseTime(s: string | undefined | null): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
}

/** A pod built from a template the way upstream GetPodFromTemplate does (labels, annotations, finalizers, spec). */
export function podFromTemplate(template: any, owner: KObject, ref: OwnerReference): KObject {
  const t = structuredClone(template ?? {});
  const meta = t.metadata ?? {};
  const pod: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      annotations: { ...(meta.annotations ?? {}) },
      ownerReferences: [ref],
    },
    spec: t.spec ?? {},
  };
  if (Array.isArray(meta.finalizers) && meta.finalizers.length) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

/**
 * Adopt an orphan (patch in our controller reference, guarded by its uid) — the ControllerRefManager's
 * claim step. Returns the patched object, or undefined when it vanished or changed under us.
 */
export async function adopt(client: ApiClient, ref: ResourceRef, obj: KObject, owner: OwnerReference): Promise<KObject | undefined> {
  try {
    return await client.patch(
      { ...ref, namespace: obj.metadata.namespace, name: obj.metadata.name! },
      'merge',
      { metadata: { ownerReferences: [...(obj.metadata.ownerReferences ?? []), owner], uid: obj.metadata.uid } },
    );
  } catch (e) {
    if (isNotFound(e) || isConflict(e) || (e as any)?.code === 422) return undefined;
    throw e;
  }
}

/** Run fn over items with at most `limit` in flight; returns the errors thrown. */
export async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  let i = 0;
  const worker = async () => {
    while (i < items.length) {
      const item = items[i++];
      try {
        await fn(item);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return errors;
}

/**
 * Upstream's slow start: create in batches of 1, 2, 4, ... and stop at the first batch with a
 * failure, so a broken template costs one failed request rather than hundreds. Returns how many
 * creations were skipped (never attempted) and the first error.
 */
export async function slowStartBatch(count: number, fn: (i: number) => Promise<void>): Promise<{ created: number; skipped: number; error?: unknown }> {
  let done = 0;
  let batch = Math.min(count, 1);
  let created = 0;
  while (batch > 0) {
    const idx = Array.from({ length: batch }, (_, k) => done + k);
    const errs = await inParallel(idx, batch, fn);
    created += batch - errs.length;
    done += batch;
    if (errs.length) return { created, skipped: count - done, error: errs[0] };
    batch = Math.min(2 * batch, count - done);
  }
  return { created, skipped: 0 };
}

/** Keys in ascending order of creation, then name (oldest first). */
export function byCreation(a: KObject, b: KObject): number {
  const ta = parseTime(a.metadata.creationTimestamp) ?? 0;
  const tb = parseTime(b.metadata.creationTimestamp) ?? 0;
  if (ta !== tb) return ta - tb;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}
