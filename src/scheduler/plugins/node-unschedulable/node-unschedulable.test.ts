import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeUnschedulable, ERR_REASON_UNSCHEDULABLE } from './node-unschedulable.ts';
import { NodeName, ERR_REASON } from '../node-name/node-name.ts';
import { nodeInfoWith } from '../../framework/node-info.ts';
import { CycleState } from '../../framework/types.ts';
import { Code } from '../../framework/status.ts';
import { mkNode, mkPod } from '../../framework/testing.ts';

describe('NodeUnschedulable', () => {
  const cases: Array<[string, boolean, any[] | undefined, boolean]> = [
    ['schedulable node', false, undefined, true],
    ['unschedulable node', true, undefined, false],
    ['unschedulable node, pod tolerates the taint', true, [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }], true],
    ['unschedulable node, wildcard toleration', true, [{ operator: 'Exists' }], true],
    ['unschedulable node, toleration for another effect', true, [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }], false],
  ];
  for (const [name, unsched, tolerations, fits] of cases) {
    it(name, () => {
      const s = new NodeUnschedulable().filter(new CycleState(), mkPod('p', { spec: { tolerations } }), nodeInfoWith(mkNode('n', undefined, { unschedulable: unsched })));
      if (fits) assert.equal(s, undefined);
      else {
        assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
        assert.deepEqual(s?.reasons, [ERR_REASON_UNSCHEDULABLE]);
      }
    });
  }
});

describe('NodeName', () => {
  it('no nodeName fits anywhere', () => assert.equal(new NodeName().filter(new CycleState(), mkPod('p'), nodeInfoWith(mkNode('a'))), undefined));
  it('matching nodeName', () => assert.equal(new NodeName().filter(new CycleState(), mkPod('p', { nodeName: 'a' }), nodeInfoWith(mkNode('a'))), undefined));
  it('other nodeName', () => assert.deepEqual(new NodeName().filter(new CycleState(), mkPod('p', { nodeName: 'b' }), nodeInfoWith(mkNode('a')))?.reasons, [ERR_REASON]));
});
