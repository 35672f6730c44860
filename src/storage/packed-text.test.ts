import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack, unpack, packedLength, PieceTable, PackedKeyValue, valueLength, valueBytes } from './packed-text.ts';

function pod(i: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: 'bench', uid: `0000-${i}-uid-${i * 7}`, creationTimestamp: '2026-12-07T11:00:00Z', labels: { app: 'x' } },
    spec: {
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', args: ['a "quoted" arg 123', 'back\\slash 4567', '\\"', 'x'.repeat(300)] }],
      nodeName: `node-${i % 3}`,
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 }],
    },
  });
}

test('packed text joins back to the very text, escapes and all', () => {
  const table = new PieceTable();
  for (let i = 0; i < 50; i++) {
    const t = pod(i);
    const p = pack(t, table);
    assert.ok(Array.isArray(p), 'a long ASCII object is packed');
    assert.equal(unpack(p), t);
    assert.equal(packedLength(p), t.length);
  }
  for (const t of ['{"a":"b"}', `{"s":"${'é'.repeat(300)}1234567"}`, `{"s":"${'x'.repeat(300)}"}`, '"unterminated 12345' + ' '.repeat(300)]) {
    const p = pack(t, table);
    assert.equal(unpack(p), t);
    if (typeof p !== 'string') assert.fail(`not packed: ${t.slice(0, 20)}`);
  }
});

test('objects made from one template share their pieces', () => {
  const table = new PieceTable();
  const a = pack(pod(1), table) as string[];
  const b = pack(pod(4), table) as string[];
  assert.equal(a.length, b.length);
  let shared = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) shared++;
  // Everything but the name, uid and their neighbours' literals is the same piece.
  assert.ok(shared >= a.length - 3, `${shared} of ${a.length} pieces shared`);
  assert.ok(a.includes('pod-1') && b.includes('pod-4'));
});

test('the table keeps at most two generations', () => {
  const table = new PieceTable(10);
  for (let i = 0; i < 200; i++) pack(pod(i), table);
  assert.ok(table.size <= 20, `${table.size}`);
  assert.equal(unpack(pack(pod(7), table)), pod(7));
});

test('a packed key/value reads as its value and packs in place', () => {
  const t = pod(3);
  const kv = new PackedKeyValue('/registry/pods/bench/pod-3', t, 5, 9);
  assert.equal(kv.value, t);
  kv.pack();
  assert.equal(kv.value, t);
  assert.equal(valueLength(kv), t.length);
  assert.equal(valueBytes(kv), Buffer.byteLength(t));
  const tomb = kv.at(12);
  assert.deepEqual([tomb.key, tomb.value, tomb.createRevision, tomb.modRevision], [kv.key, t, 5, 12]);
  const plain = { key: 'k', value: 'é', createRevision: 1, modRevision: 1 };
  assert.equal(valueLength(plain), 1);
  assert.equal(valueBytes(plain), 2);
});
