import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildFramework, parseSchedulerConfiguration, profilesOf } from './config.ts';
import { fakeHandle } from './framework/testing.ts';

const build = (yaml?: string) => {
  const cfg = yaml ? parseSchedulerConfiguration(yaml) : undefined;
  return profilesOf(cfg).map((p) => buildFramework(p, () => fakeHandle([]), cfg?.percentageOfNodesToScore));
};

describe('scheduler configuration', () => {
  it('default profile has upstream\'s plugins and score weights', () => {
    const [fwk] = build();
    assert.equal(fwk.schedulerName, 'default-scheduler');
    assert.deepEqual(
      fwk.plugins.score.map((s) => [s.plugin.name, s.weight]),
      [
        ['TaintToleration', 3],
        ['NodeAffinity', 2],
        ['NodeResourcesFit', 1],
        ['PodTopologySpread', 2],
        ['InterPodAffinity', 2],
        ['NodeResourcesBalancedAllocation', 1],
      ],
    );
    assert.deepEqual(fwk.plugins.filter.map((p) => p.name), ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity']);
    assert.deepEqual(fwk.plugins.postFilter.map((p) => p.name), ['DefaultPreemption']);
    assert.deepEqual(fwk.plugins.bind.map((p) => p.name), ['DefaultBinder']);
  });

  it('profiles, disabled plugins, weights and pluginConfig', () => {
    const fwks = build(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  percentageOfNodesToScore: 70
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
      enabled:
      - name: NodeResourcesFit
        weight: 5
    postFilter:
      disabled:
      - name: '*'
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
`);
    assert.deepEqual(fwks.map((f) => [f.schedulerName, f.percentageOfNodesToScore]), [['default-scheduler', 30], ['bin-packer', 70]]);
    const packer = fwks[1];
    assert.ok(!packer.plugins.score.some((s) => s.plugin.name === 'NodeResourcesBalancedAllocation'));
    assert.deepEqual(packer.plugins.score.find((s) => s.plugin.name === 'NodeResourcesFit')?.weight, 5);
    assert.equal(packer.plugins.postFilter.length, 0);
  });

  it('rejects unknown plugins, duplicate profiles and bad percentages', () => {
    assert.throws(() => build('profiles: [{plugins: {filter: {enabled: [{name: Nope}]}}}]'), /plugin "Nope" does not exist/);
    assert.throws(() => build('profiles: [{schedulerName: a}, {schedulerName: a}]'), /Duplicate value: "a"/);
    assert.throws(() => build('percentageOfNodesToScore: 101'), /not in valid range/);
    assert.throws(() => build('kind: Pod'), /KubeSchedulerConfiguration/);
  });
});
