// Resource metrics from a real node: `mizzen up` with its local kubelet (root, containerd & co),
// driven by the real kubectl. `kubectl top nodes`/`pods` show the real node and its real pods
// (the kubelet's /metrics/resource from cgroup usage, scraped by the built-in pipeline), and an
// HPA at 50 % CPU scales up a Deployment whose pod is CPU-bound, then back down when it idles.
//
// The machine is shared: one CPU-bound container at a time, each capped by a CPU limit, at most
// two replicas. Resolution, HPA sync period and the default scale-down window are shortened by
// the upstream-named flags. Host-global names (node, bridge, cgroup root, CIDRs) are the test's
// own; the node runs with neither service proxy nor cluster DNS (not needed here).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hasKubectl, startRealNodeCluster, type RealNodeCluster } from './harness.ts';
import { localNodeSkipReason } from '../src/kubelet/testing/local-node.ts';
import { poll } from '../src/testing/poll.ts';
import { eventually } from './poll.ts';

const skip = !hasKubectl ? 'needs /usr/bin/kubectl' : localNodeSkipReason();

/** A busy loop capped at 50m by its limit; 10m requested, so it runs at several times its request. */
const MANIFEST = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: burn}
spec:
  replicas: 1
  selector: {matchLabels: {app: burn}}
  template:
    metadata: {labels: {app: burn}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: loop
        image: busybox:1.35
        command: [sh, -c, 'while :; do :; done']
        resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 50m, memory: 32Mi}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: burn}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burn}
  minReplicas: 1
  maxReplicas: 2
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
`;

describe('resource metrics and the HPA on a real node', { skip, timeout: 900_000 }, () => {
  let c: RealNodeCluster;

  const kubectl = (args: string[], input?: string) => c.kubectl(args, { input });
  const json = async (args: string[]) => JSON.parse((await kubectl([...args, '-o', 'json'])).stdout);
  const replicas = async () => (await json(['get', 'deploy', 'burn'])).spec.replicas as number;

  before(async () => {
    c = await startRealNodeCluster('mr', {
      extraArgs: ['--metric-resolution', '2s', '--horizontal-pod-autoscaler-sync-period', '2s', '--horizontal-pod-autoscaler-downscale-stabilization', '6s'],
    });
  });

  after(async () => {
    if (!c) return;
    // The HPA first, so that nothing scales the Deployment back while it goes.
    await kubectl(['delete', 'hpa,deployment', '--all', '--wait=true', '--timeout=60s']).catch(() => {});
    await c.stop();
  });

  test('kubectl top nodes and pods show the real node and its CPU-bound pod', async () => {
    await kubectl(['apply', '-f', '-'], MANIFEST);
    const nodes = await eventually(async () => {
      const r = await c.kubectl(['top', 'nodes'], { allowFail: true });
      return r.code === 0 && r.stdout.includes(c.nodeName) ? r.stdout : undefined;
    }, { what: `kubectl top nodes shows ${c.nodeName}\n${c.logs().slice(-3000)}`, timeoutMs: 90_000, intervalMs: 1000 });
    const row = nodes.split('\n').find((l) => l.startsWith(c.nodeName))!;
    const [, cpu, cpuPct, mem, memPct] = row.split(/\s+/);
    assert.match(cpu!, /^\d+m$/);
    assert.ok(parseInt(cpu!, 10) > 0, row);
    assert.match(cpuPct!, /^\d+%$/);
    assert.match(mem!, /^\d+Mi$/);
    assert.ok(parseInt(mem!, 10) > 10, `a real machine uses memory: ${row}`);
    assert.match(memPct!, /^\d+%$/);

    // The busy loop: some CPU, at most its 50m limit (one scrape's rate may overshoot a little).
    const pods = await eventually(async () => {
      const r = await c.kubectl(['top', 'pods', '-l', 'app=burn', '--containers'], { allowFail: true });
      const m = r.code === 0 ? /^burn-\S+\s+loop\s+(\d+)m\s+(\d+)Mi/m.exec(r.stdout) : null;
      return m && Number(m[1]) > 0 ? { cpu: Number(m[1]), mem: Number(m[2]), out: r.stdout } : undefined;
    }, { what: 'kubectl top pods shows the burn pod using CPU', timeoutMs: 90_000, intervalMs: 1000 });
    assert.ok(pods.cpu <= 70, `capped by the 50m limit: ${pods.out}`);
    assert.ok(pods.mem < 32, `within its memory limit: ${pods.out}`);
    const raw = JSON.parse((await kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/nodes/${c.nodeName}`])).stdout);
    assert.equal(raw.kind, 'NodeMetrics');
    assert.match(raw.usage.cpu, /^\d+n$/);
    assert.match(raw.usage.memory, /^\d+Ki$/);
  });

  test('an HPA at 50 % CPU scales the CPU-bound Deployment up, and down when it idles', async () => {
    await poll(async () => (await replicas()) === 2, { what: `scale up to 2\n${c.logs().slice(-3000)}`, timeoutMs: 120_000, intervalMs: 1000 });
    const hpa = await eventually(async () => {
      const h = await json(['get', 'hpa', 'burn']);
      return h.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization !== undefined ? h : undefined;
    }, { what: 'the HPA reports its current utilization', timeoutMs: 30_000, intervalMs: 1000 });
    assert.ok(hpa.status.currentMetrics[0].resource.current.averageUtilization > 50, JSON.stringify(hpa.status));
    const events = (await kubectl(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler'])).stdout;
    assert.match(events, /SuccessfulRescale\s+horizontalpodautoscaler\/burn\s+New size: 2; reason: cpu resource utilization \(percentage of request\) above target/);
    // REPLICAS is the status' currentReplicas: the next evaluation after the rescale sets it.
    await poll(async () => /burn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+2\s+2\s/.test((await kubectl(['get', 'hpa', 'burn'])).stdout), { what: 'kubectl get hpa shows 2 replicas', timeoutMs: 30_000, intervalMs: 1000 });

    // Idle pods (a new template that sleeps): back to 1 after the 6 s default window.
    await kubectl(['patch', 'deploy', 'burn', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/template/spec/containers/0/command","value":["sleep","3600"]}]']);
    await poll(async () => (await replicas()) === 1, { what: `scale down to 1\n${c.logs().slice(-3000)}`, timeoutMs: 180_000, intervalMs: 1000 });
    assert.match((await kubectl(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler'])).stdout, /New size: 1; reason: All metrics below target/);
  });
});
