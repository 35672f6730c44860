// Runs short commands (mount(8), umount(8)) through one long-lived /bin/sh instead of spawning
// each from the kubelet. Spawning from Node forks the whole kubelet process on the event loop:
// measured at ~80 ms of the kubelet's CPU per `mount` during a burst of pod start-ups (a tmpfs
// per pod for its service account token), more than the mount itself; a fork of a small shell is
// about a millisecond. The commands and their arguments are the same as before.
//
// Protocol: one shell-quoted command line in; its combined output, then a line of RS (0x1e)
// followed by the exit code, out. One command at a time, in order.

import { spawn, type ChildProcess } from 'node:child_process';

const SCRIPT = `while IFS= read -r line; do out=$(eval "$line" 2>&1 </dev/null); rc=$?; [ -n "$out" ] && printf '%s\\n' "$out"; printf '\\036%s\\n' "$rc"; done`;

export interface CommandResult {
  code: number;
  output: string;
}

/** Single-quotes one argument for sh. */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

interface Pending {
  resolve: (r: CommandResult) => void;
  reject: (e: Error) => void;
}

export class ShellRunner {
  private proc?: ChildProcess;
  private readonly pending: Pending[] = [];
  private buf = '';
  private out: string[] = [];

  /** Commands sent and not answered yet. */
  get busy(): number {
    return this.pending.length;
  }

  /** Runs argv[0] with the other arguments; resolves with its exit code and output. */
  run(argv: string[]): Promise<CommandResult> {
    if (argv.some((a) => a.includes('\n') || a.includes('\0'))) return Promise.reject(new Error('an argument holds a newline or NUL'));
    const proc = this.shell();
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      // Held while an answer is due.
      proc.ref();
      (proc.stdout as any).ref?.();
      proc.stdin!.write(`${argv.map(shellQuote).join(' ')}\n`);
    });
  }

  /** Ends the shell (it also ends by itself when the kubelet exits: its input closes). */
  close(): void {
    this.proc?.stdin?.end();
    this.proc = undefined;
  }

  private shell(): ChildProcess {
    if (this.proc) return this.proc;
    const proc = spawn('/bin/sh', ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.proc = proc;
    this.buf = '';
    this.out = [];
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => this.onData(d));
    const gone = (e?: Error) => {
      if (this.proc !== proc) return;
      this.proc = undefined;
      for (const p of this.pending.splice(0)) p.reject(e ?? new Error('the command shell exited'));
    };
    proc.on('error', gone);
    proc.on('exit', () => gone());
    proc.stdout!.on('close', () => gone());
    proc.stdin!.on('error', () => {});
    // Never what keeps the kubelet (or a test) alive while idle.
    proc.unref();
    (proc.stdin as any)?.unref?.();
    (proc.stdout as any)?.unref?.();
    return proc;
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.startsWith('\x1e')) {
        const p = this.pending.shift();
        const output = this.out.join('\n');
        this.out = [];
        if (!this.pending.length) {
          this.proc?.unref();
          (this.proc?.stdout as any)?.unref?.();
        }
        p?.resolve({ code: Number(line.slice(1)), output });
      } else this.out.push(line);
    }
  }
}
