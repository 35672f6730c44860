// Starts `mizzen up` as a child process on a temporary data dir, and an HTTPS client for it.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { Pki } from '../../src/apiserver/pki.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

export interface BenchCluster {
  proc: ChildProcess;
  dataDir: string;
  url: string;
  readyMs: number;
  agent: https.Agent;
  stop(): Promise<void>;
}

const repo = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(repo, 'bin/mizzen.js');

/**
 * The node flags (and environment) bin/mizzen.js's first lines start node with when it is
 * executed: `server` for every command but `mizzen kubelet`, `kubelet` for that one.
 */
export function binNodeCommand(mizzen = bin, command: 'server' | 'kubelet' = 'server'): { flags: string[]; env: Record<string, string> } {
  const text = readFileSync(mizzen, 'utf8');
  const head = text.split('\n').filter((l) => l.startsWith('":" //;'));
  // Checkouts from before the shell lines: one `#!/usr/bin/env -S node FLAGS` line for every command.
  if (!head.length) return { flags: command === 'server' ? text.split('\n', 1)[0]!.split(' ').filter((a) => a.startsWith('--')) : [], env: {} };
  const execs = head.filter((l) => /\bexec node /.test(l));
  const line = command === 'kubelet' ? execs[0] : execs[execs.length - 1];
  if (!line || (command === 'kubelet' && execs.length < 2)) return { flags: [], env: {} };
  const flags = line.slice(line.indexOf('exec node ') + 10, line.indexOf('"$0"')).split(' ').filter((a) => a.startsWith('--'));
  const env: Record<string, string> = {};
  if (command === 'kubelet') for (const m of head.join('\n').matchAll(/(\w+)="\$\{\1-([^}]*)\}"/g)) env[m[1]!] = m[2]!;
  return { flags, env };
}

/**
 * Node flags for the server: those bin/mizzen.js executes it with, as `npx mizzen` gets them, plus
 * BENCH_SERVER_NODE_ARGS if set (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it).
 */
export function serverNodeFlags(mizzen = bin): string[] {
  const extra = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return [...binNodeCommand(mizzen).flags, ...extra];
}

/**
 * `mizzen up` (or `mizzen apiserver`, the API server alone) on a fresh data dir and a free port;
 * from another checkout when `root` (or BENCH_MIZZEN_ROOT) is given (an A/B against an older
 * commit's worktree).
 */
export async function startCluster(extraArgs: string[] = [], command: 'up' | 'apiserver' = 'up', env: Record<string, string> = {}, root?: string): Promise<BenchCluster> {
  // BENCH_MIZZEN_ROOT: every benchmark's server from that checkout (this one's benchmark code, another build).
  root ??= process.env.BENCH_MIZZEN_ROOT;
  const mizzen = root ? path.join(path.resolve(root), 'bin/mizzen.js') : bin;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mizzen-bench-'));
  const port = await freePort();
  const t0 = performance.now();
  // No local node unless a benchmark asks for one (`--no-kubelet` left out of its own args).
  const noNode = command === 'up' && !extraArgs.includes('--with-kubelet') ? ['--no-kubelet'] : [];
  const args = [command, '--data-dir', dataDir, '--port', String(port), ...extraArgs.filter((a) => a !== '--with-kubelet'), ...noNode];
  const proc = spawn(process.execPath, [...serverNodeFlags(mizzen), mizzen, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  // BENCH_SERVER_LOG=FILE keeps everything the server prints (its components' logs), for diagnosis.
  const logFile = env.BENCH_SERVER_LOG ?? process.env.BENCH_SERVER_LOG;
  if (logFile) {
    const sink = createWriteStream(logFile);
    proc.stdout!.pipe(sink);
    proc.stderr!.pipe(sink);
  }
  const readyMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 300s:\n${out}`)), 300_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('is ready')) {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`mizzen up exited with ${code}:\n${out}`)));
  });
  const kc = YAML.parse(readFileSync(path.join(dataDir, 'kubeconfig'), 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64');
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 256,
    ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
    cert: b64(kc.users[0].user['client-certificate-data']),
    key: b64(kc.users[0].user['client-key-data']),
  });
  return {
    proc,
    dataDir,
    url: kc.clusters[0].cluster.server,
    readyMs,
    agent,
    async stop() {
      agent.destroy();
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Credentials of a test PKI's admin (the benchmarks' bare servers) for a server on this port. */
export function adminCreds(pki: Pki, port: number): import('./fast-client.ts').TlsCreds {
  return { host: '127.0.0.1', port, ca: Buffer.from(pki.caCertPem), cert: Buffer.from(pki.adminCertPem), key: Buffer.from(pki.adminKeyPem) };
}

/** Host, port and credentials for bench/lib/fast-client.ts. */
export function tlsCreds(c: BenchCluster): import('./fast-client.ts').TlsCreds {
  const u = new URL(c.url);
  const o = c.agent.options as { ca: Buffer; cert: Buffer; key: Buffer };
  return { host: u.hostname, port: Number(u.port), ca: o.ca, cert: o.cert, key: o.key };
}

export function request(c: BenchCluster, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const u = new URL(p, c.url);
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = https.request(
      { method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: c.agent, headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...(data ? { 'Content-Length': Buffer.byteLength(data) } : {}), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

export function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
