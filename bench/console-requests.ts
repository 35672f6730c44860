// What the console's first request costs the API server, against the other forms of the same list:
// `npm run bench -- console-requests [--nodes 5000] [--rounds 5] [--profile DIR]`.
//
// Starts `mizzen up` with heartbeat-only simulated nodes (their Leases renewed every 10 s, as in
// the console benchmark) and asks for the nodes, in turns, as: a plain JSON list, a
// PartialObjectMetadataList, a Table with includeObject=None (the console's first request, what
// `kubectl get nodes` reads; gzip as a browser asks) and the default Table (PartialObjectMetadata in
// each row). For each form: the time to first byte and to the last byte, and the bytes on the
// wire and decoded. (The server's CPU per request is not printed: the heartbeats' share of it
// varies more than a Table costs; take a profile.) The first request of each form is printed
// apart (a Table's first request makes every row's cells; later ones reuse them).
// --profile DIR: a CPU profile of every server thread over the first Table request
// (bench/lib/cpu-profile-window.ts; summarise with bench/lib/cpuprofile-summary.ts).

import https from 'node:https';
import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { startCluster, request, type BenchCluster } from './lib/cluster.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { cpuProfileWindowPreload, PROFILE_SIGNAL } from './lib/cpu-profile-window.ts';

const forms: Record<string, { path: string; accept: string; gzip: boolean }> = {
  json: { path: '/api/v1/nodes', accept: 'application/json', gzip: true },
  metadataList: { path: '/api/v1/nodes', accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1', gzip: true },
  tableNone: { path: '/api/v1/nodes?includeObject=None', accept: 'application/json;as=Table;g=meta.k8s.io;v=v1', gzip: true },
  tableNonePlain: { path: '/api/v1/nodes?includeObject=None', accept: 'application/json;as=Table;g=meta.k8s.io;v=v1', gzip: false },
  tableMetadata: { path: '/api/v1/nodes', accept: 'application/json;as=Table;g=meta.k8s.io;v=v1', gzip: true },
};

interface Sample {
  firstByteMs: number;
  endMs: number;
  wireKB: number;
  bodyKB: number;
}

function get(c: BenchCluster, p: string, accept: string, gzip: boolean): Promise<{ firstByteMs: number; endMs: number; wire: number; body: number; status: number }> {
  const u = new URL(p, c.url);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = https.get({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: c.agent, headers: { Accept: accept, ...(gzip ? { 'Accept-Encoding': 'gzip' } : {}) } }, (res) => {
      const firstByteMs = performance.now() - t0;
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).length : raw.length;
        resolve({ firstByteMs, endMs: performance.now() - t0, wire: raw.length, body, status: res.statusCode ?? 0 });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function sample(c: BenchCluster, form: { path: string; accept: string; gzip: boolean }): Promise<Sample> {
  const r = await get(c, form.path, form.accept, form.gzip);
  if (r.status !== 200) throw new Error(`${form.path}: ${r.status}`);
  const round = (x: number) => Math.round(x);
  return {
    firstByteMs: round(r.firstByteMs),
    endMs: round(r.endMs),
    wireKB: round(r.wire / 1024),
    bodyKB: round(r.body / 1024),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { nodes: { type: 'string' }, rounds: { type: 'string' }, profile: { type: 'string' } } });
  const nNodes = Number(values.nodes ?? 5000);
  const rounds = Number(values.rounds ?? 5);
  const cal0 = calibrationMs();
  if (values.profile) process.env.BENCH_SERVER_NODE_ARGS = `${process.env.BENCH_SERVER_NODE_ARGS ?? ''} --import=${cpuProfileWindowPreload(values.profile)}`;
  const c = await startCluster(['--simulated-nodes', String(nNodes), '--simulated-nodes-heartbeat-only']);
  try {
    const t0 = performance.now();
    for (;;) {
      const r = await request(c, 'GET', '/api/v1/nodes?limit=1');
      const m = JSON.parse(r.body).metadata;
      if ((m.remainingItemCount ?? 0) + 1 >= nNodes) break;
      if (performance.now() - t0 > 600_000) throw new Error('nodes did not register in 600 s');
      await new Promise((res) => setTimeout(res, 1000));
    }
    // Let registration's burst pass: the steady state is heartbeats only.
    await new Promise((res) => setTimeout(res, 15_000));
    const first: Record<string, Sample> = {};
    const later: Record<string, Sample[]> = {};
    // The Table first, as the console asks for it, while no Table has been made yet.
    const order = ['tableNone', 'json', 'metadataList', 'tableNonePlain', 'tableMetadata'];
    for (const name of order) {
      const profiling = values.profile && name === 'tableNone';
      if (profiling) process.kill(c.proc.pid!, PROFILE_SIGNAL);
      first[name] = await sample(c, forms[name]!);
      if (profiling) process.kill(c.proc.pid!, PROFILE_SIGNAL);
      process.stderr.write(`console-requests: first ${name} ${JSON.stringify(first[name])}\n`);
    }
    for (let i = 0; i < rounds; i++) {
      for (const name of order) {
        const s = await sample(c, forms[name]!);
        (later[name] ??= []).push(s);
      }
    }
    const medians = Object.fromEntries(
      order.map((name) => {
        const xs = later[name] ?? [];
        const m = (k: keyof Sample) => median(xs.map((s) => s[k]));
        return [name, { firstByteMs: m('firstByteMs'), endMs: m('endMs'), wireKB: m('wireKB'), bodyKB: m('bodyKB') }];
      }),
    );
    console.log(JSON.stringify({ bench: 'console-requests', nodes: nNodes, rounds, first, medians, loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10), calibration: calibration(cal0) }));
  } finally {
    await c.stop();
  }
}
