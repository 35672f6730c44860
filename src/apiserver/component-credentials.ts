// Each control-plane component's own identity, as k3s issues them: a client certificate from the
// cluster CA (CN = user, O = groups) and a kubeconfig per component in DATA_DIR/cred/, so nothing
// but the user's own kubeconfig is the admin. Upstream's RBAC bootstrap policy binds these users
// to their roles (system:kube-scheduler, system:kube-controller-manager, ...).
//
//   DATA_DIR/cred/scheduler.kubeconfig                 system:kube-scheduler
//   DATA_DIR/cred/controller-manager.kubeconfig        system:kube-controller-manager
//   DATA_DIR/cred/cloud-controller-manager.kubeconfig  system:cloud-controller-manager
//   DATA_DIR/cred/simulated-nodes.kubeconfig           mizzen:simulated-nodes (reads; each node writes as itself)
//   DATA_DIR/cred/kubelet-<node>.kubeconfig            system:node:<node> in system:nodes (ensureNodeKubeconfig)
//
// Certificates are kept beside the kubeconfigs and reused while the CA signed them, the key matches,
// the subject is right and they are not within 30 days of expiry.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeKubeconfig } from './kubeconfig.ts';
import { readFileIfExists } from '../machinery/files.ts';
import { issueClientCertificate, type Pki } from './pki.ts';
import { COMPONENT_IDENTITIES, nodeIdentityFor, type ComponentName, type Identity } from '../client/identity.ts';

export type ComponentIdentity = Identity;
export { COMPONENT_IDENTITIES, nodeIdentityFor, type ComponentName };

const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

export function credDir(dataDir: string): string {
  return join(dataDir, 'cred');
}

function usable(certPem: string | undefined, keyPem: string | undefined, caPem: string, id: ComponentIdentity): boolean {
  if (!certPem || !keyPem) return false;
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey) || !cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    const subject = cert.subject.split('\n');
    const cn = subject.filter((l) => l.startsWith('CN=')).map((l) => l.slice(3));
    const o = subject.filter((l) => l.startsWith('O=')).map((l) => l.slice(2));
    return cn.length === 1 && cn[0] === id.user && o.length === id.groups.length && o.every((g, i) => g === id.groups[i]);
  } catch {
    return false;
  }
}

/** Write (or keep) the certificate and kubeconfig of one identity; returns the kubeconfig's path. */
export async function ensureIdentityKubeconfig(dataDir: string, pki: Pki, server: string, fileBase: string, id: ComponentIdentity): Promise<string> {
  const dir = credDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const kubeconfig = join(dir, `${fileBase}.kubeconfig`);
  // The certificate lives inside the kubeconfig only: read it back from there.
  const existing = await readFileIfExists(kubeconfig);
  let certPem: string | undefined;
  let keyPem: string | undefined;
  if (existing) {
    const cert = /client-certificate-data: (\S+)/.exec(existing)?.[1];
    const key = /client-key-data: (\S+)/.exec(existing)?.[1];
    if (cert && key) {
      certPem = Buffer.from(cert, 'base64').toString('utf8');
      keyPem = Buffer.from(key, 'base64').toString('utf8');
    }
  }
  if (!usable(certPem, keyPem, pki.caCertPem, id)) {
    ({ certPem, keyPem } = await issueClientCertificate({ certPem: pki.caCertPem, keyPem: pki.caKeyPem }, id.user, [...id.groups]));
  }
  await writeKubeconfig(kubeconfig, { server, caPem: pki.caCertPem, clientCertPem: certPem!, clientKeyPem: keyPem!, user: id.user, cluster: 'mizzen', context: 'mizzen' });
  return kubeconfig;
}

/** Kubeconfigs of every control-plane component, by component name. */
export async function ensureComponentKubeconfigs(dataDir: string, pki: Pki, server: string): Promise<Record<ComponentName, string>> {
  const out = {} as Record<ComponentName, string>;
  await Promise.all(
    (Object.keys(COMPONENT_IDENTITIES) as ComponentName[]).map(async (name) => {
      out[name] = await ensureIdentityKubeconfig(dataDir, pki, server, name, COMPONENT_IDENTITIES[name]);
    }),
  );
  return out;
}

/** A kubelet's kubeconfig: `system:node:<node>` in `system:nodes`, for a node on this machine. */
export function ensureNodeKubeconfig(dataDir: string, pki: Pki, server: string, nodeName: string): Promise<string> {
  return ensureIdentityKubeconfig(dataDir, pki, server, `kubelet-${nodeName}`, nodeIdentityFor(nodeName));
}
