// Polling with a deadline, for tests: wait for a condition instead of sleeping a fixed time.
// The test helpers of the components (controllers' waitFor, the simulated nodes' eventually, the
// e2e suites' eventually) are thin wrappers over this one loop.

export interface PollOptions<T> {
  /** Named in the timeout error. */
  what?: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** When a value means done (default: truthy). */
  done?: (v: T) => boolean;
}

/**
 * Call `check` until `done` accepts its value, which is returned. A throw counts as "not yet";
 * at the deadline the error names what was awaited and the last value or error seen.
 */
export async function poll<T>(check: () => T | Promise<T>, opts: PollOptions<T> = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const done = opts.done ?? ((v: T) => !!v);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let threw = false;
  for (;;) {
    try {
      const v = await check();
      if (done(v)) return v;
      last = v;
      threw = false;
    } catch (e) {
      last = e;
      threw = true;
    }
    if (Date.now() > deadline) {
      const detail = threw ? (last instanceof Error ? last.message : String(last)) : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${opts.what ?? 'condition'} (last ${threw ? 'error' : 'value'}: ${detail})`, threw ? { cause: last } : undefined);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** Wait until a synchronous predicate holds (checked every few ms: for in-process events). */
export async function until(pred: () => boolean, what = 'condition', timeoutMs = 10_000): Promise<void> {
  await poll(pred, { what, timeoutMs, intervalMs: 5 });
}
