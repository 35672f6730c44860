// The pure parts of a real node: allocatable, taints, conditions, the resource metrics text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeAllocatable, nodeCapacity, quantitiesToStrings } from './resources.ts';
import { parseTaints, registrationTaints, statusImages } from './node-object.ts';
import { nodeConditions, pressureFrom, readiness } from './conditions.ts';
import { goFloat, renderResourceMetrics } from '../stats/resource-metrics.ts';
import type { MachineInfo } from './machine-info.ts';

const machine: MachineInfo = {
  cpus: 4,
  memoryBytes: 16 * 1024 ** 3,
  hugepages: { '2Mi': 0 },
  rootFs: { capacityBytes: 100 * 1024 ** 3, availableBytes: 50 * 1024 ** 3, usedBytes: 50 * 1024 ** 3, inodes: 1000, inodesFree: 900 },
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  operatingSystem: 'linux',
  architecture: 'amd64',
  machineID: 'm',
  systemUUID: 's',
  bootID: 'b',
  hostname: 'h',
};

test('capacity and allocatable as upstream computes them', () => {
  const cap = nodeCapacity(machine);
  assert.deepEqual(quantitiesToStrings(cap), { cpu: '4', 'ephemeral-storage': '100Gi', memory: '16Gi', pods: '110', 'hugepages-2Mi': '0' });
  const alloc = quantitiesToStrings(nodeAllocatable(cap, { kubeReserved: { cpu: '100m', memory: '256Mi' } }));
  assert.equal(alloc.cpu, '3900m');
  assert.equal(alloc.memory, '16028Mi'); // 16Gi - 256Mi - 100Mi, printed canonically
  assert.equal(alloc['ephemeral-storage'], '90Gi'); // 100Gi less nodefs.available 10 %
  assert.equal(alloc.pods, '110');
});

test('register-with-taints parses and --cloud-provider=external adds the uninitialized taint', () => {
  assert.deepEqual(parseTaints('a=b:NoSchedule, c:NoExecute'), [
    { key: 'a', value: 'b', effect: 'NoSchedule' },
    { key: 'c', effect: 'NoExecute' },
  ]);
  assert.throws(() => parseTaints('a=b'), /expected KEY\[=VALUE\]:EFFECT/);
  assert.throws(() => parseTaints('a=b:Sometimes'), /invalid taint effect/);
  assert.deepEqual(registrationTaints({ nodeName: 'n', machine, externalCloudProvider: true }), [{ key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' }]);
});

test('conditions: pressure from the signals, Ready from the runtime, transition times kept', () => {
  const p = pressureFrom({ memoryCapacityBytes: 1000 * 1024 ** 2, memoryWorkingSetBytes: 950 * 1024 ** 2, nodefs: machine.rootFs });
  assert.deepEqual(p, { memory: true, disk: false, pid: false });
  const r = readiness({ reachable: true, conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'cni plugin not initialized' }] });
  assert.equal(r.ready, false);
  assert.equal(r.message, 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni plugin not initialized');
  const t1 = new Date('2026-01-01T00:00:00Z');
  const c1 = nodeConditions(undefined, p, r, t1);
  assert.deepEqual(c1.map((c) => [c.type, c.status, c.reason]), [
    ['MemoryPressure', 'True', 'KubeletHasInsufficientMemory'],
    ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
    ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
    ['Ready', 'False', 'KubeletNotReady'],
  ]);
  const c2 = nodeConditions(c1, p, { ready: true, message: 'kubelet is posting ready status' }, new Date('2026-01-01T00:00:10Z'));
  assert.equal(c2[0]!.lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(c2[3]!.lastTransitionTime, '2026-01-01T00:00:10Z');
});

test('images in status: digests then tags, largest first', () => {
  const img = (id: string, size: number) => ({ id, repoTags: [`${id}:1`], repoDigests: [`${id}@sha256:x`], size, uid: null, username: '', spec: null, pinned: false });
  assert.deepEqual(statusImages([img('a', 10), img('b', 20)]), [
    { names: ['b@sha256:x', 'b:1'], sizeBytes: 20 },
    { names: ['a@sha256:x', 'a:1'], sizeBytes: 10 },
  ]);
});

test('floats as Go prints them in the Prometheus text format', () => {
  assert.equal(goFloat(0), '0');
  assert.equal(goFloat(1), '1');
  assert.equal(goFloat(123456), '123456');
  assert.equal(goFloat(14086144), '1.4086144e+07');
  assert.equal(goFloat(1e6), '1e+06');
  assert.equal(goFloat(0.872547), '0.872547');
  assert.equal(goFloat(0.00001), '1e-05');
  assert.equal(goFloat(1234.5), '1234.5');
});

test('/metrics/resource text: sorted families, sorted labels, timestamps, no empty families', () => {
  const t = '2026-01-01T00:00:00Z';
  const text = renderResourceMetrics({
    node: { nodeName: 'n', systemContainers: [], startTime: t, cpu: { time: t, usageCoreNanoSeconds: 2.5e9 }, memory: { time: t, workingSetBytes: 14086144 } },
    pods: [{ podRef: { name: 'web', namespace: 'default', uid: 'u' }, startTime: t, cpu: { time: t, usageCoreNanoSeconds: 1e9 }, memory: { time: t, workingSetBytes: 1000 }, containers: [{ name: 'c', startTime: t, cpu: { time: t, usageCoreNanoSeconds: 5e8 }, memory: { time: t, workingSetBytes: 900 } }] }],
  });
  const ms = Date.parse(t);
  assert.equal(
    text,
    [
      '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds',
      '# TYPE container_cpu_usage_seconds_total counter',
      `container_cpu_usage_seconds_total{container="c",namespace="default",pod="web"} 0.5 ${ms}`,
      '# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes',
      '# TYPE container_memory_working_set_bytes gauge',
      `container_memory_working_set_bytes{container="c",namespace="default",pod="web"} 900 ${ms}`,
      '# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds',
      '# TYPE container_start_time_seconds gauge',
      `container_start_time_seconds{container="c",namespace="default",pod="web"} ${goFloat(ms / 1000)} ${ms}`,
      '# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds',
      '# TYPE node_cpu_usage_seconds_total counter',
      `node_cpu_usage_seconds_total 2.5 ${ms}`,
      '# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes',
      '# TYPE node_memory_working_set_bytes gauge',
      `node_memory_working_set_bytes 1.4086144e+07 ${ms}`,
      '# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds',
      '# TYPE pod_cpu_usage_seconds_total counter',
      `pod_cpu_usage_seconds_total{namespace="default",pod="web"} 1 ${ms}`,
      '# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes',
      '# TYPE pod_memory_working_set_bytes gauge',
      `pod_memory_working_set_bytes{namespace="default",pod="web"} 1000 ${ms}`,
      '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
      '# TYPE resource_scrape_error gauge',
      'resource_scrape_error 0',
      '',
    ].join('\n'),
  );
  assert.equal(renderResourceMetrics(undefined), '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise\n# TYPE resource_scrape_error gauge\nresource_scrape_error 1\n');
});
