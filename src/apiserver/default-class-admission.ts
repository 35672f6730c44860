// Upstream's DefaultStorageClass and DefaultIngressClass admission plugins: a claim created without
// spec.storageClassName, or an Ingress without spec.ingressClassName, gets the class annotated as
// the default. With several defaults the newest wins (then the name), as upstream picks.

import type { KObject, ResourceDef } from '../api/types.ts';
import { isDefaultStorageClass } from '../api/storage/storage-class.ts';
import { defaultIngressClassAnnotation } from '../api/networking/ingress-class.ts';
import { ingressClassAnnotation } from '../api/networking/ingress.ts';
import type { ResourceStore } from './registry/resource-store.ts';

type Lookup = (group: string, plural: string) => ResourceStore | undefined;

const betaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';

/** The default among `classes`: newest creationTimestamp first, then name. */
export function pickDefault(classes: KObject[], isDefault: (c: KObject) => boolean): KObject | undefined {
  const defaults = classes.filter(isDefault);
  defaults.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || a.metadata.name!.localeCompare(b.metadata.name!));
  return defaults[0];
}

function list(lookup: Lookup, group: string, plural: string): KObject[] {
  const rs = lookup(group, plural);
  return rs ? rs.cache.list(rs.listPrefix()).items.map((c) => c.obj) : [];
}

/** Mutates a PersistentVolumeClaim or Ingress being created; other kinds pass through. */
export function admitDefaultClass(lookup: Lookup, def: ResourceDef, obj: KObject): void {
  if (def.group === '' && def.plural === 'persistentvolumeclaims') {
    const spec = (obj.spec ??= {});
    if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
    if (obj.metadata.annotations?.[betaStorageClassAnnotation] !== undefined) return;
    const sc = pickDefault(list(lookup, 'storage.k8s.io', 'storageclasses'), isDefaultStorageClass);
    if (sc) spec.storageClassName = sc.metadata.name;
    return;
  }
  if (def.group === 'networking.k8s.io' && def.plural === 'ingresses') {
    const spec = (obj.spec ??= {});
    if (spec.ingressClassName !== undefined && spec.ingressClassName !== null) return;
    if (obj.metadata.annotations?.[ingressClassAnnotation] !== undefined) return;
    const ic = pickDefault(list(lookup, 'networking.k8s.io', 'ingressclasses'), (c) => c.metadata.annotations?.[defaultIngressClassAnnotation] === 'true');
    if (ic) spec.ingressClassName = ic.metadata.name;
  }
}
