// Commands through one long-lived `sh` (in the target network namespace), not one spawn per
// command. Why: forking the Node process costs tens of milliseconds once its heap is large (and
// more on a loaded machine): measured 50–150 ms per spawn here under load, more than the
// iptables-restore of one changed chain. The shell is small, so its fork is cheap. Commands run
// one at a time; each one's input goes through a here-document, its stdout and stderr come back
// merged (callers parse only the lines they know), ended by a marker line with the exit code.
// If the shell dies, the next command starts a new one.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ExecError, type Exec, type ExecResult } from './exec.ts';

const SAFE = /^[A-Za-z0-9_./:=,+@%-]+$/;

function quote(arg: string): string {
  return SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface ShellExec extends Exec {
  close(): void;
}

export function makeShellExec(netns?: string): ShellExec {
  let sh: ChildProcessWithoutNullStreams | undefined;
  let buf = '';
  let waiting: { marker: string; resolve: (r: { code: number; out: string }) => void; reject: (e: Error) => void } | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let seq = 0;
  const tag = randomBytes(4).toString('hex');

  const start = () => {
    const argv = netns ? ['ip', 'netns', 'exec', netns, 'sh'] : ['sh'];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    const onData = (d: string) => {
      buf += d;
      if (!waiting) return;
      const i = buf.indexOf(`${waiting.marker} `);
      if (i < 0) return;
      const nl = buf.indexOf('\n', i);
      if (nl < 0) return;
      const code = Number(buf.slice(i + waiting.marker.length + 1, nl));
      const out = buf.slice(0, i);
      buf = buf.slice(nl + 1);
      const w = waiting;
      waiting = undefined;
      w.resolve({ code, out });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: string) => (buf += d));
    child.on('close', () => {
      if (sh === child) sh = undefined;
      const w = waiting;
      waiting = undefined;
      buf = '';
      w?.reject(new Error('command shell exited'));
    });
    child.stdin.on('error', () => {});
    return child;
  };

  const run = (argv: string[], input?: string): Promise<ExecResult> => {
    const n = ++seq;
    const marker = `__mz_${tag}_${n}__`;
    const eof = `__mzin_${tag}_${n}__`;
    const script = `{ ${argv.map(quote).join(' ')} ; } <<'${eof}' 2>&1\n${input ?? ''}${input && !input.endsWith('\n') ? '\n' : ''}${eof}\necho "${marker} $?"\n`;
    return new Promise<{ code: number; out: string }>((resolve, reject) => {
      sh ??= start();
      waiting = { marker, resolve, reject };
      sh.stdin.write(script);
    }).then(({ code, out }) => {
      if (code !== 0) throw new ExecError(argv, code, out);
      return { stdout: out, stderr: '' };
    });
  };

  const exec = ((argv: string[], input?: string) => {
    const p = chain.then(() => run(argv, input));
    chain = p.catch(() => {});
    return p;
  }) as ShellExec;
  exec.close = () => {
    sh?.stdin.end();
    sh = undefined;
  };
  return exec;
}
