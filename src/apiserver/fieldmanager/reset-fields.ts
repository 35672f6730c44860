// Fields a write through one endpoint may not change, because the kind's strategy resets them
// (upstream's GetResetFields): the main resource does not own status; a status write owns
// neither spec nor what the status strategy puts back (labels for apps workloads; for pods the
// deletion timestamp and owner references). Server-side apply neither compares nor records them.

import type { ResourceDef } from '../../api/types.ts';
import { fieldSetOf, emptyFieldSet, type FieldSet } from '../../machinery/fieldpath/set.ts';
import { fieldElement } from '../../machinery/fieldpath/path-element.ts';

const statusResets: Record<string, string[][]> = {
  '/pods': [['spec'], ['metadata', 'deletionTimestamp'], ['metadata', 'ownerReferences']],
  'apps/deployments': [['spec'], ['metadata', 'labels']],
  'apps/replicasets': [['spec'], ['metadata', 'labels']],
  'apps/statefulsets': [['spec'], ['metadata', 'labels']],
  'apps/daemonsets': [['spec'], ['metadata', 'labels']],
};

function toSet(paths: string[][]): FieldSet {
  return fieldSetOf(...paths.map((p) => p.map(fieldElement)));
}

/** Reset fields of `def` written through `subresource` (none: the main resource). */
export function resetFieldsFor(def: ResourceDef, subresource?: string): FieldSet {
  if (!subresource) return def.status ? toSet([['status']]) : emptyFieldSet();
  if (subresource === 'status') return toSet(statusResets[`${def.group}/${def.plural}`] ?? [['spec']]);
  return emptyFieldSet();
}
