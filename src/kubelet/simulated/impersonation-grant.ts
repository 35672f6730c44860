// What the simulated nodes' own identity (mizzen:simulated-nodes) may do when it reaches the API
// server over TLS rather than the private socket: impersonate exactly its nodes,
// `system:node:<name>` in `system:nodes`, and nothing else. Each node's writes then pass the node
// authorizer and NodeRestriction as a real kubelet's would; the admin's credentials are not used.

import type { ApiClient } from '../../client/api-client.ts';
import { COMPONENT_IDENTITIES, nodeIdentityFor } from '../../client/identity.ts';

export const IMPERSONATION_ROLE = 'mizzen:simulated-nodes:impersonate';

const rbac = { group: 'rbac.authorization.k8s.io', version: 'v1' } as const;

/** The ClusterRole and its binding letting the simulator act as these nodes only. */
export function impersonationGrant(nodeNames: string[]): { role: object; binding: object } {
  const users = nodeNames.map((n) => nodeIdentityFor(n).user);
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: IMPERSONATION_ROLE },
    rules: [
      { apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: users },
      { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: ['system:nodes'] },
    ],
  };
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: IMPERSONATION_ROLE },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: IMPERSONATION_ROLE },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: COMPONENT_IDENTITIES['simulated-nodes'].user }],
  };
  return { role, binding };
}

/** Writes the grant (server-side apply) with a client allowed to manage RBAC (the admin's, at start). */
export async function grantNodeImpersonation(admin: ApiClient, nodeNames: string[]): Promise<void> {
  const { role, binding } = impersonationGrant(nodeNames);
  const opts = { fieldManager: 'mizzen-up', force: true };
  await admin.patch({ ...rbac, resource: 'clusterroles', name: IMPERSONATION_ROLE }, 'apply', role, opts);
  await admin.patch({ ...rbac, resource: 'clusterrolebindings', name: IMPERSONATION_ROLE }, 'apply', binding, opts);
}
