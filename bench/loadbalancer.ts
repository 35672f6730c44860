// `npm run bench -- loadbalancer [--seconds 3] [--rounds 3] [--connections 8] [--bulk-mb 1024]`:
// the local cloud provider's load balancer (its TCP listener, in a process of its own as it is a
// thread of its own in `mizzen up`) in front of an HTTP server on 127.0.0.1, against the same
// server directly. Measures, alternating direct / through the balancer each round:
// - latency: one keep-alive connection, one small GET at a time (p50/p99 and what the balancer adds);
// - requests/s: --connections keep-alive connections, each one GET at a time;
// - bulk: one GET of --bulk-mb MB, in GB/s.
// Targets (issue 12): ≤ 0.2 ms added at p50, ≥ 80 % of the direct requests/s, ≥ 1 GB/s bulk.
// The client is a minimal raw-socket HTTP/1.1 client, so it costs the two cores little.

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { percentile } from './lib/cluster.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

function startChild(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
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

async function throughput(ip: string, port: number, ms: number, conns: number): Promise<number> {
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
  return n / secs;
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

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { seconds: { type: 'string', default: '3' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '8' }, 'bulk-mb': { type: 'string', default: '1024' } },
  });
  const ms = Number(values.seconds) * 1000;
  const rounds = Number(values.rounds);
  const conns = Number(values.connections);
  const bulkBytes = Number(values['bulk-mb']) * 1024 * 1024;
  const before = calibrationMs();
  const lbIP = `127.0.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}`;
  const backend = await startChild([here('./lib/lb-backend.mjs')]);
  const proxy = await startChild(['--import', 'tsx', here('./lib/lb-proxy.ts'), lbIP, String(backend.port)]);
  const targets = { direct: { ip: '127.0.0.1', port: backend.port }, lb: { ip: lbIP, port: proxy.port } } as const;
  const res = { direct: { p50: [] as number[], p99: [] as number[], rps: [] as number[], gbps: [] as number[] }, lb: { p50: [] as number[], p99: [] as number[], rps: [] as number[], gbps: [] as number[] } };
  try {
    for (const t of Object.values(targets)) await latency(t.ip, t.port, 300); // warm up
    for (let r = 0; r < rounds; r++) {
      for (const which of ['direct', 'lb'] as const) {
        const t = targets[which];
        const lat = await latency(t.ip, t.port, ms);
        res[which].p50.push(percentile(lat, 50));
        res[which].p99.push(percentile(lat, 99));
        res[which].rps.push(await throughput(t.ip, t.port, ms, conns));
        res[which].gbps.push(await bulk(t.ip, t.port, bulkBytes));
      }
    }
  } finally {
    backend.child.kill();
    proxy.child.kill();
  }
  const summary = (w: 'direct' | 'lb') => ({ p50Ms: round2(median(res[w].p50)), p99Ms: round2(median(res[w].p99)), requestsPerSecond: Math.round(median(res[w].rps)), bulkGBps: round2(median(res[w].gbps)) });
  const direct = summary('direct');
  const lb = summary('lb');
  console.log(
    JSON.stringify({
      bench: 'loadbalancer',
      what: 'local provider TCP listener (own process) in front of an HTTP server on 127.0.0.1, against the server directly; medians over rounds',
      rounds,
      secondsPerPhase: ms / 1000,
      connections: conns,
      bulkMB: bulkBytes / 1024 / 1024,
      direct,
      loadBalancer: lb,
      addedP50Ms: round2(lb.p50Ms - direct.p50Ms),
      addedP99Ms: round2(lb.p99Ms - direct.p99Ms),
      requestsPerSecondRatio: round2(lb.requestsPerSecond / direct.requestsPerSecond),
      targets: { addedP50Ms: 0.2, requestsPerSecondRatio: 0.8, bulkGBps: 1 },
      perRound: res,
      calibration: calibration(before),
    }),
  );
}
