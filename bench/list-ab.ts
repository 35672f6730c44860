// The same LIST on two builds side by side: this checkout's API server and another checkout's
// (`--base DIR`, e.g. a worktree of an older commit), each on its own fresh datastore holding the
// same N pods, listed in alternation (A B B A ...) so the machine's drift (other work on a shared
// machine) hits both alike. Per side: the medians of list-wall's timeline (response head, last
// byte, decoded as `bench apiserver` decodes) and the server's CPU per LIST (the mean over all
// rounds as well: /proc counts in 10 ms ticks).
// `npm run bench -- list-ab --base /tmp/base [--datastore etcd|sqlite] [--pods 10000] [--rounds 10]
// [--query limit=500] [--no-warmup] [--cpu-prof DIR]`

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cpuProfileWindowPreload, PROFILE_SIGNAL } from './lib/cpu-profile-window.ts';
import { parseArgs } from 'node:util';
import { startCluster, request, tlsCreds, type BenchCluster } from './lib/cluster.ts';
import { nativeCreates, buildNativeClients } from './lib/native-clients.ts';
import { processCpuMs, threadCpuMs } from './lib/proc-cpu.ts';
import { startEtcd, type TestEtcd } from '../src/testing/etcd.ts';
import { summary, timedGet, type Timeline } from './list-wall.ts';

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface Side {
  name: string;
  c: BenchCluster;
  etcd?: TestEtcd;
  times: Timeline[];
  cpuMs: number;
  mainCpuMs: number;
}

async function startSide(name: string, datastore: string, root: string | undefined, pods: number, profDir?: string): Promise<Side> {
  let etcd: TestEtcd | undefined;
  const extra: string[] = [];
  if (datastore === 'etcd') {
    etcd = await startEtcd({ name: `listab-${name}` });
    extra.push('--datastore-endpoint', etcd.endpoints.join(','));
  }
  // BENCH_SERVER_LOG=FILE: each side's server output in FILE.<side> (e.g. with
  // BENCH_SERVER_NODE_ARGS=--trace-gc, to see which LISTs met a collection).
  const log = process.env.BENCH_SERVER_LOG;
  const env: Record<string, string> = log ? { BENCH_SERVER_LOG: `${log}.${name}` } : {};
  if (profDir) env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${cpuProfileWindowPreload(path.resolve(profDir, name))}`;
  const c = await startCluster(extra, 'apiserver', env, root);
  await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
  await request(c, 'POST', '/api/v1/namespaces/bench/serviceaccounts', { metadata: { name: 'default' } });
  // The pod of `bench apiserver`.
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: '{NAME}', labels: { app: 'bench', tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'registry.local/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } };
  await nativeCreates(tlsCreds(c), c.dataDir, '/api/v1/namespaces/bench/pods', 32, pods, 'pod', JSON.stringify(pod));
  return { name, c, etcd, times: [], cpuMs: 0, mainCpuMs: 0 };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { base: { type: 'string' }, datastore: { type: 'string', default: 'etcd' }, pods: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '10' }, query: { type: 'string', default: '' }, 'no-warmup': { type: 'boolean', default: false }, 'cpu-prof': { type: 'string' } } });
  if (!values.base) throw new Error('--base DIR (a checkout to compare with) is required');
  const problem = buildNativeClients();
  if (problem) throw new Error(problem);
  const pods = Number(values.pods);
  const rounds = Number(values.rounds);
  const load0 = loadavg();
  const sides: Side[] = [];
  try {
    // Both filled at once, so neither sits idle (V8's memory reducer shrinks an idle heap) while the other fills.
    const started = await Promise.allSettled([startSide('branch', values.datastore!, undefined, pods, values['cpu-prof']), startSide('base', values.datastore!, values.base, pods, values['cpu-prof'])]);
    for (const r of started) if (r.status === 'fulfilled') sides.push(r.value);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const list = `/api/v1/namespaces/bench/pods${values.query ? `?${values.query}` : ''}`;
    // --no-warmup: the first LIST right after the creates counts, as in `bench apiserver`.
    if (!values['no-warmup']) for (const s of sides) await timedGet(s.c, list, true, false);
    // --cpu-prof DIR: each side's CPU profiles (every thread) of the timed LISTs, in DIR/<side>.
    const toggleProfiles = () => values['cpu-prof'] && sides.forEach((s) => s.c.proc.kill(PROFILE_SIGNAL));
    toggleProfiles();
    // Each side's etcd CPU over the whole list phase: background work there slows the wall time
    // of a LIST (two cores) without showing in the API server's CPU.
    const etcdCpu = (s: Side) => (s.etcd?.members[0].proc?.pid ? processCpuMs(s.etcd.members[0].proc.pid) : 0);
    const etcd0 = sides.map(etcdCpu);
    const phase0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 ? [...sides].reverse() : sides) {
        const cpu0 = processCpuMs(s.c.proc.pid!);
        const main0 = threadCpuMs(s.c.proc.pid!).main ?? 0;
        s.times.push(await timedGet(s.c, list, true, false));
        s.cpuMs += processCpuMs(s.c.proc.pid!) - cpu0;
        s.mainCpuMs += (threadCpuMs(s.c.proc.pid!).main ?? 0) - main0;
      }
    }
    const etcdMs = sides.map((s, i) => etcdCpu(s) - etcd0[i]);
    const phaseSeconds = (performance.now() - phase0) / 1000;
    toggleProfiles();
    if (values['cpu-prof']) await new Promise((r) => setTimeout(r, 3000));
    const out: Record<string, unknown> = { bench: 'list-ab', datastore: values.datastore, pods, rounds, list, base: values.base };
    out.listPhaseSeconds = +phaseSeconds.toFixed(1);
    sides.forEach((s, i) => (out[`${s.name}EtcdCpuMsOverListPhase`] = etcdMs[i]));
    for (const s of sides) out[s.name] = { ...summary(s.times), serverCpuMeanMs: +(s.cpuMs / rounds).toFixed(1), serverMainThreadCpuMeanMs: +(s.mainCpuMs / rounds).toFixed(1), allDecodedMs: s.times.map((t) => Math.round(t.decoded)) };
    out.loadavg = { before: load0, after: loadavg() };
    console.log(JSON.stringify(out));
  } finally {
    for (const s of sides) {
      await s.c.stop();
      await s.etcd?.stop();
    }
  }
}
