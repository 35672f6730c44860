// Simulated nodes without the private socket: their own identity (mizzen:simulated-nodes) acts as
// each of its nodes through impersonation, allowed for exactly those nodes. A real API server over
// TLS with RBAC and the node authorizer; no admin credentials in the simulator.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, ApiError } from '../../client/api-client.ts';
import { loadKubeconfig } from '../../client/kubeconfig.ts';
import { impersonationHeaders, nodeIdentityFor } from '../../client/identity.ts';
import { ensureComponentKubeconfigs } from '../../apiserver/component-credentials.ts';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { grantNodeImpersonation } from './impersonation-grant.ts';
import { startSimulatedNodes } from './simulator.ts';
import { eventually } from './test-cluster.ts';

let t: TestApiServer;
let admin: ApiClient;
let own: ApiClient;
let ownKubeconfig = '';

before(async () => {
  t = await startTestApiServer({ name: 'sim-identity' });
  admin = new ApiClient(loadKubeconfig(t.kubeconfig));
  ownKubeconfig = (await ensureComponentKubeconfigs(t.dir, t.pki, t.server.url))['simulated-nodes'];
  own = new ApiClient(loadKubeconfig(ownKubeconfig));
});
after(async () => {
  own?.close();
  admin?.close();
  await t?.close();
});

const code = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
};
const asNode = (name: string) => own.withIdentity({ headers: impersonationHeaders(nodeIdentityFor(name)) });
const node = (name: string) => ({ version: 'v1', resource: 'nodes', name });

test('the simulated nodes identity impersonates exactly its nodes, each then held to what a kubelet may do', async () => {
  // Not before the grant: it is not the admin.
  assert.equal(await code(asNode('idsim-0').get(node('idsim-0'))), 403);
  await grantNodeImpersonation(admin, ['idsim-0', 'idsim-1']);

  const sim = await startSimulatedNodes({ kubeconfig: ownKubeconfig, nodeIdentity: 'impersonate', count: 2, prefix: 'idsim', heartbeatSeconds: 1 });
  try {
    await eventually('idsim-1 registered and Ready', async () => {
      const n = await admin.get<any>(node('idsim-1')).catch(() => undefined);
      return n?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    });
    // Its nodes' writes carry the node identity (NodeRestriction would refuse another's).
    const lease = await admin.get<any>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: 'idsim-0' });
    assert.equal(lease.spec.holderIdentity, 'idsim-0');
    // Another node name, or a user that is not a node, cannot be impersonated.
    assert.equal(await code(asNode('idsim-7').get(node('idsim-0'))), 403);
    assert.equal(await code(own.withIdentity({ headers: { 'Impersonate-User': 'admin' } }).list({ version: 'v1', resource: 'secrets' })), 403);
    assert.equal(await code(own.withIdentity({ headers: { 'Impersonate-User': 'system:node:idsim-0', 'Impersonate-Group': 'system:masters' } }).list({ version: 'v1', resource: 'secrets' })), 403);
    // As a node it is held to the node authorizer: not another node's status.
    const other = await admin.get<any>(node('idsim-1'));
    assert.equal(await code(asNode('idsim-0').updateStatus(node('idsim-1'), other)), 403);
    // Its own identity reads pods and nodes, and nothing else.
    assert.equal(await code(own.list({ version: 'v1', resource: 'secrets' })), 403);
  } finally {
    await sim.close();
  }
});
