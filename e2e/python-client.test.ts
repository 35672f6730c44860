// The official Python client (Debian's python3-kubernetes) against `mizzen up --simulated-nodes 1`:
// it lists nodes (its models refuse a node without status.nodeInfo.kubeProxyVersion) and runs a
// watch (it sends `watch=True`, which upstream reads as true), seeing the event it waits for.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { run, startCluster, type Cluster } from './harness.ts';
import { eventually } from './poll.ts';

// Not `python3` from PATH: that may be a pyenv interpreter without Debian's packages.
const PYTHON = '/usr/bin/python3';
const skip = !existsSync(PYTHON)
  ? `${PYTHON} is not installed`
  : spawnSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'ignore' }).status !== 0
    ? 'the Python client is not installed (apt-get install python3-kubernetes)'
    : false;

const script = String.raw`
import json, sys
from kubernetes import client, config, watch

config.load_kube_config()
v1 = client.CoreV1Api()
out = {}
nodes = v1.list_node()
out["nodes"] = [{"name": n.metadata.name, "kubeProxyVersion": n.status.node_info.kube_proxy_version, "kubeletVersion": n.status.node_info.kubelet_version} for n in nodes.items]

ns = sys.argv[1]
listed = v1.list_namespaced_config_map(ns)
v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="from-python"), data={"k": "v"}))
w = watch.Watch()
events = []
for ev in w.stream(v1.list_namespaced_config_map, ns, resource_version=listed.metadata.resource_version, timeout_seconds=20):
    events.append({"type": ev["type"], "name": ev["object"].metadata.name, "data": ev["object"].data})
    if ev["object"].metadata.name == "from-python":
        w.stop()
out["listRV"] = listed.metadata.resource_version
out["events"] = events
print(json.dumps(out))
`;

describe('the Python client', { skip }, () => {
  let cluster: Cluster;

  before(async () => {
    cluster = await startCluster({ extraArgs: ['--simulated-nodes', '1'] });
  });

  after(async () => {
    await cluster?.stop();
  });

  test('lists nodes and watches configmaps', async () => {
    await cluster.kubectl(['create', 'namespace', 'py']);
    await eventually(async () => (await cluster.kubectl(['get', 'nodes', '-o', 'name'])).stdout.includes('node/sim-0'), { what: 'node sim-0 registered' });
    const res = await run(PYTHON, ['-c', script, 'py'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, timeoutMs: 60_000 });
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
    assert.deepEqual(out.nodes.map((n: any) => n.name), ['sim-0']);
    assert.equal(out.nodes[0].kubeProxyVersion, out.nodes[0].kubeletVersion);
    assert.notEqual(out.listRV, '0');
    assert.deepEqual(out.events, [{ type: 'ADDED', name: 'from-python', data: { k: 'v' } }]);
  });
});
