// Controller expectations (client-go's ControllerExpectations): after a controller asks for N
// creations or deletions it waits until its informer has observed them before syncing the owner
// again, so it never acts twice on a stale cache. Records older than 5 minutes count as satisfied,
// so a lost watch event cannot wedge a controller forever.

import { realClock, type Clock } from './clock.ts';

export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Record_ {
  add: number;
  del: number;
  timestamp: number;
}

export class ControllerExpectations {
  protected records = new Map<string, Record_>();
  protected readonly clock: Clock;
  private readonly ttlMs: number;

  constructor(opts: { clock?: Clock; ttlMs?: number } = {}) {
    this.clock = opts.clock ?? realClock;
    this.ttlMs = opts.ttlMs ?? EXPECTATIONS_TTL_MS;
  }

  /** Replace any expectation for key with add creations and del deletions. */
  setExpectations(key: string, add: number, del: number): void {
    this.records.set(key, { add, del, timestamp: this.clock.now() });
  }

  expectCreations(key: string, adds: number): void {
    this.setExpectations(key, adds, 0);
  }

  expectDeletions(key: string, dels: number): void {
    this.setExpectations(key, 0, dels);
  }

  /** Add to the outstanding counts (without resetting the timestamp). */
  raiseExpectations(key: string, add: number, del: number): void {
    const r = this.records.get(key);
    if (!r) return;
    r.add += add;
    r.del += del;
  }

  lowerExpectations(key: string, add: number, del: number): void {
    const r = this.records.get(key);
    if (!r) return;
    r.add -= add;
    r.del -= del;
  }

  creationObserved(key: string): void {
    this.lowerExpectations(key, 1, 0);
  }

  deletionObserved(key: string): void {
    this.lowerExpectations(key, 0, 1);
  }

  /**
   * True when the controller may sync key: no record, all expected events seen, or the record has
   * expired.
   */
  satisfiedExpectations(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del <= 0) return true;
    return this.clock.now() - r.timestamp > this.ttlMs;
  }

  /** Outstanding counts, or undefined if there is no record. */
  getExpectations(key: string): { add: number; del: number; timestamp: number } | undefined {
    const r = this.records.get(key);
    return r ? { ...r } : undefined;
  }

  deleteExpectations(key: string): void {
    this.records.delete(key);
  }
}

/**
 * Expectations that track deletions by pod key, so a deletion observed twice (update with a
 * deletionTimestamp, then the delete) is counted once (client-go's UIDTrackingControllerExpectations).
 */
export class UIDTrackingExpectations extends ControllerExpectations {
  private uids = new Map<string, Set<string>>();

  /** Expect the deletion of these object keys. */
  expectDeletionsOf(controllerKey: string, deletedKeys: string[]): void {
    this.uids.set(controllerKey, new Set(deletedKeys));
    this.expectDeletions(controllerKey, deletedKeys.length);
  }

  /** Record that deletedKey went away; only counts if it was expected and not already seen. */
  deletionObservedOf(controllerKey: string, deletedKey: string): void {
    const set = this.uids.get(controllerKey);
    if (set && set.delete(deletedKey)) this.deletionObserved(controllerKey);
  }

  override deleteExpectations(key: string): void {
    super.deleteExpectations(key);
    this.uids.delete(key);
  }
}
