// API server benchmark: time to ready, idle RSS, durable pod creates/s with 32 concurrent HTTPS
// clients, LIST latency for 10,000 pods, and watch delivery latency with 100 watchers.
// Compared against upstream v1.28.7 + etcd measured on the same kind of 2-core machine.
// `--datastore etcd` measures the same on one etcd member (Debian's etcd-server, started fresh on
// loopback) and, in the same run, on SQLite, alternating between them (`--rounds N`), since the
// machine's speed drifts: the figures sit side by side.

import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { startCluster, request, rssMB, percentile, tlsCreds, type BenchCluster } from './lib/cluster.ts';
import { FastConnection, type TlsCreds } from './lib/fast-client.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { nativeCreates, pickClient, type BenchClient } from './lib/native-clients.ts';
import { watchLatency, type WatchTarget } from './lib/watch-latency.ts';
import { managedFieldsAB } from './lib/managed-fields-ab.ts';
import { startEtcd, type TestEtcd } from '../src/testing/etcd.ts';
import { processCpuMs, reapedChildrenCpuMs, threadCpuMs } from './lib/proc-cpu.ts';

function pod(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench', tier: 'web' } },
    spec: { containers: [{ name: 'c', image: 'registry.local/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

/**
 * A ServiceAccount token allowed to create pods in every namespace (a ClusterRole bound to a
 * ServiceAccount in `bench`), as a client running in the cluster would authenticate.
 */
async function benchToken(c: BenchCluster): Promise<string> {
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  await request(c, 'POST', '/api/v1/namespaces/bench/serviceaccounts', { metadata: { name: 'bench-client' } });
  await request(c, 'POST', `${rbac}/clusterroles`, { metadata: { name: 'bench-pod-writer' }, rules: [{ verbs: ['create', 'get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }] });
  await request(c, 'POST', `${rbac}/clusterrolebindings`, {
    metadata: { name: 'bench-pod-writer' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'bench-pod-writer' },
    subjects: [{ kind: 'ServiceAccount', name: 'bench-client', namespace: 'bench' }],
  });
  const r = await request(c, 'POST', '/api/v1/namespaces/bench/serviceaccounts/bench-client/token', { spec: { expirationSeconds: 7200 } });
  if (r.status !== 201) throw new Error(`TokenRequest failed: ${r.status} ${r.body}`);
  return JSON.parse(r.body).status.token;
}

/** Creates `total` pods from `clients` concurrent keep-alive HTTPS connections (each one request at a time). */
async function createPods(c: BenchCluster, ns: string, total: number, clients: number, prefix: string, client: BenchClient, creds: TlsCreds = tlsCreds(c)): Promise<number> {
  if (client === 'native') return nativeCreates(creds, c.dataDir, `/api/v1/namespaces/${ns}/pods`, clients, total, prefix, JSON.stringify(pod('{NAME}')));
  const conns = await Promise.all(Array.from({ length: clients }, () => FastConnection.open(creds)));
  let next = 0;
  let failures = 0;
  let firstFailure = '';
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (conn) => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const r = await conn.request('POST', `/api/v1/namespaces/${ns}/pods`, JSON.stringify(pod(`${prefix}-${i}`)));
        if (r.status !== 201) {
          failures++;
          firstFailure ||= `${r.status} ${r.body.toString().slice(0, 300)}`;
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  for (const conn of conns) conn.close();
  if (failures) throw new Error(`${failures} creates failed, first: ${firstFailure}`);
  return total / secs;
}

/** A pod of the watch test (the watch selects app=watchbench, so the other pods' events do not count). */
function watchPod(name: string): string {
  const p = pod(name);
  p.metadata.labels.app = 'watchbench';
  return JSON.stringify(p);
}

/** The watch test on an API server: its pods created in `ns`, watched there by label. */
export function watchTarget(ns: string): WatchTarget {
  return { createPath: `/api/v1/namespaces/${ns}/pods`, watchPath: `/api/v1/namespaces/${ns}/pods?watch=true&labelSelector=app%3Dwatchbench`, body: watchPod };
}

/**
 * A GET read exactly as bench/lib/cluster.ts's request() reads it (chunks joined, decoded to one
 * string), also noting when the last byte came and the CPU the join and decoding took here.
 */
function timedList(c: BenchCluster, p: string): Promise<{ status: number; body: string; lastByteAt: number; decodeCpuMs: number }> {
  const u = new URL(p, c.url);
  return new Promise((resolve, reject) => {
    const req = https.request({ method: 'GET', hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: c.agent, headers: { 'Content-Type': 'application/json', Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const lastByteAt = performance.now();
        const cpu0 = process.cpuUsage();
        const body = Buffer.concat(chunks).toString();
        const cpu = process.cpuUsage(cpu0);
        resolve({ status: res.statusCode ?? 0, body, lastByteAt, decodeCpuMs: (cpu.user + cpu.system) / 1000 });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

type Datastore = 'sqlite' | 'etcd';

interface Figures {
  readySeconds: number;
  idleRssMB: number;
  apiserverIdleRssMB: number;
  podCreatesPerSec: number;
  listPodsMs: { pods: number; median: number; min: number; serverCpuMedian: number; lastByteMedian: number; clientDecodeCpuMedian: number; etcdCpuMedian?: number };
  watchDeliveryMs: { watchers: number; events: number; warmupEvents: number; p50: number; p99: number; firstWatcherP99: number };
  rssAfterLoadMB: number;
  cpuMsPerCreate?: CpuPerCreate;
}

/**
 * CPU per create over the timed creates, by process: the API server (its main thread, where
 * request handling runs, and its other threads: GC helpers, libuv's pool, SQLite's writer), etcd,
 * and the load generator. On this 2-core machine their sum bounds the rate at 2000 / sum, and the
 * main thread alone at 1000 / main, however the latency is spent; these hold up under load from
 * other work far better than the rates do.
 */
interface CpuPerCreate {
  apiserverMain: number;
  apiserverOtherThreads: number;
  apiserver: number;
  etcd: number;
  client: number;
  sum: number;
  ceilingPerSec: { twoCores: number; apiserverMainThread: number };
}

/** Samples the processes' CPU before the creates; the returned function gives the figures per create after them. */
function cpuMeter(apiserverPid: number, etcdPid: number | undefined, clientInProcess: boolean): (creates: number) => CpuPerCreate {
  const own = () => {
    const u = process.cpuUsage();
    return clientInProcess ? (u.user + u.system) / 1000 : 0;
  };
  const sample = () => {
    const t = threadCpuMs(apiserverPid);
    return { main: t.main ?? 0, all: processCpuMs(apiserverPid), etcd: etcdPid ? processCpuMs(etcdPid) : 0, client: reapedChildrenCpuMs() + own() };
  };
  const a = sample();
  return (n) => {
    const b = sample();
    const per = (x: number) => +(x / n).toFixed(3);
    const main = per(b.main - a.main);
    const apiserver = per(b.all - a.all);
    const etcd = per(b.etcd - a.etcd);
    const client = per(b.client - a.client);
    const sum = +(apiserver + etcd + client).toFixed(3);
    return { apiserverMain: main, apiserverOtherThreads: +(apiserver - main).toFixed(3), apiserver, etcd, client, sum, ceilingPerSec: { twoCores: Math.round(2000 / sum), apiserverMainThread: Math.round(1000 / main) } };
  };
}

/** One measurement of every figure on one datastore (a fresh etcd member for etcd). */
type Auth = 'cert' | 'token' | 'both';

interface AuthFigures {
  /** With --auth both: creates/s and the server's CPU per 1000 creates, per round, each way. */
  podCreatesPerSecByAuth?: { cert: number[]; token: number[]; certMedian: number; tokenMedian: number };
  serverCpuMsPer1000CreatesByAuth?: { cert: number[]; token: number[]; certMedian: number; tokenMedian: number };
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

/**
 * The create phase: `total` pods into `bench` with the admin certificate or a ServiceAccount token,
 * or, with `both`, alternating rounds of each (own namespaces, order swapped every round, so drift
 * in the machine's speed hits both alike), then `bench` filled up for the LIST test.
 */
async function createPhase(c: BenchCluster, o: { total: number; clients: number; client: BenchClient; auth: Auth; authRounds: number; scrapeMs?: number; etcdPid?: number }): Promise<{ createsPerSec: number; cpuMsPerCreate?: CpuPerCreate } & AuthFigures> {
  if (!o.scrapeMs) return createPhaseInner(c, o);
  // A Prometheus server scraping /metrics all through the creates (--scrape-metrics MS).
  let scrapes = 0;
  const timer = setInterval(() => void request(c, 'GET', '/metrics').then(() => scrapes++), o.scrapeMs);
  try {
    return await createPhaseInner(c, o);
  } finally {
    clearInterval(timer);
    console.error(`scraped /metrics ${scrapes} times during the creates`);
  }
}

async function createPhaseInner(c: BenchCluster, o: { total: number; clients: number; client: BenchClient; auth: Auth; authRounds: number; etcdPid?: number }): Promise<{ createsPerSec: number; cpuMsPerCreate?: CpuPerCreate } & AuthFigures> {
  const certCreds = tlsCreds(c);
  const tokenCreds = o.auth === 'cert' ? undefined : { ...certCreds, token: await benchToken(c) };
  await createPods(c, 'bench', 500, o.clients, 'warm', o.client, tokenCreds ?? certCreds);
  if (o.auth !== 'both') {
    // The native client is a child process (its CPU counts once reaped); the Node client is this one.
    const cpu = cpuMeter(c.proc.pid!, o.etcdPid, o.client === 'node');
    const createsPerSec = await createPods(c, 'bench', o.total - 500, o.clients, 'pod', o.client, tokenCreds ?? certCreds);
    return { createsPerSec, cpuMsPerCreate: cpu(o.total - 500) };
  }
  const serverCpuMs = () => {
    const f = readFileSync(`/proc/${c.proc.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  const rate = { cert: [] as number[], token: [] as number[] };
  const cpu = { cert: [] as number[], token: [] as number[] };
  const per = Math.floor((o.total - 500) / (2 * o.authRounds));
  for (let r = 0; r < o.authRounds; r++) {
    for (const kind of r % 2 === 0 ? (['cert', 'token'] as const) : (['token', 'cert'] as const)) {
      const ns = `round-${r}-${kind}`;
      await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
      await request(c, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } });
      const cpu0 = serverCpuMs();
      rate[kind].push(Math.round(await createPods(c, ns, per, o.clients, 'pod', o.client, kind === 'token' ? tokenCreds! : certCreds)));
      cpu[kind].push(Math.round(((serverCpuMs() - cpu0) * 1000) / per));
    }
  }
  await createPods(c, 'bench', o.total - 500, o.clients, 'fill', o.client, certCreds);
  return {
    createsPerSec: median(rate.cert),
    podCreatesPerSecByAuth: { ...rate, certMedian: median(rate.cert), tokenMedian: median(rate.token) },
    serverCpuMsPer1000CreatesByAuth: { ...cpu, certMedian: median(cpu.cert), tokenMedian: median(cpu.token) },
  };
}

async function measure(datastore: Datastore, o: { total: number; clients: number; watchers: number; client: BenchClient; auth: Auth; authRounds: number; scrapeMs?: number }): Promise<Figures & AuthFigures> {
  let etcd: TestEtcd | undefined;
  const extra: string[] = [];
  if (datastore === 'etcd') {
    etcd = await startEtcd({ name: 'bench' });
    extra.push('--datastore-endpoint', etcd.endpoints.join(','));
  }
  try {
    // Start-up time and idle memory of the whole control plane (`mizzen up`)...
    const up = await startCluster(extra);
    await new Promise((r) => setTimeout(r, 3000));
    const idleRss = rssMB(up.proc.pid!);
    const readyMs = up.readyMs;
    await up.stop();
    // ...and the API server alone for throughput, so the scheduler does not also work on the pods.
    const c = await startCluster(extra, 'apiserver');
    try {
      await new Promise((r) => setTimeout(r, 500));
      const apiIdleRss = rssMB(c.proc.pid!);
      await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
      await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'watch' } });
      // The API server runs alone: make the default ServiceAccounts the controller manager would.
      for (const ns of ['bench', 'watch']) await request(c, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } });
      const { createsPerSec, cpuMsPerCreate, ...byAuth } = await createPhase(c, { ...o, etcdPid: etcd?.members[0].proc?.pid });
      const listMs: number[] = [];
      // The server's CPU per LIST as well: the wall time includes this process reading 21 MB.
      const listCpuMs: number[] = [];
      // etcd's CPU over each LIST (its background work takes a core from the LIST's wall time).
      const etcdPid = etcd?.members[0].proc?.pid;
      const listEtcdCpuMs: number[] = [];
      // Split of the same wall time: until the last byte arrived, and this process's own joining
      // and UTF-8 decoding of the 21 MB afterwards (wall and CPU; bench list-wall has the detail).
      const lastByteMs: number[] = [];
      const decodeCpuMs: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        const cpu0 = processCpuMs(c.proc.pid!);
        const etcd0 = etcdPid ? processCpuMs(etcdPid) : 0;
        const r = await timedList(c, '/api/v1/namespaces/bench/pods');
        listMs.push(performance.now() - t);
        listCpuMs.push(processCpuMs(c.proc.pid!) - cpu0);
        if (etcdPid) listEtcdCpuMs.push(processCpuMs(etcdPid) - etcd0);
        lastByteMs.push(r.lastByteAt - t);
        decodeCpuMs.push(r.decodeCpuMs);
        if (r.status !== 200) throw new Error(`list failed: ${r.status}`);
        if (i === 0 && JSON.parse(r.body).items.length !== o.total) throw new Error('list returned the wrong number of pods');
      }
      listMs.sort((a, b) => a - b);
      // BENCH_DEBUG: how often the server's main thread slept (voluntary) and was preempted (the
      // second number) while fanning events out: readers it wakes are often placed on its own core.
      const ctx = () => readFileSync(`/proc/${c.proc.pid}/task/${c.proc.pid}/status`, 'utf8').match(/ctxt_switches:\s+\d+/g)!.join(' ');
      const ctx0 = ctx();
      const watch = await watchLatency(tlsCreds(c), c.dataDir, watchTarget('watch'), o.watchers, o.client);
      if (process.env.BENCH_DEBUG) console.error(`server main thread during the watch phase: before ${ctx0}, after ${ctx()}`);
      return {
        readySeconds: +(readyMs / 1000).toFixed(3),
        idleRssMB: +idleRss.toFixed(1),
        apiserverIdleRssMB: +apiIdleRss.toFixed(1),
        podCreatesPerSec: Math.round(createsPerSec),
        listPodsMs: { pods: o.total, median: +percentile(listMs, 50).toFixed(1), min: +listMs[0].toFixed(1), serverCpuMedian: median(listCpuMs), lastByteMedian: +median(lastByteMs).toFixed(1), clientDecodeCpuMedian: +median(decodeCpuMs).toFixed(1), ...(etcdPid ? { etcdCpuMedian: median(listEtcdCpuMs) } : {}) },
        watchDeliveryMs: { watchers: o.watchers, events: watch.events, warmupEvents: watch.warmupEvents, p50: +watch.p50.toFixed(2), p99: +watch.p99.toFixed(2), firstWatcherP99: +watch.firstWatcherP99.toFixed(2) },
        rssAfterLoadMB: +rssMB(c.proc.pid!).toFixed(1),
        ...(cpuMsPerCreate ? { cpuMsPerCreate } : {}),
        ...byAuth,
      };
    } finally {
      await c.stop();
    }
  } finally {
    await etcd?.stop();
  }
}

const UPSTREAM = { version: 'v1.28.7+etcd, same 2-core machine', podCreatesPerSec: 960, listPodsMs: '570-810', watchP99Ms: '8-18', readySeconds: 2.3, idleRssMB: 447 };
const TARGETS = { podCreatesPerSec: 5000, listPodsMs: 150, watchP99Ms: 5, readySeconds: 1, idleRssMB: 120 };
const ETCD_TARGETS = { podCreatesPerSec: 2500, listPodsMs: 150 };

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      pods: { type: 'string', default: '10000' },
      clients: { type: 'string', default: '32' },
      watchers: { type: 'string', default: '100' },
      client: { type: 'string', default: 'native' },
      datastore: { type: 'string', default: 'sqlite' },
      rounds: { type: 'string', default: '1' },
      // How the creating clients authenticate: the admin certificate, a ServiceAccount token
      // (authenticated and authorized by RBAC on every request), or both in alternating rounds.
      auth: { type: 'string', default: 'cert' },
      'auth-rounds': { type: 'string', default: '3' },
      // Scrape /metrics every MS milliseconds during the creates (0: never).
      'scrape-metrics': { type: 'string', default: '0' },
      // `both`: only the creates, on two servers side by side, one without managed-fields
      // bookkeeping, in alternating segments (--mf-rounds of --mf-pods each); see lib/managed-fields-ab.ts.
      'managed-fields': { type: 'string', default: 'on' },
      'mf-rounds': { type: 'string', default: '8' },
      'mf-pods': { type: 'string', default: '1500' },
    },
  });
  const client = pickClient(values.client);
  const auth = values.auth as Auth;
  if (!['cert', 'token', 'both'].includes(auth)) throw new Error(`--auth must be cert, token or both, not ${values.auth}`);
  const o = { total: Number(values.pods), clients: Number(values.clients), watchers: Number(values.watchers), client, auth, authRounds: Math.max(1, Number(values['auth-rounds'])), scrapeMs: Number(values['scrape-metrics']) || 0 };
  if (values.datastore !== 'sqlite' && values.datastore !== 'etcd') throw new Error(`--datastore must be sqlite or etcd, not ${values.datastore}`);
  const calibrationBefore = calibrationMs();
  if (values['managed-fields'] === 'both') {
    if (values.datastore !== 'sqlite') throw new Error('--managed-fields both measures on SQLite only');
    const ab = await managedFieldsAB({ rounds: Math.max(1, Number(values['mf-rounds'])), podsPerSegment: Number(values['mf-pods']), extraArgs: [] }, (c, ns, n, prefix) =>
      createPods(c, ns, n, o.clients, prefix, client),
    );
    console.log(JSON.stringify({ bench: 'apiserver', managedFields: ab, clients: o.clients, client, calibration: calibration(calibrationBefore), limit: 'tracked creates/s at least 0.85 of untracked (issue 13)' }));
    return;
  }
  if (values['managed-fields'] !== 'on') throw new Error(`--managed-fields must be on or both, not ${values['managed-fields']}`);
  if (values.datastore === 'sqlite') {
    const f = await measure('sqlite', o);
    console.log(JSON.stringify({ bench: 'apiserver', ...f, auth, clients: o.clients, client, calibration: calibration(calibrationBefore), upstream: UPSTREAM, targets: TARGETS }));
    return;
  }
  // Side by side: SQLite and etcd in turns (etcd first in odd rounds), one line with both.
  const rounds = Math.max(1, Number(values.rounds));
  const runs: { sqlite: Figures[]; etcd: Figures[] } = { sqlite: [], etcd: [] };
  for (let r = 0; r < rounds; r++) {
    const order: Datastore[] = r % 2 ? ['etcd', 'sqlite'] : ['sqlite', 'etcd'];
    for (const d of order) runs[d].push(await measure(d, o));
  }
  const pick = (fs: Figures[]) => (fs.length === 1 ? fs[0] : fs);
  console.log(
    JSON.stringify({
      bench: 'apiserver',
      datastore: 'etcd',
      etcd: pick(runs.etcd),
      sqlite: pick(runs.sqlite),
      etcdMembers: 1,
      clients: o.clients,
      client,
      rounds,
      calibration: calibration(calibrationBefore),
      upstream: UPSTREAM,
      targets: { etcd: ETCD_TARGETS, sqlite: TARGETS },
    }),
  );
}
