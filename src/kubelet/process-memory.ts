// V8 settings and garbage collection for `mizzen kubelet` alone (not `mizzen up`, where the API
// server shares the process and wants the opposite). The kubelet mostly waits; what it keeps in
// memory is mostly code (bytecode, compiled code, module sources), and its busy times (start-up,
// a burst of pods) grow the heap, which V8 gives back late or not at all when the process then goes
// quiet (measured with `npm run bench -- kubelet-footprint`, see docs/kubelet-node.md "Resources").
//
// - When the old generation grew (a burst of pods) and the process is quiet again, one full GC
//   with compaction gives back the pages the busy time grew, which V8 otherwise keeps (measured:
//   old space 18-24 MB committed for 13-16 MB used after a burst of 30, without it).

import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Called first thing by `mizzen kubelet`. Nothing at the moment: V8's own full GCs compact only
 * the pages it finds fragmented (compacting all of them on every full GC, as this once set, made
 * each of V8's own collections in the steady state cost more; the quiet-time GC below compacts).
 * The compiler flags cannot be set here: TurboFan's code in the node binary is paged in by
 * start-up already. bin/mizzen.js gives the executed `mizzen kubelet` `--lite-mode` on node's
 * command line instead (no TurboFan or Sparkplug: ~5 MB of the binary's pages and the JIT code
 * out of the heap; the CRI codec's item cache made the steady state cheap enough to interpret).
 */
export function useLeanV8(): void {}

export interface QuietGCOptions {
  /** How often the heap is looked at (default 5 s). */
  periodMs?: number;
  /** Growth of the old generation's committed size since the last collection that asks for one (default 4 MiB). */
  growthBytes?: number;
  /** CPU in a period above which the process counts as busy and is left alone (default 5 % of the period). */
  busyCpuFraction?: number;
  /**
   * Full GCs in the quiet periods after each one (default 2): V8 drops a function's bytecode once
   * it was not run across `--bytecode-old-age` full GCs, which a quiet kubelet otherwise seldom
   * makes, so start-up's and a burst's one-off code (kubeconfig and YAML parsing, registration,
   * volume set-up) would stay compiled for good.
   */
  settleGCs?: number;
}

/** Committed bytes of the spaces that live long: old, code, large objects (not the young generation). */
function oldGenerationCommitted(): number {
  let n = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (!/^new/.test(s.space_name)) n += s.space_size;
  return n;
}

/**
 * A full, compacting GC when the old generation's committed size grew by `growthBytes` since the
 * last one and the process is not busy (the first one once start-up is over). When the heap is
 * still that much larger afterwards, the growth was real (more pods): that size is the new
 * reference, so no GC repeats for it. Returns a stop function.
 */
export function startQuietGC(opts: QuietGCOptions = {}): () => void {
  const periodMs = opts.periodMs ?? 5_000;
  const growth = opts.growthBytes ?? 4 * 1024 * 1024;
  const busyUs = periodMs * 1000 * (opts.busyCpuFraction ?? 0.05);
  v8.setFlagsFromString('--expose-gc');
  const rawGC = runInNewContext('gc') as (o?: { type: 'minor' }) => void;
  /** A full GC that compacts every page (what gives a burst's pages back), or V8's usual one. */
  const fullGC = (compact: boolean) => {
    if (!compact) return rawGC();
    v8.setFlagsFromString('--compact-on-every-full-gc');
    try {
      rawGC();
    } finally {
      v8.setFlagsFromString('--no-compact-on-every-full-gc');
    }
  };
  const settle = opts.settleGCs ?? 2;
  let reference: number | undefined;
  let followUps = 0;
  let busySinceGC = true; // start-up
  let last = process.cpuUsage();
  const timer = setInterval(() => {
    const now = process.cpuUsage();
    const used = now.user - last.user + now.system - last.system;
    last = now;
    if (used > busyUs) {
      busySinceGC = true;
      return;
    }
    let compact = true;
    if (followUps > 0) {
      // Only ages bytecode: no compaction (the GC before gave the pages back).
      followUps--;
      compact = false;
    } else if (reference !== undefined && oldGenerationCommitted() < reference + growth) {
      // A scavenge (well under a millisecond for a young generation this small) frees the
      // buffers the quiet time's CRI answers left: node reads each into a fresh 64 KB buffer,
      // malloc'd outside V8's heap, which only a GC gives back; a quiet kubelet allocates too
      // little to trigger one, and they piled up to 5 MB in malloc's heap.
      rawGC({ type: 'minor' });
      return;
    } else {
      // Settling GCs only after busy times (start-up, a burst), whose one-off code they flush:
      // in the steady state the old generation also grows past `growth` (garbage promoted by
      // the young generation's collections), and there one collection is enough.
      followUps = busySinceGC ? settle : 0;
      busySinceGC = false;
    }
    fullGC(compact);
    reference = oldGenerationCommitted();
    last = process.cpuUsage(); // the GC's own CPU is not the process being busy
  }, periodMs);
  timer.unref();
  return () => clearInterval(timer);
}
