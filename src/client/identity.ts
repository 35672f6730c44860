// Who each Mizzen component is towards the API server, and the headers that say so.
//
// Over the API server's private Unix socket (in-process components), a component names itself in
// `X-Remote-User` / `X-Remote-Group`, which the server trusts only on that socket (the file mode
// is the credential, as a front proxy's client certificate is upstream). Over TLS, a component uses
// its own kubeconfig (DATA_DIR/cred/<component>.kubeconfig); a client that plays several identities
// from one kubeconfig (simulated nodes started alone) impersonates them with `Impersonate-*`.

export interface Identity {
  user: string;
  groups: string[];
}

export const COMPONENT_IDENTITIES = {
  scheduler: { user: 'system:kube-scheduler', groups: [] },
  'controller-manager': { user: 'system:kube-controller-manager', groups: [] },
  'cloud-controller-manager': { user: 'system:cloud-controller-manager', groups: [] },
  // The simulated kubelets' shared watches of pods and nodes; each node writes as itself. A
  // bootstrapper, as a bootstrap token's user is: it may ask for its nodes' client certificates
  // (`mizzen simulate` with this kubeconfig; src/kubelet/simulated/node-certificates.ts).
  'simulated-nodes': { user: 'mizzen:simulated-nodes', groups: ['system:bootstrappers'] },
} as const satisfies Record<string, Identity>;

export type ComponentName = keyof typeof COMPONENT_IDENTITIES;

export function nodeIdentityFor(nodeName: string): Identity {
  return { user: `system:node:${nodeName}`, groups: ['system:nodes'] };
}

/** A ServiceAccount's identity (what its token would authenticate as). */
export function serviceAccountIdentity(namespace: string, name: string): Identity {
  return { user: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`] };
}

/** Headers naming the identity on the private socket. */
export function socketIdentityHeaders(id: Identity): Record<string, string> {
  const h: Record<string, string> = { 'X-Remote-User': id.user };
  if (id.groups.length) h['X-Remote-Group'] = id.groups.join(', ');
  return h;
}

/** Headers impersonating the identity (one group at most: one header line per name). */
export function impersonationHeaders(id: Identity): Record<string, string> {
  if (id.groups.length > 1) throw new Error(`impersonating ${id.user}: only one group can be sent`);
  const h: Record<string, string> = { 'Impersonate-User': id.user };
  if (id.groups.length) h['Impersonate-Group'] = id.groups[0]!;
  return h;
}
