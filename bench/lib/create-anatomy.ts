// What one pod create costs each process and thread, from /proc: the API server's threads (main,
// V8's helper "node", libuv's pool, SQLite's writer) and etcd's, user and system time separately,
// read and write system calls, bytes read and written, voluntary and involuntary context switches,
// all per create over segments of creates from the native client (32 connections), after a
// warm-up. The figures behind docs/design.md's "Creates on etcd: the anatomy of a create".
// `node --import tsx bench/lib/create-anatomy.ts [etcd|sqlite] [CREATES_PER_SEGMENT] [SEGMENTS] [REPO]`
// ANATOMY_CPU_PROF=DIR also writes every server thread's CPU profile of the segments (not the warm-up)
// to DIR (bench/lib/cpuprofile-summary.ts summarises them). Those are wall-clock samples: on a busy
// machine a thread preempted inside a socket write is charged to the write. ANATOMY_PERF=FILE
// instead records `perf record -g` of the API server's process over the segments (CPU time only,
// JIT frames named through --perf-basic-prof): `perf report -i FILE --no-children --comm node`.

import { readFileSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';

const [ds = 'etcd', segStr = '5000', roundsStr = '2', repo = new URL('../..', import.meta.url).pathname] = process.argv.slice(2);
const n = Number(segStr);
const { nativeCreates, pickClient } = await import(`${repo}/bench/lib/native-clients.ts`);
const { startEtcd } = await import(`${repo}/src/testing/etcd.ts`);
const { startCluster, request, tlsCreds } = await import(`${repo}/bench/lib/cluster.ts`);
pickClient('native');
const profDir = process.env.ANATOMY_CPU_PROF;
if (profDir) {
  const { cpuProfileWindowPreload } = await import('./cpu-profile-window.ts');
  process.env.BENCH_SERVER_NODE_ARGS = `${process.env.BENCH_SERVER_NODE_ARGS ?? ''} --import=${cpuProfileWindowPreload(profDir)}`;
}
const perfFile = process.env.ANATOMY_PERF;
if (perfFile) process.env.BENCH_SERVER_NODE_ARGS = `${process.env.BENCH_SERVER_NODE_ARGS ?? ''} ${process.env.ANATOMY_PERF_ARGS ?? "--perf-basic-prof"}`;
const body = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: '{NAME}', labels: { app: 'bench', tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'registry.local/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } });

interface Sample {
  threads: Map<string, { name: string; user: number; sys: number; vctx: number; nvctx: number }>;
  io: Record<string, number>;
}

function sample(pid: number): Sample {
  const threads: Sample['threads'] = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ctx = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
      threads.set(tid, { name, user: Number(f[11]) * 10, sys: Number(f[12]) * 10, vctx: ctx('voluntary_ctxt_switches'), nvctx: ctx('nonvoluntary_ctxt_switches') });
    } catch {
      // the thread ended
    }
  }
  const io = Object.fromEntries(readFileSync(`/proc/${pid}/io`, 'utf8').trim().split('\n').map((l) => [l.split(': ')[0], Number(l.split(': ')[1])]));
  return { threads, io };
}

/** Per create, by thread name (threads of one name summed), user/system ms and context switches; and the process's I/O. */
function perCreate(a: Sample, b: Sample) {
  const byName: Record<string, { userMs: number; sysMs: number; vctx: number; nvctx: number }> = {};
  for (const [tid, t] of b.threads) {
    const p = a.threads.get(tid) ?? { user: 0, sys: 0, vctx: 0, nvctx: 0 };
    const x = (byName[t.name] ??= { userMs: 0, sysMs: 0, vctx: 0, nvctx: 0 });
    x.userMs += (t.user - p.user) / n;
    x.sysMs += (t.sys - p.sys) / n;
    x.vctx += (t.vctx - p.vctx) / n;
    x.nvctx += (t.nvctx - p.nvctx) / n;
  }
  const r3 = (v: number) => +v.toFixed(3);
  const threads = Object.fromEntries(Object.entries(byName).filter(([, v]) => v.userMs + v.sysMs + v.vctx > 0).map(([k, v]) => [k, { userMs: r3(v.userMs), sysMs: r3(v.sysMs), vctx: r3(v.vctx), nvctx: r3(v.nvctx) }]));
  const io = (k: string) => r3((b.io[k] - a.io[k]) / n);
  return { threads, readCalls: io('syscr'), writeCalls: io('syscw'), bytesRead: Math.round(io('rchar')), bytesWritten: Math.round(io('wchar')) };
}

