// `npm run bench -- dns [--services 1000] [--rate 20000] [--seconds 10] [--in-thread] [--busy] [--no-cache]`:
// the cluster DNS server (src/dns) answering cluster names for --services Services (9 in 10
// ClusterIP with a named port, 1 in 10 headless with three endpoints), fed by a real API server in
// this process, asked by dnsperf (C, Debian's `dnsperf` package) over UDP on loopback.
// - maxQps: dnsperf closed loop (8 clients, 200 queries outstanding): what the server sustains.
// - at --rate: open loop at a fixed rate, every reply's latency (dnsperf -v) → p50/p99/p99.9.
// Queries: each Service's A name, an SRV for every tenth, and a search-path miss
// (`<svc>.bench.svc.cluster.local.bench.svc.cluster.local`, NXDOMAIN) for every fourth.
// --busy keeps the API server (on the main thread) creating ConfigMaps during the measurement;
// --in-thread runs the DNS server on the main thread instead of its worker (the comparison);
// --no-cache turns off the encoded-answer cache. Targets (issue 11): ≥ 20,000 queries/s with
// p99 ≤ 2 ms. The machine's 2 cores are shared: the load average is printed with the figures.

import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { ApiClient } from '../src/client/api-client.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { startTestApiServer } from '../src/testing/api-server.ts';
import { startNodeDNS } from '../src/dns/node-dns.ts';
import { randomLoopback, startStubUpstream } from '../src/dns/testing.ts';

const run = promisify(execFile);

async function pool<T>(items: T[], conc: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: conc }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;
}

/**
 * dnsperf's run. Its output goes to a file (not parsed while it runs, so reading it takes no CPU
 * from the measurement); with verbose, every reply's latency in seconds is read afterwards from
 * its `> RCODE name type latency` lines.
 */
