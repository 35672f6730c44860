// Small helpers shared by the e2e suites: polling with a deadline instead of fixed sleeps, and a
// long-running child process whose output the test can wait on.

import { spawn, type ChildProcess } from 'node:child_process';
import { poll } from '../src/testing/poll.ts';

/** Retry `check` until it returns a truthy value or the deadline passes (see src/testing/poll.ts). */
export function eventually<T>(check: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  return poll(check, opts) as Promise<NonNullable<T>>;
}

export interface Background {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the output satisfies `pred` (or rejects at the deadline, with the output). */
  waitFor(pred: (out: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Kill this child (only this one) and wait for it to go. */
  stop(): Promise<void>;
}

/** Start a program that runs until stopped (e.g. `kubectl get -w`). */
export function background(cmd: string, args: string[], env: NodeJS.ProcessEnv): Background {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitFor(pred, timeoutMs = 10_000) {
      try {
        return await eventually(() => (pred(out) ? out : ''), { timeoutMs, what: `${cmd} output` });
      } catch {
        throw new Error(`${cmd} ${args.join(' ')}: expected output did not appear; stdout:\n${out}\nstderr:\n${err}`);
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
