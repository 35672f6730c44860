import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PackQueue } from './pack-queue.ts';
import { PackedKeyValue } from './packed-text.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kv(i: number): PackedKeyValue {
  const text = JSON.stringify({ metadata: { name: `pod-${i}`, uid: `uid-${i}-0000-1111` }, spec: { image: 'registry.k8s.io/pause:3.10', pad: 'x'.repeat(300) } });
  return new PackedKeyValue(`/registry/pods/ns/pod-${i}`, text, i, i);
}

test('a value is packed between one and two periods after it is added, not at once', async () => {
  const q = new PackQueue({ periodMs: 40 });
  const a = kv(1);
  const text = a.value;
  q.add(a);
  assert.equal(a.packed, false, 'not on the write path');
  await sleep(5);
  assert.equal(a.packed, false);
  await sleep(150);
  assert.equal(a.packed, true);
  assert.equal(a.value, text);
  assert.equal(q.size, 0);
  q.stop();
});

test('many values are packed in slices, all of them in the end', async () => {
  const q = new PackQueue({ periodMs: 10, sliceMs: 0.01 });
  const kvs = Array.from({ length: 2000 }, (_, i) => kv(i));
  for (const x of kvs) q.add(x);
  let turns = 0;
  const other = setInterval(() => turns++, 0);
  for (let t = 0; t < 200 && q.size > 0; t++) await sleep(10);
  clearInterval(other);
  assert.equal(q.size, 0);
  assert.ok(kvs.every((x) => x.packed));
  assert.ok(turns > 0, 'other work ran meanwhile');
  q.stop();
});

test('packAll packs at once; after stop nothing more is packed', async () => {
  const q = new PackQueue({ periodMs: 10 });
  const a = kv(1);
  q.add(a);
  q.packAll();
  assert.equal(a.packed, true);
  q.stop();
  const b = kv(2);
  q.add(b);
  await sleep(50);
  assert.equal(b.packed, false);
});

test('a backlog is packed within a few turns even when each turn allows almost no time', async () => {
  const q = new PackQueue({ periodMs: 10, sliceMs: 0 });
  const kvs = Array.from({ length: 3200 }, (_, i) => kv(i));
  for (const x of kvs) q.add(x);
  // Until the values fall due (two periods) and the first slice has run...
  for (let t = 0; t < 400 && q.size === kvs.length; t++) await sleep(5);
  assert.ok(q.size < kvs.length, 'packing started');
  // ...then at most ~16 more turns of packing (each a setImmediate).
  for (let t = 0; t < 24 && q.size > 0; t++) await new Promise((r) => setImmediate(r));
  assert.equal(q.size, 0, `${q.size} left`);
  q.stop();
});
