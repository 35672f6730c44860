// The admission chain every write passes (see admission/chain.ts for the order and phases):
// upstream's plugins NamespaceLifecycle, LimitRanger, ServiceAccount, NodeRestriction, PodSecurity,
// Priority, DefaultTolerationSeconds, the default classes, the certificate checks, the dynamic
// ones (mutating webhooks, ValidatingAdmissionPolicies, validating webhooks) and ResourceQuota,
// plus two that upstream keeps in its registries: the CSR requester record and RBAC escalation.

import type { KObject } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import type { Admission } from './registry/resource-store.ts';
import type { Attributes, AuthorizerResult } from './authz/attributes.ts';
import type { RbacAuthorizer } from './authz/rbac.ts';
import { admitPodServiceAccount } from './admission/service-account.ts';
import { admitRbacWrite } from './admission/rbac-escalation.ts';
import { admitCsrUpdate, recordRequestor } from './admission/certificates.ts';
import { admitDefaultClass } from './default-class-admission.ts';
import { AdmissionChain, enabledPlugins, pluginOrder } from './admission/chain.ts';
import { limitRanger } from './admission/limit-ranger.ts';
import { resourceQuota } from './admission/resource-quota.ts';
import { podSecurity } from './admission/pod-security.ts';
import { nodeRestriction } from './admission/node-restriction.ts';
import { isPodCreate, listCached, type AdmissionPlugin, type Lookup } from './admission/types.ts';
import { addDefaultTolerations } from '../api/core/pod.ts';

/** Namespaces that always exist and cannot be deleted. */
export const immortalNamespaces = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
const undeletableNamespaces = new Set(['default', 'kube-system', 'kube-public']);

