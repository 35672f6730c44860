import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { podRequests } from './resource.ts';
import { mkPod } from './testing.ts';

describe('podRequests', () => {
  const cases: Array<{ name: string; pod: ReturnType<typeof mkPod>; cpu: number; mem?: number; nonZeroCpu?: number; nonZeroMem?: number }> = [
    { name: 'no requests', pod: mkPod('a'), cpu: 0, mem: 0, nonZeroCpu: 100, nonZeroMem: 200 * 1024 * 1024 },
    { name: 'sum of containers', pod: mkPod('a', { requests: [{ cpu: '100m' }, { cpu: '250m', memory: '1Gi' }] }), cpu: 350, mem: 1 << 30 },
    { name: 'init container larger than app containers', pod: mkPod('a', { requests: [{ cpu: '100m' }], init: [{ requests: { cpu: '2' } }] }), cpu: 2000 },
    { name: 'init container smaller', pod: mkPod('a', { requests: [{ cpu: '1' }], init: [{ requests: { cpu: '500m' } }] }), cpu: 1000 },
    {
      // sidecar 1 + later init 2 => 3 during init; app 1 + sidecar 1 => 2 steady: max 3
      name: 'sidecar counts for later init containers and alongside app containers',
      pod: mkPod('a', { requests: [{ cpu: '1' }], init: [{ requests: { cpu: '1' }, sidecar: true }, { requests: { cpu: '2' } }] }),
      cpu: 3000,
    },
    {
      name: 'init container before the sidecar does not add it',
      pod: mkPod('a', { requests: [{ cpu: '1' }], init: [{ requests: { cpu: '2' } }, { requests: { cpu: '1' }, sidecar: true }] }),
      cpu: 2000,
    },
    { name: 'overhead is added', pod: mkPod('a', { requests: [{ cpu: '1' }], overhead: { cpu: '250m' } }), cpu: 1250 },
    { name: 'explicit zero stays zero for scoring', pod: mkPod('a', { requests: [{ cpu: '0' }] }), cpu: 0, nonZeroCpu: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = podRequests(c.pod);
      assert.equal(r.milliCPU, c.cpu);
      if (c.mem !== undefined) assert.equal(r.memory, c.mem);
      const nz = podRequests(c.pod, true);
      if (c.nonZeroCpu !== undefined) assert.equal(nz.milliCPU, c.nonZeroCpu);
      if (c.nonZeroMem !== undefined) assert.equal(nz.memory, c.nonZeroMem);
    });
  }

  it('tracks extended resources as scalars', () => {
    const r = podRequests(mkPod('a', { requests: [{ 'example.com/gpu': '2', 'hugepages-2Mi': '4Mi' }] }));
    assert.equal(r.scalar.get('example.com/gpu'), 2);
    assert.equal(r.scalar.get('hugepages-2Mi'), 4 * 1024 * 1024);
  });
});
