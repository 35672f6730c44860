// What each write a scheduled pod brings costs the API server, one kind at a time:
// `npm run bench -- request-costs [--ops 5000] [--clients 32] [--watchers 1] [--only a,b] [--rounds 1]`
// (--only: just the named measurements, e.g. `leaseRenew`, so a server CPU profile
// (BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR") holds that request and little else;
// --rounds: the two lease renewals, with and without managedFields, in that many alternating rounds).
//
// Starts `mizzen apiserver` alone (no scheduler, controllers or nodes, so nothing else runs) and
// sends, over --clients keep-alive HTTPS connections, --ops of each: a pod create (the scheduler
// benchmark's pod), its binding, a Scheduled event (events.k8s.io/v1, and core/v1 as Mizzen's scheduler writes it)
// and a Lease renewal (PUT, as a kubelet's heartbeat: 5,000 nodes renew 500 a second). Pods are
// created again with --watchers watches on pods open, which prices the watch fan-out. For each it
// prints the server's CPU per request (main thread and whole process, from /proc), which is steady
// on a loaded machine where requests/s is not. With the scale benchmark's figures these say what
// a pod costs at the least, and how much of the 2-core budget 500 lease renewals a second take.

import https from 'node:https';
import { parseArgs } from 'node:util';
import { startCluster, request, tlsCreds, type BenchCluster } from './lib/cluster.ts';
import { type FastConnection } from './lib/fast-client.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { processCpuMs, threadCpuMsById } from './lib/proc-cpu.ts';
import { benchPod, fanOut } from './scheduler.ts';

function cpu(pid: number): { main: number; total: number; threads: Map<number, number> } {
  const threads = threadCpuMsById(pid);
  return { main: threads.get(pid) ?? 0, total: processCpuMs(pid), threads };
}

