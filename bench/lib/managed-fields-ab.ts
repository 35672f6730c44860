// What the managed-fields bookkeeping costs the write path (issue 13: at most 15 % of creates/s):
// two `mizzen apiserver`s of the same build side by side, one with the bookkeeping of creates,
// updates and patches switched off (MIZZEN_BENCH_UNTRACKED_WRITES=1), fed the same pods in short
// alternating segments (order swapped every round), so that the machine's drift and the other
// work on it hit both alike. Creates/s and the server's CPU per 1,000 creates, per segment.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { request, startCluster, type BenchCluster } from './cluster.ts';

type Side = 'tracked' | 'untracked';

export interface ManagedFieldsAB {
  rounds: number;
  podsPerSegment: number;
  createsPerSec: Record<Side, number[]> & { trackedMedian: number; untrackedMedian: number };
  /** tracked / untracked creates/s of each round, and their median (1 = no cost). */
  pairRatios: number[];
  medianPairRatio: number;
  serverCpuMsPer1000Creates: Record<Side, number[]> & { trackedMedian: number; untrackedMedian: number };
  /** tracked / untracked server CPU per create of each round, and their median (1 = no cost). */
  cpuPairRatios: number[];
  medianCpuPairRatio: number;
  listPodsMs: Record<Side, number>;
  storedPodBytes: Record<Side, number>;
  loadAverage1m: { before: number; after: number; perRound: number[] };
}

/** The median (the mean of the two middle values for an even count). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : +((s[m - 1]! + s[m]!) / 2).toFixed(3);
}

function serverCpuMs(c: BenchCluster): number {
  const f = readFileSync(`/proc/${c.proc.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/**
 * `create(c, ns, n, prefix)` creates n pods and answers creates/s; the servers start with `extraArgs`.
 */
export async function managedFieldsAB(
  o: { rounds: number; podsPerSegment: number; extraArgs: string[] },
  create: (c: BenchCluster, ns: string, n: number, prefix: string) => Promise<number>,
): Promise<ManagedFieldsAB> {
  const load0 = os.loadavg()[0];
  const servers = {
    tracked: await startCluster(o.extraArgs, 'apiserver'),
    untracked: await startCluster(o.extraArgs, 'apiserver', { MIZZEN_BENCH_UNTRACKED_WRITES: '1' }),
  };
  try {
    for (const c of Object.values(servers)) {
      await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
      await request(c, 'POST', '/api/v1/namespaces/bench/serviceaccounts', { metadata: { name: 'default' } });
      await create(c, 'bench', 500, 'warm');
    }
    const rate = { tracked: [] as number[], untracked: [] as number[] };
    const cpu = { tracked: [] as number[], untracked: [] as number[] };
    const perRound: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      perRound.push(+os.loadavg()[0].toFixed(2));
      for (const side of r % 2 === 0 ? (['tracked', 'untracked'] as const) : (['untracked', 'tracked'] as const)) {
        const c = servers[side];
        const cpu0 = serverCpuMs(c);
        rate[side].push(Math.round(await create(c, 'bench', o.podsPerSegment, `r${r}`)));
        cpu[side].push(Math.round(((serverCpuMs(c) - cpu0) * 1000) / o.podsPerSegment));
      }
    }
    const listPodsMs = { tracked: 0, untracked: 0 };
    const storedPodBytes = { tracked: 0, untracked: 0 };
    const lists = { tracked: [] as number[], untracked: [] as number[] };
    for (let i = 0; i < 5; i++) {
      for (const side of ['tracked', 'untracked'] as const) {
        const t = performance.now();
        const r = await request(servers[side], 'GET', '/api/v1/namespaces/bench/pods');
        lists[side].push(performance.now() - t);
        if (i === 0) storedPodBytes[side] = Math.round(Buffer.byteLength(JSON.stringify(JSON.parse(r.body).items[0])));
      }
    }
    for (const side of ['tracked', 'untracked'] as const) listPodsMs[side] = +median(lists[side]).toFixed(1);
    const pairRatios = rate.tracked.map((t, i) => +(t / rate.untracked[i]).toFixed(3));
    const cpuPairRatios = cpu.tracked.map((t, i) => +(t / cpu.untracked[i]).toFixed(3));
    return {
      rounds: o.rounds,
      podsPerSegment: o.podsPerSegment,
      createsPerSec: { ...rate, trackedMedian: median(rate.tracked), untrackedMedian: median(rate.untracked) },
      pairRatios,
      medianPairRatio: median(pairRatios),
      serverCpuMsPer1000Creates: { ...cpu, trackedMedian: median(cpu.tracked), untrackedMedian: median(cpu.untracked) },
      cpuPairRatios,
      medianCpuPairRatio: median(cpuPairRatios),
      listPodsMs,
      storedPodBytes,
      loadAverage1m: { before: +load0.toFixed(2), after: +os.loadavg()[0].toFixed(2), perRound },
    };
  } finally {
    await Promise.all(Object.values(servers).map((c) => c.stop()));
  }
}
