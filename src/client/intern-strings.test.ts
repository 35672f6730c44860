import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StringInterner } from './intern-strings.ts';

const pod = (name: string) =>
  JSON.parse(
    JSON.stringify({
      metadata: { name, uid: `uid-${name}`, namespace: 'bench-basic', labels: { app: 'sched-bench' } },
      spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }] },
      status: { phase: 'Pending' },
    }),
  );

test('repeated strings end up as one table entry; values are unchanged; unique metadata is not kept', () => {
  const i = new StringInterner();
  const a = i.intern(pod('a'));
  const b = i.intern(pod('b'));
  assert.deepEqual(a, pod('a'));
  assert.deepEqual(b, pod('b'));
  // name and uid are skipped; every other string is in the table once.
  const size = i.size;
  i.intern(pod('c'));
  assert.equal(i.size, size);
  assert.equal(i.string('registry.k8s.io/pause:3.10'), b.spec.containers[0].image);
});

test('a full table still shares the strings it knows and keeps no new ones', () => {
  const i = new StringInterner(2);
  i.string('one');
  i.string('two');
  i.string('three');
  assert.equal(i.size, 2);
  const long = 'x'.repeat(100);
  i.string(long);
  assert.equal(i.size, 2);
});
