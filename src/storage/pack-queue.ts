// Packing stored values (packed-text.ts) off the write path. Packing a value costs about two
// parses of it; done as each commit was delivered it ran between the commit and its callers'
// responses, on every write. Now a delivered value waits in the queue for one to two periods and
// is then packed in short slices between other work: the commit path does no packing, and the
// readers of a value's first moments (the response, the watch events, an update or a binding that
// reads the object it just wrote or that was just created) get the written string without a join.
// Memory: at most two periods of writes are held whole (about 1 s: a few MB at 2,000 writes a second).

import type { PackedKeyValue } from './packed-text.ts';

export interface PackQueueOptions {
  /** A value is packed between one and two periods after it is added. Default 500 ms. */
  periodMs?: number;
  /** Longest run of packing before other work gets a turn. Default 2 ms. */
  sliceMs?: number;
}

export class PackQueue {
  private readonly periodMs: number;
  private readonly sliceMs: number;
  /** Added during the current period. */
  private young: PackedKeyValue[] = [];
  /** Added during the previous period: packed at the end of this one. */
  private old: PackedKeyValue[] = [];
  /** Due now, packed in slices from `pos`. */
  private due: PackedKeyValue[] = [];
  private pos = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(opts: PackQueueOptions = {}) {
    this.periodMs = opts.periodMs ?? 500;
    this.sliceMs = opts.sliceMs ?? 2;
  }

  /** Values added and not packed yet. */
  get size(): number {
    return this.young.length + this.old.length + this.due.length - this.pos;
  }

  add(kv: PackedKeyValue): void {
    if (this.stopped) return;
    this.young.push(kv);
    this.schedule();
  }

  /** Pack everything waiting, now (a test, a benchmark's settled figure). */
  packAll(): void {
    for (const list of [this.due.slice(this.pos), this.old, this.young]) for (const kv of list) kv.pack();
    this.due = [];
    this.pos = 0;
    this.old = [];
    this.young = [];
  }

  /** Stop packing (the store is closing): waiting values stay whole. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.draining) clearImmediate(this.draining);
    this.timer = undefined;
    this.draining = undefined;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => this.tick(), this.periodMs);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.old.length > 0) {
      if (this.pos >= this.due.length) {
        this.due = this.old;
        this.pos = 0;
      } else {
        // Still packing the last period's (a slow machine): these go after them.
        for (const kv of this.old) this.due.push(kv);
      }
    }
    this.old = this.young;
    this.young = [];
    if (this.old.length > 0) this.schedule();
    if (!this.draining) this.drain();
  }

  private drain(): void {
    this.draining = undefined;
    if (this.stopped) return;
    const end = performance.now() + this.sliceMs;
    const due = this.due;
    let i = this.pos;
    // At least a sixteenth of what is due, whatever the clock says: on a saturated thread the
    // turns are long and few, and 2 ms per turn could fall behind the writes (the values would
    // stay whole); this way a backlog is packed within about 16 turns.
    const least = i + Math.ceil(due.length / 16);
    while (i < due.length) {
      due[i++].pack();
      // The clock is read every few values only: one pack is 10-30 µs.
      if ((i & 15) === 0 && i >= least && performance.now() >= end) break;
    }
    this.pos = i;
    if (i < due.length) {
      this.draining = setImmediate(() => this.drain());
      // An idle process must not stay up for packing alone.
      this.draining.unref();
    } else {
      this.due = [];
      this.pos = 0;
    }
  }
}
