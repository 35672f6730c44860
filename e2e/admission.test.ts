// Built-in admission end to end against `mizzen up` with the real kubectl: LimitRange defaults and
// bounds (upstream's conformance flow), a ResourceQuota through the life of a pod (usage charged,
// 403 `exceeded quota`, released on delete), PodSecurity refusing a privileged pod with upstream's
// message and warning for workloads, and NodeRestriction keeping a kubelet to its own Node.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hasKubectl, startCluster, type Cluster } from './harness.ts';
import { eventually } from './poll.ts';
import { ensurePki } from '../src/apiserver/pki.ts';
import { ensureNodeKubeconfig } from '../src/apiserver/component-credentials.ts';

const pod = (name: string, ns: string, resources?: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', ...(resources ? { resources } : {}), ...extra }] },
  });

describe('admission with kubectl', { skip: hasKubectl ? false : 'kubectl is not installed' }, () => {
  let c: Cluster;

  before(async () => {
    c = await startCluster({ extraArgs: ['--simulated-nodes', '1'] });
  });
  after(async () => {
    await c?.stop();
  });

  const getJSON = async (args: string[]) => JSON.parse((await c.kubectl([...args, '-o', 'json'])).stdout);

  test('LimitRange: defaults applied, min and max enforced, gone once deleted', async () => {
    const ns = 'limits';
    await c.kubectl(['create', 'namespace', ns]);
    const lr = {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'limit-range', namespace: ns },
      spec: {
        limits: [
          {
            type: 'Container',
            min: { cpu: '50m', memory: '100Mi', 'ephemeral-storage': '100Gi' },
            max: { cpu: '500m', memory: '500Mi', 'ephemeral-storage': '500Gi' },
            default: { cpu: '500m', memory: '500Mi', 'ephemeral-storage': '500Gi' },
            defaultRequest: { cpu: '100m', memory: '200Mi', 'ephemeral-storage': '200Gi' },
          },
        ],
      },
    };
    await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(lr) });
    await c.kubectl(['apply', '-f', '-'], { input: pod('no-resources', ns) });
    const p1 = await getJSON(['-n', ns, 'get', 'pod', 'no-resources']);
    assert.deepEqual(p1.spec.containers[0].resources, {
      requests: { cpu: '100m', memory: '200Mi', 'ephemeral-storage': '200Gi' },
      limits: { cpu: '500m', memory: '500Mi', 'ephemeral-storage': '500Gi' },
    });
    assert.equal(p1.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, ephemeral-storage, memory request for container c; cpu, ephemeral-storage, memory limit for container c');

    await c.kubectl(['apply', '-f', '-'], { input: pod('partial', ns, { requests: { cpu: '300m', memory: '150Mi', 'ephemeral-storage': '150Gi' }, limits: { cpu: '300m' } }) });
    const p2 = await getJSON(['-n', ns, 'get', 'pod', 'partial']);
    assert.deepEqual(p2.spec.containers[0].resources.limits, { cpu: '300m', memory: '500Mi', 'ephemeral-storage': '500Gi' });
    assert.deepEqual(p2.spec.containers[0].resources.requests, { cpu: '300m', memory: '150Mi', 'ephemeral-storage': '150Gi' });

    const small = await c.kubectl(['apply', '-f', '-'], { input: pod('too-small', ns, { requests: { cpu: '10m', memory: '150Mi' } }), allowFail: true });
    assert.notEqual(small.code, 0);
    assert.match(small.stderr, /pods "too-small" is forbidden: minimum cpu usage per Container is 50m, but request is 10m\./);
    const big = await c.kubectl(['apply', '-f', '-'], { input: pod('too-big', ns, { limits: { cpu: '600m' } }), allowFail: true });
    assert.match(big.stderr, /pods "too-big" is forbidden: .*maximum cpu usage per Container is 500m, but limit is 600m\./);

    await c.kubectl(['-n', ns, 'delete', 'limitrange', 'limit-range']);
    await eventually(async () => (await c.kubectl(['apply', '-f', '-'], { input: pod('too-big', ns, { limits: { cpu: '600m' } }), allowFail: true })).code === 0, {
      what: 'a pod past the old max is accepted once the LimitRange is gone',
    });
  });

  test('ResourceQuota: the life of a pod', async () => {
    const ns = 'quota';
    await c.kubectl(['create', 'namespace', ns]);
    const quota = {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'test-quota', namespace: ns },
      spec: { hard: { pods: '5', cpu: '1', memory: '500Mi', 'ephemeral-storage': '50Gi', 'requests.example.com/dongle': '3', resourcequotas: '1' } },
    };
    await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(quota) });
    const used = async () => (await getJSON(['-n', ns, 'get', 'resourcequota', 'test-quota'])).status?.used;
    await eventually(async () => (await used())?.resourcequotas === '1', { what: 'the quota status is calculated' });

    const requests = { cpu: '500m', memory: '252Mi', 'ephemeral-storage': '30Gi', 'example.com/dongle': '2' };
    await c.kubectl(['apply', '-f', '-'], { input: pod('test-pod', ns, { requests, limits: { 'example.com/dongle': '2' } }) });
    await eventually(async () => {
      const u = await used();
      return u?.pods === '1' && u.cpu === '500m' && u.memory === '252Mi' && u['ephemeral-storage'] === '30Gi' && u['requests.example.com/dongle'] === '2';
    }, { what: 'the quota charges the pod' });

    const over = await c.kubectl(['apply', '-f', '-'], { input: pod('fail-pod', ns, { requests: { cpu: '600m', memory: '100Mi' } }), allowFail: true });
    assert.notEqual(over.code, 0);
    assert.match(over.stderr, /Error from server \(Forbidden\).*pods "fail-pod" is forbidden: exceeded quota: test-quota, requested: cpu=600m, used: cpu=500m, limited: cpu=1/);
    const dongles = await c.kubectl(['apply', '-f', '-'], { input: pod('fail-pod-2', ns, { requests: { cpu: '100m', memory: '100Mi', 'example.com/dongle': '2' }, limits: { 'example.com/dongle': '2' } }), allowFail: true });
    assert.match(dongles.stderr, /exceeded quota: test-quota, requested: requests.example.com\/dongle=2, used: requests.example.com\/dongle=2, limited: requests.example.com\/dongle=3/);

    await c.kubectl(['-n', ns, 'delete', 'pod', 'test-pod', '--grace-period=0', '--force']);
    await eventually(async () => {
      const u = await used();
      return u?.pods === '0' && u.cpu === '0' && u['requests.example.com/dongle'] === '0';
    }, { what: 'the quota releases the pod' });
  });

  test('PodSecurity: restricted refuses a privileged pod; warn answers workloads with a Warning', async () => {
    const ns = 'restricted';
    await c.kubectl(['create', 'namespace', ns]);
    await c.kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
    const r = await c.kubectl(['apply', '-f', '-'], { input: pod('priv', ns, undefined, { securityContext: { privileged: true } }), allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged \(container "c" must not set securityContext.privileged=true\), allowPrivilegeEscalation != false \(container "c" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities \(container "c" must set securityContext.capabilities.drop=\["ALL"\]\), runAsNonRoot != true \(pod or container "c" must set securityContext.runAsNonRoot=true\), seccompProfile \(pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"\)/,
    );
    const good = {
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    };
    await c.kubectl(['apply', '-f', '-'], { input: pod('fine', ns, undefined, good) });
    const dep = await c.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=busybox:1.36']);
    assert.match(dep.stderr, /Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
    // A pinned version is named as given.
    await c.kubectl(['label', '--overwrite', 'namespace', ns, 'pod-security.kubernetes.io/enforce-version=v1.30']);
    const v = await c.kubectl(['apply', '-f', '-'], { input: pod('priv2', ns, undefined, { securityContext: { privileged: true } }), allowFail: true });
    assert.match(v.stderr, /violates PodSecurity "restricted:v1.30": privileged/);
  });

  test('NodeRestriction: a kubelet may change only its own Node, and no restricted labels', async () => {
    await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'other-node' } }) });
    const pki = await ensurePki(c.dataDir);
    const kc = await ensureNodeKubeconfig(c.dataDir, pki, c.url, 'sim-0');
    const asNode = (args: string[]) => c.kubectl(args, { env: { KUBECONFIG: kc }, allowFail: true });
    // A kubelet cannot even read another Node (the node authorizer); a blind patch reaches admission.
    const other = await c.kubectl(['replace', '--raw', '/api/v1/nodes/other-node', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'other-node', labels: { x: 'y' } } }),
      env: { KUBECONFIG: kc },
      allowFail: true,
    });
    assert.notEqual(other.code, 0);
    assert.match(other.stderr + other.stdout, /nodes \W+other-node\W+ is forbidden: node \W+sim-0\W+ is not allowed to modify node \W+other-node/);
    const escalate = await asNode(['label', 'node', 'sim-0', 'node-restriction.kubernetes.io/trusted=yes']);
    assert.match(escalate.stderr, /nodes "sim-0" is forbidden: node "sim-0" is not allowed to modify labels: node-restriction.kubernetes.io\/trusted/);
    const own = await asNode(['label', 'node', 'sim-0', 'example.com/rack=r1']);
    assert.equal(own.code, 0, own.stderr);
    // Pods: only mirror pods of its own.
    const created = await c.kubectl(['create', '-f', '-'], { input: pod('not-mirror', 'default', undefined), env: { KUBECONFIG: kc }, allowFail: true });
    assert.match(created.stderr, /pods "not-mirror" is forbidden: pod does not have "kubernetes.io\/config.mirror" annotation, node "sim-0" can only create mirror pods/);
  });
});
