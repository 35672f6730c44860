// How long the runtime takes to start a pod (RunPodSandbox + CreateContainer + StartContainer of
// busybox), one at a time and in a burst, and containerd's memory: idle, and with the pods.
// Not a benchmark entry yet; run as root:
//   node --import tsx src/kubelet/testing/measure-pod-start.ts [--pods 10] [--burst 10]

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { shimPidsOf, startLocalNode, type LocalNode } from './local-node.ts';

function rssMB(pid: number | undefined): number {
  if (!pid) return NaN;
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round(kb / 102.4) / 10;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startPod(node: LocalNode, name: string): Promise<{ run: number; create: number; start: number; total: number }> {
  const cri = node.runtime.cri;
  const config = node.sandboxConfig(name);
  const t0 = performance.now();
  const sb = await cri.runPodSandbox(config);
  const t1 = performance.now();
  const c = await cri.createContainer(sb, { metadata: { name: 'main' }, image: { image: 'busybox' }, command: ['sleep', '3600'], logPath: 'main/0.log' }, config);
  const t2 = performance.now();
  await cri.startContainer(c);
  const t3 = performance.now();
  return { run: t1 - t0, create: t2 - t1, start: t3 - t2, total: t3 - t0 };
}

const { values } = parseArgs({ options: { pods: { type: 'string', default: '10' }, burst: { type: 'string', default: '10' } } });
const pods = Number(values.pods);
const burst = Number(values.burst);
const startT = performance.now();
const node = await startLocalNode();
const nodeStartMs = performance.now() - startT;
try {
  const pid = node.runtime.supervisor!.pid;
  await new Promise((r) => setTimeout(r, 3000));
  const idleRss = rssMB(pid);
  await startPod(node, 'warmup');
  const seq: Awaited<ReturnType<typeof startPod>>[] = [];
  for (let i = 0; i < pods; i++) seq.push(await startPod(node, `seq${i}`));
  const b0 = performance.now();
  const burstTimes = await Promise.all(Array.from({ length: burst }, (_, i) => startPod(node, `burst${i}`)));
  const burstWall = performance.now() - b0;
  await new Promise((r) => setTimeout(r, 3000));
  const totals = seq.map((s) => s.total).sort((a, b) => a - b);
  const btotals = burstTimes.map((s) => s.total).sort((a, b) => a - b);
  const mean = (k: 'run' | 'create' | 'start') => Math.round(seq.reduce((a, s) => a + s[k], 0) / seq.length);
  console.log(
    JSON.stringify({
      nodeStartMs: Math.round(nodeStartMs),
      images: node.runtime.images,
      sequential: { pods, p50Ms: Math.round(pct(totals, 50)), p99Ms: Math.round(pct(totals, 99)), meanRunPodSandboxMs: mean('run'), meanCreateMs: mean('create'), meanStartMs: mean('start') },
      burst: { pods: burst, wallMs: Math.round(burstWall), p50Ms: Math.round(pct(btotals, 50)), maxMs: Math.round(btotals[btotals.length - 1]!) },
      containerdRssMB: { idle: idleRss, withPods: rssMB(pid), pods: pods + burst + 1 },
      // One containerd-shim-runc-v2 per pod (they outlive containerd): their memory is per pod.
      shimsRssMB: Math.round(shimPidsOf(node.runtime.paths.socketPath).reduce((a, p) => a + rssMB(p), 0)),
      note: 'shared 2-core machine, loaded by other work: numbers are indicative only',
    }),
  );
} finally {
  await node.cleanup();
}
