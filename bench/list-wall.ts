// Where the wall time of a big LIST goes: the API server alone with N pods, then LISTs of them
// measured at the client as a timeline (request sent → response head → last byte → body decoded
// to a string as `bench apiserver` does → JSON.parse, which that bench does not time), with the
// server's CPU and this client's CPU per LIST, from two clients in alternation: one that decodes
// the body as `bench apiserver` does and one that only counts bytes. Also a paged walk
// (limit=500) and a gzip LIST, as kubectl (Go's transport asks for gzip) gets it.
// `npm run bench -- list-wall [--pods 10000] [--rounds 5] [--datastore etcd] [--two-byte]
// [--profile-lists N]`

import https from 'node:https';
import { parseArgs } from 'node:util';
import { startCluster, request, percentile, tlsCreds } from './lib/cluster.ts';
import { nativeCreates, buildNativeClients } from './lib/native-clients.ts';
import { processCpuMs } from './lib/proc-cpu.ts';
import { startEtcd, type TestEtcd } from '../src/testing/etcd.ts';
import type { BenchCluster } from './lib/cluster.ts';
import { readFileSync } from 'node:fs';

export interface Timeline {
  head: number;
  lastByte: number;
  decoded: number;
  parsed?: number;
  bytes: number;
  serverCpu: number;
  clientCpu: number;
  /** This client's CPU for joining the chunks and decoding them to a string (0 when only counting). */
  decodeCpu: number;
}

const clientCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One GET timed at the client; `decode` as bench/lib/cluster.ts's request() does, or only counting bytes. */
export function timedGet(c: BenchCluster, path: string, decode: boolean, parse: boolean, headers: Record<string, string> = {}): Promise<Timeline> {
  const u = new URL(path, c.url);
  const cpu0 = processCpuMs(c.proc.pid!);
  const ccpu0 = clientCpuMs();
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = https.request({ method: 'GET', hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: c.agent, headers: { Accept: 'application/json', ...headers } }, (res) => {
      const head = performance.now() - t0;
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        if (decode) chunks.push(d);
      });
      res.on('end', () => {
        const lastByte = performance.now() - t0;
        let decoded = lastByte;
        let parsed: number | undefined;
        let decodeCpu = 0;
        if (decode) {
          const d0 = clientCpuMs();
          const body = Buffer.concat(chunks).toString();
          decodeCpu = clientCpuMs() - d0;
          decoded = performance.now() - t0;
          if (parse) {
            JSON.parse(body);
            parsed = performance.now() - t0;
          }
        }
        const t = { head, lastByte, decoded, parsed, bytes, serverCpu: processCpuMs(c.proc.pid!) - cpu0, clientCpu: clientCpuMs() - ccpu0, decodeCpu };
        if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode}`));
        else resolve(t);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const med = (xs: number[]) => +percentile([...xs].sort((a, b) => a - b), 50).toFixed(1);

export function summary(ts: Timeline[]) {
  const pick = (k: keyof Timeline) => med(ts.map((t) => (t[k] as number) ?? NaN));
  return { n: ts.length, headMs: pick('head'), lastByteMs: pick('lastByte'), decodedMs: pick('decoded'), ...(ts[0]?.parsed !== undefined ? { parsedMs: pick('parsed') } : {}), serverCpuMs: pick('serverCpu'), clientCpuMs: pick('clientCpu'), clientDecodeCpuMs: pick('decodeCpu'), MB: +(ts[0]?.bytes / 1e6).toFixed(1) };
}

/** Walks the list 500 at a time (continue tokens), as a paging client does; total wall ms. */
async function pagedWalk(c: BenchCluster, ns: string): Promise<number> {
  const t0 = performance.now();
  let cont = '';
  let items = 0;
  do {
    const r = await request(c, 'GET', `/api/v1/namespaces/${ns}/pods?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    const l = JSON.parse(r.body);
    items += l.items.length;
    cont = l.metadata.continue ?? '';
  } while (cont);
  if (items === 0) throw new Error('paged walk saw no pods');
  return performance.now() - t0;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pods: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '5' }, datastore: { type: 'string', default: 'sqlite' }, 'profile-lists': { type: 'string', default: '0' }, 'two-byte': { type: 'boolean', default: false } } });
  const total = Number(values.pods);
  const rounds = Number(values.rounds);
  let etcd: TestEtcd | undefined;
  const extra: string[] = [];
  if (values.datastore === 'etcd') {
    etcd = await startEtcd({ name: 'listwall' });
    extra.push('--datastore-endpoint', etcd.endpoints.join(','));
  }
  const problem = buildNativeClients();
  if (problem) throw new Error(problem);
  const c = await startCluster(extra, 'apiserver');
  try {
    await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    await request(c, 'POST', '/api/v1/namespaces/bench/serviceaccounts', { metadata: { name: 'default' } });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: '{NAME}', labels: { app: 'bench', tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'registry.local/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } };
    // --two-byte: every pod carries text beyond Latin-1, so V8 holds its JSON two bytes a character.
    if (values['two-byte']) (pod.metadata as Record<string, unknown>).annotations = { 'bench/note': '帆 mizzen' };
    await nativeCreates(tlsCreds(c), c.dataDir, '/api/v1/namespaces/bench/pods', 32, total, 'pod', JSON.stringify(pod));
    const list = '/api/v1/namespaces/bench/pods';
    const first = await timedGet(c, list, true, true);
    const decodeT: Timeline[] = [];
    const countT: Timeline[] = [];
    const gzipT: Timeline[] = [];
    const paged: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternating, order swapped each round, so drift in the machine's speed hits both alike.
      if (r % 2) {
        countT.push(await timedGet(c, list, false, false));
        decodeT.push(await timedGet(c, list, true, true));
      } else {
        decodeT.push(await timedGet(c, list, true, true));
        countT.push(await timedGet(c, list, false, false));
      }
      gzipT.push(await timedGet(c, list, false, false, { 'Accept-Encoding': 'gzip' }));
      paged.push(await pagedWalk(c, 'bench'));
    }
    // With BENCH_SERVER_NODE_ARGS="--cpu-prof ...": count-only LISTs between two printed monotonic
    // timestamps (µs, the clock of the profile's samples), to summarize only that window.
    const profileLists = Number(values['profile-lists']);
    if (profileLists) {
      const from = process.hrtime.bigint() / 1000n;
      const cpu0 = processCpuMs(c.proc.pid!);
      const t0 = performance.now();
      for (let i = 0; i < profileLists; i++) await timedGet(c, list, false, false);
      const per = (x: number) => (x / profileLists).toFixed(1);
      console.error(`profile window (µs): ${from} ${process.hrtime.bigint() / 1000n}; per LIST: wall ${per(performance.now() - t0)} ms, server CPU ${per(processCpuMs(c.proc.pid!) - cpu0)} ms`);
    }
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(
      JSON.stringify({
        bench: 'list-wall',
        datastore: values.datastore,
        twoByte: values['two-byte'],
        pods: total,
        rounds,
        firstList: summary([first]),
        decodeAsBenchApiserver: summary(decodeT),
        countBytesOnly: summary(countT),
        gzipCountOnly: summary(gzipT),
        pagedWalk500Ms: med(paged),
        loadavg: load,
      }),
    );
  } finally {
    await c.stop();
    await etcd?.stop();
  }
}
