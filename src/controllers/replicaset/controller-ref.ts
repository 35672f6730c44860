// Owner references for controllers: find an object's controller, and adopt orphans that match a
// selector / release owned objects that no longer match (upstream's ControllerRefManager).

import type { KObject, OwnerReference } from '../../api/types.ts';
import { isNotFound, type ApiClient, type ResourceRef } from '../../client/api-client.ts';
import type { LabelSelector } from '../../machinery/labels.ts';

export function controllerRefOf(obj: KObject): OwnerReference | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}

/** The controller ownerReference a controller puts on what it creates. */
export function newControllerRef(owner: KObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export interface ClaimOptions {
  client: ApiClient;
  owner: KObject;
  ownerApiVersion: string;
  ownerKind: string;
  selector: LabelSelector;
  /** Where the owned objects live (namespace comes from each object). */
  resource: Omit<ResourceRef, 'name' | 'namespace'>;
  /**
   * Re-read the owner from the server before the first adoption, so a deleted or recreated owner
   * (same name, new UID) cannot adopt (upstream's canAdopt recheck). Return undefined if gone.
   */
  fetchOwner: () => Promise<KObject | undefined>;
}

/**
 * Returns the objects this owner controls after adopting matching orphans and releasing owned
 * objects whose labels no longer match. Objects gone by the time we patch them are skipped.
 */
export async function claimObjects<T extends KObject>(objs: T[], o: ClaimOptions): Promise<T[]> {
  const ownerUid = o.owner.metadata.uid;
  const ownerDeleting = !!o.owner.metadata.deletionTimestamp;
  let canAdopt: Promise<boolean> | undefined;
  const checkAdopt = () =>
    (canAdopt ??= o.fetchOwner().then((fresh) => {
      if (!fresh || fresh.metadata.uid !== ownerUid) return false;
      return !fresh.metadata.deletionTimestamp;
    }));
  const claimed: T[] = [];
  const work: Promise<void>[] = [];
  for (const obj of objs) {
    const ref = controllerRefOf(obj);
    const matches = o.selector.matches(obj.metadata.labels);
    if (ref) {
      if (ref.uid !== ownerUid) continue;
      if (matches || ownerDeleting) {
        // A deleting owner keeps what it has: releasing now would only orphan objects about to go.
        if (matches) claimed.push(obj);
        continue;
      }
      work.push(release(obj, o));
      continue;
    }
    if (ownerDeleting || !matches || obj.metadata.deletionTimestamp) continue;
    work.push(
      (async () => {
        if (!(await checkAdopt())) return;
        const adopted = await adopt(obj, o);
        if (adopted) claimed.push(adopted as T);
      })(),
    );
  }
  const results = await Promise.allSettled(work);
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) throw failed.reason;
  return claimed;
}

async function adopt(obj: KObject, o: ClaimOptions): Promise<KObject | undefined> {
  const refs = [...(obj.metadata.ownerReferences ?? []), newControllerRef(o.owner, o.ownerApiVersion, o.ownerKind)];
  try {
    // resourceVersion makes this a compare-and-swap: a concurrent change to the owners conflicts.
    return await o.client.patch(
      { ...o.resource, namespace: obj.metadata.namespace, name: obj.metadata.name! },
      'merge',
      { metadata: { ownerReferences: refs, resourceVersion: obj.metadata.resourceVersion } },
    );
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function release(obj: KObject, o: ClaimOptions): Promise<void> {
  const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== o.owner.metadata.uid);
  try {
    await o.client.patch(
      { ...o.resource, namespace: obj.metadata.namespace, name: obj.metadata.name! },
      'merge',
      { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: obj.metadata.resourceVersion } },
    );
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
}
