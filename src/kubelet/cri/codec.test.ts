// The CRI codec against @grpc/proto-loader (protobufjs), which the kubelet used before and the
// tests' fake runtimes still use: the same objects from the same bytes, and bytes that protobufjs
// reads back as it reads its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, ItemCache, parseProto, type Method } from './codec.ts';
import { criProtoPath, criService } from './proto.ts';
import { readFileSync } from 'node:fs';

const ours = parseProto(readFileSync(criProtoPath(), 'utf8'));
type Obj = Record<string, unknown>;

function check(service: 'RuntimeService' | 'ImageService', name: string, request: Obj, response: Obj): void {
  const theirs = criService(service)[name]!;
  const mine: Method = ours[`runtime.v1.${service}`]![name]!;
  assert.equal(mine.path, theirs.path);
  for (const [msg, ser, de, type] of [
    [request, theirs.requestSerialize, theirs.requestDeserialize, mine.request],
    [response, theirs.responseSerialize, theirs.responseDeserialize, mine.response],
  ] as const) {
    const expected = de(ser(msg as never)) as Obj;
    // Decoding protobufjs's bytes, and protobufjs decoding ours.
    assert.deepEqual(decodeMessage(type, ser(msg as never) as Buffer), expected);
    assert.deepEqual(de(encodeMessage(type, msg)), expected);
  }
}

const container = (i: number) => ({
  id: `c${i}`.repeat(8),
  podSandboxId: `s${i}`,
  metadata: { name: `app${i}`, attempt: i },
  image: { image: 'sha256:abc', annotations: {}, userSpecifiedImage: 'busybox:1.35', runtimeHandler: '' },
  imageRef: 'sha256:abc',
  state: ['CONTAINER_CREATED', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_UNKNOWN'][i % 4],
  createdAt: 1_796_597_504_706_254_600 + i,
  labels: { 'io.kubernetes.pod.uid': `uid-${i}`, 'io.kubernetes.container.name': `app${i}` },
  annotations: { 'io.kubernetes.container.restartCount': String(i), empty: '' },
});

test('list answers: repeated messages, maps, enums by name, int64 beyond 2^53', () => {
  check('RuntimeService', 'ListContainers', { filter: { state: { state: 'CONTAINER_RUNNING' }, labelSelector: { a: 'b' } } }, { containers: [0, 1, 2, 3, 4].map(container) });
  check('RuntimeService', 'ListContainers', {}, { containers: [] });
  check('RuntimeService', 'ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.uid': 'u' } } }, {
    items: [{ id: 's1', metadata: { name: 'p', uid: 'u', namespace: 'default', attempt: 0 }, state: 'SANDBOX_NOTREADY', createdAt: 5, labels: { x: 'y' }, annotations: {}, runtimeHandler: '' }],
  });
});

test('container configuration: nested messages, wrappers, negative and packed integers, nested enums', () => {
  check(
    'RuntimeService',
    'CreateContainer',
    {
      podSandboxId: 'sb',
      config: {
        metadata: { name: 'app', attempt: 3 },
        image: { image: 'busybox:1.35' },
        command: ['sh', '-c'],
        args: ['echo ü €'],
        workingDir: '/w',
        envs: [{ key: 'A', value: '1' }, { key: 'B', value: '' }],
        mounts: [{ containerPath: '/data', hostPath: '/var/x', readonly: true, propagation: 'PROPAGATION_BIDIRECTIONAL', uidMappings: [{ hostId: 1000, containerId: 0, length: 65536 }] }],
        labels: { a: 'b' },
        annotations: { c: 'd' },
        logPath: 'app/3.log',
        linux: {
          resources: { cpuPeriod: 100000, cpuQuota: -1, cpuShares: 2, memoryLimitInBytes: 2 ** 40, oomScoreAdj: -997, hugepageLimits: [{ pageSize: '2MB', limit: 0 }], unified: { 'memory.high': '100' } },
          securityContext: {
            capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] },
            privileged: false,
            namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD', targetId: '' },
            runAsUser: { value: 0 },
            runAsGroup: { value: 1000 },
            readonlyRootfs: true,
            supplementalGroups: [1, 2, 3000000000, -4],
            seccomp: { profileType: 'RuntimeDefault' },
            apparmor: { profileType: 'Localhost', localhostRef: 'p' },
            maskedPaths: ['/proc/kcore'],
          },
        },
      },
      sandboxConfig: { metadata: { name: 'p', uid: 'u', namespace: 'ns', attempt: 1 }, hostname: 'p', logDirectory: '/var/log/pods/x', portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '' }] },
    },
    { containerId: 'c1' },
  );
});

test('status answers: int32 exit codes (negative too), bytes, enums given as numbers', () => {
  check('RuntimeService', 'ContainerStatus', { containerId: 'c', verbose: true }, {
    status: { id: 'c', state: 2, exitCode: -1, reason: 'Error', createdAt: 1, startedAt: 2, finishedAt: 3, mounts: [{ containerPath: '/a', hostPath: '/b' }], labels: {}, annotations: {} },
    info: { k: 'v' },
  });
  check('RuntimeService', 'ContainerStatus', { containerId: 'c' }, { status: { id: 'c', exitCode: 2147483647 } });
  check('RuntimeService', 'ExecSync', { containerId: 'c', cmd: ['true'], timeout: 5 }, { stdout: Buffer.from([0, 1, 255, 10]), stderr: Buffer.alloc(0), exitCode: 1 });
  check('RuntimeService', 'Version', { version: 'v1' }, { version: '0.1.0', runtimeName: 'containerd', runtimeVersion: '1.6.20', runtimeApiVersion: 'v1' });
  check('ImageService', 'ImageFsInfo', {}, { imageFilesystems: [{ timestamp: 9, fsId: { mountpoint: '/x' }, usedBytes: { value: 2 ** 33 }, inodesUsed: { value: 12 } }] });
});

