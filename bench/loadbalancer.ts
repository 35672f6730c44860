// `npm run bench -- loadbalancer [--seconds 3] [--rounds 3] [--connections 8] [--bulk-mb 1024] [--floor]`:
// the local cloud provider's load balancer (its TCP listener, in a process of its own as it is a
// thread of its own in `mizzen up`) in front of an HTTP server on 127.0.0.1, against the same
// server directly. Measures, alternating direct / through the balancer each round:
// - latency: one keep-alive connection, one small GET at a time (p50/p99 and what the balancer adds);
// - requests/s: --connections keep-alive connections, each one GET at a time;
// - bulk: one GET of --bulk-mb MB, in GB/s.
// Targets (issue 12): ≤ 0.2 ms added at p50, ≥ 80 % of the direct requests/s, ≥ 1 GB/s bulk.
// The client is a minimal raw-socket HTTP/1.1 client, so it costs the two cores little.
//
// Each phase also reads the CPU time the client, the server and the proxy spent (µs per request,
// ms per GB). On a loaded machine wall-clock ratios swing from round to round, while CPU per unit of
// work within one phase is steadier: cpuBoundRatio = (client + server) / (client + server + proxy)
// is the requests/s (or GB/s) ratio to expect when the two cores are the limit.
// --floor adds, side by side, the least a user-space proxy costs here: a bare Node pipe proxy
// (lb-floor-proxy.mjs) and a C epoll proxy (lb-floor-proxy.c, built with cc) copying through a
// buffer ("c-copy", what Node does underneath) and moving bytes with splice() ("c-splice").

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { percentile } from './lib/cluster.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

function startChild(args: string[], command = process.execPath): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (d: string) => resolve({ child, port: Number(d.trim()) }));
    child.once('exit', (c) => reject(new Error(`child exited ${c}`)));
  });
}

/** A keep-alive connection that sends GET path and resolves when the whole answer is in. */
class RawClient {
  private sock!: net.Socket;
  private want = 0;
  private got = 0;
  private headerDone = false;
  private head = '';
  private done?: () => void;

  async connect(ip: string, port: number): Promise<void> {
    this.sock = net.connect({ host: ip, port, noDelay: true });
    await new Promise<void>((r, j) => this.sock.once('connect', r).once('error', j));
    this.sock.on('data', (d: Buffer) => this.onData(d));
  }

  private onData(d: Buffer): void {
    if (!this.headerDone) {
      this.head += d.toString('latin1');
      const i = this.head.indexOf('\r\n\r\n');
      if (i < 0) return;
      const m = /content-length: (\d+)/i.exec(this.head.slice(0, i));
      this.want = Number(m?.[1] ?? 0);
      this.got = this.head.length - (i + 4);
      this.headerDone = true;
    } else this.got += d.length;
    if (this.got >= this.want) {
      const f = this.done;
      this.done = undefined;
      f?.();
    }
  }