function watchPods(c: BenchCluster, ns: string): Promise<() => void> {
  const u = new URL(`/api/v1/namespaces/${ns}/pods?watch=true`, c.url);
  return new Promise((resolve, reject) => {
    const req = https.get({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: c.agent }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`watch: ${res.statusCode}`));
      res.on('data', () => {});
      res.on('error', () => {});
      resolve(() => req.destroy());
    });
    req.on('error', () => {});
  });
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { ops: { type: 'string', default: '5000' }, clients: { type: 'string', default: '32' }, watchers: { type: 'string', default: '1' }, only: { type: 'string' }, rounds: { type: 'string', default: '1' } },
  });
  const ops = Number(values.ops);
  const clients = Number(values.clients);
  const rounds = Number(values.rounds);
  const calBefore = calibrationMs();
  const c = await startCluster([], 'apiserver');
  const creds = tlsCreds(c);
  const pid = c.proc.pid!;
  const results: Record<string, { mainMs: number; totalMs: number; writerMs: number; perSec: number }> = {};
  // Sums per measurement, so one measured in several rounds (--rounds) gives one figure.
  const sums = new Map<string, { main: number; total: number; writer: number; secs: number; ops: number }>();
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  const measure = async (name: string, work: (fc: FastConnection, i: number) => Promise<void>) => {
    // Skipped measurements still run once per op when a later one needs their objects (pods to bind).
    if (only && !only.has(name)) {
      if (name === 'podCreate' && only.has('binding')) await fanOut(creds, clients, ops, work);
      return;
    }
    const a = cpu(pid);
    const t = performance.now();
    await fanOut(creds, clients, ops, work);
    const secs = (performance.now() - t) / 1000;
    const b = cpu(pid);
    // The busiest other thread over a write phase is the SQLite writer.
    const others = [...b.threads].filter(([tid]) => tid !== pid).map(([tid, ms]) => ms - (a.threads.get(tid) ?? ms));
    const sum = sums.get(name) ?? { main: 0, total: 0, writer: 0, secs: 0, ops: 0 };
    sum.main += b.main - a.main;
    sum.total += b.total - a.total;
    sum.writer += Math.max(0, ...others);
    sum.secs += secs;
    sum.ops += ops;
    sums.set(name, sum);
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    results[name] = { mainMs: r3(sum.main / sum.ops), totalMs: r3(sum.total / sum.ops), writerMs: r3(sum.writer / sum.ops), perSec: Math.round(sum.ops / sum.secs) };
  };
  const check = (what: string, r: { status: number; body: Buffer }, want: number) => {
    if (r.status !== want) throw new Error(`${what}: ${r.status} ${r.body.toString().slice(0, 300)}`);
  };
  try {
    for (const ns of ['rc-a', 'rc-b', 'kube-node-lease']) {
      const r = await request(c, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      if (r.status !== 201 && r.status !== 409) throw new Error(`namespace ${ns}: ${r.status}`);
      // No controller manager here to make the namespace's default service account.
      const sa = await request(c, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
      if (sa.status !== 201 && sa.status !== 409) throw new Error(`service account in ${ns}: ${sa.status}`);
    }
    // Warm up the handlers (JIT) before anything is measured.
    await fanOut(creds, clients, 500, async (fc, i) => check('warm-up', await fc.request('POST', '/api/v1/namespaces/rc-b/pods', JSON.stringify({ ...benchPod('basic', i, 10), metadata: { name: `warm-${i}` } })), 201));

    await measure('podCreate', async (fc, i) => check('create', await fc.request('POST', '/api/v1/namespaces/rc-a/pods', JSON.stringify(benchPod('basic', i, 10))), 201));
    await measure('binding', async (fc, i) =>
      check('binding', await fc.request('POST', `/api/v1/namespaces/rc-a/pods/pod-${i}/binding`, JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: `pod-${i}` }, target: { kind: 'Node', name: `node-${i % 5000}` } })), 201),
    );
    await measure('scheduledEvent', async (fc, i) => {
      const ev = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: `pod-${i}.${(1e12 + i).toString(16)}`, namespace: 'rc-a' },
        eventTime: new Date().toISOString().replace('Z', '000Z'),
        reportingController: 'default-scheduler',
        reportingInstance: 'default-scheduler-mizzen',
        action: 'Binding',
        reason: 'Scheduled',
        regarding: { kind: 'Pod', namespace: 'rc-a', name: `pod-${i}`, apiVersion: 'v1' },
        note: `Successfully assigned rc-a/pod-${i} to node-${i % 5000}`,
        type: 'Normal',
      };
      check('event', await fc.request('POST', '/apis/events.k8s.io/v1/namespaces/rc-a/events', JSON.stringify(ev)), 201);
    });
    // The Scheduled event as the scheduler writes it (core/v1, src/scheduler/scheduled-events.ts).
    await measure('scheduledCoreEvent', async (fc, i) => {
      const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const ev = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `pod-${i}.${(2e12 + i).toString(16)}`, namespace: 'rc-a' },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'rc-a', name: `pod-${i}`, uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, resourceVersion: String(1000 + i) },
        reason: 'Scheduled',
        message: `Successfully assigned rc-a/pod-${i} to node-${i % 5000}`,
        source: { component: 'default-scheduler' },
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
        type: 'Normal',
        eventTime: null,
        reportingComponent: 'default-scheduler',
        reportingInstance: '',
      };
      check('core event', await fc.request('POST', '/api/v1/namespaces/rc-a/events', JSON.stringify(ev)), 201);
    });
    // Leases: one per "node", created, then each renewed once (a PUT of the last copy, as a kubelet).
    const leases: any[] = new Array(ops);
    if (!only || only.has('leaseRenew') || only.has('leaseRenewWithoutManagedFields')) await fanOut(creds, clients, ops, async (fc, i) => {
      const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `node-${i}`, namespace: 'kube-node-lease' }, spec: { holderIdentity: `node-${i}`, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') } };
      const r = await fc.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', JSON.stringify(body));
      check('lease create', r, 201);
      leases[i] = JSON.parse(r.body.toString());
    });
    const renew = async (fc: FastConnection, i: number, withManagedFields: boolean) => {
      const l = leases[i];
      if (!withManagedFields) delete l.metadata.managedFields;
      l.spec.renewTime = new Date().toISOString().replace('Z', '000Z');
      const r = await fc.request('PUT', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-${i}`, JSON.stringify(l));
      check('lease renew', r, 200);
      leases[i] = JSON.parse(r.body.toString());
    };
    // The same renewal with and without managedFields in the body (an update without them keeps
    // the stored ones), in alternating rounds (A B B A ...) so a changing machine load falls on both.
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [true, false] : [false, true];
      for (const withMF of order) await measure(withMF ? 'leaseRenew' : 'leaseRenewWithoutManagedFields', (fc, i) => renew(fc, i, withMF));
    }
    const watchers = Number(values.watchers);
    const stops = only && !only.has(`podCreateWith${watchers}Watchers`) ? [] : await Promise.all(Array.from({ length: watchers }, () => watchPods(c, 'rc-b')));
    await measure(`podCreateWith${watchers}Watchers`, async (fc, i) => check('create', await fc.request('POST', '/api/v1/namespaces/rc-b/pods', JSON.stringify(benchPod('basic', i, 10))), 201));
    for (const s of stops) s();
  } finally {
    await c.stop();
  }
  const os = await import('node:os');
  console.log(
    JSON.stringify({
      bench: 'request-costs',
      ops,
      clients,
      cpuMsPerRequest: results,
      calibration: calibration(calBefore),
      loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
      measuredAs: 'mizzen apiserver alone (SQLite); server CPU from /proc per request: main thread, whole process, busiest other thread (the SQLite writer); admin client certificate over HTTPS',
    }),
  );
}
