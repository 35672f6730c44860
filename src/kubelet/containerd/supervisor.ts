// Runs containerd as a child process and keeps it running.
//
// - start(): spawns `containerd --config FILE` with its output appended to its log file, and
//   resolves once the CRI answers Version and reports RuntimeReady; rejects with the end of the
//   log when containerd exits first or does not get ready in time.
// - When containerd dies unexpectedly, it is started again after a backoff (0.5 s doubling to
//   30 s, back to 0.5 s after a minute of running); the kubelet keeps going meanwhile and its CRI
//   client reconnects by itself.
// - stop(): SIGTERM, then SIGKILL after a grace period. Containers keep running: each has its
//   own containerd-shim in its own process group, which outlives containerd, and a new containerd
//   finds them again (that is how a restarted kubelet adopts running pods).
//
// containerd runs in its own process group, so a Ctrl-C in the terminal reaches Mizzen only, which
// then stops containerd in order. A containerd left behind by a Mizzen that was killed (its pid
// file names it, and it runs our config file) is stopped before a new one starts: two containerds
// cannot share a root directory.

import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GrpcStatus, isCriError } from '../cri/errors.ts';
import { connectCri } from '../cri/grpc-client.ts';
import type { CriClient } from '../cri/services.ts';
import type { VersionResponse } from '../cri/types.ts';

export interface ContainerdSupervisorOptions {
  configFile: string;
  socketPath: string;
  logFile: string;
  pidFile: string;
  /**
   * Written at start: which process supervises this containerd, and that process's parent (pid
   * and start time of each), so that a test harness can tell a node whose test was killed from
   * one whose kubelet is just being restarted (src/kubelet/testing/abandoned-nodes.ts).
   */
  ownerFile?: string;
  /** default 'containerd' from PATH */
  binary?: string;
  /** How long start() waits for the CRI to answer (default 30 s). */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace period on stop (default 10 s). */
  stopTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /** Rotate the log to <logFile>.1 at start when it is larger than this (default 50 MiB). */
  maxLogBytes?: number;
  log?: (msg: string) => void;
}

export interface ContainerdSupervisorEvents {
  /** containerd answers the CRI (after start and after every restart). */
  ready: [version: VersionResponse];
  /** containerd exited; `expected` when stop() asked for it. */
  exit: [info: { code: number | null; signal: NodeJS.Signals | null; expected: boolean }];
  /** A restart is scheduled after `delayMs`. */
  restarting: [info: { delayMs: number; attempt: number }];
}

export class ContainerdStartError extends Error {}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class ContainerdSupervisor extends EventEmitter<ContainerdSupervisorEvents> {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private startedAt = 0;
  private restartCount = 0;
  private readonly opts: Required<Omit<ContainerdSupervisorOptions, 'backoff' | 'log' | 'ownerFile'>> & { log: (m: string) => void; ownerFile?: string };
  private readonly backoff: { initialMs: number; maxMs: number; resetAfterMs: number };

  constructor(options: ContainerdSupervisorOptions) {
    super();
    this.opts = {
      ...options,
      binary: options.binary ?? 'containerd',
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      maxLogBytes: options.maxLogBytes ?? 50 * 1024 * 1024,
      log: options.log ?? (() => {}),
    };
    const b = options.backoff ?? {};
    this.backoff = { initialMs: b.initialMs ?? 500, maxMs: b.maxMs ?? 30_000, resetAfterMs: b.resetAfterMs ?? 60_000 };
    this.backoffMs = this.backoff.initialMs;
  }

  /** The CRI endpoint, 'unix:///…/containerd.sock'. */
  get endpoint(): string {
    return `unix://${this.opts.socketPath}`;
  }

  /** containerd's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** How many times containerd was restarted after dying. */
  get restarts(): number {
    return this.restartCount;
  }

  async start(): Promise<VersionResponse> {
    this.stopping = false;
    await mkdir(dirname(this.opts.socketPath), { recursive: true, mode: 0o700 });
    await mkdir(dirname(this.opts.logFile), { recursive: true });
    await this.stopLeftover();
    if (this.opts.ownerFile) writeFileSync(this.opts.ownerFile, `${JSON.stringify(supervisorOwner())}\n`);
    return this.launch();
  }

  private async launch(): Promise<VersionResponse> {
    this.rotateLog();
    const logFd = openSync(this.opts.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.opts.binary, ['--config', this.opts.configFile], {
        stdio: ['ignore', logFd, logFd],
        detached: true,
        env: { ...process.env, PATH: process.env.PATH ? `${process.env.PATH}:${SYSTEM_PATH}` : SYSTEM_PATH },
      });
    } finally {
      closeSync(logFd);
    }
    this.child = child;
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', () => {}); // reported through spawnError
    if (child.pid) writeFileSync(this.opts.pidFile, `${child.pid}\n`);

