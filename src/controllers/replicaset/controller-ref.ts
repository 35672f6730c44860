// Owner references for controllers: find an object's controller, and adopt orphans that match a
// selector / release owned objects that no longer match (upstream's ControllerRefManager).

import type { KObject, OwnerReference } from '../../api/types.ts';
import { isNotFound, type ApiClient, type ResourceRef } from '../../client/api-client.ts';
import type { LabelSelector } from '../../machinery/labels.ts';

export function controllerRefOf(obj: KObject): OwnerReference | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}

/**
 * Index value for an object's controller: its UID, or `orphan/<namespace>` when nothing controls
 * it. A controller only ever claims its own objects and orphans, so this index is all it needs to
 * look at instead of every object in the namespace.
 */
export function controllerIndexValues(obj: KObject): string[] {
  const ref = controllerRefOf(obj);
  return [ref ? ref.uid : `orphan/${obj.metadata.namespace ?? ''}`];
}

// Selector results per object version: cached objects are replaced (not mutated) on every update,
// so an entry lives exactly as long as the version it describes. Keyed by the selector's JSON.
const matchCache = new WeakMap<KObject, { selector: string; matches: boolean }>();

function selectorMatches(obj: KObject, selector: LabelSelector, selectorKey: string | undefined): boolean {
  if (selectorKey === undefined) return selector.matches(obj.metadata.labels);
  const hit = matchCache.get(obj);
  if (hit && hit.selector === selectorKey) return hit.matches;
  const matches = selector.matches(obj.metadata.labels);
  matchCache.set(obj, { selector: selectorKey, matches });
  return matches;
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
  /** A stable string for the selector (e.g. its JSON): enables caching match results per object. */
  selectorKey?: string;
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
    const matches = selectorMatches(obj, o.selector, o.selectorKey);
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
