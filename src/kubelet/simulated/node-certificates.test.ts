// `mizzen simulate` with its own kubeconfig (mizzen:simulated-nodes, no admin rights, no
// impersonation grant): each node gets its own client certificate through a CSR that the
// controller manager's csr-approving approves (the identity is a bootstrapper) and csr-signing
// signs, then writes as itself. A real API server over TLS with RBAC and the node authorizer.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../../client/api-client.ts';
import { loadKubeconfig } from '../../client/kubeconfig.ts';
import { ensureComponentKubeconfigs } from '../../apiserver/component-credentials.ts';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { testControllerEnv, type TestControllerEnv } from '../../controllers/test-support.ts';
import { csrSigningController } from '../../controllers/certificates/signer.ts';
import { csrApprovingController } from '../../controllers/certificates/approver.ts';
import { startSimulatedNodes } from './simulator.ts';
import { eventually } from './test-cluster.ts';

let t: TestApiServer;
let admin: ApiClient;
let own: ApiClient;
let ownKubeconfig = '';
let env: TestControllerEnv;

before(async () => {
  t = await startTestApiServer({ name: 'sim-certs' });
  admin = new ApiClient(loadKubeconfig(t.kubeconfig));
  ownKubeconfig = (await ensureComponentKubeconfigs(t.dir, t.pki, t.server.url))['simulated-nodes'];
  own = new ApiClient(loadKubeconfig(ownKubeconfig));
  env = testControllerEnv(t.kubeconfig, { clusterSigningCertPem: t.pki.caCertPem, clusterSigningKeyPem: t.pki.caKeyPem });
  await env.start(csrApprovingController, csrSigningController);
});
after(async () => {
  await env?.stop();
  own?.close();
  admin?.close();
  await t?.close();
});

test('simulated nodes started with their own identity get a certificate each and write as themselves', async () => {
  const ssar = await own.create<any>(
    { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews' },
    { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'impersonate', resource: 'users', name: 'system:node:certsim-0' } } },
  );
  assert.equal(ssar.status.allowed, false, 'the identity may not impersonate nodes');
  const sim = await startSimulatedNodes({ kubeconfig: ownKubeconfig, count: 2, prefix: 'certsim', heartbeatSeconds: 1 });
  try {
    await eventually('certsim-1 registered and Ready', async () => {
      const n = await admin.get<any>({ version: 'v1', resource: 'nodes', name: 'certsim-1' }).catch(() => undefined);
      return n?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    });
    const csrs = (await admin.list<any>({ group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' })).items;
    const mine = csrs.filter((c: any) => c.metadata.name.startsWith('node-csr-certsim-'));
    assert.equal(mine.length, 2);
    for (const c of mine) {
      assert.equal(c.spec.username, 'mizzen:simulated-nodes');
      assert.equal(c.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
      assert.deepEqual(c.status.conditions.map((x: any) => [x.type, x.reason]), [['Approved', 'AutoApproved']]);
    }
    // The node's writes carry its own identity: its Lease, and the field manager of its Node.
    const lease = await admin.get<any>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: 'certsim-0' });
    assert.equal(lease.spec.holderIdentity, 'certsim-0');
    // A pod bound to the node is reported Running by the node itself (status written as system:node:certsim-1).
    await admin.create({ version: 'v1', resource: 'pods', namespace: 'default' }, {
      metadata: { name: 'on-certsim' },
      spec: { nodeName: 'certsim-1', automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox' }] },
    });
    await eventually('the pod Running', async () => ((await admin.get<any>({ version: 'v1', resource: 'pods', namespace: 'default', name: 'on-certsim' })).status?.phase === 'Running' ? true : undefined));
  } finally {
    await sim.close();
  }
});