    const client = connectCri(this.endpoint, { defaultTimeoutMs: 2000 });
    try {
      const version = await Promise.race([
        this.waitReady(client, child),
        spawnError.then((e) => {
          throw new ContainerdStartError(`cannot run ${this.opts.binary}: ${e.message}`);
        }),
        exited.then(() => {
          throw new ContainerdStartError(`containerd exited during start (${describeExit(child)}); last lines of ${this.opts.logFile}:\n${this.logTail()}`);
        }),
      ]);
      this.startedAt = Date.now();
      this.emit('ready', version);
      return version;
    } catch (e) {
      if (child.exitCode === null && child.signalCode === null) {
        this.killGroupless(child, 'SIGKILL');
      }
      throw e;
    } finally {
      client.close();
    }
  }

  private async waitReady(client: CriClient, child: ChildProcess): Promise<VersionResponse> {
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      try {
        const version = await client.version('v1', { timeoutMs: 1000 });
        const st = await client.status(false, { timeoutMs: 1000 });
        const runtimeReady = st.status?.conditions.find((c) => c.type === 'RuntimeReady');
        if (runtimeReady?.status) return version;
        last = `RuntimeReady is false: ${runtimeReady?.reason ?? ''} ${runtimeReady?.message ?? ''}`.trim();
      } catch (e) {
        last = (e as Error).message;
        // containerd answers, but without the CRI: its plugin failed to load, which does not heal.
        if (isCriError(e) && e.code === GrpcStatus.UNIMPLEMENTED) {
          const why = this.logLines().filter((l) => l.includes('io.containerd.grpc.v1.cri') && /level=(warning|error)/.test(l));
          throw new ContainerdStartError(`containerd runs without its CRI plugin: ${why.pop() ?? last}`);
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // (When containerd exited, start() has already rejected with its log; this is not seen.)
    if (child.exitCode !== null || child.signalCode !== null) throw new ContainerdStartError('containerd exited');
    throw new ContainerdStartError(`containerd did not answer the CRI within ${this.opts.readyTimeoutMs} ms (${last}); see ${this.opts.logFile}`);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    const expected = this.stopping;
    this.emit('exit', { code, signal, expected });
    if (expected || this.startedAt === 0) return; // stop(), or start() reports the failure itself
    this.opts.log(`containerd exited unexpectedly (${describeExit(child)}); see ${this.opts.logFile}`);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopping) return;
    if (Date.now() - this.startedAt > this.backoff.resetAfterMs) this.backoffMs = this.backoff.initialMs;
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.backoff.maxMs);
    const attempt = ++this.restartCount;
    this.emit('restarting', { delayMs, attempt });
    this.opts.log(`restarting containerd in ${(delayMs / 1000).toFixed(1)}s`);
    this.startedAt = 0;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.launch().then(
        () => this.opts.log('containerd is running again'),
        (e: Error) => {
          this.opts.log(`containerd restart failed: ${e.message.split('\n')[0]}`);
          this.startedAt = Date.now() - this.backoff.resetAfterMs + 1; // keep the grown backoff
          this.scheduleRestart();
        },
      );
    }, delayMs);
  }

  /** Stops containerd (its containers keep running). Safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      this.killGroupless(child, 'SIGTERM');
      const timer = setTimeout(() => this.killGroupless(child, 'SIGKILL'), this.opts.stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    }
    try {
      unlinkSync(this.opts.pidFile);
    } catch {
      /* already gone */
    }
  }

  /** Signals containerd only, never its group: the shims must live on. */
  private killGroupless(child: ChildProcess, signal: NodeJS.Signals): void {
    try {
      child.kill(signal);
    } catch {
      /* already exited */
    }
  }

  /** A containerd from an earlier run of this data dir (Mizzen was killed) holds the root: stop it. */
  private async stopLeftover(): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(this.opts.pidFile, 'utf8').trim());
    } catch {
      return;
    }
    if (!(pid > 1) || !isOurContainerd(pid, this.opts.configFile)) return;
    this.opts.log(`stopping containerd ${pid} left from an earlier run`);
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + this.opts.stopTimeoutMs;
    while (Date.now() < deadline && processExists(pid)) await new Promise((r) => setTimeout(r, 50));
    if (processExists(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      while (processExists(pid)) await new Promise((r) => setTimeout(r, 20));
    }
  }

  private rotateLog(): void {
    try {
      if (statSync(this.opts.logFile).size > this.opts.maxLogBytes) renameSync(this.opts.logFile, `${this.opts.logFile}.1`);
    } catch {
      /* no log yet */
    }
  }

  /** The last lines of containerd's log, for error messages. */
  logTail(lines = 15): string {
    return this.logLines().slice(-lines).join('\n') || '(no log)';
  }

  private logLines(): string[] {
    try {
      return readFileSync(this.opts.logFile, 'utf8').trimEnd().split('\n').slice(-500);
    } catch {
      return [];
    }
  }
}

function describeExit(child: ChildProcess): string {
  return child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`;
}

/** /proc/PID/stat's start time (clock ticks since boot), or undefined when the process is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export interface SupervisorOwner {
  pid: number;
  start?: string;
  ppid: number;
  pstart?: string;
}

function supervisorOwner(): SupervisorOwner {
  return { pid: process.pid, start: processStartTime(process.pid), ppid: process.ppid, pstart: processStartTime(process.ppid) };
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still "exists" until reaped; count it as gone.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function isOurContainerd(pid: number, configFile: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return /containerd$/.test(args[0] ?? '') && args.includes(configFile);
  } catch {
    return false;
  }
}
