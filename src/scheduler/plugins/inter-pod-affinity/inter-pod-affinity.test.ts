import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InterPodAffinity, ERR_REASON_AFFINITY, ERR_REASON_ANTI_AFFINITY, ERR_REASON_EXISTING_ANTI_AFFINITY } from './inter-pod-affinity.ts';
import { nodeInfoWith, type NodeInfo } from '../../framework/node-info.ts';
import { CycleState, type NodeScore } from '../../framework/types.ts';
import { Code } from '../../framework/status.ts';
import { fakeHandle, mkNode, mkPod } from '../../framework/testing.ts';

const term = (labels: Record<string, string>, topologyKey = 'zone', extra: Record<string, unknown> = {}) => ({ labelSelector: { matchLabels: labels }, topologyKey, ...extra });
const affinityPod = (name: string, a: { aff?: any[]; anti?: any[]; prefAff?: any[]; prefAnti?: any[] }, o: { labels?: Record<string, string>; ns?: string; nodeName?: string } = {}) =>
  mkPod(name, {
    labels: o.labels,
    ns: o.ns,
    nodeName: o.nodeName,
    spec: {
      affinity: {
        podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: a.aff, preferredDuringSchedulingIgnoredDuringExecution: a.prefAff },
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: a.anti, preferredDuringSchedulingIgnoredDuringExecution: a.prefAnti },
      },
    },
  });

function filterAll(pod: ReturnType<typeof mkPod>, nodes: NodeInfo[], namespaces?: Record<string, Record<string, string>>): Record<string, string> {
  const pl = new InterPodAffinity(fakeHandle(nodes, { namespaces }));
  const st = new CycleState();
  const [, s] = pl.preFilter(st, pod, nodes);
  const out: Record<string, string> = {};
  for (const n of nodes) out[n.name] = s?.code === Code.Skip ? 'ok' : (pl.filter(st, pod, n)?.reasons[0] ?? 'ok');
  return out;
}

const zoneNode = (name: string, zone: string | undefined, pods: ReturnType<typeof mkPod>[] = []) =>
  nodeInfoWith(mkNode(name, undefined, { labels: zone ? { zone } : {} }), pods.map((p) => ({ ...p, spec: { ...p.spec, nodeName: name } })));

