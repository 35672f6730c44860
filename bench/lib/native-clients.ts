// The API server benchmark's clients as native programs (OpenSSL + epoll), built on first use with
// the system C compiler: the watchers (watch-reader.c) and the load generator (create-client.c).
// They stand in for clients on other machines, but share this one's two cores with the server:
// Node's TLS stream costs about 23 µs per watch event read and more per request sent, CPU taken
// from the server during the very work being timed; these take a few µs. The Node clients
// (watch-worker.mjs, fast-client.ts) remain for comparison.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { TlsCreds } from './fast-client.ts';

const programs = ['watch-reader', 'create-client'] as const;
const source = (name: string) => path.join(import.meta.dirname, `${name}.c`);
/**
 * Built into the temp dir under a name that carries a hash of the source: checkouts with different
 * versions of a program (other branches, other worktrees) never run each other's build.
 */
const binary = (name: string) => path.join(os.tmpdir(), 'mizzen-bench', `${name}-${createHash('sha256').update(readFileSync(source(name))).digest('hex').slice(0, 12)}`);

/** Build the programs if needed; returns why they cannot be built (no compiler or OpenSSL headers), or undefined. */
export function buildNativeClients(): string | undefined {
  for (const name of programs) {
    try {
      if (existsSync(binary(name))) continue;
      mkdirSync(path.dirname(binary(name)), { recursive: true });
      execFileSync('cc', ['-O2', '-o', binary(name), source(name), '-lssl', '-lcrypto', '-lpthread'], { stdio: 'pipe' });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      return `cannot build ${source(name)} (needs cc and libssl-dev): ${(err.stderr?.toString() || err.message).split('\n')[0]}`;
    }
  }
  return undefined;
}

/** native: the C programs here; node: Node's (fast-client.ts, watch-worker.mjs). */
export type BenchClient = 'native' | 'node';

/** The clients to use when `asked`: native falls back to node (with a message) if they cannot be built. */
export function pickClient(asked: string | undefined): BenchClient {
  if (asked !== 'native' && asked !== 'node') throw new Error(`--client must be native or node, not ${asked}`);
  if (asked === 'node') return 'node';
  const problem = buildNativeClients();
  if (!problem) return 'native';
  console.error(`${problem}; measuring with the Node clients instead`);
  return 'node';
}

/** Certificate files for the native programs, written to `dir`. */
function credFiles(creds: TlsCreds, dir: string): { ca: string; cert: string; key: string } {
  const files = { ca: path.join(dir, 'native-client-ca.pem'), cert: path.join(dir, 'native-client-cert.pem'), key: path.join(dir, 'native-client-key.pem') };
  writeFileSync(files.ca, creds.ca, { mode: 0o600 });
  writeFileSync(files.cert, creds.cert, { mode: 0o600 });
  writeFileSync(files.key, creds.key, { mode: 0o600 });
  return files;
}

/**
 * POST `total` bodies to `createPath` from `conns` keep-alive connections, one request at a time
 * each; body i is `template` with {NAME} replaced by `${prefix}-${i}` (and {MOD} by i % `mod`).
 * Returns requests per second.
 */
export async function nativeCreates(creds: TlsCreds, dir: string, createPath: string, conns: number, total: number, prefix: string, template: string, mod = 1): Promise<number> {
  const f = credFiles(creds, dir);
  // With a bearer token the connections present no client certificate (it would win over the token).
  const auth = creds.token ? ['-', '-'] : [f.cert, f.key];
  const args = [creds.host, String(creds.port), f.ca, ...auth, createPath, String(conns), String(total), prefix, template, ...(creds.token ? [creds.token] : [])];
  const proc = spawn(binary('create-client'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CREATE_CLIENT_MOD: String(mod) } });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('close', resolve));
  if (code !== 0) throw new Error(`create-client exited with ${code}: ${err}`);
  const [secs, done, failures] = out.split('\n')[0].split(' ').map(Number);
  if (failures) throw new Error(`${failures} creates failed, first: ${out.split('\n')[1]}`);
  return done / secs;
}

export class NativeWatchers {
  private out = '';
  private constructor(private readonly proc: ChildProcess) {
    proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString('latin1')));
  }

  /**
   * Open `count` watches on `watchPath` over `threads` threads; resolves once every watch has its
   * response headers. `batch`: read them every 20 ms instead of when data arrives.
   */
  static async open(creds: TlsCreds, dir: string, watchPath: string, count: number, threads: number, prefix: string, batch = false): Promise<NativeWatchers> {
    const f = credFiles(creds, dir);
    const proc = spawn(binary('watch-reader'), [creds.host, String(creds.port), f.ca, f.cert, f.key, watchPath, String(count), String(threads), prefix, ...(batch ? ['batch'] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    const w = new NativeWatchers(proc);
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const check = () => (w.out.includes('ready\n') ? (proc.stdout!.off('data', check), resolve()) : undefined);
      proc.stdout!.on('data', check);
      proc.once('exit', (code) => reject(new Error(`watch-reader exited with ${code}: ${err}`)));
    });
    return w;
  }

  /** Stop reading and return [pod name, arrival ms on the monotonic clock] for every event seen. */
  async report(): Promise<Array<[string, number]>> {
    this.out = '';
    const done = new Promise<void>((resolve) => this.proc.once('close', () => resolve()));
    this.proc.stdin!.end('report\n');
    await done;
    const seen: Array<[string, number]> = [];
    for (const line of this.out.split('\n')) {
      const [name, at] = line.split(' ');
      if (at !== undefined) seen.push([name, Number(at)]);
    }
    return seen;
  }
}