export interface AdmissionDeps {
  lookup: Lookup;
  /** The authorizer chain, for checks that ask it (escalation, CSR approval); without it they are skipped. */
  authorize?: (a: Attributes) => AuthorizerResult;
  rbac?: RbacAuthorizer;
  /** Upstream plugin names turned on beyond the defaults (`--enable-admission-plugins`). */
  enabled?: string[];
  /** Upstream plugin names turned off (`--disable-admission-plugins`), e.g. `ServiceAccount`. */
  disabled?: string[];
  /** How long pod creation waits for a missing default ServiceAccount (upstream retries ~1.5 s). */
  defaultServiceAccountWaitMs?: number;
  /** The dynamic plugins (webhooks, policies), built by the server with what they need. */
  dynamic?: Partial<Record<'MutatingAdmissionWebhook' | 'ValidatingAdmissionPolicy' | 'ValidatingAdmissionWebhook', AdmissionPlugin>>;
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function namespaceLifecycle(lookup: Lookup): AdmissionPlugin {
  return {
    name: 'NamespaceLifecycle',
    mutate({ operation, def, obj }) {
      const gr = { group: def.group, resource: def.plural };
      if (operation === 'CREATE' && def.namespaced) {
        const nsName = obj.metadata.namespace!;
        const ns = lookup('', 'namespaces')?.tryGet(undefined, nsName)?.obj;
        if (!ns) throw errors.notFound({ group: '', resource: 'namespaces' }, nsName);
        if (ns.status?.phase === 'Terminating' || ns.metadata.deletionTimestamp)
          throw errors.forbidden(gr, obj.metadata.name ?? '', `unable to create new content in namespace ${nsName} because it is being terminated`);
      }
      if (operation === 'DELETE' && def.group === '' && def.plural === 'namespaces' && undeletableNamespaces.has(obj.metadata.name!))
        throw errors.forbidden(gr, obj.metadata.name!, 'this namespace may not be deleted');
    },
  };
}

/** Priority: a pod's priorityClassName (or the global default) resolved to spec.priority. */
function priority(lookup: Lookup): AdmissionPlugin {
  return {
    name: 'Priority',
    mutate(r) {
      if (!isPodCreate(r)) return;
      const pod = r.obj;
      const gr = { group: '', resource: 'pods' };
      const spec = (pod.spec ??= {});
      let pc: KObject | undefined;
      if (spec.priorityClassName) {
        pc = lookup('scheduling.k8s.io', 'priorityclasses')?.tryGet(undefined, spec.priorityClassName)?.obj;
        if (!pc) throw errors.forbidden(gr, pod.metadata.name ?? '', `no PriorityClass with name ${spec.priorityClassName} was found`);
      } else {
        pc = listCached(lookup, 'scheduling.k8s.io', 'priorityclasses').find((c) => c.globalDefault);
        if (pc) spec.priorityClassName = pc.metadata.name;
      }
      const value = pc ? pc.value ?? 0 : 0;
      if (spec.priority !== undefined && spec.priority !== null && spec.priority !== value)
        throw errors.forbidden(
          gr,
          pod.metadata.name ?? '',
          `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`,
        );
      spec.priority = value;
      if (pc?.preemptionPolicy) spec.preemptionPolicy ??= pc.preemptionPolicy;
      else spec.preemptionPolicy ??= 'PreemptLowerPriority';
    },
  };
}

export function builtinAdmission(deps: AdmissionDeps): Admission {
  const { lookup } = deps;
  const on = enabledPlugins({ enable: deps.enabled, disable: deps.disabled });
  const serviceAccounts = {
    serviceAccount: (ns: string, name: string) => lookup('', 'serviceaccounts')?.tryGet(ns, name)?.obj,
    defaultWaitMs: deps.defaultServiceAccountWaitMs,
  };
  const escalation =
    deps.authorize && deps.rbac
      ? {
          authorize: deps.authorize,
          rbac: deps.rbac,
          clusterRole: (name: string) => lookup(RBAC_GROUP, 'clusterroles')?.tryGet(undefined, name)?.obj,
          role: (ns: string, name: string) => lookup(RBAC_GROUP, 'roles')?.tryGet(ns, name)?.obj,
        }
      : undefined;
  const authorize = deps.authorize;
  const isCsr = (def: { group: string; plural: string }) => def.group === 'certificates.k8s.io' && def.plural === 'certificatesigningrequests';

  const plugins: Record<string, AdmissionPlugin | undefined> = {
    NamespaceLifecycle: namespaceLifecycle(lookup),
    LimitRanger: limitRanger(lookup),
    ServiceAccount: {
      name: 'ServiceAccount',
      mutate: (r) => (isPodCreate(r) ? admitPodServiceAccount(serviceAccounts, r.obj) : undefined),
    },
    NodeRestriction: nodeRestriction(),
    PodSecurity: podSecurity(lookup),
    Priority: priority(lookup),
    DefaultTolerationSeconds: {
      name: 'DefaultTolerationSeconds',
      mutate: (r) => {
        if (isPodCreate(r)) addDefaultTolerations((r.obj.spec ??= {}));
      },
    },
    DefaultStorageClass: {
      name: 'DefaultStorageClass',
      mutate: (r) => {
        if (r.operation === 'CREATE' && !r.subresource && r.def.plural === 'persistentvolumeclaims') admitDefaultClass(lookup, r.def, r.obj);
      },
    },
    CertificateApproval: {
      name: 'CertificateApproval',
      validate: (r) => {
        if (isCsr(r.def) && r.operation === 'UPDATE' && r.old && authorize) admitCsrUpdate(authorize, r.obj, r.old, r.subresource, r.user);
      },
    },
    DefaultIngressClass: {
      name: 'DefaultIngressClass',
      mutate: (r) => {
        if (r.operation === 'CREATE' && !r.subresource && r.def.plural === 'ingresses') admitDefaultClass(lookup, r.def, r.obj);
      },
    },
    ResourceQuota: resourceQuota(lookup),
    ...deps.dynamic,
  };
  // Not upstream admission plugins (they live in upstream's registries), so not switchable.
  const internal: AdmissionPlugin[] = [
    {
      name: 'CSRRequestor',
      mutate: (r) => {
        if (isCsr(r.def) && r.operation === 'CREATE') recordRequestor(r.obj, r.user);
      },
    },
    {
      name: 'RBACEscalation',
      validate: (r) => {
        if (r.def.group === RBAC_GROUP && (r.operation === 'CREATE' || r.operation === 'UPDATE') && escalation) admitRbacWrite(escalation, r.def, r.obj, r.user);
      },
    },
  ];
  const chosen = pluginOrder.filter((n) => on.has(n)).map((n) => plugins[n]).filter((p): p is AdmissionPlugin => !!p);
  return new AdmissionChain([...internal, ...chosen]);
}
