// RBAC escalation prevention on writes of roles and bindings (upstream pkg/registry/rbac/*/policybased):
// a user may write a Role or ClusterRole only with rules they hold themselves (in the role's
// namespace, or cluster-wide), unless they may `escalate` it; may write an aggregated ClusterRole
// only with cluster-admin's powers; may bind a role only when they hold its rules or may `bind` it.
// Members of system:masters, and the server's own writes, are not checked.

import type { KObject, ResourceDef } from '../../api/types.ts';
import { StatusError } from '../../machinery/errors.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../authn/user.ts';
import type { Attributes, AuthorizerResult } from '../authz/attributes.ts';
import { compactRule, compactRules, covers, FULL_AUTHORITY } from '../authz/escalation.ts';
import type { PolicyRule, RbacAuthorizer } from '../authz/rbac.ts';

export interface EscalationDeps {
  authorize(a: Attributes): AuthorizerResult;
  rbac: RbacAuthorizer;
  clusterRole(name: string): KObject | undefined;
  role(namespace: string, name: string): KObject | undefined;
}

const RBAC = 'rbac.authorization.k8s.io';

function forbidden(def: ResourceDef, name: string, message: string): StatusError {
  return new StatusError(403, 'Forbidden', `${def.plural}.${RBAC} ${JSON.stringify(name)} is forbidden: ${message}`, { name, group: RBAC, kind: def.plural });
}

function goStrings(l: string[]): string {
  return `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
}

function allowedVerb(deps: EscalationDeps, user: UserInfo, verb: string, resource: string, namespace: string, name: string): boolean {
  return deps.authorize({ user, verb, isResourceRequest: true, path: '', namespace, apiGroup: RBAC, apiVersion: '', resource, subresource: '', name }).decision === 'Allow';
}

/** Throws upstream's "attempting to grant RBAC permissions not currently held" unless the user holds `rules`. */
function confirmNoEscalation(deps: EscalationDeps, def: ResourceDef, name: string, user: UserInfo, namespace: string, rules: PolicyRule[]): void {
  const held = deps.rbac.rulesFor(user, namespace);
  const { covered, missing } = covers(held.rules, rules);
  if (covered) return;
  let msg = `user ${JSON.stringify(user.name)} (groups=${goStrings(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${compactRules(missing).map(compactRule).join('\n')}`;
  if (held.errors.length) msg += `; resolution errors: [${held.errors.join(' ')}]`;
  throw forbidden(def, name, msg);
}

export function admitRbacWrite(deps: EscalationDeps, def: ResourceDef, obj: KObject, user: UserInfo | undefined): void {
  if (!user || user.groups.includes(SYSTEM_MASTERS)) return;
  const name = obj.metadata.name ?? '';
  const ns = def.namespaced ? (obj.metadata.namespace ?? '') : '';
  switch (def.plural) {
    case 'roles':
    case 'clusterroles': {
      if (allowedVerb(deps, user, 'escalate', def.plural, ns, name)) return;
      if (def.plural === 'clusterroles' && obj.aggregationRule) {
        if (!covers(deps.rbac.rulesFor(user, '').rules, FULL_AUTHORITY).covered) throw forbidden(def, name, 'must have cluster-admin privileges to use the aggregationRule');
        return;
      }
      confirmNoEscalation(deps, def, name, user, ns, Array.isArray(obj.rules) ? obj.rules : []);
      return;
    }
    case 'rolebindings':
    case 'clusterrolebindings': {
      const ref = obj.roleRef ?? {};
      const roleResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
      if (allowedVerb(deps, user, 'bind', roleResource, ns, ref.name ?? '')) return;
      const role = ref.kind === 'Role' ? deps.role(ns, ref.name) : deps.clusterRole(ref.name);
      if (!role) {
        const what = ref.kind === 'Role' ? `roles.${RBAC}` : `clusterroles.${RBAC}`;
        throw forbidden(def, name, `${what} ${JSON.stringify(ref.name ?? '')} not found`);
      }
      confirmNoEscalation(deps, def, name, user, ns, Array.isArray(role.rules) ? role.rules : []);
      return;
    }
  }
}
