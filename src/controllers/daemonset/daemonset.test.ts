import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import type { ApiClient } from '../../client/api-client.ts';
import { Informer } from '../../client/informer.ts';
import { startTestCluster, type TestCluster } from '../../kubelet/simulated/test-cluster.ts';
import { startSimulatedNodes, type SimulatedNodes } from '../../kubelet/simulated/simulator.ts';
import { eventually, testControllerEnv, type TestControllerEnv } from '../test-support.ts';
import { DAEMONSETS, NODES, PODS, REVISIONS } from '../job/pod-helpers.ts';
import { newDaemonSetController } from './daemonset-controller.ts';
import { revisionPatch } from './revision-history.ts';
import { goEscapeJSON } from '../../machinery/go-json.ts';
import { nodeEligibility, targetNodeName } from './node-eligibility.ts';

/** Test scheduler: binds each daemon pod to the node its affinity names. */
function affinityBinder(client: ApiClient): { stop(): Promise<void> } {
  const inf = new Informer(client, { version: 'v1', resource: 'pods' }, { log: () => {}, backoffInitialMs: 100 });
  const seen = new Set<string>();
  const bind = (p: KObject) => {
    const node = targetNodeName(p);
    if (p.spec?.nodeName || p.metadata.deletionTimestamp || !node || seen.has(p.metadata.uid!)) return;
    seen.add(p.metadata.uid!);
    client.bind(p.metadata.namespace!, p.metadata.name!, node, p.metadata.uid).catch(() => seen.delete(p.metadata.uid!));
  };
  inf.addEventHandler({ onAdd: bind, onUpdate: (_o, n) => bind(n) });
  inf.start();
  return { stop: () => inf.stop() };
}

describe('node eligibility', () => {
  const node = (labels: Record<string, string>, taints: any[] = []): KObject => ({ metadata: { name: 'n1', labels }, spec: { taints } });
  it('applies nodeSelector, affinity and taints with the daemon tolerations', () => {
    assert.equal(nodeEligibility(node({ a: 'b' }), { nodeSelector: { a: 'b' } }).shouldRun, true);
    assert.equal(nodeEligibility(node({}), { nodeSelector: { a: 'b' } }).shouldRun, false);
    const aff = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }] } } } };
    assert.equal(nodeEligibility(node({ zone: 'x' }), aff).shouldRun, true);
    assert.equal(nodeEligibility(node({ zone: 'y' }), aff).shouldRun, false);
    // Default tolerations cover unschedulable, not-ready and pressure taints.
    const sick = node({}, [
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' },
    ]);
    assert.equal(nodeEligibility(sick, {}).shouldRun, true);
    const net = node({}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]);
    assert.equal(nodeEligibility(net, {}).shouldRun, false);
    assert.equal(nodeEligibility(net, { hostNetwork: true }).shouldRun, true);
    const dedicated = node({}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]);
    const e = nodeEligibility(dedicated, {});
    assert.deepEqual(e, { shouldRun: false, shouldContinueRunning: true });
    assert.equal(nodeEligibility(dedicated, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db' }] }).shouldRun, true);
    assert.equal(nodeEligibility(node({}, [{ key: 'x', effect: 'NoExecute' }]), {}).shouldContinueRunning, false);
  });
});

