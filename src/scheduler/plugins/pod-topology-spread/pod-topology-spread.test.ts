import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PodTopologySpread, ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH } from './pod-topology-spread.ts';
import { nodeInfoWith, type NodeInfo } from '../../framework/node-info.ts';
import { CycleState, type NodeScore } from '../../framework/types.ts';
import { Code } from '../../framework/status.ts';
import { fakeHandle, mkNode, mkPod } from '../../framework/testing.ts';
import { selectorFromSet } from '../../../machinery/labels.ts';

const zoneNode = (name: string, zone: string | undefined, pods: number, extra: { taints?: any[]; labels?: Record<string, string> } = {}) =>
  nodeInfoWith(
    mkNode(name, undefined, { labels: { ...(zone ? { zone } : {}), ...(extra.labels ?? {}) }, taints: extra.taints }),
    Array.from({ length: pods }, (_, i) => mkPod(`${name}-p${i}`, { labels: { app: 'web' }, nodeName: name })),
  );

const spreadPod = (c: Record<string, unknown>, labels: Record<string, string> = { app: 'web' }, spec: Record<string, unknown> = {}) =>
  mkPod('new', { labels, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...c }], ...spec } });

function filterAll(pod: ReturnType<typeof mkPod>, nodes: NodeInfo[]): Record<string, string> {
  const pl = new PodTopologySpread(fakeHandle(nodes));
  const st = new CycleState();
  const [, s] = pl.preFilter(st, pod, nodes);
  assert.equal(s, undefined);
  const out: Record<string, string> = {};
  for (const n of nodes) out[n.name] = pl.filter(st, pod, n)?.reasons[0] ?? 'ok';
  return out;
}

describe('PodTopologySpread filter', () => {
  it('allows only domains within maxSkew', () => {
    const nodes = [zoneNode('a1', 'a', 2), zoneNode('b1', 'b', 1), zoneNode('c1', 'c', 1)];
    assert.deepEqual(filterAll(spreadPod({}), nodes), { a1: ERR_REASON_CONSTRAINTS_NOT_MATCH, b1: 'ok', c1: 'ok' });
  });
  it('maxSkew 2 allows more', () => {
    const nodes = [zoneNode('a1', 'a', 2), zoneNode('b1', 'b', 1)];
    assert.deepEqual(filterAll(spreadPod({ maxSkew: 2 }), nodes), { a1: 'ok', b1: 'ok' });
  });
  it('nodes missing the topology key are unresolvable and not counted', () => {
    const nodes = [zoneNode('a1', 'a', 0), zoneNode('x', undefined, 5)];
    const out = filterAll(spreadPod({}), nodes);
    assert.deepEqual(out, { a1: 'ok', x: ERR_REASON_NODE_LABEL_NOT_MATCH });
  });
  it('a pod that does not match its own selector adds no skew', () => {
    const nodes = [zoneNode('a1', 'a', 1), zoneNode('b1', 'b', 0)];
    assert.deepEqual(filterAll(spreadPod({}, { app: 'other' }), nodes), { a1: 'ok', b1: 'ok' });
  });
  it('minDomains: fewer domains than required means a global minimum of 0', () => {
    const nodes = [zoneNode('a1', 'a', 1), zoneNode('b1', 'b', 1)];
    assert.deepEqual(filterAll(spreadPod({ minDomains: 3 }), nodes), { a1: ERR_REASON_CONSTRAINTS_NOT_MATCH, b1: ERR_REASON_CONSTRAINTS_NOT_MATCH });
    assert.deepEqual(filterAll(spreadPod({ minDomains: 2 }), nodes), { a1: 'ok', b1: 'ok' });
  });
  it('nodeAffinityPolicy Honor ignores domains the pod cannot use; Ignore counts them', () => {
    const nodes = [zoneNode('a1', 'a', 2, { labels: { disk: 'ssd' } }), zoneNode('b1', 'b', 0)];
    const honor = spreadPod({}, { app: 'web' }, { nodeSelector: { disk: 'ssd' } });
    assert.equal(filterAll(honor, nodes).a1, 'ok');
    const ignore = spreadPod({ nodeAffinityPolicy: 'Ignore' }, { app: 'web' }, { nodeSelector: { disk: 'ssd' } });
    assert.equal(filterAll(ignore, nodes).a1, ERR_REASON_CONSTRAINTS_NOT_MATCH);
  });
  it('nodeTaintsPolicy Honor ignores tainted nodes', () => {
    const nodes = [zoneNode('a1', 'a', 2), zoneNode('b1', 'b', 0, { taints: [{ key: 't', effect: 'NoSchedule' }] })];
    assert.equal(filterAll(spreadPod({}), nodes).a1, ERR_REASON_CONSTRAINTS_NOT_MATCH);
    assert.equal(filterAll(spreadPod({ nodeTaintsPolicy: 'Honor' }), nodes).a1, 'ok');
  });
  it('matchLabelKeys narrows the selector to the pod\'s value', () => {
    const nodes = [
      nodeInfoWith(mkNode('a1', undefined, { labels: { zone: 'a' } }), [mkPod('x', { labels: { app: 'web', rev: '1' }, nodeName: 'a1' }), mkPod('y', { labels: { app: 'web', rev: '1' }, nodeName: 'a1' })]),
      zoneNode('b1', 'b', 0),
    ];
    const pod = spreadPod({ matchLabelKeys: ['rev'] }, { app: 'web', rev: '2' });
    assert.deepEqual(filterAll(pod, nodes), { a1: 'ok', b1: 'ok' });
  });
  it('skips pods without DoNotSchedule constraints', () => {
    const pl = new PodTopologySpread(fakeHandle([]));
    assert.equal(pl.preFilter(new CycleState(), mkPod('p'), [])[1]?.code, Code.Skip);
  });
});

