import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseExposition, parseResourceMetrics } from './resource-text.ts';

const fixture = readFileSync(new URL('./testdata/metrics-resource.txt', import.meta.url), 'utf8');

test('reads the node and every container of a kubelet /metrics/resource answer', () => {
  const s = parseResourceMetrics(fixture, 0);
  assert.deepEqual(s.node, { timestampMs: 1765000000000, cpuCoreSeconds: 5000, memoryBytes: 1073741824 });
  assert.deepEqual([...s.containers.keys()].sort(), ['default/web-0', 'kube-system/coredns-6799fbcd5-x2xqv']);
  assert.deepEqual(s.containers.get('default/web-0')!.get('sidecar'), { timestampMs: 1765000000000, cpuCoreSeconds: 2, memoryBytes: 4194304 });
});

test('label values with escapes, missing timestamps, special values', () => {
  const [a, b] = parseExposition('x{a="q\\"uote",b="back\\\\slash",c="new\\nline"} 1\ny +Inf 12\n');
  assert.deepEqual(a!.labels, { a: 'q"uote', b: 'back\\slash', c: 'new\nline' });
  assert.equal(a!.timestampMs, undefined);
  assert.equal(b!.value, Infinity);
  assert.equal(b!.timestampMs, 12);
});

test('malformed lines are errors, not guesses', () => {
  assert.throws(() => parseExposition('x{a="1"'), /unterminated|expected|invalid label/);
  assert.throws(() => parseExposition('x{a=1} 2'), /expected ="value"/);
  assert.throws(() => parseExposition('x abc'), /invalid value/);
  assert.throws(() => parseExposition('x 1 2 3'), /expected a value/);
});

test('a container with only one of its two series is left out', () => {
  const s = parseResourceMetrics('container_cpu_usage_seconds_total{container="a",namespace="n",pod="p"} 1 5\n', 0);
  assert.equal(s.containers.size, 0);
  assert.equal(s.node, undefined);
});
