// Built-in admission, run on every write after validation: namespace lifecycle, pod priority,
// service-account defaulting. (Webhooks and RBAC-aware plugins come with the security work.)

import type { KObject, ResourceDef } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import type { AdmitFn, ResourceStore } from './registry/resource-store.ts';
import { admitDefaultClass } from './default-class-admission.ts';

/** Namespaces that always exist and cannot be deleted. */
export const immortalNamespaces = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
const undeletableNamespaces = new Set(['default', 'kube-system', 'kube-public']);

export interface AdmissionDeps {
  lookup(group: string, plural: string): ResourceStore | undefined;
}

export function builtinAdmission(deps: AdmissionDeps): AdmitFn {
  return (op, def, obj, _old, subresource) => {
    const gr = { group: def.group, resource: def.plural };
    if (op === 'CREATE' && def.namespaced) {
      const nsName = obj.metadata.namespace!;
      const ns = deps.lookup('', 'namespaces')?.tryGet(undefined, nsName)?.obj;
      if (!ns) throw errors.notFound({ group: '', resource: 'namespaces' }, nsName);
      if (ns.status?.phase === 'Terminating' || ns.metadata.deletionTimestamp)
        throw errors.forbidden(gr, obj.metadata.name ?? '', `unable to create new content in namespace ${nsName} because it is being terminated`);
    }
    if (op === 'DELETE' && def.group === '' && def.plural === 'namespaces' && undeletableNamespaces.has(obj.metadata.name!))
      throw errors.forbidden(gr, obj.metadata.name!, 'this namespace may not be deleted');
    if (def.group === '' && def.plural === 'pods' && op === 'CREATE' && !subresource) admitPodCreate(deps, def, obj);
    if (op === 'CREATE' && !subresource) admitDefaultClass(deps.lookup, def, obj);
  };
}

function admitPodCreate(deps: AdmissionDeps, def: ResourceDef, pod: KObject): void {
  const gr = { group: def.group, resource: def.plural };
  const spec = (pod.spec ??= {});
  // ServiceAccount admission: every pod runs as a service account, `default` unless named.
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  // Priority admission: resolve priorityClassName to spec.priority.
  const classes = deps.lookup('scheduling.k8s.io', 'priorityclasses');
  let pc: KObject | undefined;
  if (spec.priorityClassName) {
    pc = classes?.tryGet(undefined, spec.priorityClassName)?.obj;
    if (!pc) throw errors.forbidden(gr, pod.metadata.name ?? '', `no PriorityClass with name ${spec.priorityClassName} was found`);
  } else if (classes) {
    pc = classes.cache.list(classes.listPrefix()).items.find((c) => c.obj.globalDefault)?.obj;
    if (pc) spec.priorityClassName = pc.metadata.name;
  }
  const priority = pc ? pc.value ?? 0 : 0;
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority)
    throw errors.forbidden(
      gr,
      pod.metadata.name ?? '',
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
    );
  spec.priority = priority;
  if (pc?.preemptionPolicy) spec.preemptionPolicy ??= pc.preemptionPolicy;
  else spec.preemptionPolicy ??= 'PreemptLowerPriority';
}