/** etcd's WAL fsyncs and backend commits so far (count, seconds), from its /metrics (http endpoints only). */
async function etcdDisk(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const get = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    fsyncs: get('etcd_disk_wal_fsync_duration_seconds_count'),
    fsyncSeconds: get('etcd_disk_wal_fsync_duration_seconds_sum'),
    commits: get('etcd_disk_backend_commit_duration_seconds_count'),
    commitSeconds: get('etcd_disk_backend_commit_duration_seconds_sum'),
  };
}

const etcd = ds === 'etcd' ? await startEtcd({ name: 'anatomy' }) : undefined;
const c = await startCluster(etcd ? ['--datastore-endpoint', etcd.endpoints.join(',')] : [], 'apiserver');
try {
  await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
  await request(c, 'POST', '/api/v1/namespaces/bench/serviceaccounts', { metadata: { name: 'default' } });
  const creds = tlsCreds(c);
  await nativeCreates(creds, c.dataDir, '/api/v1/namespaces/bench/pods', 32, 1000, 'warm', body);
  const etcdPid = etcd?.members[0].proc?.pid;
  if (profDir) c.proc.kill('SIGWINCH');
  const perf = perfFile ? spawn('perf', ['record', '-q', '-F', '1999', '-g', ...(process.env.ANATOMY_PERF_ARGS?.includes('--perf-prof') ? ['-k', 'mono'] : []), '-p', String(c.proc.pid), '-o', perfFile], { stdio: 'inherit' }) : undefined;
  if (perf) await new Promise((r) => setTimeout(r, 500));
  for (let r = 0; r < Number(roundsStr); r++) {
    const a = sample(c.proc.pid!);
    const ea = etcdPid ? sample(etcdPid) : undefined;
    const url = etcd?.endpoints[0];
    const da = url?.startsWith('http:') ? await etcdDisk(url) : undefined;
    const rate = await nativeCreates(creds, c.dataDir, '/api/v1/namespaces/bench/pods', 32, n, `seg${r}`, body);
    const b = sample(c.proc.pid!);
    const eb = etcdPid ? sample(etcdPid) : undefined;
    const db = da ? await etcdDisk(url!) : undefined;
    // WAL fsyncs per create and their mean duration: a create's ack waits for one.
    const disk = da && db ? { fsyncsPerCreate: +((db.fsyncs - da.fsyncs) / n).toFixed(3), meanFsyncMs: +((1000 * (db.fsyncSeconds - da.fsyncSeconds)) / (db.fsyncs - da.fsyncs)).toFixed(2), backendCommits: db.commits - da.commits } : undefined;
    if (profDir && r === Number(roundsStr) - 1) c.proc.kill('SIGWINCH');
    if (perf && r === Number(roundsStr) - 1) {
      perf.kill('SIGINT');
      await new Promise((r) => perf.once('exit', r));
    }
    console.log(JSON.stringify({ datastore: ds, creates: n, createsPerSec: Math.round(rate), loadavg: +os.loadavg()[0].toFixed(1), apiserver: perCreate(a, b), ...(ea && eb ? { etcd: { ...perCreate(ea, eb), ...(disk ? { disk } : {}) } } : {}) }));
  }
} finally {
  await c.stop();
  await etcd?.stop();
}
