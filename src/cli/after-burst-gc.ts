// Memory back after a burst, for the long-lived threads of `mizzen up` (the API server's main
// thread, the components' and the simulated nodes' worker threads). Each runs its own monitor:
// V8 keeps what a busy time grew (old-space pages left half empty by replaced objects, a young
// generation grown to 16 MB semi-spaces) for as long as the thread keeps allocating, and a control
// plane with thousands of nodes keeps allocating when idle (lease renewals), so neither a full
// collection nor V8's memory reducer comes by itself (docs/scale.md, "Memory after a burst").
//
// When a thread that was busy (event-loop utilization at or above `busyUtilization` in a period)
// has been quiet for `quietPeriods` periods in a row (utilization under `quietFraction` of the
// burst's peak), it runs one full collection and, for `reduceWindowMs` after it, tells V8 to
// optimize for memory (`--optimize-for-size`): V8's memory reducer, which that GC arms, then
// makes its memory-reducing collections about 8 s later (old-space compaction, the young
// generation shrunk to what the idle allocation rate needs), as it does by itself only when the
// allocation rate is near zero. A thread that stays busy is never collected; one burst gives
// one collection.

import v8 from 'node:v8';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';

export interface AfterBurstGCOptions {
  /** How often the thread's utilization is looked at (default 5 s). */
  periodMs?: number;
  /** Utilization at or above which a period counts as busy (default 0.5). */
  busyUtilization?: number;
  /** A period is quiet below this fraction of the burst's peak utilization (default 0.5). */
  quietFraction?: number;
  /** Quiet periods in a row that end a burst (default 2). */
  quietPeriods?: number;
  /** How long V8 is told to optimize for memory after the collection (default 15 s: its memory reducer waits 8 s). */
  reduceWindowMs?: number;
  /** Told after each collection: heap committed before and after it (bytes; the memory reducer's collections come later). */
  onCollect?: (before: number, after: number) => void;
}

export interface BurstState {
  busy: boolean;
  peak: number;
  quiet: number;
}

/**
 * One period's step of the burst detector: whether to collect now. A busy period starts (or
 * continues) a burst; quiet periods after it end it.
 */
export function burstStep(state: BurstState, utilization: number, opts: Required<Pick<AfterBurstGCOptions, 'busyUtilization' | 'quietFraction' | 'quietPeriods'>>): boolean {
  if (utilization >= opts.busyUtilization) {
    state.busy = true;
    state.peak = Math.max(state.peak, utilization);
    state.quiet = 0;
    return false;
  }
  if (!state.busy) return false;
  state.quiet = utilization < state.peak * opts.quietFraction ? state.quiet + 1 : 0;
  if (state.quiet < opts.quietPeriods) return false;
  state.busy = false;
  state.peak = 0;
  state.quiet = 0;
  return true;
}

/** Starts the monitor on the calling thread; returns a stop function. */
export function startAfterBurstGC(opts: AfterBurstGCOptions = {}): () => void {
  const periodMs = opts.periodMs ?? 5_000;
  const params = { busyUtilization: opts.busyUtilization ?? 0.5, quietFraction: opts.quietFraction ?? 0.5, quietPeriods: opts.quietPeriods ?? 2 };
  const reduceWindowMs = opts.reduceWindowMs ?? 15_000;
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const state: BurstState = { busy: false, peak: 0, quiet: 0 };
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let reduceTimer: NodeJS.Timeout | undefined;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (!burstStep(state, u, params)) return;
    const before = v8.getHeapStatistics().total_heap_size;
    // Process-wide flag: another thread's window may overlap (or end this one early); both
    // only mean a memory-reducing collection more or less, never a wrong one.
    v8.setFlagsFromString('--optimize-for-size');
    gc();
    opts.onCollect?.(before, v8.getHeapStatistics().total_heap_size);
    clearTimeout(reduceTimer);
    reduceTimer = setTimeout(() => v8.setFlagsFromString('--no-optimize-for-size'), reduceWindowMs);
    reduceTimer.unref();
    last = performance.eventLoopUtilization(); // the collection's own time is not the thread being busy
  }, periodMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (reduceTimer) {
      clearTimeout(reduceTimer);
      v8.setFlagsFromString('--no-optimize-for-size');
    }
  };
}
