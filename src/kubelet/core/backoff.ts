// Restart and image-pull back-off (upstream client-go flowcontrol.Backoff as the kubelet uses it):
// per key, a delay that starts at 10 s and doubles up to 5 min. A key untouched for longer than
// `resetAfterMs` starts over; a container that ran that long has its back-off reset (the caller
// calls reset()), so a crash after a long healthy run restarts at once.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Forget a key not used for this long (upstream: 2 × max for pulls; 10 min of running for restarts). */
  resetAfterMs?: number;
  now?: () => number;
}

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly resetAfterMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(o: BackoffOptions = {}) {
    this.initialMs = o.initialMs ?? 10_000;
    this.maxMs = o.maxMs ?? 300_000;
    this.resetAfterMs = o.resetAfterMs ?? 2 * this.maxMs;
    this.now = o.now ?? Date.now;
  }

  /** The current delay of a key (0 when it has none). */
  delay(key: string): number {
    return this.live(key)?.delayMs ?? 0;
  }

  /** Whether `eventTime` (e.g. the container's exit) is still within the key's delay; and until when. */
  inBackOffSince(key: string, eventTime: number): { backingOff: boolean; untilMs: number } {
    const e = this.live(key);
    if (!e) return { backingOff: false, untilMs: 0 };
    const until = eventTime + e.delayMs;
    return { backingOff: this.now() < until, untilMs: until };
  }

  /** Whether the key's last attempt (next()) is less than its delay ago (image pulls). */
  inBackOffNow(key: string): boolean {
    const e = this.live(key);
    return !!e && this.now() < e.lastUpdate + e.delayMs;
  }

  /** Record an attempt: the first (or after a reset) sets the initial delay, later ones double it. */
  next(key: string): number {
    const e = this.live(key);
    const delayMs = e ? Math.min(e.delayMs * 2, this.maxMs) : this.initialMs;
    this.entries.set(key, { delayMs, lastUpdate: this.now() });
    return delayMs;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drop keys for which keep() is false (pods that are gone). */
  prune(keep: (key: string) => boolean): void {
    for (const k of [...this.entries.keys()]) if (!keep(k)) this.entries.delete(k);
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && this.now() - e.lastUpdate > this.resetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
}