function dnsperf(args: string[], verbose: boolean, dir: string): Promise<{ qps: number; lost: number; latencies: number[]; codes: string }> {
  const outFile = path.join(dir, 'dnsperf.out');
  const fd = openSync(outFile, 'w');
  return new Promise((resolve, reject) => {
    const p = spawn('dnsperf', [...args, ...(verbose ? ['-v'] : [])], { stdio: ['ignore', fd, fd] });
    p.on('error', reject);
    p.on('close', (code) => {
      closeSync(fd);
      const text = readFileSync(outFile, 'utf8');
      if (code !== 0) return reject(new Error(`dnsperf exited ${code}: ${text.slice(-2000)}`));
      const latencies: number[] = [];
      for (const l of text.split('\n')) if (l.startsWith('> ')) latencies.push(Number(l.slice(l.lastIndexOf(' ') + 1)));
      const qps = Number(/Queries per second:\s+([\d.]+)/.exec(text)?.[1]);
      const lost = Number(/Queries lost:\s+(\d+)/.exec(text)?.[1]);
      const codes = /Response codes:\s+(.*)/.exec(text)?.[1] ?? '';
      resolve({ qps, lost, latencies, codes });
    });
  });
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      services: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '20000' },
      seconds: { type: 'string', default: '10' },
      'in-thread': { type: 'boolean', default: false },
      busy: { type: 'boolean', default: false },
      'no-cache': { type: 'boolean', default: false },
    },
  });
  try {
    await run('dnsperf', ['-h']);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new Error('dnsperf is not installed: apt-get install dnsperf');
  }
  const nServices = Number(values.services);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const api = await startTestApiServer({ name: 'bench-dns' });
  const client = new ApiClient({ ...loadKubeconfig(api.kubeconfig), maxSockets: 64 });
  const stub = await startStubUpstream(randomLoopback(), {});
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mizzen-bench-dns-'));
  try {
    await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: 'bench' } });
    const ids = Array.from({ length: nServices }, (_, i) => i);
    const t0 = performance.now();
    await pool(ids, 16, async (i) => {
      const headless = i % 10 === 9;
      await client.create(
        { version: 'v1', resource: 'services', namespace: 'bench' },
        { metadata: { name: `svc-${i}` }, spec: { ...(headless ? { clusterIP: 'None' } : {}), selector: { app: `a${i}` }, ports: [{ name: 'http', port: 80 }] } },
      );
      if (headless) {
        // Endpoint addresses are only records: nothing is ever sent to them.
        await client.create(
          { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'bench' },
          {
            metadata: { name: `svc-${i}-x`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
            addressType: 'IPv4',
            ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
            endpoints: [0, 1, 2].map((k) => ({ addresses: [`10.42.${Math.floor(i / 50)}.${(i % 50) * 5 + k + 1}`], conditions: { ready: true } })),
          },
        );
      }
    });
    const createMs = performance.now() - t0;

    const dns = await startNodeDNS({
      client,
      nodeName: 'bench',
      listen: [{ address: randomLoopback(), port: 0 }],
      upstreams: [{ address: stub.address, port: stub.port }],
      inThread: values['in-thread'],
      pods: 'disabled',
      cacheSize: values['no-cache'] ? 0 : undefined,
    });
    const deadline = Date.now() + 30_000;
    while ((await dns.stats()).services < nServices + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    const lines: string[] = [];
    for (const i of ids) {
      lines.push(`svc-${i}.bench.svc.cluster.local A`);
      if (i % 10 === 0) lines.push(`_http._tcp.svc-${i}.bench.svc.cluster.local SRV`);
      if (i % 4 === 0) lines.push(`svc-${i}.bench.svc.cluster.local.bench.svc.cluster.local A`);
    }
    for (let i = lines.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [lines[i], lines[j]] = [lines[j], lines[i]];
    }
    const file = path.join(tmp, 'queries.txt');
    writeFileSync(file, lines.join('\n') + '\n');
    const target = ['-s', dns.bound[0].address, '-p', String(dns.bound[0].port), '-d', file];

    // The API server kept busy on the main thread (writes unrelated to DNS), if asked.
    let busy = values.busy;
    let busyWrites = 0;
    const busyLoop = busy
      ? pool(Array.from({ length: 8 }, (_, k) => k), 8, async (k) => {
          for (let n = 0; busy; n++) {
            await client.create({ version: 'v1', resource: 'configmaps', namespace: 'bench' }, { metadata: { name: `busy-${k}-${n}` }, data: { k: 'v'.repeat(512) } });
            busyWrites++;
          }
        })
      : Promise.resolve();

    const loadBefore = os.loadavg();
    await dnsperf([...target, '-l', '2', '-c', '4'], false, tmp); // warm-up (JIT, cache)
    const max = await dnsperf([...target, '-l', String(seconds), '-c', '8', '-q', '200'], false, tmp);
    const tRate = performance.now();
    const writesBefore = busyWrites;
    const s0 = await dns.stats();
    const atRate = await dnsperf([...target, '-l', String(seconds), '-c', '8', '-q', '500', '-Q', String(rate)], true, tmp);
    const s1 = await dns.stats();
    // The server thread's busy share during the run at --rate: queries/s it could serve on a core of its own.
    const busyShare = (s1.activeMs - s0.activeMs) / (s1.activeMs - s0.activeMs + s1.idleMs - s0.idleMs);
    const busyWritesPerSec = ((busyWrites - writesBefore) / (performance.now() - tRate)) * 1000;
    busy = false;
    await busyLoop;
    const loadAfter = os.loadavg();
    const lat = atRate.latencies.sort((a, b) => a - b);
    const stats = await dns.stats();
    const ms = (s: number) => Math.round(s * 1e6) / 1e3;
    console.log(
      JSON.stringify({
        bench: 'dns',
        services: nServices,
        distinctNames: lines.length,
        server: values['in-thread'] ? 'main thread' : 'worker thread',
        cache: !values['no-cache'],
        apiServerBusy: values.busy ? { configMapWritesPerSec: Math.round(busyWritesPerSec) } : false,
        maxQps: Math.round(max.qps),
        serverThreadBusyAtRate: Math.round(busyShare * 1000) / 1000,
        qpsPerBusyCore: Math.round(atRate.qps / busyShare),
        maxLost: max.lost,
        atRate: { rate, qps: Math.round(atRate.qps), lost: atRate.lost, p50Ms: ms(pct(lat, 0.5)), p99Ms: ms(pct(lat, 0.99)), p999Ms: ms(pct(lat, 0.999)), maxMs: ms(lat[lat.length - 1] ?? NaN), codes: atRate.codes },
        serverStats: stats,
        setupMs: Math.round(createMs),
        loadAverage: { before: loadBefore.map((x) => Math.round(x * 100) / 100), after: loadAfter.map((x) => Math.round(x * 100) / 100), cores: os.cpus().length },
        target: '>= 20000 qps with p99 <= 2 ms at that rate (issue 11)',
      }),
    );
    await dns.close();
  } finally {
    await stub.close();
    client.close();
    await api.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
