// A StatefulSet pod's stable identity: name `<set>-<ordinal>`, hostname and subdomain, identity
// labels, and the claims `<template>-<set>-<ordinal>` mounted under the template's volume names.

import type { KObject, OwnerReference } from '../../api/types.ts';
import { newControllerRef, podFromTemplate } from '../job/pod-helpers.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';

/** The ordinal in a pod's name when the pod belongs to the set by name, else undefined. */
export function ordinalOf(setName: string, pod: KObject): number | undefined {
  const name = pod.metadata.name ?? '';
  if (!name.startsWith(`${setName}-`)) return undefined;
  const rest = name.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export function podName(set: KObject, ordinal: number): string {
  return `${set.metadata.name}-${ordinal}`;
}

export function claimName(claimTemplate: string, set: KObject, ordinal: number): string {
  return `${claimTemplate}-${set.metadata.name}-${ordinal}`;
}

/** A new pod for ordinal from a template recorded at `revisionName`. */
export function newStatefulPod(set: KObject, template: any, ordinal: number, revisionName: string): KObject {
  const pod = podFromTemplate(template, set, newControllerRef(set, 'apps/v1', 'StatefulSet'));
  const name = podName(set, ordinal);
  pod.metadata.name = name;
  Object.assign(pod.metadata.labels!, { [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revisionName });
  pod.spec.hostname = name;
  if (set.spec.serviceName) pod.spec.subdomain = set.spec.serviceName;
  const claims: any[] = set.spec.volumeClaimTemplates ?? [];
  if (claims.length) {
    const names = new Set(claims.map((c) => c.metadata?.name));
    const vols = (pod.spec.volumes ?? []).filter((v: any) => !names.has(v.name));
    for (const c of claims) vols.push({ name: c.metadata.name, persistentVolumeClaim: { claimName: claimName(c.metadata.name, set, ordinal) } });
    pod.spec.volumes = vols;
  }
  return pod;
}

/** Owner references a claim should carry under the set's persistentVolumeClaimRetentionPolicy. */
export function claimOwners(set: KObject, pod: KObject | undefined, condemned: boolean): OwnerReference[] {
  const policy = set.spec.persistentVolumeClaimRetentionPolicy ?? {};
  const refs: OwnerReference[] = [];
  if (policy.whenDeleted === 'Delete') refs.push({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name!, uid: set.metadata.uid!, controller: true, blockOwnerDeletion: true });
  if (condemned && pod && policy.whenScaled === 'Delete') refs.push({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid!, controller: false, blockOwnerDeletion: true });
  return refs;
}

/** The claim for one template and ordinal. */
export function newClaim(set: KObject, template: any, ordinal: number): KObject {
  const t = structuredClone(template);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(t.metadata.name, set, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(t.metadata.labels ?? {}), ...(set.spec.selector?.matchLabels ?? {}) },
      ...(t.metadata.annotations ? { annotations: t.metadata.annotations } : {}),
      ownerReferences: claimOwners(set, undefined, false),
    },
    spec: t.spec ?? {},
  };
}