test('unknown fields are skipped; a message field sent twice is merged', () => {
  const t = ours['runtime.v1.RuntimeService']!.Version!.response;
  // field 9 (varint 7), field 10 (length 2 "hi"), then version="x"
  const buf = Buffer.from([0x48, 7, 0x52, 2, 0x68, 0x69, 0x0a, 1, 0x78]);
  assert.deepEqual(decodeMessage(t, buf), { version: 'x', runtimeName: '', runtimeVersion: '', runtimeApiVersion: '' });
  const cs = ours['runtime.v1.RuntimeService']!.ContainerStatus!.response;
  const a = encodeMessage(cs, { status: { id: 'c' } });
  const b = encodeMessage(cs, { status: { reason: 'r' } });
  const merged = decodeMessage(cs, Buffer.concat([a, b])) as { status: Obj };
  assert.equal(merged.status.id, 'c');
  assert.equal(merged.status.reason, 'r');
  assert.throws(() => decodeMessage(t, Buffer.from([0x0a, 5, 0x78])), /beyond/);
});

test('64-bit and zigzag integers both ways, without BigInt on the hot path', () => {
  const svc = parseProto(`syntax = "proto3"; package t;
    message N { int64 a = 1; uint64 b = 2; sint64 c = 3; sint32 d = 4; int32 e = 5; repeated int64 f = 6; }
    service S { rpc M(N) returns (N) {} }`)['t.S']!.M!;
  const values = { a: -(2 ** 40), b: 2 ** 63, c: -5, d: -1, e: -1, f: [1_796_597_504_706_254_600, -1, 0, 2 ** 53 + 2] };
  assert.deepEqual(decodeMessage(svc.request, encodeMessage(svc.request, values)), values);
  for (const c of [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 52, -(2 ** 52)]) {
    assert.equal(decodeMessage(svc.request, encodeMessage(svc.request, { c })).c, c);
    assert.equal(decodeMessage(svc.request, encodeMessage(svc.request, { a: c })).a, c);
  }
});

test('item cache: unchanged items come back as the same objects, in any order; changed and new ones decoded', () => {
  const list = ours['runtime.v1.RuntimeService']!.ListContainers!.response;
  const cache = new ItemCache(list);
  const answer = (items: Obj[]) => encodeMessage(list, { containers: items });
  const a = [0, 1, 2, 3].map(container);
  const first = cache.decode(answer(a)) as { containers: Obj[] };
  assert.deepEqual(first, decodeMessage(list, answer(a)));
  // Reordered, item 2's map entries in another order (containerd writes Go maps in no fixed
  // order), item 1's state changed, item 3 gone, item 4 new.
  const reversed = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).reverse());
  const c2 = container(2);
  const b = [{ ...c2, labels: reversed(c2.labels), annotations: reversed(c2.annotations) }, { ...container(1), state: 'CONTAINER_EXITED' }, container(0), container(4)];
  assert.notDeepEqual(answer([b[0]!]), answer([c2]));
  const second = cache.decode(answer(b)) as { containers: Obj[] };
  assert.deepEqual(second, decodeMessage(list, answer(b)));
  assert.equal(second.containers[0], first.containers[2]);
  assert.equal(second.containers[2], first.containers[0]);
  assert.notEqual(second.containers[1], first.containers[1]);
  // Item 3 was forgotten with the answer that did not have it; decoded again when it is back.
  const third = cache.decode(answer([container(3)])) as { containers: Obj[] };
  assert.notEqual(third.containers[0], first.containers[3]);
  assert.deepEqual(third.containers[0], first.containers[3]);
  assert.deepEqual(cache.decode(answer([])), { containers: [] });
  assert.throws(() => new ItemCache(ours['runtime.v1.RuntimeService']!.ContainerStatus!.response), /one repeated message field/);
});

test('item cache: a field after the maps is compared too, where the reordered map entries leave it', () => {
  const list = ours['runtime.v1.RuntimeService']!.ListPodSandbox!.response;
  const cache = new ItemCache(list);
  const answer = (items: Obj[]) => encodeMessage(list, { items });
  const sandbox = (labels: Record<string, string>, runtimeHandler: string, state = 'SANDBOX_READY') => ({
    id: 'f'.repeat(64), metadata: { name: 'p', uid: 'u', namespace: 'default', attempt: 0 }, state, createdAt: 2 ** 60, labels, annotations: { a: '1', bb: '22' }, runtimeHandler,
  });
  const labels = { 'io.kubernetes.pod.uid': 'u', 'io.kubernetes.pod.name': 'p', app: 'web' };
  const first = (cache.decode(answer([sandbox(labels, 'runc')])) as { items: Obj[] }).items[0];
  const reversed = Object.fromEntries(Object.entries(labels).reverse());
  const same = (cache.decode(answer([sandbox(reversed, 'runc')])) as { items: Obj[] }).items[0];
  assert.equal(same, first, 'map entries in another order: the same item');
  // The same length, a changed field after the maps, or before them: decoded again.
  for (const changed of [sandbox(reversed, 'crun'), sandbox(labels, 'runc', 'SANDBOX_NOTREADY')]) {
    const before = (cache.decode(answer([sandbox(labels, 'runc')])) as { items: Obj[] }).items[0];
    const got = (cache.decode(answer([changed])) as { items: Obj[] }).items[0];
    assert.notEqual(got, before);
    assert.deepEqual(got, (decodeMessage(list, answer([changed])) as { items: Obj[] }).items[0]);
  }
});
