// The hand-written codec against etcd-v3.proto, read by @grpc/proto-loader: what we encode decodes
// to the intended message there, and what it encodes (as etcd would) decodes to the same here.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import {
  decodeMemberListResponse,
  decodeRangeResponse,
  decodeStatusResponse,
  decodeTxnResponse,
  decodeWatchResponse,
  encodeCompactionRequest,
  encodeRangeRequest,
  encodeTxn,
  encodeTxnRequest,
  encodeWatchCancel,
  encodeWatchCreate,
  encodeWatchProgress,
} from './codec.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const def = protoLoader.loadSync(path.join(here, 'etcd-v3.proto'), { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true });

type Method = { requestSerialize(v: object): Buffer; requestDeserialize(b: Buffer): any; responseSerialize(v: object): Buffer; responseDeserialize(b: Buffer): any };
const method = (service: string, name: string) => (def[`etcdserverpb.${service}`] as unknown as Record<string, Method>)[name];

describe('etcd codec', () => {
  it('encodes Range and Txn requests as etcd reads them', () => {
    const range = method('KV', 'Range').requestDeserialize(encodeRangeRequest({ key: '/registry/pods/', rangeEnd: '/registry/pods0', limit: 500, revision: 7, countOnly: true }));
    assert.equal(range.key.toString(), '/registry/pods/');
    assert.equal(range.range_end.toString(), '/registry/pods0');
    assert.equal(Number(range.limit), 500);
    assert.equal(Number(range.revision), 7);
    assert.equal(range.count_only, true);

    const txn = method('KV', 'Txn').requestDeserialize(
      encodeTxnRequest({
        compare: [
          { key: '/a', target: 'mod', result: 'equal', value: 0 },
          { key: 'compact_rev_key', target: 'version', result: 'equal', value: 3 },
        ],
        success: [{ put: { key: '/a', value: '{"ü":1}' } }, { deleteRange: { key: '/b', prevKv: true } }],
        failure: [{ range: { key: '/a' } }],
      }),
    );
    assert.equal(txn.compare.length, 2);
    // A zero mod_revision is still sent: etcd must see which field of the oneof it compares.
    assert.equal(txn.compare[0].target_union, 'mod_revision');
    assert.equal(Number(txn.compare[0].mod_revision), 0);
    assert.equal(txn.compare[0].target, 'MOD');
    assert.equal(txn.compare[1].target ?? 'VERSION', 'VERSION'); // the enum's zero value is not written
    assert.equal(Number(txn.compare[1].version), 3);
    assert.equal(txn.success[0].request_put.value.toString(), '{"ü":1}');
    assert.equal(txn.success[1].request_delete_range.prev_kv, true);
    assert.equal(txn.failure[0].request_range.key.toString(), '/a');

    assert.equal(Number(method('KV', 'Compact').requestDeserialize(encodeCompactionRequest(1234)).revision), 1234);
  });

  it("marks a Txn's put value, which a watch event of the same bytes reuses instead of decoding", () => {
    const value = '{"name":"ü-pod"}';
    const { body, value: bytes } = encodeTxn({ compare: [{ key: '/k', target: 'mod', result: 'equal', value: 0 }], success: [{ put: { key: '/k', value } }], failure: [{ range: { key: '/k' } }] });
    assert.deepEqual(bytes, Buffer.from(value));
    assert.equal(method('KV', 'Txn').requestDeserialize(body).success[0].request_put.value.toString(), value);
    const kv = { key: Buffer.from('/k'), create_revision: 5, mod_revision: 5, version: 1, value: Buffer.from(value) };
    const wire = method('Watch', 'Watch').responseSerialize({ header: { revision: 5 }, events: [{ type: 'PUT', kv }] });
    const asked: string[] = [];
    const known = (key: string, buf: Buffer, a: number, b: number) => {
      asked.push(key);
      return bytes!.equals(buf.subarray(a, b)) ? value : undefined;
    };
    assert.equal(decodeWatchResponse(wire, known).events[0].kv.value, value);
    assert.deepEqual(asked, ['/k']);
    // Not known: decoded as always.
    assert.equal(decodeWatchResponse(wire, () => undefined).events[0].kv.value, value);
  });

  it('frames an encoded Txn for gRPC in place, each in bytes of its own (carved from a shared slab)', () => {
    const txn = (value: string) => ({ compare: [{ key: '/k', target: 'mod' as const, result: 'equal' as const, value: 0 }], success: [{ put: { key: '/k', value } }], failure: [{ range: { key: '/k' } }] });
    const a = encodeTxn(txn('{"a":1}'));
    const b = encodeTxn(txn('{"b":"' + 'x'.repeat(3000) + '"}'));
    // A key longer than the size estimate allowed for: the writer grows out of the slab.
    const c = encodeTxn({ compare: [], success: [], failure: [{ range: { key: '/' + 'k'.repeat(500) } }] });
    const huge = encodeTxn(txn('y'.repeat(100_000)));
    for (const [t, v] of [[a, '{"a":1}'], [b, '{"b":"' + 'x'.repeat(3000) + '"}'], [huge, 'y'.repeat(100_000)]] as const) {
      assert.equal(t.framed[0], 0);
      assert.equal(t.framed.readUInt32BE(1), t.body.length);
      assert.deepEqual(t.framed.subarray(5), t.body);
      assert.equal(t.value!.toString(), v);
      assert.equal(method('KV', 'Txn').requestDeserialize(t.body).success[0].request_put.value.toString(), v);
    }
    assert.equal(method('KV', 'Txn').requestDeserialize(c.body).failure[0].request_range.key.toString(), '/' + 'k'.repeat(500));
    // Later encodings did not write over earlier ones.
    assert.equal(a.value!.toString(), '{"a":1}');
  });

  it('encodes watch requests', () => {
    const m = method('Watch', 'Watch');
    const c = m.requestDeserialize(encodeWatchCreate({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), startRevision: 2 ** 40, progressNotify: true, prevKv: true, watchId: 1, fragment: true }));
    assert.equal(c.request_union, 'create_request');
    assert.equal(Number(c.create_request.start_revision), 2 ** 40);
    assert.equal(c.create_request.prev_kv, true);
    assert.equal(c.create_request.progress_notify, true);
    assert.equal(Number(c.create_request.watch_id), 1);
    assert.equal(Number(m.requestDeserialize(encodeWatchCancel(5)).cancel_request.watch_id), 5);
    assert.equal(m.requestDeserialize(encodeWatchProgress()).request_union, 'progress_request');
  });

  it('decodes what etcd sends', () => {
    const header = { cluster_id: '18446744073709551615', member_id: '12345678901234567890', revision: 2 ** 45 + 3, raft_term: 9 };
    const kv = { key: Buffer.from('/registry/pods/ns/a'), create_revision: 5, mod_revision: 2 ** 45 + 3, version: 2, value: Buffer.from('{"x":"é"}') };

    const range = decodeRangeResponse(method('KV', 'Range').responseSerialize({ header, kvs: [kv], more: true, count: 10 }));
    assert.equal(range.header.revision, 2 ** 45 + 3);
    // IDs are read only where they matter (Status, MemberList): full uint64s, exactly.
    assert.equal(range.header.memberId, '0');
    assert.deepEqual(range.kvs[0], { key: '/registry/pods/ns/a', value: '{"x":"é"}', createRevision: 5, modRevision: 2 ** 45 + 3, version: 2, lease: 0 });
    assert.equal(range.more, true);
    assert.equal(range.count, 10);

    const txn = decodeTxnResponse(
      method('KV', 'Txn').responseSerialize({
        header,
        succeeded: false,
        responses: [{ response_range: { header, kvs: [kv] } }, { response_delete_range: { header, deleted: 1, prev_kvs: [kv] } }, { response_put: { header } }],
      }),
    );
    assert.equal(txn.succeeded, false);
    assert.ok('range' in txn.responses[0] && txn.responses[0].range.kvs[0].version === 2);
    assert.ok('deleteRange' in txn.responses[1] && txn.responses[1].deleteRange.deleted === 1 && txn.responses[1].deleteRange.prevKvs.length === 1);
    assert.ok('put' in txn.responses[2]);

    const watch = decodeWatchResponse(
      method('Watch', 'Watch').responseSerialize({
        header,
        watch_id: -1,
        compact_revision: 77,
        cancel_reason: 'why',
        fragment: true,
        events: [{ type: 'PUT', kv }, { type: 'DELETE', kv: { key: kv.key, mod_revision: 99 }, prev_kv: kv }],
      }),
    );
    assert.equal(watch.watchId, -1);
    assert.equal(watch.compactRevision, 77);
    assert.equal(watch.cancelReason, 'why');
    assert.equal(watch.fragment, true);
    assert.equal(watch.events[0].type, 'PUT');
    assert.equal(watch.events[1].type, 'DELETE');
    assert.equal(watch.events[1].kv.modRevision, 99);
    assert.equal(watch.events[1].prevKv?.value, '{"x":"é"}');

    const st = decodeStatusResponse(method('Maintenance', 'Status').responseSerialize({ header, version: '3.4.23', leader: '12345678901234567890', raftIndex: 8, errors: ['NOSPACE'] }));
    assert.equal(st.version, '3.4.23');
    assert.equal(st.leader, st.header.memberId);
    assert.equal(st.header.memberId, '12345678901234567890');
    assert.equal(st.header.clusterId, '18446744073709551615');
    assert.deepEqual(st.errors, ['NOSPACE']);

    const ml = decodeMemberListResponse(method('Cluster', 'MemberList').responseSerialize({ header, members: [{ ID: '42', name: 'm0', peerURLs: ['http://a:2380'], clientURLs: ['http://a:2379', 'http://b:2379'] }] }));
    assert.deepEqual(ml.members, [{ id: '42', name: 'm0', peerURLs: ['http://a:2380'], clientURLs: ['http://a:2379', 'http://b:2379'], isLearner: false }]);
  });
});