  get(path: string): Promise<void> {
    this.headerDone = false;
    this.head = '';
    return new Promise((r) => {
      this.done = r;
      this.sock.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\n\r\n`);
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/** The C floor proxy, built once per source version into the temp dir; undefined (and why) without cc. */
function buildFloorProxy(): string | undefined {
  const source = here('./lib/lb-floor-proxy.c');
  const binary = path.join(os.tmpdir(), 'mizzen-bench', `lb-floor-proxy-${createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12)}`);
  try {
    if (!existsSync(binary)) {
      mkdirSync(path.dirname(binary), { recursive: true });
      execFileSync('cc', ['-O2', '-o', binary, source], { stdio: 'pipe' });
    }
    return binary;
  } catch (e) {
    console.error(`cannot build ${source} (needs cc): ${(e as Error).message.split('\n')[0]}; no C floor`);
    return undefined;
  }
}

/** CPU time (user + system) a process has used, in ms: /proc/PID/stat, in clock ticks of 10 ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU ms spent by this process (the client) and by `pids` while `work` runs. */
async function withCpu<T>(pids: number[], work: () => Promise<T>): Promise<{ result: T; cpuMs: number[] }> {
  const before = pids.map(cpuMs);
  const self = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(self);
  return { result, cpuMs: [(used.user + used.system) / 1000, ...pids.map((p, i) => cpuMs(p) - before[i]!)] };
}

async function latency(ip: string, port: number, ms: number): Promise<number[]> {
  const c = new RawClient();
  await c.connect(ip, port);
  const out: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = process.hrtime.bigint();
    await c.get('/');
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  c.close();
  return out.sort((a, b) => a - b);
}

async function throughput(ip: string, port: number, ms: number, conns: number): Promise<{ perSecond: number; requests: number }> {
  const clients = await Promise.all(
    Array.from({ length: conns }, async () => {
      const c = new RawClient();
      await c.connect(ip, port);
      return c;
    }),
  );
  let n = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        await c.get('/');
        n++;
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  for (const c of clients) c.close();
  return { perSecond: n / secs, requests: n };
}

async function bulk(ip: string, port: number, bytes: number): Promise<number> {
  const c = new RawClient();
  await c.connect(ip, port);
  const t = performance.now();
  await c.get(`/bulk/${bytes}`);
  const secs = (performance.now() - t) / 1000;
  c.close();
  return bytes / secs / 1e9;
}

const round2 = (x: number) => Math.round(x * 1000) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Cpu = { client: number; server: number; proxy: number };
interface Samples {
  p50: number[];
  p99: number[];
  rps: number[];
  gbps: number[];
  /** µs per request in the requests/s phase */
  cpuPerRequest: Cpu[];
  /** ms per GB in the bulk phase */
  cpuPerGB: Cpu[];
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '8' },
      'bulk-mb': { type: 'string', default: '1024' },
      floor: { type: 'boolean', default: false },
    },
  });
  const ms = Number(values.seconds) * 1000;
  const rounds = Number(values.rounds);
  const conns = Number(values.connections);
  const bulkBytes = Number(values['bulk-mb']) * 1024 * 1024;
  const before = calibrationMs();
  const lbIP = `127.0.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}`;
  const backend = await startChild([here('./lib/lb-backend.mjs')]);
  const children: ChildProcess[] = [backend.child];
  const targets: Record<string, { ip: string; port: number; pid?: number }> = { direct: { ip: '127.0.0.1', port: backend.port } };
  const res: Record<string, Samples> = {};
  try {
    const add = async (name: string, started: Promise<{ child: ChildProcess; port: number }>) => {
      const p = await started;
      children.push(p.child);
      targets[name] = { ip: lbIP, port: p.port, pid: p.child.pid };
    };
    await add('lb', startChild(['--import', 'tsx', here('./lib/lb-proxy.ts'), lbIP, String(backend.port)]));
    if (values.floor) {
      await add('nodePipe', startChild([here('./lib/lb-floor-proxy.mjs'), lbIP, String(backend.port)]));
      const c = buildFloorProxy();
      if (c) {
        await add('cCopy', startChild([lbIP, String(backend.port), 'copy'], c));
        await add('cSplice', startChild([lbIP, String(backend.port), 'splice'], c));
      }
    }
    for (const name of Object.keys(targets)) res[name] = { p50: [], p99: [], rps: [], gbps: [], cpuPerRequest: [], cpuPerGB: [] };
    for (const t of Object.values(targets)) await latency(t.ip, t.port, 300); // warm up
    for (let r = 0; r < rounds; r++) {
      for (const [name, t] of Object.entries(targets)) {
        const pids = [backend.child.pid!, ...(t.pid ? [t.pid] : [])];
        const per = (cpu: number[], units: number, scale: number): Cpu => ({ client: (cpu[0]! * scale) / units, server: (cpu[1]! * scale) / units, proxy: ((cpu[2] ?? 0) * scale) / units });
        const lat = await latency(t.ip, t.port, ms);
        res[name]!.p50.push(percentile(lat, 50));
        res[name]!.p99.push(percentile(lat, 99));
        const tp = await withCpu(pids, () => throughput(t.ip, t.port, ms, conns));
        res[name]!.rps.push(tp.result.perSecond);
        res[name]!.cpuPerRequest.push(per(tp.cpuMs, tp.result.requests, 1000));
        const bk = await withCpu(pids, () => bulk(t.ip, t.port, bulkBytes));
        res[name]!.gbps.push(bk.result);
        res[name]!.cpuPerGB.push(per(bk.cpuMs, bulkBytes / 1e9, 1));
      }
    }
  } finally {
    for (const c of children) c.kill();
  }
  const medianCpu = (xs: Cpu[]): Cpu => ({ client: round2(median(xs.map((x) => x.client))), server: round2(median(xs.map((x) => x.server))), proxy: round2(median(xs.map((x) => x.proxy))) });
  /** Median over rounds of (client + server) / (client + server + proxy), each round's own figures. */
  const cpuBound = (xs: Cpu[]) => round2(median(xs.map((x) => (x.client + x.server) / (x.client + x.server + x.proxy))));
  const summary = (w: string) => {
    const s = res[w]!;
    return {
      p50Ms: round2(median(s.p50)),
      p99Ms: round2(median(s.p99)),
      requestsPerSecond: Math.round(median(s.rps)),
      bulkGBps: round2(median(s.gbps)),
      cpuUsPerRequest: medianCpu(s.cpuPerRequest),
      cpuMsPerGB: medianCpu(s.cpuPerGB),
    };
  };
  const direct = summary('direct');
  const lb = summary('lb');
  /** Each proxy against direct: wall-clock ratios (median of each round's own ratio) and CPU-bound ones. */
  const compare = (w: string) => ({
    addedP50Ms: round2(median(res[w]!.p50.map((x, i) => x - res.direct!.p50[i]!))),
    requestsPerSecondRatio: round2(median(res[w]!.rps.map((x, i) => x / res.direct!.rps[i]!))),
    bulkRatio: round2(median(res[w]!.gbps.map((x, i) => x / res.direct!.gbps[i]!))),
    cpuBoundRequestsRatio: cpuBound(res[w]!.cpuPerRequest),
    cpuBoundBulkRatio: cpuBound(res[w]!.cpuPerGB),
  });
  const floors = Object.keys(targets).filter((w) => w !== 'direct' && w !== 'lb');
  console.log(
    JSON.stringify({
      bench: 'loadbalancer',
      what: 'local provider TCP listener (own process) in front of an HTTP server on 127.0.0.1, against the server directly; medians over rounds',
      rounds,
      secondsPerPhase: ms / 1000,
      connections: conns,
      bulkMB: bulkBytes / 1024 / 1024,
      loadAverage: os.loadavg().map((x) => round2(x)),
      direct,
      loadBalancer: lb,
      addedP50Ms: round2(lb.p50Ms - direct.p50Ms),
      addedP99Ms: round2(lb.p99Ms - direct.p99Ms),
      requestsPerSecondRatio: round2(lb.requestsPerSecond / direct.requestsPerSecond),
      vsDirect: Object.fromEntries(['lb', ...floors].map((w) => [w, compare(w)])),
      floors: Object.fromEntries(floors.map((w) => [w, summary(w)])),
      targets: { addedP50Ms: 0.2, requestsPerSecondRatio: 0.8, bulkGBps: 1 },
      perRound: res,
      calibration: calibration(before),
    }),
  );
}