describe('InterPodAffinity filter', () => {
  it('required affinity: only the zone with a matching pod', () => {
    const nodes = [zoneNode('a1', 'a', [mkPod('db', { labels: { app: 'db' } })]), zoneNode('a2', 'a'), zoneNode('b1', 'b')];
    assert.deepEqual(filterAll(affinityPod('web', { aff: [term({ app: 'db' })] }), nodes), { a1: 'ok', a2: 'ok', b1: ERR_REASON_AFFINITY });
  });
  it('required affinity: node without the topology key fails', () => {
    const nodes = [zoneNode('a1', 'a', [mkPod('db', { labels: { app: 'db' } })]), zoneNode('x', undefined)];
    assert.equal(filterAll(affinityPod('web', { aff: [term({ app: 'db' })] }), nodes).x, ERR_REASON_AFFINITY);
  });
  it('required affinity to itself: the first pod of the group may go anywhere', () => {
    const nodes = [zoneNode('a1', 'a'), zoneNode('b1', 'b')];
    assert.deepEqual(filterAll(affinityPod('web', { aff: [term({ app: 'web' })] }, { labels: { app: 'web' } }), nodes), { a1: 'ok', b1: 'ok' });
  });
  it('required affinity with no match and no self-match fails everywhere', () => {
    const nodes = [zoneNode('a1', 'a')];
    assert.equal(filterAll(affinityPod('web', { aff: [term({ app: 'db' })] }), nodes).a1, ERR_REASON_AFFINITY);
  });
  it('required anti-affinity keeps out of zones with matching pods', () => {
    const nodes = [zoneNode('a1', 'a', [mkPod('w1', { labels: { app: 'web' } })]), zoneNode('a2', 'a'), zoneNode('b1', 'b')];
    assert.deepEqual(filterAll(affinityPod('web', { anti: [term({ app: 'web' })] }, { labels: { app: 'web' } }), nodes), {
      a1: ERR_REASON_ANTI_AFFINITY,
      a2: ERR_REASON_ANTI_AFFINITY,
      b1: 'ok',
    });
  });
  it('existing pods\' anti-affinity rejects the incoming pod', () => {
    const guard = affinityPod('guard', { anti: [term({ app: 'web' }, 'kubernetes.io/hostname')] });
    const nodes = [zoneNode('a1', 'a', [guard]), zoneNode('a2', 'a')];
    assert.deepEqual(filterAll(mkPod('web', { labels: { app: 'web' } }), nodes), { a1: ERR_REASON_EXISTING_ANTI_AFFINITY, a2: 'ok' });
  });
  it('terms only look at the pod\'s own namespace by default', () => {
    const nodes = [zoneNode('a1', 'a', [mkPod('db', { labels: { app: 'db' }, ns: 'other' })]), zoneNode('b1', 'b')];
    assert.equal(filterAll(affinityPod('web', { aff: [term({ app: 'db' })] }), nodes).a1, ERR_REASON_AFFINITY);
    assert.equal(filterAll(affinityPod('web', { aff: [term({ app: 'db' }, 'zone', { namespaces: ['other'] })] }), nodes).a1, 'ok');
  });
  it('namespaceSelector selects namespaces by label; {} selects all', () => {
    const nodes = [zoneNode('a1', 'a', [mkPod('db', { labels: { app: 'db' }, ns: 'team-x' })]), zoneNode('b1', 'b')];
    const ns = { 'team-x': { team: 'x' }, default: {} };
    assert.equal(filterAll(affinityPod('web', { aff: [term({ app: 'db' }, 'zone', { namespaceSelector: { matchLabels: { team: 'x' } } })] }), nodes, ns).a1, 'ok');
    assert.equal(filterAll(affinityPod('web', { aff: [term({ app: 'db' }, 'zone', { namespaceSelector: { matchLabels: { team: 'y' } } })] }), nodes, ns).a1, ERR_REASON_AFFINITY);
    assert.equal(filterAll(affinityPod('web', { aff: [term({ app: 'db' }, 'zone', { namespaceSelector: {} })] }), nodes, ns).b1, ERR_REASON_AFFINITY);
    assert.equal(filterAll(affinityPod('web', { aff: [term({ app: 'db' }, 'zone', { namespaceSelector: {} })] }), nodes, ns).a1, 'ok');
  });
  it('skips pods with no terms when no existing anti-affinity applies', () => {
    const pl = new InterPodAffinity(fakeHandle([zoneNode('a', 'a')]));
    assert.equal(pl.preFilter(new CycleState(), mkPod('p'), [zoneNode('a', 'a')])[1]?.code, Code.Skip);
  });
});

describe('InterPodAffinity score', () => {
  it('preferred affinity and anti-affinity weigh zones', () => {
    const nodes = [zoneNode('a1', 'a', [mkPod('db', { labels: { app: 'db' } })]), zoneNode('b1', 'b', [mkPod('w', { labels: { app: 'web' } })]), zoneNode('c1', 'c')];
    const pl = new InterPodAffinity(fakeHandle(nodes));
    const pod = affinityPod('web', { prefAff: [{ weight: 10, podAffinityTerm: term({ app: 'db' }) }], prefAnti: [{ weight: 5, podAffinityTerm: term({ app: 'web' }) }] });
    const st = new CycleState();
    assert.equal(pl.preScore(st, pod, nodes), undefined);
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(st, pod, n)[0] }));
    assert.deepEqual(scores.map((s) => s.score), [10, -5, 0]);
    pl.normalizeScore(st, pod, scores);
    assert.deepEqual(scores.map((s) => s.score), [100, 0, 33]);
  });
  it('existing pods\' required affinity attracts the incoming pod (hard weight)', () => {
    const friend = affinityPod('friend', { aff: [term({ app: 'web' })] });
    const nodes = [zoneNode('a1', 'a', [friend]), zoneNode('b1', 'b')];
    const pl = new InterPodAffinity(fakeHandle(nodes));
    const pod = mkPod('web', { labels: { app: 'web' } });
    const st = new CycleState();
    pl.preScore(st, pod, nodes);
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(st, pod, n)[0] }));
    pl.normalizeScore(st, pod, scores);
    assert.deepEqual(scores.map((s) => s.score), [100, 0]);
  });
});
