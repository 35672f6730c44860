// Tests' real etcd: Debian's etcd-server (3.4) started on free loopback ports, one member or a
// cluster, optionally with TLS and client-certificate authentication, in a temporary directory
// removed afterwards. Members can be killed (SIGKILL) and restarted on the same ports and data.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { issueCA, issueClientCertificate, issueServingCertificate } from '../apiserver/pki.ts';
import { EtcdClient } from '../storage/etcd/client.ts';
import { poll } from './poll.ts';

export const ETCD_BINARY = process.env.MIZZEN_ETCD_BINARY ?? '/usr/bin/etcd';

/** Why etcd tests cannot run here, or undefined when they can. */
export function etcdMissing(): string | undefined {
  const r = spawnSync(ETCD_BINARY, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `etcd not found at ${ETCD_BINARY} (apt-get install etcd-server)`;
  return undefined;
}

export interface EtcdTLSFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
}

export interface EtcdMember {
  name: string;
  clientURL: string;
  peerURL: string;
  dataDir: string;
  /** The running process, undefined while killed. */
  proc?: ChildProcess;
  /** SIGKILL the member and wait until it is gone. */
  kill(): Promise<void>;
  /** Start it again (same name, ports and data). */
  start(): Promise<void>;
}

export interface TestEtcd {
  endpoints: string[];
  members: EtcdMember[];
  /** Client TLS material when started with `tls: true`. */
  tls?: EtcdTLSFiles;
  /** The member that leads now (asks every running member for its status). */
  leader(): Promise<EtcdMember>;
  stop(): Promise<void>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface StartEtcdOptions {
  members?: number;
  /** Client URLs use https with client-certificate authentication. */
  tls?: boolean;
  /** Where to listen (default 127.0.0.1). */
  host?: string;
  /** Names the temporary directory. */
  name?: string;
  /** Log etcd's output to this function (default: dropped). */
  log?: (line: string) => void;
  /** Run the process through this prefix, e.g. ['ip', 'netns', 'exec', NAME]. */
  wrap?: string[];
  /** More etcd flags for every member (the benchmark's, or --enable-pprof to profile it). */
  extraArgs?: string[];
}

export async function startEtcd(opts: StartEtcdOptions = {}): Promise<TestEtcd> {
  const n = opts.members ?? 1;
  const host = opts.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), `mizzen-etcd-${opts.name ?? 'test'}-`));
  const scheme = opts.tls ? 'https' : 'http';
  let tls: EtcdTLSFiles | undefined;
  if (opts.tls) {
    const ca = await issueCA('mizzen-test-etcd-ca');
    const server = await issueServingCertificate(ca, [host, 'localhost'], true);
    const client = await issueClientCertificate(ca, 'mizzen-apiserver', []);
    const pki = join(dir, 'pki');
    mkdirSync(pki, { recursive: true });
    const write = (name: string, pem: string) => {
      writeFileSync(join(pki, name), pem, { mode: 0o600 });
      return join(pki, name);
    };
    write('server.crt', server.certPem);
    write('server.key', server.keyPem);
    tls = {
      caFile: write('ca.crt', ca.certPem),
      certFile: write('client.crt', client.certPem),
      keyFile: write('client.key', client.keyPem),
      ca: ca.certPem,
      cert: client.certPem,
      key: client.keyPem,
    };
  }
  const ports: number[] = [];
  while (ports.length < 2 * n) {
    const p = await freePort(host === '127.0.0.1' ? host : '127.0.0.1');
    if (!ports.includes(p)) ports.push(p);
  }
  const token = `mizzen-test-${randomBytes(6).toString('hex')}`;
  const defs = Array.from({ length: n }, (_, i) => ({
    name: `m${i}`,
    clientURL: `${scheme}://${host}:${ports[2 * i]}`,
    peerURL: `http://${host}:${ports[2 * i + 1]}`,
    dataDir: join(dir, `m${i}`),
  }));
  const initialCluster = defs.map((d) => `${d.name}=${d.peerURL}`).join(',');

  const members: EtcdMember[] = defs.map((d) => {
    const args = [
      '--name', d.name,
      '--data-dir', d.dataDir,
      '--listen-client-urls', d.clientURL,
      '--advertise-client-urls', d.clientURL,
      '--listen-peer-urls', d.peerURL,
      '--initial-advertise-peer-urls', d.peerURL,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', token,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-level', 'warn',
      // Periodic progress notifications every few seconds instead of every 10 minutes.
      '--experimental-watch-progress-notify-interval', '5s',
      ...(opts.extraArgs ?? []),
    ];
    if (tls) {
      args.push('--cert-file', join(dir, 'pki', 'server.crt'), '--key-file', join(dir, 'pki', 'server.key'), '--client-cert-auth', '--trusted-ca-file', tls.caFile);
    }
    const m: EtcdMember = {
      ...d,
      async kill() {
        const p = m.proc;
        if (!p) return;
        m.proc = undefined;
        if (p.exitCode !== null || p.signalCode !== null) return;
        const gone = new Promise<void>((r) => p.once('exit', () => r()));
        p.kill('SIGKILL');
        await gone;
      },
      async start() {
        if (m.proc) return;
        const cmd = opts.wrap ? [...opts.wrap, ETCD_BINARY, ...args] : [ETCD_BINARY, ...args];
        const p = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
        const log = opts.log;
        const forward = (b: Buffer) => {
          if (log) for (const line of b.toString().split('\n')) if (line.trim()) log(`${d.name}: ${line}`);
        };
        p.stdout!.on('data', forward);
        p.stderr!.on('data', forward);
        p.once('exit', () => {
          if (m.proc === p) m.proc = undefined;
        });
        m.proc = p;
      },
    };
    return m;
  });

  await Promise.all(members.map((m) => m.start()));
  const endpoints = members.map((m) => m.clientURL);
  const tlsOpts = tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : undefined;

  const probe = async (m: EtcdMember) => {
    const c = new EtcdClient({ endpoints: [m.clientURL], tls: tlsOpts });
    try {
      return await c.status(1000);
    } finally {
      c.close();
    }
  };

  const cluster: TestEtcd = {
    endpoints,
    members,
    tls,
    async leader() {
      return poll(
        async () => {
          for (const m of members) {
            if (!m.proc) continue;
            try {
              const st = await probe(m);
              if (st.leader !== '0' && st.leader === st.header.memberId) return m;
            } catch {
              // not up, or no quorum yet
            }
          }
          return undefined;
        },
        { what: 'an etcd leader', timeoutMs: 30_000, intervalMs: 100 },
      ) as Promise<EtcdMember>;
    },
    async stop() {
      await Promise.all(members.map((m) => m.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await cluster.leader();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
