import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from './api-types.ts';
import {
  containerLinuxResources,
  hugePageUnitSize,
  milliCPUToQuota,
  milliCPUToShares,
  podCgroupParent,
  podMemoryLimit,
  sandboxLinuxResources,
  sandboxOverhead,
} from './linux-resources.ts';
import { computePodQOS, containerOOMScoreAdjust, podQOS } from './qos.ts';

const GiB = 1024 ** 3;

function pod(containers: Container[], extra: Partial<Pod['spec']> = {}, status?: Pod['status']): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: '1234-abcd' }, spec: { containers, ...extra }, status };
}
const c = (name: string, requests?: Record<string, string>, limits?: Record<string, string>): Container => ({ name, resources: { requests, limits } });

test('computePodQOS as upstream', () => {
  const cases: [string, Pod, string][] = [
    ['nothing', pod([c('a')]), 'BestEffort'],
    ['only ephemeral-storage', pod([c('a', { 'ephemeral-storage': '1Gi' })]), 'BestEffort'],
    ['zero requests', pod([c('a', { cpu: '0' })]), 'BestEffort'],
    ['requests == limits', pod([c('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })]), 'Guaranteed'],
    ['limits only (requests defaulted)', pod([c('a', undefined, { cpu: '1', memory: '1Gi' })]), 'Burstable'],
    ['same amount written differently', pod([c('a', { cpu: '1000m', memory: '1024Mi' }, { cpu: '1', memory: '1Gi' })]), 'Guaranteed'],
    ['requests < limits', pod([c('a', { cpu: '500m', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })]), 'Burstable'],
    ['cpu limit missing', pod([c('a', { cpu: '1', memory: '1Gi' }, { memory: '1Gi' })]), 'Burstable'],
    ['one container without', pod([c('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }), c('b')]), 'Burstable'],
    [
      'init container counts',
      pod([c('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], { initContainers: [c('i', { cpu: '1' })] }),
      'Burstable',
    ],
  ];
  for (const [name, p, want] of cases) assert.equal(computePodQOS(p), want, name);
  assert.equal(podQOS(pod([c('a')], {}, { qosClass: 'Burstable' })), 'Burstable');
});

test('containerOOMScoreAdjust: -997 Guaranteed, 1000 BestEffort, Burstable formula clamped to [3, 999]', () => {
  const g = pod([c('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })]);
  assert.equal(containerOOMScoreAdjust(g, g.spec.containers[0], 4 * GiB), -997);
  const be = pod([c('a')]);
  assert.equal(containerOOMScoreAdjust(be, be.spec.containers[0], 4 * GiB), 1000);
  const cases: [Record<string, string> | undefined, number][] = [
    [{ memory: '1Gi' }, 750],
    [{ memory: '4Gi' }, 3],
    [{ memory: '8Gi' }, 3],
    [{ cpu: '100m' }, 999],
    [{ memory: '1Mi' }, 999],
    [{ memory: '40Mi' }, 991],
  ];
  for (const [req, want] of cases) {
    const b = pod([c('a', req, { cpu: '2' })]);
    assert.equal(containerOOMScoreAdjust(b, b.spec.containers[0], 4 * GiB), want, JSON.stringify(req));
  }
  const critical = pod([c('a')], { priority: 2_000_001_000, priorityClassName: 'system-node-critical' });
  assert.equal(containerOOMScoreAdjust(critical, critical.spec.containers[0], 4 * GiB), -997);
  // A sidecar gets at most the adjustment of the smallest regular container.
  const side = { ...c('side', { memory: '100Mi' }), restartPolicy: 'Always' };
  const withSidecar = pod([c('a', { memory: '2Gi' })], { initContainers: [side] });
  assert.equal(containerOOMScoreAdjust(withSidecar, side, 4 * GiB), 500);
});

test('milliCPUToShares and milliCPUToQuota', () => {
  const shares: [number, number][] = [[0, 2], [1, 2], [2, 2], [100, 102], [250, 256], [1000, 1024], [300000, 262144]];
  for (const [m, want] of shares) assert.equal(milliCPUToShares(m), want, `shares ${m}`);
  const quota: [number, number][] = [[0, 0], [5, 1000], [10, 1000], [250, 25000], [1000, 100000], [1500, 150000]];
  for (const [m, want] of quota) assert.equal(milliCPUToQuota(m), want, `quota ${m}`);
});

test('containerLinuxResources', () => {
  const burst = pod([c('a', { cpu: '250m', memory: '1Gi' }, { cpu: '500m', memory: '2Gi', 'hugepages-2Mi': '4Mi' })]);
  assert.deepEqual(containerLinuxResources(burst, burst.spec.containers[0], { memoryCapacity: 4 * GiB }), {
    cpuShares: 256,
    cpuQuota: 50000,
    cpuPeriod: 100000,
    memoryLimitInBytes: 2 * GiB,
    oomScoreAdj: 750,
    hugepageLimits: [{ pageSize: '2MB', limit: 4 * 1024 * 1024 }],
  });
  const limitOnly = pod([c('a', undefined, { cpu: '1' })]);
  assert.deepEqual(containerLinuxResources(limitOnly, limitOnly.spec.containers[0], { memoryCapacity: 4 * GiB }), {
    cpuShares: 1024,
    cpuQuota: 100000,
    cpuPeriod: 100000,
    oomScoreAdj: 999,
  });
  const none = pod([c('a')]);
  assert.deepEqual(containerLinuxResources(none, none.spec.containers[0], { memoryCapacity: 4 * GiB, cpuCFSQuota: false }), { cpuShares: 2, oomScoreAdj: 1000 });
  assert.equal(hugePageUnitSize(1024 ** 3), '1GB');
});

test('sandbox resources and overhead; pod memory limit only when every container has one', () => {
  const p = pod([c('a', { cpu: '100m' }, { cpu: '200m', memory: '100Mi' }), c('b', { cpu: '300m' }, { memory: '50Mi' })], {
    initContainers: [c('init', { cpu: '1' }, { memory: '500Mi' })],
    overhead: { cpu: '50m', memory: '10Mi' },
  });
  assert.deepEqual(sandboxLinuxResources(p), { cpuShares: 1024, cpuQuota: 20000, cpuPeriod: 100000, memoryLimitInBytes: 500 * 1024 * 1024 });
  assert.deepEqual(sandboxOverhead(p), { cpuShares: 51, cpuQuota: 5000, cpuPeriod: 100000, memoryLimitInBytes: 10 * 1024 * 1024 });
  assert.equal(podMemoryLimit(p), 500 * 1024 * 1024);
  assert.equal(podMemoryLimit(pod([c('a', undefined, { memory: '1Gi' }), c('b')])), undefined);
});

test('podCgroupParent per QoS class and driver', () => {
  const g = pod([c('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })]);
  const b = pod([c('a', { cpu: '1' })]);
  const be = pod([c('a')]);
  assert.equal(podCgroupParent(g), '/kubepods/pod1234-abcd');
  assert.equal(podCgroupParent(b), '/kubepods/burstable/pod1234-abcd');
  assert.equal(podCgroupParent(be), '/kubepods/besteffort/pod1234-abcd');
  assert.equal(podCgroupParent(b, 'systemd'), 'kubepods-burstable-pod1234_abcd.slice');
  assert.equal(podCgroupParent(g, 'systemd'), 'kubepods-pod1234_abcd.slice');
});
