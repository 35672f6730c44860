// The map's node order: naturalSort (names split once into text and number) agrees with
// naturalCompare on every kind of name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { naturalCompare, naturalSort } from './store.ts';

test('naturalSort orders names as naturalCompare does', () => {
  const names = ['sim-10', 'sim-2', 'sim-1', 'sim-01', 'sim-002', 'node', 'node-a', 'a1b2', 'a1b10', 'a2b1', 'sim-100', 'sim-99', 'zz-3', 'sim-', 'x', '1', '10', '9', 'big-123456789012345678901', 'big-2'];
  for (let i = 0; i < 5000; i++) names.push(`w-${(i * 7919) % 5000}`);
  const expect = [...names].sort(naturalCompare);
  const got = naturalSort(names.map((name) => ({ name }))).map((x) => x.name);
  assert.deepEqual(got, expect);
  assert.deepEqual(got.slice(0, 3), ['1', '9', '10']);
});

test('the page takes node counts in place: same order, new numbers, a new version to draw', async () => {
  (globalThis as any).requestAnimationFrame ??= (f: () => void) => setTimeout(f, 0);
  (globalThis as any).cancelAnimationFrame ??= (t: any) => clearTimeout(t);
  const { Store } = await import('./store.ts');
  const { COUNT_FIELDS } = await import('../shared/types.ts');
  const s = new Store() as any;
  const n = (i: number) => ({ name: `sim-${i}`, uid: `u${i}`, health: 'Ready', problems: [], unschedulable: false, taints: [], simulated: true, kubeletVersion: '', created: 0, cpuAllocatable: 0, memoryAllocatable: 0, podsAllocatable: 110, pods: 0, running: 0, pending: 0, failed: 0, succeeded: 0, cpuRequested: 0, memoryRequested: 0, heartbeat: 5 });
  s.receive({ t: 'nodes', upsert: [n(10), n(2), n(1)], remove: [] });
  const before = s.nodeList().map((x: any) => x.name);
  const v = s.nodesVersion;
  const values = new Float64Array(2 * COUNT_FIELDS.length);
  values.set([7, 1, 6, 0, 0, 700, 1000, 99], 0);
  values.set([3, 3, 0, 0, 0, 300, 100, NaN], COUNT_FIELDS.length);
  s.receive({ t: 'nodeCounts', names: ['sim-2', 'sim-10'], values });
  assert.deepEqual(s.nodeList().map((x: any) => x.name), before);
  assert.equal(s.nodesVersion, v + 1);
  const two = s.nodes.get('sim-2');
  assert.deepEqual([two.pods, two.running, two.pending, two.cpuRequested, two.memoryRequested, two.heartbeat], [7, 1, 6, 700, 1000, 99]);
  assert.equal(s.nodes.get('sim-10').pods, 3);
  assert.equal(s.nodes.get('sim-10').heartbeat, undefined);
  assert.equal(s.nodes.get('sim-1').pods, 0);
});
