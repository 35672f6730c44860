import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeAffinity, ERR_REASON_POD } from './node-affinity.ts';
import { nodeInfoWith } from '../../framework/node-info.ts';
import { CycleState, type NodeScore } from '../../framework/types.ts';
import { Code } from '../../framework/status.ts';
import { mkNode, mkPod } from '../../framework/testing.ts';

const withAffinity = (terms: any[] | undefined, extra: Record<string, unknown> = {}) =>
  mkPod('p', { spec: { ...(terms ? { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } } : {}), ...extra } });

function run(pod: ReturnType<typeof mkPod>, labels: Record<string, string>, name = 'node-1') {
  const pl = new NodeAffinity();
  const st = new CycleState();
  const [res, s] = pl.preFilter(st, pod);
  if (s?.code === Code.Skip) return { status: undefined, res };
  if (s) return { status: s, res };
  return { status: pl.filter(st, pod, nodeInfoWith(mkNode(name, undefined, { labels }))), res };
}

describe('NodeAffinity filter', () => {
  const expr = (key: string, operator: string, values?: string[]) => ({ matchExpressions: [{ key, operator, values }] });
  const cases: Array<{ name: string; pod: ReturnType<typeof mkPod>; labels: Record<string, string>; fits: boolean; node?: string }> = [
    { name: 'no constraints', pod: withAffinity(undefined), labels: {}, fits: true },
    { name: 'nodeSelector matches', pod: withAffinity(undefined, { nodeSelector: { disk: 'ssd' } }), labels: { disk: 'ssd' }, fits: true },
    { name: 'nodeSelector mismatch', pod: withAffinity(undefined, { nodeSelector: { disk: 'ssd' } }), labels: { disk: 'hdd' }, fits: false },
    { name: 'In', pod: withAffinity([expr('zone', 'In', ['a', 'b'])]), labels: { zone: 'b' }, fits: true },
    { name: 'In missing label', pod: withAffinity([expr('zone', 'In', ['a'])]), labels: {}, fits: false },
    { name: 'NotIn', pod: withAffinity([expr('zone', 'NotIn', ['a'])]), labels: { zone: 'a' }, fits: false },
    { name: 'NotIn with missing label matches', pod: withAffinity([expr('zone', 'NotIn', ['a'])]), labels: {}, fits: true },
    { name: 'Exists', pod: withAffinity([expr('gpu', 'Exists')]), labels: { gpu: '' }, fits: true },
    { name: 'DoesNotExist', pod: withAffinity([expr('gpu', 'DoesNotExist')]), labels: { gpu: 'x' }, fits: false },
    { name: 'Gt', pod: withAffinity([expr('cores', 'Gt', ['4'])]), labels: { cores: '8' }, fits: true },
    { name: 'Gt not greater', pod: withAffinity([expr('cores', 'Gt', ['8'])]), labels: { cores: '8' }, fits: false },
    { name: 'Lt', pod: withAffinity([expr('cores', 'Lt', ['4'])]), labels: { cores: '2' }, fits: true },
    { name: 'Gt on a non-integer label', pod: withAffinity([expr('cores', 'Gt', ['4'])]), labels: { cores: 'many' }, fits: false },
    { name: 'terms are ORed', pod: withAffinity([expr('zone', 'In', ['x']), expr('zone', 'In', ['a'])]), labels: { zone: 'a' }, fits: true },
    {
      name: 'expressions in a term are ANDed',
      pod: withAffinity([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'disk', operator: 'In', values: ['ssd'] }] }]),
      labels: { zone: 'a' },
      fits: false,
    },
    { name: 'empty term matches nothing', pod: withAffinity([{}]), labels: { zone: 'a' }, fits: false },
    { name: 'nodeSelector and affinity both apply', pod: withAffinity([expr('zone', 'In', ['a'])], { nodeSelector: { disk: 'ssd' } }), labels: { zone: 'a' }, fits: false },
    { name: 'matchFields metadata.name', pod: withAffinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] }]), labels: {}, fits: true },
    { name: 'matchFields other node', pod: withAffinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-2'] }] }]), labels: {}, fits: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { status } = run(c.pod, c.labels, c.node);
      if (c.fits) assert.equal(status, undefined);
      else {
        assert.equal(status?.code, Code.UnschedulableAndUnresolvable);
        assert.deepEqual(status?.reasons, [ERR_REASON_POD]);
      }
    });
  }

  it('PreFilter narrows to the nodes named by matchFields', () => {
    const pod = withAffinity([
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a', 'b'] }] },
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] },
    ]);
    const [res] = new NodeAffinity().preFilter(new CycleState(), pod);
    assert.deepEqual([...res!.nodeNames!].sort(), ['a', 'b', 'c']);
  });
});

describe('NodeAffinity score', () => {
  it('sums matching preferred weights and normalises to 100', () => {
    const pod = mkPod('p', {
      spec: {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 2, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
              { weight: 8, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } },
            ],
          },
        },
      },
    });
    const pl = new NodeAffinity();
    const st = new CycleState();
    assert.equal(pl.preScore(st, pod), undefined);
    const nodes = [
      nodeInfoWith(mkNode('n1', undefined, { labels: { zone: 'a' } })),
      nodeInfoWith(mkNode('n2', undefined, { labels: { zone: 'a', disk: 'x' } })),
      nodeInfoWith(mkNode('n3')),
    ];
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(st, pod, n)[0] }));
    assert.deepEqual(scores.map((s) => s.score), [2, 10, 0]);
    pl.normalizeScore(st, pod, scores);
    assert.deepEqual(scores.map((s) => s.score), [20, 100, 0]);
  });
  it('skips scoring without preferences', () => {
    assert.equal(new NodeAffinity().preScore(new CycleState(), mkPod('p'))?.code, Code.Skip);
  });
});
