// Running the node's networking commands (iptables-restore/-save, ip, sysctl, conntrack), either
// in the caller's network namespace or, for tests and benchmarks, inside a named one through
// `ip netns exec` so that the machine's own tables are never touched.

import { spawn } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export type Exec = (argv: string[], input?: string) => Promise<ExecResult>;

export class ExecError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} failed (${code === null ? 'killed' : `exit ${code}`}): ${stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
  }
}

export function makeExec(netns?: string): Exec {
  return (argv, input) =>
    new Promise((resolve, reject) => {
      const full = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
      const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.stdin.on('error', () => {}); // the child may exit before reading all input; its exit code tells
      child.on('close', (code) => {
        const r = { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
        if (code === 0) resolve(r);
        else reject(new ExecError(full, code, r.stderr || r.stdout));
      });
      child.stdin.end(input ?? '');
    });
}
