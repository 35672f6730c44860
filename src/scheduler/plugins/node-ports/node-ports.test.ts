import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodePorts, ERR_REASON } from './node-ports.ts';
import { nodeInfoWith } from '../../framework/node-info.ts';
import { CycleState } from '../../framework/types.ts';
import { Code } from '../../framework/status.ts';
import { mkNode, mkPod } from '../../framework/testing.ts';

const withPorts = (name: string, ports: Array<{ hostPort: number; hostIP?: string; protocol?: string }>, nodeName?: string) =>
  mkPod(name, { nodeName, spec: { containers: [{ name: 'c', image: 'x', ports: ports.map((p) => ({ containerPort: 80, ...p })) }] } });

describe('NodePorts', () => {
  const cases: Array<{ name: string; want: any[]; used: any[]; conflict: boolean }> = [
    { name: 'no ports', want: [], used: [{ hostPort: 80 }], conflict: false },
    { name: 'same port same protocol', want: [{ hostPort: 80 }], used: [{ hostPort: 80 }], conflict: true },
    { name: 'different protocol', want: [{ hostPort: 80, protocol: 'UDP' }], used: [{ hostPort: 80 }], conflict: false },
    { name: 'different IPs', want: [{ hostPort: 80, hostIP: '10.0.0.1' }], used: [{ hostPort: 80, hostIP: '10.0.0.2' }], conflict: false },
    { name: 'wanted 0.0.0.0 conflicts with any IP', want: [{ hostPort: 80, hostIP: '0.0.0.0' }], used: [{ hostPort: 80, hostIP: '10.0.0.2' }], conflict: true },
    { name: 'used 0.0.0.0 conflicts with a specific IP', want: [{ hostPort: 80, hostIP: '10.0.0.1' }], used: [{ hostPort: 80 }], conflict: true },
    { name: 'same specific IP', want: [{ hostPort: 8080, hostIP: '127.0.0.1' }], used: [{ hostPort: 8080, hostIP: '127.0.0.1' }], conflict: true },
    { name: 'different port', want: [{ hostPort: 81 }], used: [{ hostPort: 80 }], conflict: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pl = new NodePorts();
      const st = new CycleState();
      const pod = withPorts('p', c.want);
      const [, pre] = pl.preFilter(st, pod);
      if (pre?.code === Code.Skip) {
        assert.equal(c.conflict, false);
        return;
      }
      const ni = nodeInfoWith(mkNode('n'), [withPorts('e', c.used, 'n')]);
      const s = pl.filter(st, pod, ni);
      if (c.conflict) assert.deepEqual(s?.reasons, [ERR_REASON]);
      else assert.equal(s, undefined);
    });
  }
  it('a removed pod frees its port', () => {
    const e = withPorts('e', [{ hostPort: 80 }], 'n');
    const ni = nodeInfoWith(mkNode('n'), [e]);
    ni.removePod(e);
    const pod = withPorts('p', [{ hostPort: 80 }]);
    const st = new CycleState();
    new NodePorts().preFilter(st, pod);
    assert.equal(new NodePorts().filter(st, pod, ni), undefined);
  });
});
