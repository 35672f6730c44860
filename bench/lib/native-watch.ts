// The watch benchmark's readers as one native process (bench/lib/watch-reader.c: OpenSSL + epoll),
// built on first use with the system C compiler. It reads a watch event in a few µs where Node's
// TLS stream takes about 23 µs; on a 2-core machine the 100 readers' CPU otherwise competes with
// the server during the very fan-out being timed (see bench/lib/watch-worker.mjs for the Node ones).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TlsCreds } from './fast-client.ts';

const source = path.join(import.meta.dirname, 'watch-reader.c');
const binary = path.join(os.tmpdir(), 'mizzen-bench', 'watch-reader');

/** Build the reader if needed; returns why it cannot be built (no compiler or OpenSSL headers), or undefined. */
export function buildNativeReader(): string | undefined {
  try {
    if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return undefined;
    mkdirSync(path.dirname(binary), { recursive: true });
    execFileSync('cc', ['-O2', '-o', binary, source, '-lssl', '-lcrypto', '-lpthread'], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return `cannot build ${source} (needs cc and libssl-dev): ${(err.stderr?.toString() || err.message).split('\n')[0]}`;
  }
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
    const files = { ca: creds.ca, cert: creds.cert, key: creds.key };
    for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, `watch-reader-${name}.pem`), data, { mode: 0o600 });
    const f = (name: string) => path.join(dir, `watch-reader-${name}.pem`);
    const proc = spawn(binary, [creds.host, String(creds.port), f('ca'), f('cert'), f('key'), watchPath, String(count), String(threads), prefix, ...(batch ? ['batch'] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
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
