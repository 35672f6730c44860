// The scheduling algorithm alone, in this process: `npm run bench -- scheduling-cycle [--nodes 5000]
// [--pods 10000] [--workload basic|affinity] [--prefill N] [--confirm]`. Builds the default profile's
// framework over a cache of --nodes nodes and runs, for each pod, what Scheduler.scheduleOne does up
// to the binding: snapshot update, filter and score (schedulePod), assume. No API server, no
// informers: CPU per pod of the algorithm, steadier than the end-to-end `scheduler` benchmark on a
// shared machine. --prefill N binds N pods round-robin first (a cluster that is already full:
// 150,000 pods on 5,000 nodes is 30 a node); --confirm has each assumption confirmed right after by
// the informer's copy of the bound pod (cache.addPod), as the binding's watch event does.

import { parseArgs } from 'node:util';
import { buildFramework, profilesOf } from '../src/scheduler/config.ts';
import { makeHandle } from '../src/scheduler/handle.ts';
import { SchedulerCache } from '../src/scheduler/cache/cache.ts';
import { Snapshot } from '../src/scheduler/cache/snapshot.ts';
import { schedulePod, NodeWindow } from '../src/scheduler/framework/schedule-pod.ts';
import { CycleState, type Node, type Pod } from '../src/scheduler/framework/types.ts';
import { benchPod, ZONE_LABEL } from './scheduler.ts';

function node(i: number): Node {
  const alloc = { cpu: '32', memory: '256Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `sim-${i}`, uid: `node-${i}`, labels: { 'kubernetes.io/hostname': `sim-${i}`, [ZONE_LABEL]: `zone-${i % 3}` } },
    spec: {},
    status: { allocatable: alloc, capacity: alloc, conditions: [{ type: 'Ready', status: 'True' }] },
  } as Node;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '5000' },
      pods: { type: 'string', default: '10000' },
      workload: { type: 'string', default: 'basic' },
      prefill: { type: 'string', default: '0' },
      confirm: { type: 'boolean', default: false },
    },
  });
  const nodes = Number(values.nodes);
  const pods = Number(values.pods);
  const workload = values.workload === 'affinity' ? 'affinity' : 'basic';
  const cache = new SchedulerCache();
  const snapshot = new Snapshot();
  const fwk = buildFramework(profilesOf(undefined)[0], (f) => makeHandle({ snapshot }, 'default-scheduler', f));
  for (let i = 0; i < nodes; i++) cache.addNode(node(i));
  const prefill = Number(values.prefill);
  for (let i = 0; i < prefill; i++) {
    const p = benchPod(workload, i, 10) as unknown as Pod;
    p.metadata.namespace = 'bench';
    p.metadata.name = `prefill-${i}`;
    p.metadata.uid = `prefill-${i}`;
    p.spec.nodeName = `sim-${i % nodes}`;
    cache.addPod(p);
  }
  const window = new NodeWindow();
  const all: Pod[] = Array.from({ length: pods }, (_, i) => {
    const p = benchPod(workload, i, 10) as unknown as Pod;
    p.metadata.namespace = 'bench';
    p.metadata.uid = `pod-${i}`;
    return p;
  });
  const run = (from: number, to: number) => {
    let unschedulable = 0;
    for (let i = from; i < to; i++) {
      snapshot.update(cache);
      const state = new CycleState();
      try {
        const { suggestedHost } = schedulePod(fwk, state, all[i], snapshot, window);
        const bound = { ...all[i], spec: { ...all[i].spec, nodeName: suggestedHost } };
        cache.assumePod(bound);
        if (values.confirm) cache.addPod(structuredClone(bound));
      } catch {
        unschedulable++;
      }
    }
    return unschedulable;
  };
  // The first pods warm the JIT up; they are scheduled but not timed.
  const warm = Math.min(500, Math.floor(pods / 10));
  run(0, warm);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const unschedulable = run(warm, pods);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const timed = pods - warm;
  console.log(
    JSON.stringify({
      bench: 'scheduling-cycle',
      workload,
      nodes,
      pods: timed,
      warmupPods: warm,
      prefill,
      confirm: values.confirm,
      unschedulable,
      podsPerSec: Math.round((timed / wallMs) * 1000),
      cpuMsPerPod: +((cpu.user + cpu.system) / 1000 / timed).toFixed(3),
      measuredAs: 'one thread: snapshot update + filter/score + assume per pod, no API server',
    }),
  );
}
