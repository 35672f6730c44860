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

test('a full table starts a new generation: recent strings are still shared, old ones let go', () => {
  const i = new StringInterner(2);
  const one = i.string(['o', 'n', 'e'].join(''));
  i.string('two');
  assert.equal(i.string(['o', 'n', 'e'].join('')), one, 'known strings are shared');
  i.string('three'); // the table was full: a new one starts
  assert.equal(i.size, 3);
  assert.equal(i.string(['o', 'n', 'e'].join('')), one, 'a string of the previous generation is still shared');
  i.string('four');
  i.string('five');
  assert.ok(i.size <= 4, 'never more than two generations');
  const long = 'x'.repeat(100);
  assert.equal(i.string(long), long);
  assert.ok(i.size <= 4);
});
