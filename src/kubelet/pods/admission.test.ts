import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Node, Pod } from './api-types.ts';
import { admitPod, rejectionStatusMessage } from './admission.ts';

const node: Node = {
  metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux', zone: 'a' } },
  spec: {},
  status: { allocatable: { cpu: '1', memory: '1Gi', pods: '3', 'example.com/gpu': '1' } },
};

let n = 0;
function pod(containers: Container[], spec: Partial<Pod['spec']> = {}, labels?: Record<string, string>): Pod {
  n++;
  return { metadata: { name: `p${n}`, namespace: 'ns', uid: `u${n}`, labels }, spec: { nodeName: 'n1', containers, ...spec } };
}
const req = (cpu?: string, memory?: string, extra: Record<string, string> = {}): Container => ({
  name: 'c',
  resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}), ...extra } },
});

test('admitPod: fits', () => {
  assert.equal(admitPod(pod([req('500m', '512Mi')]), node, [pod([req('250m')])]), undefined);
  // Extended resources the node does not know are not checked by the kubelet.
  assert.equal(admitPod(pod([req(undefined, undefined, { 'example.com/fpga': '4' })]), node, []), undefined);
});

test('admitPod: rejections with upstream reasons and messages', () => {
  const running = [pod([req('250m', '256Mi')])];
  const cases: [string, Pod, Pod[], Node, string, string][] = [
    ['cpu', pod([req('1')]), running, node, 'OutOfcpu', "Node didn't have enough resource: cpu, requested: 1000, used: 250, capacity: 1000"],
    ['memory', pod([req(undefined, '1Gi')]), running, node, 'OutOfmemory', `Node didn't have enough resource: memory, requested: ${1024 ** 3}, used: ${256 * 1024 ** 2}, capacity: ${1024 ** 3}`],
    ['pods', pod([req()]), [pod([]), pod([]), pod([])], node, 'OutOfpods', "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3"],
    ['extended', pod([req(undefined, undefined, { 'example.com/gpu': '2' })]), [], node, 'OutOfexample.com/gpu', "Node didn't have enough resource: example.com/gpu, requested: 2, used: 0, capacity: 1"],
    ['nodeSelector', pod([req()], { nodeSelector: { zone: 'b' } }), [], node, 'NodeAffinity', "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"],
    [
      'required node affinity',
      pod([req()], { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['c'] }] }] } } } }),
      [],
      node,
      'NodeAffinity',
      "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    ],
    ['node name', pod([req()], { nodeName: 'other' }), [], node, 'NodeName', "Predicate NodeName failed: node(s) didn't match the requested node name"],
    [
      'host port in use',
      pod([{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }] }]),
      [pod([{ name: 'c', ports: [{ containerPort: 8080, hostPort: 8080 }] }])],
      node,
      'NodePorts',
      "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports",
    ],
    [
      'NoExecute taint',
      pod([req()]),
      [],
      { ...node, spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoExecute' }] } },
      'TaintToleration',
      "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
    ],
    ['pod OS label', pod([req()], {}, { 'kubernetes.io/os': 'windows' }), [], node, 'PodOSSelectorNodeLabelDoesNotMatch', "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label"],
    ['pod OS field', pod([req()], { os: { name: 'windows' } }), [], node, 'PodOSNotSupported', "Failed to admit pod as the OS field doesn't match node OS"],
    [
      'unsafe sysctl',
      pod([req()], { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } }),
      [],
      node,
      'SysctlForbidden',
      'forbidden sysctl: "kernel.msgmax" not allowlisted',
    ],
    [
      'net sysctl with hostNetwork',
      pod([req()], { hostNetwork: true, securityContext: { sysctls: [{ name: 'net/ipv4/tcp_syncookies', value: '1' }] } }),
      [],
      node,
      'SysctlForbidden',
      'forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host net enabled',
    ],
  ];
  for (const [name, p, others, nd, reason, message] of cases) {
    assert.deepEqual(admitPod(p, nd, others), { reason, message }, name);
  }
});

test('admitPod: tolerated taints, NoSchedule taints, static pods, allowed unsafe sysctls', () => {
  const tainted: Node = { ...node, spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoExecute' }, { key: 'other', effect: 'NoSchedule' }] } };
  assert.equal(admitPod(pod([req()], { tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), tainted, []), undefined);
  assert.equal(admitPod(pod([req()]), tainted, [], { isStaticPod: true }), undefined);
  const sysctlPod = pod([req()], { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } });
  assert.equal(admitPod(sysctlPod, node, [], { allowedUnsafeSysctls: ['kernel.msg*'] }), undefined);
});

test('admitPod: node pressure (eviction manager)', () => {
  const be = pod([{ name: 'c' }]);
  const burstable = pod([req('100m')]);
  assert.deepEqual(admitPod(be, node, [], { pressureConditions: ['MemoryPressure'] }), { reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
  assert.equal(admitPod(burstable, node, [], { pressureConditions: ['MemoryPressure'] }), undefined);
  const tolerant = pod([{ name: 'c' }], { tolerations: [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' }] });
  assert.equal(admitPod(tolerant, node, [], { pressureConditions: ['MemoryPressure'] }), undefined);
  assert.deepEqual(admitPod(burstable, node, [], { pressureConditions: ['DiskPressure'] }), { reason: 'Evicted', message: 'The node had condition: [DiskPressure]. ' });
  const critical = pod([{ name: 'c' }], { priority: 2_000_001_000 });
  assert.equal(admitPod(critical, node, [], { pressureConditions: ['DiskPressure'] }), undefined);
  assert.equal(rejectionStatusMessage({ reason: 'OutOfcpu', message: 'x' }), 'Pod was rejected: x');
});
