// Memory back after a burst, for the long-lived threads of `mizzen up` (the API server's main
// thread, the components' and the simulated nodes' worker threads). Each runs its own monitor:
// V8 keeps the old-space pages a busy time grew (half empty once replaced objects die) until its
// next full collection, and a thread that allocates little when idle may not make one for a long
// time; V8's memory reducer does not come either while the thread still allocates a few MB a
// second, as a control plane with thousands of nodes does when idle (lease renewals)
// (docs/scale.md, "Memory after a burst").
//
// When a thread that was busy (event-loop utilization at or above `busyUtilization` in a period)
// has been quiet for `quietPeriods` periods in a row (utilization under `quietFraction` of the
// burst's peak) and its old generation grew since its last such collection, it runs one full,
// compacting collection. A thread that stays busy is never collected; one burst gives at most one
// collection. The young generation is left to V8 (it shrinks it when the idle allocation rate is
// low).

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
  /** Quiet periods in a row that end a burst (default 3). */
  quietPeriods?: number;
  /** Growth of the old generation's committed size since the last collection below which none is made (default 8 MiB). */
  growthBytes?: number;
  /** Told after each collection: heap committed before and after it (bytes). */
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
  const params = { busyUtilization: opts.busyUtilization ?? 0.5, quietFraction: opts.quietFraction ?? 0.5, quietPeriods: opts.quietPeriods ?? 3 };
  const growth = opts.growthBytes ?? 8 * 1024 * 1024;
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const state: BurstState = { busy: false, peak: 0, quiet: 0 };
  let reference = oldGenerationCommitted();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (!burstStep(state, u, params) || oldGenerationCommitted() < reference + growth) return;
    const before = v8.getHeapStatistics().total_heap_size;
    // Every page compacted, not only those V8 finds fragmented: what gives a burst's pages back.
    // The flag is process-wide; another thread's full GC in these few hundred ms compacts too.
    v8.setFlagsFromString('--compact-on-every-full-gc');
    try {
      gc();
    } finally {
      v8.setFlagsFromString('--no-compact-on-every-full-gc');
    }
    reference = oldGenerationCommitted();
    opts.onCollect?.(before, v8.getHeapStatistics().total_heap_size);
    last = performance.eventLoopUtilization(); // the collection's own time is not the thread being busy
  }, periodMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Committed bytes of the spaces that live long: old, code, large objects (not the young generation). */
function oldGenerationCommitted(): number {
  let n = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (!s.space_name.startsWith('new')) n += s.space_size;
  return n;
}