describe('daemonset controller', () => {
  let tc: TestCluster;
  let nodes: SimulatedNodes;
  let binder: { stop(): Promise<void> };
  let env: TestControllerEnv;
  const ns = 'default';

  before(async () => {
    tc = await startTestCluster();
    nodes = await startSimulatedNodes({ client: tc.client, count: 3, maxStopMs: 50 });
    binder = affinityBinder(tc.client);
    env = testControllerEnv(tc.client);
    await env.start(newDaemonSetController());
  });
  after(async () => {
    await env.stop();
    await binder.stop();
    await nodes.close();
    await tc.close();
  });

  const get = (name: string) => tc.client.get<KObject>({ ...DAEMONSETS, namespace: ns, name });
  const podsOf = async (app: string) => (await tc.client.list<KObject>({ ...PODS, namespace: ns }, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
  const ds = (name: string, spec: any = {}, image = 'nginx:1'): KObject => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }], ...spec.podSpec } },
      ...(spec.updateStrategy ? { updateStrategy: spec.updateStrategy } : {}),
    },
  });

  it('runs one pod per node, pinned by affinity, with status counts', async () => {
    await tc.client.create({ ...DAEMONSETS, namespace: ns }, ds('agent'));
    const d = await eventually('all ready', async () => {
      const x = await get('agent');
      return x.status?.numberReady === 3 && x.status.numberAvailable === 3 ? x : undefined;
    });
    assert.equal(d.status.desiredNumberScheduled, 3);
    assert.equal(d.status.currentNumberScheduled, 3);
    assert.equal(d.status.updatedNumberScheduled, 3);
    assert.equal(d.status.numberMisscheduled, 0);
    assert.equal(d.status.numberUnavailable ?? 0, 0);
    assert.equal(d.status.observedGeneration, d.metadata.generation);
    const pods = await podsOf('agent');
    assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), ['sim-0', 'sim-1', 'sim-2']);
    const p = pods[0];
    const term = p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
    assert.deepEqual(term.matchFields, [{ key: 'metadata.name', operator: 'In', values: [p.spec.nodeName] }]);
    const keys = p.spec.tolerations.map((t: any) => t.key);
    for (const k of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable', 'node.kubernetes.io/unschedulable', 'node.kubernetes.io/disk-pressure']) assert.ok(keys.includes(k), k);
    assert.ok(p.metadata.labels!['controller-revision-hash']);
    const revs = (await tc.client.list<KObject>({ ...REVISIONS, namespace: ns }, { labelSelector: 'app=agent' })).items;
    assert.equal(revs.length, 1);
    assert.equal(revs[0].metadata.name, `agent-${p.metadata.labels!['controller-revision-hash']}`);
  });

  it('rolls a template change node by node', async () => {
    await tc.client.patch({ ...DAEMONSETS, namespace: ns, name: 'agent' }, 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } });
    const d = await eventually('rolled', async () => {
      const x = await get('agent');
      const pods = await podsOf('agent');
      return x.status?.updatedNumberScheduled === 3 && x.status.numberAvailable === 3 && pods.length === 3 && pods.every((p) => p.spec.containers[0].image === 'nginx:2') ? x : undefined;
    });
    assert.equal(d.status.observedGeneration, 2);
    const revs = (await tc.client.list<KObject>({ ...REVISIONS, namespace: ns }, { labelSelector: 'app=agent' })).items;
    assert.deepEqual(revs.map((r) => r.revision).sort(), [1, 2]);
  });

  it("stores upstream's template patch as revision data and reuses a revision for an equal template (a Go client's update, a rollback)", async () => {
    const revs = async () => (await tc.client.list<KObject>({ ...REVISIONS, namespace: ns }, { labelSelector: 'app=agent' })).items;
    const cur = await get('agent');
    const [r2] = (await revs()).filter((r) => r.revision === 2);
    // The data as served (key order and escapes kept) is getPatch of the template a Go client decodes.
    assert.equal(goEscapeJSON(JSON.stringify(r2.data)), revisionPatch(cur.spec.template));
    assert.match(JSON.stringify(r2.data), /^\{"spec":\{"template":\{"\$patch":"replace","metadata":\{"creationTimestamp":null,"labels":\{"app":"agent"\}\},"spec":\{"containers":\[\{"image":"nginx:2",/);
    assert.equal(r2.metadata.name, `agent-${r2.metadata.labels!['controller-revision-hash']}`);
    const podUIDs = (await podsOf('agent')).map((p) => p.metadata.uid).sort();

    // A Go client's PUT writes the zero values of its typed template: the same revision.
    cur.spec.template.metadata.creationTimestamp = null;
    await tc.client.update({ ...DAEMONSETS, namespace: ns, name: 'agent' }, cur);
    await eventually('observed', async () => ((await get('agent')).status?.observedGeneration === 3 ? true : undefined));
    assert.deepEqual((await revs()).map((r) => r.revision).sort(), [1, 2]);
    assert.deepEqual((await podsOf('agent')).map((p) => p.metadata.uid).sort(), podUIDs);

    // Back to the first template: revision 1 is reused under a new number, keeping its hash.
    const [r1] = (await revs()).filter((r) => r.revision === 1);
    await tc.client.patch({ ...DAEMONSETS, namespace: ns, name: 'agent' }, 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:1' }] } } } });
    await eventually('rolled back', async () => {
      const pods = await podsOf('agent');
      return pods.length === 3 && pods.every((p) => p.spec.containers[0].image === 'nginx:1' && p.metadata.labels!['controller-revision-hash'] === r1.metadata.labels!['controller-revision-hash']) ? true : undefined;
    });
    const after = await revs();
    assert.deepEqual(after.map((r) => [r.metadata.name, r.revision]).sort(), [[r1.metadata.name, 3], [r2.metadata.name, 2]].sort());
  });

  it('follows node selectors, taints and node add/delete', async () => {
    await tc.client.patch({ ...NODES, name: 'sim-1' }, 'merge', { metadata: { labels: { disk: 'ssd' } } });
    await tc.client.create({ ...DAEMONSETS, namespace: ns }, ds('ssd', { podSpec: { nodeSelector: { disk: 'ssd' } } }));
    await eventually('one ssd pod', async () => {
      const pods = await podsOf('ssd');
      return pods.length === 1 && pods[0].spec.nodeName === 'sim-1' && (await get('ssd')).status?.desiredNumberScheduled === 1 ? true : undefined;
    });
    // A node that loses the label loses the pod.
    await tc.client.patch({ ...NODES, name: 'sim-1' }, 'merge', { metadata: { labels: { disk: null } } });
    await eventually('ssd pod removed', async () => ((await podsOf('ssd')).length === 0 ? true : undefined));

    // A NoExecute taint evicts; a new node gets a pod; a deleted node's pod goes.
    await tc.client.patch({ ...NODES, name: 'sim-2' }, 'merge', { spec: { taints: [{ key: 'maintenance', effect: 'NoExecute' }] } });
    await eventually('tainted node emptied', async () => ((await podsOf('agent')).every((p) => p.spec.nodeName !== 'sim-2') ? true : undefined));
    const more = await startSimulatedNodes({ client: tc.client, count: 1, firstIndex: 3, maxStopMs: 50 });
    try {
      await eventually('new node has a pod', async () => ((await podsOf('agent')).some((p) => p.spec.nodeName === 'sim-3') ? true : undefined));
      await tc.client.delete({ ...NODES, name: 'sim-3' });
      await eventually('deleted node pod gone', async () => ((await podsOf('agent')).some((p) => targetNodeName(p) === 'sim-3') ? undefined : true));
    } finally {
      await more.close();
    }
  });
});
