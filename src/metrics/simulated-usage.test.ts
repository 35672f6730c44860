import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatedPodUsage } from './simulated-usage.ts';

const pod = (annotations: Record<string, string>, containers: any[]) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd', annotations }, spec: { containers } });
const c = (name: string, cpu?: string, memory?: string) => ({ name, resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } } });

test('without annotations a container uses a tenth of its requests, a token amount without any', () => {
  assert.deepEqual(simulatedPodUsage(pod({}, [c('a', '500m', '100Mi'), c('b')])), [
    { name: 'a', cpuNanoCores: 50_000_000, memoryBytes: 10485760 },
    { name: 'b', cpuNanoCores: 1_000_000, memoryBytes: 4194304 },
  ]);
});

test('a pod-wide amount is split by requests; per-container amounts name containers', () => {
  const split = simulatedPodUsage(pod({ 'mizzen.dev/simulate-cpu': '300m' }, [c('a', '200m'), c('b', '100m')]));
  assert.deepEqual(split.map((x) => x.cpuNanoCores), [200_000_000, 100_000_000]);
  const per = simulatedPodUsage(pod({ 'mizzen.dev/simulate-cpu': 'b=1', 'mizzen.dev/simulate-memory': 'a=1Gi' }, [c('a', '200m'), c('b', '100m')]));
  assert.deepEqual(per.map((x) => x.cpuNanoCores), [20_000_000, 1_000_000_000]);
  assert.equal(per[0]!.memoryBytes, 1024 ** 3);
});

test('a malformed annotation falls back to the default', () => {
  assert.deepEqual(simulatedPodUsage(pod({ 'mizzen.dev/simulate-cpu': 'lots' }, [c('a', '1')])).map((x) => x.cpuNanoCores), [100_000_000]);
});
