// What a LIST of N pods costs at the client whatever the server does: the API server's LIST
// (`bench apiserver`'s listPodsMs: request sent → last byte → body decoded to a string) side by
// side with the same body from a bare HTTPS server that holds it encoded already and writes it in
// one call (lib/list-floor-server.mjs, its own process like the API server), alternating. Also,
// in this process alone, the decoding `bench apiserver` times (chunks joined, UTF-8 to a string)
// and the JSON.parse it does not time. The API server's time above the bare server's is all a
// faster server could still take off the figure (issue 15's "LIST of 10,000 pods < 150 ms").
// `npm run bench -- list-floor [--pods 10000] [--rounds 9] [--datastore etcd|sqlite]`

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, request, percentile, tlsCreds, serverNodeFlags, type BenchCluster } from './lib/cluster.ts';
import { nativeCreates, buildNativeClients } from './lib/native-clients.ts';
import { processCpuMs } from './lib/proc-cpu.ts';
import { timedGet, type Timeline } from './list-wall.ts';
import { startEtcd, type TestEtcd } from '../src/testing/etcd.ts';

function find(dir: string, name: string): string {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isFile() && e.name === name) return p;
    if (e.isDirectory()) {
      try {
        return find(p, name);
      } catch {
        // not under this one
      }
    }
  }
  throw new Error(`${name} not found under ${dir}`);
}

/** The raw body of a GET (bytes as sent). */
function getBytes(c: BenchCluster, p: string): Promise<Buffer> {
  const u = new URL(p, c.url);
  return new Promise((resolve, reject) => {
    https
      .get({ hostname: u.hostname, port: u.port, path: u.pathname, agent: c.agent, headers: { Accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${p}: ${res.statusCode}`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** The bare server on the API server's certificate, serving `body`; a BenchCluster-like handle for timedGet. */
async function startFloor(c: BenchCluster, bodyFile: string): Promise<BenchCluster> {
  const pkiDir = c.dataDir;
  const proc = spawn(process.execPath, [...serverNodeFlags(), path.join(import.meta.dirname, 'lib', 'list-floor-server.mjs'), find(pkiDir, 'server.crt'), find(pkiDir, 'server.key'), bodyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  const o = c.agent.options as { ca: Buffer; cert: Buffer; key: Buffer };
  const agent = new https.Agent({ keepAlive: true, ca: o.ca, cert: o.cert, key: o.key });
  return {
    ...c,
    proc,
    url: `https://127.0.0.1:${port}`,
    agent,
    async stop() {
      agent.destroy();
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

const med = (xs: number[]) => +percentile([...xs].sort((a, b) => a - b), 50).toFixed(1);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pods: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '9' }, datastore: { type: 'string', default: 'etcd' } } });
  const total = Number(values.pods);
  const rounds = Number(values.rounds);
  let etcd: TestEtcd | undefined;
  const extra: string[] = [];
  if (values.datastore === 'etcd') {
    etcd = await startEtcd({ name: 'listfloor' });
    extra.push('--datastore-endpoint', etcd.endpoints.join(','));
  }
  const problem = buildNativeClients();
  if (problem) throw new Error(problem);
  const c = await startCluster(extra, 'apiserver');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mizzen-list-floor-'));
  let floor: BenchCluster | undefined;
  try {
    await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    await request(c, 'POST', '/api/v1/namespaces/bench/serviceaccounts', { metadata: { name: 'default' } });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: '{NAME}', labels: { app: 'bench', tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'registry.local/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } };
    await nativeCreates(tlsCreds(c), c.dataDir, '/api/v1/namespaces/bench/pods', 32, total, 'pod', JSON.stringify(pod));
    const list = '/api/v1/namespaces/bench/pods';
    const body = await getBytes(c, list);
    const bodyFile = path.join(tmp, 'list.json');
    fs.writeFileSync(bodyFile, body);
    floor = await startFloor(c, bodyFile);
    // One LIST from each first (connections made, code warm), not counted.
    await timedGet(c, list, true, false);
    await timedGet(floor, list, true, false);
    const api: Timeline[] = [];
    const bare: Timeline[] = [];
    const etcdPid = etcd?.members[0].proc?.pid;
    const etcdCpu: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const side of r % 2 ? (['bare', 'api'] as const) : (['api', 'bare'] as const)) {
        const e0 = etcdPid ? processCpuMs(etcdPid) : 0;
        if (side === 'api') api.push(await timedGet(c, list, true, false));
        else bare.push(await timedGet(floor, list, true, false));
        if (etcdPid && side === 'api') etcdCpu.push(processCpuMs(etcdPid) - e0);
      }
    }
    // In this process alone, from 16 KB chunks as a TLS socket delivers them: the decoding that
    // bench apiserver times, and the JSON.parse it leaves out.
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 16384) chunks.push(Buffer.from(body.subarray(i, i + 16384)));
    const decode: number[] = [];
    const decodeCpu: number[] = [];
    const parse: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const c0 = cpuMs();
      const text = Buffer.concat(chunks).toString();
      decode.push(performance.now() - t0);
      decodeCpu.push(cpuMs() - c0);
      const t1 = performance.now();
      if (JSON.parse(text).items.length !== total) throw new Error('wrong number of pods');
      parse.push(performance.now() - t1);
    }
    const sum = (ts: Timeline[]) => ({
      n: ts.length,
      headMs: med(ts.map((t) => t.head)),
      lastByteMs: med(ts.map((t) => t.lastByte)),
      decodedMs: med(ts.map((t) => t.decoded)),
      minDecodedMs: +Math.min(...ts.map((t) => t.decoded)).toFixed(1),
      serverCpuMs: med(ts.map((t) => t.serverCpu)),
      clientCpuMs: med(ts.map((t) => t.clientCpu)),
      clientDecodeCpuMs: med(ts.map((t) => t.decodeCpu)),
    });
    console.log(
      JSON.stringify({
        bench: 'list-floor',
        datastore: values.datastore,
        pods: total,
        MB: +(body.length / 1e6).toFixed(1),
        rounds,
        apiserver: { ...sum(api), ...(etcdPid ? { etcdCpuMs: med(etcdCpu) } : {}) },
        bareServer: sum(bare),
        inProcess: { decodeMs: med(decode), decodeCpuMs: med(decodeCpu), jsonParseMs: med(parse) },
        loadavg: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      }),
    );
  } finally {
    await floor?.stop();
    await c.stop();
    await etcd?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
