// The scheduler end to end: the real kubectl against `mizzen up` with three simulated nodes
// (4 CPUs each). Resource fit and FailedScheduling, nodeSelector, node affinity, pod
// anti-affinity, taints and tolerations, zone topology spread, preemption, and a pending pod that
// lands once a new node registers. Tests run in order; each cleans up its pods, labels and taints
// so the next one starts from three empty, untainted nodes.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { hasKubectl, MIZZEN_BIN, startCluster, type Cluster } from './harness.ts';
import { background, eventually } from './poll.ts';

const NODES = ['sim-0', 'sim-1', 'sim-2'];
const ZONE = 'topology.kubernetes.io/zone';

interface PodSpec {
  name: string;
  labels?: Record<string, string>;
  cpu?: string;
  extra?: Record<string, unknown>;
  priorityClassName?: string;
}

/** A pause pod manifest. */
function podManifest(ns: string, p: PodSpec): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: ns, labels: p.labels ?? {} },
    spec: {
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: p.cpu ?? '100m', memory: '64Mi' } } }],
      ...(p.priorityClassName ? { priorityClassName: p.priorityClassName } : {}),
      ...(p.extra ?? {}),
    },
  };
}

describe('scheduler with kubectl', { skip: !hasKubectl && 'kubectl not installed' }, () => {
  let c: Cluster;

  before(async () => {
    c = await startCluster({ extraArgs: ['--simulated-nodes', '3', '--simulated-node-capacity', 'cpu=4,memory=16Gi,pods=110'] });
    await eventually(
      async () => {
        const out = (await c.kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'])).stdout;
        return NODES.every((n) => out.includes(`${n}=True`));
      },
      { timeoutMs: 20_000, what: 'three Ready nodes' },
    );
  });

  after(async () => {
    await c?.stop();
  });

  const apply = (ns: string, ...pods: PodSpec[]) => c.kubectl(['apply', '-f', '-'], { input: pods.map((p) => YAML.stringify(podManifest(ns, p))).join('---\n') });
  const nodeOf = async (ns: string, pod: string) => (await c.kubectl(['get', 'pod', pod, '-n', ns, '-o', 'jsonpath={.spec.nodeName}'])).stdout.trim();
  const waitBound = (ns: string, pod: string, timeoutMs = 15_000) => eventually(() => nodeOf(ns, pod), { timeoutMs, what: `${ns}/${pod} bound` });
  /** pod name -> node name for every pod in a namespace. */
  const placement = async (ns: string) => {
    const out = (await c.kubectl(['get', 'pods', '-n', ns, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}{"\\n"}{end}'])).stdout;
    return new Map(out.trim().split('\n').filter(Boolean).map((l) => l.split('=') as [string, string]));
  };
  const failedScheduling = (ns: string, pod: string) =>
    eventually(
      async () => {
        const out = (await c.kubectl(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${pod},reason=FailedScheduling`, '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}'])).stdout;
        return out.trim();
      },
      { timeoutMs: 15_000, what: `FailedScheduling event for ${pod}` },
    );
  const newNamespace = (ns: string) => c.kubectl(['create', 'namespace', ns]);
  const deletePods = (ns: string) => c.kubectl(['delete', 'pods', '--all', '-n', ns, '--grace-period=0', '--force', '--wait=true'], { allowFail: true });

  test('a pod too big for every node stays Pending with a FailedScheduling event', async () => {
    const ns = 'fit';
    await newNamespace(ns);
    await apply(ns, { name: 'huge', cpu: '100' });
    const msg = await failedScheduling(ns, 'huge');
    assert.match(msg, /^0\/3 nodes are available: 3 Insufficient cpu\. preemption: /m);
    const phase = (await c.kubectl(['get', 'pod', 'huge', '-n', ns, '-o', 'jsonpath={.status.phase}'])).stdout;
    assert.equal(phase, 'Pending');
    const cond = (await c.kubectl(['get', 'pod', 'huge', '-n', ns, '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}'])).stdout;
    assert.equal(cond, 'Unschedulable');
    const describe = (await c.kubectl(['describe', 'pod', 'huge', '-n', ns])).stdout;
    assert.match(describe, /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 3 Insufficient cpu/);
    // A pod that fits is scheduled, with a Scheduled event.
    await apply(ns, { name: 'small', cpu: '500m' });
    const node = await waitBound(ns, 'small');
    assert.ok(NODES.includes(node));
    const ev = await eventually(async () => (await c.kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=small,reason=Scheduled', '-o', 'jsonpath={.items[*].message}'])).stdout);
    assert.equal(ev, `Successfully assigned ${ns}/small to ${node}`);
    await deletePods(ns);
  });

  test('nodeSelector sends a pod to the labelled node', async () => {
    const ns = 'selector';
    await newNamespace(ns);
    await c.kubectl(['label', 'node', 'sim-1', 'disk=ssd']);
    try {
      await apply(ns, { name: 'fast', extra: { nodeSelector: { disk: 'ssd' } } }, { name: 'nowhere', extra: { nodeSelector: { disk: 'tape' } } });
      assert.equal(await waitBound(ns, 'fast'), 'sim-1');
      assert.match(await failedScheduling(ns, 'nowhere'), /^0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector\./m);
    } finally {
      await deletePods(ns);
      await c.kubectl(['label', 'node', 'sim-1', 'disk-']);
    }
  });

  test('required node affinity', async () => {
    const ns = 'node-affinity';
    await newNamespace(ns);
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['sim-0', 'sim-1'] }] }],
        },
      },
    };
    await apply(ns, { name: 'a', extra: { affinity } }, { name: 'b', extra: { affinity } });
    assert.equal(await waitBound(ns, 'a'), 'sim-2');
    assert.equal(await waitBound(ns, 'b'), 'sim-2');
    await deletePods(ns);
  });

  test('pod anti-affinity keeps a group on different nodes', async () => {
    const ns = 'anti-affinity';
    await newNamespace(ns);
    const extra = {
      affinity: {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'ha' } }, topologyKey: 'kubernetes.io/hostname' }] },
      },
    };
    await apply(ns, ...[0, 1, 2].map((i) => ({ name: `ha-${i}`, labels: { app: 'ha' }, extra })));
    const nodes = await Promise.all([0, 1, 2].map((i) => waitBound(ns, `ha-${i}`)));
    assert.equal(new Set(nodes).size, 3, `ha pods share a node: ${nodes}`);
    // A fourth member has nowhere to go.
    await apply(ns, { name: 'ha-3', labels: { app: 'ha' }, extra });
    assert.match(await failedScheduling(ns, 'ha-3'), /^0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules\./m);
    await deletePods(ns);
  });

  test('a NoSchedule taint keeps pods away unless they tolerate it', async () => {
    const ns = 'taints';
    await newNamespace(ns);
    await c.kubectl(['taint', 'node', 'sim-0', 'dedicated=infra:NoSchedule']);
    try {
      // The rejection of a pod pinned to sim-0 also shows the scheduler has seen the taint.
      const onSim0 = { nodeSelector: { 'kubernetes.io/hostname': 'sim-0' } };
      await apply(ns, { name: 'intolerant', extra: onSim0 });
      const msg = await eventually(async () => {
        const m = await failedScheduling(ns, 'intolerant');
        return m.includes('untolerated taint') ? m : '';
      });
      assert.match(msg, /1 node\(s\) had untolerated taint \{dedicated: infra\}/);
      assert.match(msg, /2 node\(s\) didn't match Pod's node affinity\/selector/);
      await apply(ns, ...[0, 1, 2, 3, 4, 5].map((i) => ({ name: `plain-${i}` })));
      for (let i = 0; i < 6; i++) assert.notEqual(await waitBound(ns, `plain-${i}`), 'sim-0');
      await apply(ns, { name: 'tolerant', extra: { ...onSim0, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }] } });
      assert.equal(await waitBound(ns, 'tolerant'), 'sim-0');
    } finally {
      await deletePods(ns);
      await c.kubectl(['taint', 'node', 'sim-0', 'dedicated=infra:NoSchedule-']);
    }
  });

  test('topology spread puts two of six pods in each zone', async () => {
    const ns = 'spread';
    await newNamespace(ns);
    const zones: Record<string, string> = { 'sim-0': 'a', 'sim-1': 'b', 'sim-2': 'c' };
    for (const [n, z] of Object.entries(zones)) await c.kubectl(['label', 'node', n, `${ZONE}=${z}`]);
    try {
      // Node events arrive in order: once a pod needing the last label lands, all labels are seen.
      const probe = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: 'In', values: ['c'] }] }] } } };
      await apply(ns, { name: 'probe', extra: { affinity: probe } });
      assert.equal(await waitBound(ns, 'probe'), 'sim-2');
      await c.kubectl(['delete', 'pod', 'probe', '-n', ns, '--grace-period=0', '--force']);
      const extra = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }] };
      await apply(ns, ...[0, 1, 2, 3, 4, 5].map((i) => ({ name: `s-${i}`, labels: { app: 'spread' }, extra })));
      for (let i = 0; i < 6; i++) await waitBound(ns, `s-${i}`);
      const perZone = new Map<string, number>();
      for (const node of (await placement(ns)).values()) perZone.set(zones[node]!, (perZone.get(zones[node]!) ?? 0) + 1);
      assert.deepEqual(Object.fromEntries([...perZone].sort()), { a: 2, b: 2, c: 2 });
    } finally {
      await deletePods(ns);
      for (const n of NODES) await c.kubectl(['label', 'node', n, `${ZONE}-`]);
    }
  });

  test('a high-priority pod preempts a low-priority one', async () => {
    const ns = 'preempt';
    await newNamespace(ns);
    await c.kubectl(['create', 'priorityclass', 'high', '--value=1000', '--description=e2e high']);
    await c.kubectl(['create', 'priorityclass', 'low', '--value=10', '--description=e2e low']);
    // Three CPUs of four on every node go to low-priority pods.
    await apply(ns, ...[0, 1, 2].map((i) => ({ name: `low-${i}`, cpu: '3', priorityClassName: 'low' })));
    const lowNodes = await Promise.all([0, 1, 2].map((i) => waitBound(ns, `low-${i}`)));
    assert.equal(new Set(lowNodes).size, 3);
    await apply(ns, { name: 'vip', cpu: '3', priorityClassName: 'high' });
    // Preemption first nominates a node for the pod, then binds it once the victim is gone.
    const nominated = background('/usr/bin/kubectl', ['get', 'pod', 'vip', '-n', ns, '--watch', '-o', 'jsonpath={.status.nominatedNodeName}{"\\n"}'], {
      ...process.env,
      KUBECONFIG: c.kubeconfig,
    });
    try {
      const prio = (await c.kubectl(['get', 'pod', 'vip', '-n', ns, '-o', 'jsonpath={.spec.priority}'])).stdout;
      assert.equal(prio, '1000');
      const node = await waitBound(ns, 'vip', 30_000);
      const victim = `low-${lowNodes.indexOf(node)}`;
      await eventually(async () => (await c.kubectl(['get', 'pod', victim, '-n', ns], { allowFail: true })).stderr.includes('NotFound'), {
        timeoutMs: 15_000,
        what: `victim ${victim} gone`,
      });
      // The other low-priority pods stay where they were.
      const left = await placement(ns);
      assert.equal(left.size, 3);
      for (let i = 0; i < 3; i++) if (`low-${i}` !== victim) assert.equal(left.get(`low-${i}`), lowNodes[i]);
      await nominated.waitFor((out) => out.split('\n').includes(node), 5_000);
    } finally {
      await nominated.stop();
      await deletePods(ns);
    }
  });

  test('a pending pod is scheduled once a big enough node registers', async () => {
    const ns = 'new-node';
    await newNamespace(ns);
    await apply(ns, { name: 'big', cpu: '40' });
    assert.match(await failedScheduling(ns, 'big'), /^0\/3 nodes are available: 3 Insufficient cpu\./m);
    const sim = background(process.execPath, [MIZZEN_BIN, 'simulate', '--kubeconfig', c.kubeconfig, '--nodes', '1', '--prefix', 'extra', '--capacity', 'cpu=64'], process.env);
    try {
      assert.equal(await waitBound(ns, 'big', 30_000), 'extra-0');
    } finally {
      await sim.stop();
      await deletePods(ns);
    }
  });
});
