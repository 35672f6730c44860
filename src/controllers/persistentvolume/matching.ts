// Which PersistentVolume a claim can bind to (upstream pkg/controller/volume/persistentvolume/util:
// FindMatchingVolume, CheckVolumeModeMismatches, IsDelayBindingMode and friends). Shared by the
// PersistentVolume controller and the scheduler's VolumeBinding plugin, as upstream shares them.

import type { KObject } from '../../api/types.ts';
import { labelSelectorFromObject } from '../../machinery/labels.ts';
import { compareQuantities } from '../../machinery/quantity.ts';
import { quantityOf } from '../../api/core/resources.ts';
import { nodeMatchesSelectorTerms } from '../daemonset/node-eligibility.ts';

/** Annotations upstream's controller and scheduler use, by their upstream names. */
export const ann = {
  bindCompleted: 'pv.kubernetes.io/bind-completed',
  boundByController: 'pv.kubernetes.io/bound-by-controller',
  provisionedBy: 'pv.kubernetes.io/provisioned-by',
  betaProvisionedBy: 'pv.beta.kubernetes.io/provisioned-by',
  storageProvisioner: 'volume.kubernetes.io/storage-provisioner',
  betaStorageProvisioner: 'volume.beta.kubernetes.io/storage-provisioner',
  selectedNode: 'volume.kubernetes.io/selected-node',
  betaStorageClass: 'volume.beta.kubernetes.io/storage-class',
} as const;

/** Provisioner name of classes whose volumes are created by hand (local volumes). */
export const noProvisioner = 'kubernetes.io/no-provisioner';

export function claimKey(claim: KObject): string {
  return `${claim.metadata.namespace}/${claim.metadata.name}`;
}

/** Upstream GetPersistentVolumeClaimClass: the beta annotation wins over the field. */
export function claimClass(claim: KObject): string {
  const a = claim.metadata.annotations?.[ann.betaStorageClass];
  if (a !== undefined) return a;
  return claim.spec?.storageClassName ?? '';
}

export function volumeClass(pv: KObject): string {
  const a = pv.metadata.annotations?.[ann.betaStorageClass];
  if (a !== undefined) return a;
  return pv.spec?.storageClassName ?? '';
}

/** The volume's claimRef names this claim (and, when set, its uid). */
export function isVolumeBoundToClaim(pv: KObject, claim: KObject): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || (ref.namespace ?? '') !== claim.metadata.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

/** A volume's spec.claimRef to this claim (the controller, the scheduler's pre-binding and local-path provisioning all bind so). */
export function claimRefTo(claim: KObject): Record<string, unknown> {
  const m = claim.metadata;
  return { kind: 'PersistentVolumeClaim', namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: 'v1', resourceVersion: m.resourceVersion };
}

/** A claim is bound once the controller marked it so (upstream's AnnBindCompleted). */
export function isClaimBindCompleted(claim: KObject): boolean {
  return claim.metadata.annotations?.[ann.bindCompleted] !== undefined;
}

export function storageRequest(claim: KObject) {
  return quantityOf(claim.spec?.resources?.requests?.storage);
}

export function volumeCapacity(pv: KObject) {
  return quantityOf(pv.spec?.capacity?.storage);
}

/** The volume offers every access mode the claim asks for. */
export function accessModesSatisfied(claim: KObject, pv: KObject): boolean {
  const have = new Set<string>(pv.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m: string) => have.has(m));
}

export function volumeModeMismatch(claim: KObject, pv: KObject): boolean {
  return (claim.spec?.volumeMode ?? 'Filesystem') !== (pv.spec?.volumeMode ?? 'Filesystem');
}

/** The PV's required node affinity admits this node (no affinity admits every node). */
export function volumeAdmitsNode(pv: KObject, node: KObject): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!Array.isArray(terms)) return true;
  return nodeMatchesSelectorTerms(node, terms);
}

/** Upstream IsDelayBindingMode: the claim's class binds on first consumer. */
export function isDelayBinding(claim: KObject, classByName: (name: string) => KObject | undefined): boolean {
  const name = claimClass(claim);
  if (!name) return false;
  return classByName(name)?.volumeBindingMode === 'WaitForFirstConsumer';
}

/**
 * Upstream FindMatchingVolume: the smallest Available volume of the claim's class, access modes,
 * volume mode, selector and size; a volume pre-bound to this claim wins outright. With a node (the
 * scheduler's path) the volume's node affinity must admit it. Without one, volumes of a
 * WaitForFirstConsumer class are left to the scheduler unless pre-bound.
 */
export function findMatchingVolume(
  claim: KObject,
  volumes: Iterable<KObject>,
  opts: { node?: KObject; delayBinding?: boolean; exclude?: Set<string> } = {},
): KObject | undefined {
  const requested = storageRequest(claim);
  const wantClass = claimClass(claim);
  let selector;
  try {
    selector = claim.spec?.selector ? labelSelectorFromObject(claim.spec.selector) : undefined;
  } catch {
    return undefined;
  }
  let best: KObject | undefined;
  for (const pv of volumes) {
    if (opts.exclude?.has(pv.metadata.name!)) continue;
    if (volumeModeMismatch(claim, pv)) continue;
    if (pv.metadata.deletionTimestamp) continue;
    const affinityOk = !opts.node || volumeAdmitsNode(pv, opts.node);
    if (isVolumeBoundToClaim(pv, claim)) return affinityOk ? pv : undefined;
    if (!opts.node && opts.delayBinding) continue;
    if (pv.status?.phase !== 'Available' || pv.spec?.claimRef) continue;
    if (selector && !selector.matches(pv.metadata.labels)) continue;
    if (volumeClass(pv) !== wantClass) continue;
    if (!affinityOk) continue;
    if (!accessModesSatisfied(claim, pv)) continue;
    const cap = volumeCapacity(pv);
    if (!cap || !requested || compareQuantities(cap, requested) < 0) continue;
    if (!best || compareQuantities(volumeCapacity(best)!, cap) > 0) best = pv;
  }
  return best;
}

/** Why a requested (pre-bound) volume cannot serve the claim, or undefined (upstream checkVolumeSatisfyClaim). */
export function volumeMismatch(claim: KObject, pv: KObject): string | undefined {
  const requested = storageRequest(claim);
  const cap = volumeCapacity(pv);
  if (!cap || !requested || compareQuantities(cap, requested) < 0) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(claim)) return 'storageClassName does not match';
  if (volumeModeMismatch(claim, pv)) return 'incompatible volumeMode';
  if (!accessModesSatisfied(claim, pv)) return 'incompatible accessMode';
  return undefined;
}
