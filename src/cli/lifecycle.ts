// Orderly start and stop of foreground processes: remember what was started, close it in reverse
// order, and turn SIGINT/SIGTERM into a single shutdown request (a second signal exits at once).

import type { CliIO } from './io.ts';

export class Lifecycle {
  private readonly closers: Array<{ name: string; close: () => Promise<void> }> = [];
  constructor(private readonly io: CliIO) {}

  /** Register something to close on shutdown; closed last-in first-out. */
  add(name: string, close: () => Promise<void>): void {
    this.closers.push({ name, close });
  }

  /** Close everything registered; returns false if any close failed (each failure is reported). */
  async shutdown(): Promise<boolean> {
    let ok = true;
    while (this.closers.length > 0) {
      const { name, close } = this.closers.pop()!;
      try {
        await close();
      } catch (err) {
        ok = false;
        this.io.err(`mizzen: error stopping ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return ok;
  }
}

export interface StopSignal {
  /** Resolves with the signal name on the first SIGINT/SIGTERM. */
  readonly promise: Promise<string>;
  readonly received: string | undefined;
  dispose(): void;
}

/** Listen for SIGINT/SIGTERM. The first resolves `promise`; a second one exits the process with status 1. */
export function listenForStop(io: CliIO, exit: (code: number) => void = (c) => process.exit(c)): StopSignal {
  let received: string | undefined;
  let resolve!: (sig: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  const onSignal = (sig: NodeJS.Signals) => {
    if (received !== undefined) {
      io.err(`mizzen: received ${sig} again, exiting immediately`);
      exit(1);
      return;
    }
    received = sig;
    resolve(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    promise,
    get received() {
      return received;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
