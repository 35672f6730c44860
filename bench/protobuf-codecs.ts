// The hand-written protobuf codecs' hot paths, in-process: `npm run bench -- protobuf-codecs`.
//
// The etcd store's per-write messages (a create's Txn request for a pod-sized value, its
// TxnResponse, and the WatchResponse that carries the event back) and the kubelet's per-second
// PLEG relist answers (ListContainers and ListPodSandbox with --pods items, each with the labels
// and annotations containerd keeps). Inputs are encoded by @grpc/proto-loader, as etcd and
// containerd would send them. Medians of --rounds rounds of --ops operations, in µs per operation.
// Prints one JSON line.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as protoLoader from '@grpc/proto-loader';
import { decodeTxnResponse, decodeWatchResponse, encodeTxnRequest } from '../src/storage/etcd/codec.ts';
import { decodeMessage, encodeMessage, loadProto } from '../src/kubelet/cri/codec.ts';
import { criProtoPath, criService } from '../src/kubelet/cri/proto.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const round = (x: number) => Math.round(x * 1000) / 1000;

type Serializers = { requestSerialize(v: object): Buffer; responseSerialize(v: object): Buffer };

function etcdInputs(valueBytes: number) {
  const def = protoLoader.loadSync(path.join(here, '../src/storage/etcd/etcd-v3.proto'), { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true });
  const m = (service: string, name: string) => (def[`etcdserverpb.${service}`] as unknown as Record<string, Serializers>)[name]!;
  const key = '/registry/pods/bench-3/pod-12345';
  const value = `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"pod-12345"},"spec":${JSON.stringify({ x: 'y'.repeat(Math.max(0, valueBytes - 80)) })}}`;
  const header = { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: 1_234_567, raft_term: 2 };
  const kv = { key: Buffer.from(key), create_revision: 1_234_567, mod_revision: 1_234_567, version: 1, value: Buffer.from(value) };
  return {
    txn: { compare: [{ key, target: 'mod' as const, result: 'equal' as const, value: 0 }], success: [{ put: { key, value } }], failure: [{ range: { key } }] },
    txnResponse: m('KV', 'Txn').responseSerialize({ header, succeeded: true, responses: [{ response_put: { header } }] }),
    watchResponse: m('Watch', 'Watch').responseSerialize({ header, watch_id: 0, events: [{ type: 'PUT', kv }] }),
  };
}

function criInputs(pods: number) {
  const containers = Array.from({ length: pods }, (_, i) => ({
    id: `${i}`.padStart(64, 'c'),
    podSandboxId: `${i}`.padStart(64, 's'),
    metadata: { name: `app-${i}`, attempt: 0 },
    image: { image: 'sha256:'.padEnd(71, 'a'), annotations: {}, userSpecifiedImage: 'busybox:latest', runtimeHandler: '' },
    imageRef: 'sha256:'.padEnd(71, 'a'),
    state: 'CONTAINER_RUNNING',
    createdAt: 1_796_597_504_706_254_600 + i,
    labels: { 'io.kubernetes.pod.uid': `uid-${i}`, 'io.kubernetes.pod.name': `pod-${i}`, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.container.name': `app-${i}` },
    annotations: { 'io.kubernetes.container.restartCount': '0', 'io.kubernetes.container.hash': 'abc123', 'io.kubernetes.container.terminationMessagePath': '/dev/termination-log' },
  }));
  const items = Array.from({ length: pods }, (_, i) => ({
    id: `${i}`.padStart(64, 's'),
    metadata: { name: `pod-${i}`, uid: `uid-${i}`, namespace: 'default', attempt: 0 },
    state: 'SANDBOX_READY',
    createdAt: 1_796_597_504_706_254_600 + i,
    labels: { 'io.kubernetes.pod.uid': `uid-${i}`, 'io.kubernetes.pod.name': `pod-${i}`, 'io.kubernetes.pod.namespace': 'default' },
    annotations: { 'kubernetes.io/config.seen': '2026-12-07T14:00:00Z', 'kubernetes.io/config.source': 'api' },
    runtimeHandler: '',
  }));
  const rs = criService('RuntimeService');
  return {
    containers: rs.ListContainers!.responseSerialize({ containers }) as Buffer,
    sandboxes: rs.ListPodSandbox!.responseSerialize({ items }) as Buffer,
    request: { filter: { labelSelector: { 'io.kubernetes.pod.uid': 'uid-1' } } },
  };
}

/** µs per call of fn: the median of `rounds` rounds of `ops` calls. */
function measure(fn: () => unknown, ops: number, rounds: number): number {
  const xs: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    for (let i = 0; i < ops; i++) sink += fn() ? 1 : 0;
    xs.push(((performance.now() - t) * 1000) / ops);
  }
  if (sink < 0) throw new Error('unreachable');
  return round(median(xs));
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { pods: { type: 'string', default: '30' }, 'value-bytes': { type: 'string', default: '2100' }, ops: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '9' } },
  });
  const ops = Number(values.ops);
  const rounds = Number(values.rounds);
  const before = calibrationMs();
  const etcd = etcdInputs(Number(values['value-bytes']));
  const cri = criInputs(Number(values.pods));
  const rs = loadProto(criProtoPath())['runtime.v1.RuntimeService']!;
  const cases: Record<string, [() => unknown, number]> = {
    etcdEncodeTxn: [() => encodeTxnRequest(etcd.txn), ops],
    etcdDecodeTxnResponse: [() => decodeTxnResponse(etcd.txnResponse), ops],
    etcdDecodeWatchResponse: [() => decodeWatchResponse(etcd.watchResponse), ops],
    criEncodeListRequest: [() => encodeMessage(rs.ListContainers!.request, cri.request), ops],
    // A relist answer holds --pods items: fewer calls, as each costs about that many times more.
    criDecodeListContainers: [() => decodeMessage(rs.ListContainers!.response, cri.containers), Math.max(100, Math.round(ops / Number(values.pods)))],
    criDecodeListPodSandbox: [() => decodeMessage(rs.ListPodSandbox!.response, cri.sandboxes), Math.max(100, Math.round(ops / Number(values.pods)))],
  };
  // Warm up each path before any is timed, so the order of the cases does not matter.
  for (const [fn, n] of Object.values(cases)) for (let i = 0; i < n; i++) fn();
  const usPerOp: Record<string, number> = {};
  for (const [name, [fn, n]] of Object.entries(cases)) usPerOp[name] = measure(fn, n, rounds);
  console.log(JSON.stringify({ bench: 'protobuf-codecs', pods: Number(values.pods), valueBytes: Number(values['value-bytes']), usPerOp, calibration: calibration(before) }));
}
