// Built-in admission, run on every write after defaulting: namespace lifecycle, pod priority, the
// ServiceAccount plugin (default ServiceAccount, token volume), who asked for a certificate and
// whether they may approve or sign it, and RBAC escalation prevention. (Webhooks and the other
// plugins of upstream's chain come with the rest of the security work.)

import type { KObject, ResourceDef } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import type { AdmitFn, ResourceStore } from './registry/resource-store.ts';
import type { UserInfo } from './authn/user.ts';
import type { Attributes, AuthorizerResult } from './authz/attributes.ts';
import type { RbacAuthorizer } from './authz/rbac.ts';
import { admitPodServiceAccount } from './admission/service-account.ts';
import { admitRbacWrite } from './admission/rbac-escalation.ts';
import { admitCsrUpdate, recordRequestor } from './admission/certificates.ts';
import { admitDefaultClass } from './default-class-admission.ts';

/** Namespaces that always exist and cannot be deleted. */
export const immortalNamespaces = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
const undeletableNamespaces = new Set(['default', 'kube-system', 'kube-public']);

export interface AdmissionDeps {
  lookup(group: string, plural: string): ResourceStore | undefined;
  /** The authorizer chain, for checks that ask it (escalation, CSR approval); without it they are skipped. */
  authorize?: (a: Attributes) => AuthorizerResult;
  rbac?: RbacAuthorizer;
  /** Upstream plugin names turned off (`--disable-admission-plugins`), e.g. `ServiceAccount`. */
  disabled?: string[];
  /** How long pod creation waits for a missing default ServiceAccount (upstream retries ~1.5 s). */
  defaultServiceAccountWaitMs?: number;
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

export function builtinAdmission(deps: AdmissionDeps): AdmitFn {
  const disabled = new Set(deps.disabled ?? []);
  const serviceAccounts = {
    serviceAccount: (ns: string, name: string) => deps.lookup('', 'serviceaccounts')?.tryGet(ns, name)?.obj,
    defaultWaitMs: deps.defaultServiceAccountWaitMs,
  };
  const escalation =
    deps.authorize && deps.rbac
      ? {
          authorize: deps.authorize,
          rbac: deps.rbac,
          clusterRole: (name: string) => deps.lookup(RBAC_GROUP, 'clusterroles')?.tryGet(undefined, name)?.obj,
          role: (ns: string, name: string) => deps.lookup(RBAC_GROUP, 'roles')?.tryGet(ns, name)?.obj,
        }
      : undefined;
  return (op, def, obj, old, subresource, user?: UserInfo) => {
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
    if (def.group === RBAC_GROUP && (op === 'CREATE' || op === 'UPDATE') && escalation) admitRbacWrite(escalation, def, obj, user);
    if (def.group === 'certificates.k8s.io' && def.plural === 'certificatesigningrequests') {
      if (op === 'CREATE') recordRequestor(obj, user);
      else if (op === 'UPDATE' && old && deps.authorize) admitCsrUpdate(deps.authorize, obj, old, subresource, user);
    }
    if (def.group === '' && def.plural === 'pods' && op === 'CREATE' && !subresource) {
      admitPodCreate(deps, def, obj);
      if (!disabled.has('ServiceAccount')) return admitPodServiceAccount(serviceAccounts, obj);
    }
    if (op === 'CREATE' && !subresource) admitDefaultClass(deps.lookup, def, obj);
  };
}

function admitPodCreate(deps: AdmissionDeps, def: ResourceDef, pod: KObject): void {
  const gr = { group: def.group, resource: def.plural };
  const spec = (pod.spec ??= {});
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
