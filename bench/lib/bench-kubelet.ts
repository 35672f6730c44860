// A standalone `mizzen kubelet` for the node benchmarks (pod-startup, kubelet-footprint): its
// identity and serving certificate from the bench cluster's CA, its flags (its own bridge and cgroup
// root, no DNS or service proxy), and the wait for its Node to be Ready.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ApiClient } from '../../src/client/api-client.ts';
import { ensureKubeletServingCert, type Pki } from '../../src/apiserver/pki.ts';
import { ensureNodeKubeconfig } from '../../src/apiserver/component-credentials.ts';
import type { TestCidrs } from '../../src/kubelet/testing/local-node.ts';
import { nodeInternalIP } from '../../src/kubelet/node/machine-info.ts';
import { freePort } from './cluster.ts';

export interface BenchKubeletNode {
  cluster: { dataDir: string; url: string };
  pki: Pki;
  cidrs: TestCidrs;
  nodeName: string;
  /** Holds the kubelet's certificate, key and data dir. */
  nodeDir: string;
  bridge: string;
  cgroupRoot: string;
}

/** The `mizzen kubelet …` arguments for a bench node, after writing its credentials. */
export async function benchKubeletArgs(n: BenchKubeletNode): Promise<string[]> {
  const kubeconfig = await ensureNodeKubeconfig(n.cluster.dataDir, n.pki, n.cluster.url, n.nodeName);
  const serving = await ensureKubeletServingCert(path.join(n.nodeDir, 'serving'), { certPem: n.pki.caCertPem, keyPem: n.pki.caKeyPem }, n.nodeName, [nodeInternalIP()]);
  writeFileSync(path.join(n.nodeDir, 'kubelet.crt'), serving.certPem);
  writeFileSync(path.join(n.nodeDir, 'kubelet.key'), serving.keyPem);
  return ['kubelet', '--kubeconfig', kubeconfig, '--node-name', n.nodeName, '--data-dir', path.join(n.nodeDir, 'data'), '--port', String(await freePort()),
    '--tls-cert-file', path.join(n.nodeDir, 'kubelet.crt'), '--tls-private-key-file', path.join(n.nodeDir, 'kubelet.key'),
    '--cluster-cidr', n.cidrs.clusterCIDR, '--service-cluster-ip-range', n.cidrs.serviceCIDR, '--cgroup-root', n.cgroupRoot, '--pod-bridge', n.bridge,
    '--cleanup', '--no-cluster-dns', '--no-service-proxy'];
}

/** Waits (up to 90 s) for the Node's Ready condition; returns the ms it took. `output` is the kubelet's log so far, for the error. */
export async function waitNodeReady(admin: ApiClient, nodeName: string, output: () => string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const n = await admin.get<any>({ version: 'v1', resource: 'nodes', name: nodeName }).catch(() => undefined);
    if ((n?.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')) return Math.round(performance.now() - t0);
    if (performance.now() - t0 > 90_000) throw new Error(`node not Ready:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