describe('PodTopologySpread score', () => {
  it('prefers zones with fewer matching pods', () => {
    const nodes = [zoneNode('a1', 'a', 3), zoneNode('b1', 'b', 1), zoneNode('c1', 'c', 0)];
    const pl = new PodTopologySpread(fakeHandle(nodes));
    const pod = spreadPod({ whenUnsatisfiable: 'ScheduleAnyway' });
    const st = new CycleState();
    assert.equal(pl.preScore(st, pod, nodes), undefined);
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(st, pod, n)[0] }));
    pl.normalizeScore(st, pod, scores);
    assert.ok(scores[2].score > scores[1].score && scores[1].score > scores[0].score, JSON.stringify(scores));
    assert.equal(scores[2].score, 100);
  });
  it('nodes without the key get 0 when the pod has its own constraints', () => {
    const nodes = [zoneNode('a1', 'a', 1), zoneNode('x', undefined, 0)];
    const pl = new PodTopologySpread(fakeHandle(nodes));
    const pod = spreadPod({ whenUnsatisfiable: 'ScheduleAnyway' });
    const st = new CycleState();
    pl.preScore(st, pod, nodes);
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(st, pod, n)[0] }));
    pl.normalizeScore(st, pod, scores);
    assert.equal(scores[1].score, 0);
    assert.equal(scores[0].score, 100);
  });
  it('applies system default constraints to pods of a service', () => {
    const nodes = [zoneNode('a1', 'a', 2), zoneNode('b1', 'b', 0)];
    const handle = fakeHandle(nodes, { selectors: () => [selectorFromSet({ app: 'web' })] });
    const pl = new PodTopologySpread(handle);
    const pod = mkPod('new', { labels: { app: 'web' } });
    const st = new CycleState();
    assert.equal(pl.preFilter(st, pod, nodes)[1]?.code, Code.Skip); // defaults are ScheduleAnyway only
    assert.equal(pl.preScore(st, pod, nodes), undefined);
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(st, pod, n)[0] }));
    pl.normalizeScore(st, pod, scores);
    assert.ok(scores[1].score > scores[0].score);
  });
  it('no defaults for pods not owned by anything', () => {
    const pl = new PodTopologySpread(fakeHandle([], { selectors: () => [] }));
    assert.equal(pl.preScore(new CycleState(), mkPod('p'), [zoneNode('a', 'a', 0)])?.code, Code.Skip);
  });
});

describe('PodTopologySpread counting', () => {
  // The label index is used while it lists no more pods than there are nodes; past that, counts
  // come from each node. Both must give what a plain scan gives.
  const cases = {
    'few pods, many nodes': [zoneNode('a1', 'a', 1), zoneNode('a2', 'a', 0), zoneNode('b1', 'b', 0), zoneNode('b2', 'b', 0), zoneNode('c1', 'c', 1)],
    'many pods, few nodes': [zoneNode('a1', 'a', 9), zoneNode('b1', 'b', 7), zoneNode('c1', 'c', 8)],
  };
  for (const [name, nodes] of Object.entries(cases)) {
    it(`filter and score agree with and without the label index: ${name}`, () => {
      const run = (indexed: boolean) => {
        const pod = spreadPod({});
        const pl = new PodTopologySpread(fakeHandle(nodes, { indexed }));
        const st = new CycleState();
        pl.preFilter(st, pod, nodes);
        const filter = nodes.map((n) => pl.filter(st, pod, n)?.reasons[0] ?? 'ok');
        const soft = spreadPod({ whenUnsatisfiable: 'ScheduleAnyway' });
        const st2 = new CycleState();
        pl.preScore(st2, soft, nodes);
        const score = nodes.map((n) => pl.score(st2, soft, n)[0]);
        return { filter, score };
      };
      assert.deepEqual(run(true), run(false));
    });
  }
  it('a zone constraint on nodes without zones costs nothing and scores nothing', () => {
    const nodes = [zoneNode('n1', undefined, 3), zoneNode('n2', undefined, 0)];
    const handle = fakeHandle(nodes, { selectors: () => [selectorFromSet({ app: 'web' })], indexed: true });
    const pl = new PodTopologySpread(handle);
    const pod = mkPod('new', { labels: { app: 'web' } });
    const st = new CycleState();
    assert.equal(pl.preScore(st, pod, nodes), undefined);
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(st, pod, n)[0] }));
    pl.normalizeScore(st, pod, scores);
    // Only the hostname default counts: the empty node wins.
    assert.ok(scores[1].score > scores[0].score, JSON.stringify(scores));
  });
});
