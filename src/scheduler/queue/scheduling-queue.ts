// The scheduling queue: activeQ (priority, then age), backoffQ (per-pod exponential backoff) and
// unschedulable pods that wait for a cluster event that could help them. Events seen while a pod
// is being scheduled ("in flight") are remembered, so a rejection that raced with a helpful
// event goes to backoff rather than waiting for the next event.

import { realClock, type Clock, type TimerHandle } from '../../client/clock.ts';
import { podPriority } from '../framework/helpers.ts';
import { newPodInfo, podUID, type PodInfo } from '../framework/node-info.ts';
import type { ClusterEvent, Pod } from '../framework/types.ts';
import { KeyedHeap } from './heap.ts';

export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod (re)entered the queue; orders equal priorities and starts backoff. */
  timestamp: number;
  initialAttemptTimestamp?: number;
  attempts: number;
  /** Plugins that rejected the pod last time; empty means an error or unknown. */
  unschedulablePlugins: Set<string>;
  gated: boolean;
}

export interface SchedulingQueueOptions {
  clock?: Clock;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  /** Unschedulable pods older than this go back to the active/backoff queues (default 5 min). */
  podMaxInUnschedulableMs?: number;
  /** Events each plugin cares about; a plugin missing here reacts to every event. */
  pluginEvents?: Map<string, Set<ClusterEvent>>;
}

export const BACKOFF_FLUSH_INTERVAL_MS = 1000;
export const UNSCHEDULABLE_FLUSH_INTERVAL_MS = 30_000;

const key = (pod: Pod) => podUID(pod);
const isGated = (pod: Pod) => (pod.spec?.schedulingGates?.length ?? 0) > 0;

/** Spec or labels changed (status-only updates do not make a pod worth retrying). */
function podUpdated(a: Pod, b: Pod): boolean {
  const strip = (p: Pod) => JSON.stringify({ spec: p.spec, labels: p.metadata.labels, annotations: p.metadata.annotations });
  return strip(a) !== strip(b);
}

export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxUnschedulable: number;
  private readonly pluginEvents: Map<string, Set<ClusterEvent>>;
  private active = new KeyedHeap<QueuedPodInfo>(
    (q) => key(q.podInfo.pod),
    (a, b) => {
      const pa = podPriority(a.podInfo.pod);
      const pb = podPriority(b.podInfo.pod);
      return pa !== pb ? pa > pb : a.timestamp < b.timestamp;
    },
  );
  private backoff = new KeyedHeap<QueuedPodInfo>(
    (q) => key(q.podInfo.pod),
    (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
  );
  private unschedulable = new Map<string, QueuedPodInfo>();
  /** Pods popped and not yet done, with the events seen meanwhile. */
  private inFlight = new Map<string, ClusterEvent[]>();
  private waiters: Array<(q: QueuedPodInfo | undefined) => void> = [];
  private timers: TimerHandle[] = [];
  private closed = false;
  schedulingCycle = 0;

  constructor(opts: SchedulingQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.initialBackoff = opts.podInitialBackoffMs ?? 1000;
    this.maxBackoff = opts.podMaxBackoffMs ?? 10_000;
    this.maxUnschedulable = opts.podMaxInUnschedulableMs ?? 5 * 60_000;
    this.pluginEvents = opts.pluginEvents ?? new Map();
  }

  /** Start the periodic flushes. */
  run(): void {
    const every = (ms: number, fn: () => void) => {
      const tick = () => {
        if (this.closed) return;
        fn();
        this.timers.push(this.clock.setTimer(tick, ms));
      };
      this.timers.push(this.clock.setTimer(tick, ms));
    };
    every(BACKOFF_FLUSH_INTERVAL_MS, () => this.flushBackoffQCompleted());
    every(UNSCHEDULABLE_FLUSH_INTERVAL_MS, () => this.flushUnschedulablePodsLeftover());
  }

  /** Accept and hand out pods again after close() (a new leadership term). */
  reopen(): void {
    this.closed = false;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) t.cancel();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  backoffDuration(q: QueuedPodInfo): number {
    let d = this.initialBackoff;
    for (let i = 1; i < q.attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoff) return this.maxBackoff;
    }
    return Math.min(d, this.maxBackoff);
  }

  backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + this.backoffDuration(q);
  }

  private isBackingOff(q: QueuedPodInfo): boolean {
    return q.attempts > 0 && this.backoffExpiry(q) > this.clock.now();
  }

  private toActive(q: QueuedPodInfo): void {
    const w = this.waiters.shift();
    if (w) {
      this.markInFlight(q);
      w(q);
      return;
    }
    this.active.push(q);
  }

  private toActiveOrBackoff(q: QueuedPodInfo): void {
    if (this.isBackingOff(q)) this.backoff.push(q);
    else this.toActive(q);
  }

  add(pod: Pod): void {
    const k = key(pod);
    this.unschedulable.delete(k);
    this.backoff.delete(k);
    const q: QueuedPodInfo = { podInfo: newPodInfo(pod), timestamp: this.clock.now(), attempts: 0, unschedulablePlugins: new Set(), gated: isGated(pod) };
    if (q.gated) this.unschedulable.set(k, q);
    else this.toActive(q);
  }

  update(oldPod: Pod, pod: Pod): void {
    const k = key(pod);
    const inActive = this.active.get(k);
    if (inActive) {
      inActive.podInfo = newPodInfo(pod);
      this.active.push(inActive);
      return;
    }
    const inBackoff = this.backoff.get(k);
    if (inBackoff) {
      inBackoff.podInfo = newPodInfo(pod);
      this.backoff.push(inBackoff);
      return;
    }
    const u = this.unschedulable.get(k);
    if (u) {
      u.podInfo = newPodInfo(pod);
      if (u.gated) {
        u.gated = isGated(pod);
        if (!u.gated) {
          this.unschedulable.delete(k);
          this.toActive(u);
        }
        return;
      }
      if (podUpdated(oldPod, pod)) {
        this.unschedulable.delete(k);
        this.toActiveOrBackoff(u);
      }
      return;
    }
    if (!this.inFlight.has(k)) this.add(pod);
  }

  delete(pod: Pod): void {
    const k = key(pod);
    this.active.delete(k);
    this.backoff.delete(k);
    this.unschedulable.delete(k);
  }

  private markInFlight(q: QueuedPodInfo): void {
    q.attempts++;
    q.initialAttemptTimestamp ??= this.clock.now();
    this.schedulingCycle++;
    this.inFlight.set(key(q.podInfo.pod), []);
  }

  /** The next pod, or undefined if none is ready. */
  tryPop(): QueuedPodInfo | undefined {
    const q = this.active.pop();
    if (q) this.markInFlight(q);
    return q;
  }

  /** Wait for the next pod; undefined once the queue is closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const q = this.tryPop();
    if (q) return Promise.resolve(q);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The scheduling attempt of a pod ended (bound, or handed back through addUnschedulable). */
  done(pod: Pod): void {
    this.inFlight.delete(key(pod));
  }

  private relevant(q: QueuedPodInfo, ev: ClusterEvent): boolean {
    if (ev === 'UnschedulableTimeout' || ev === 'ForceActivate' || q.unschedulablePlugins.size === 0) return true;
    for (const p of q.unschedulablePlugins) {
      const evs = this.pluginEvents.get(p);
      if (!evs || evs.has(ev)) return true;
    }
    return false;
  }

  /**
   * A scheduling attempt failed. Errors (no rejecting plugins) go to backoff; rejections wait in
   * unschedulable unless a relevant event arrived during the attempt.
   */
  addUnschedulableIfNotPresent(q: QueuedPodInfo): void {
    const k = key(q.podInfo.pod);
    const events = this.inFlight.get(k) ?? [];
    this.inFlight.delete(k);
    if (this.closed || this.active.has(k) || this.backoff.has(k) || this.unschedulable.has(k)) return;
    q.timestamp = this.clock.now();
    if (q.unschedulablePlugins.size === 0 || events.some((e) => this.relevant(q, e))) this.backoff.push(q);
    else this.unschedulable.set(k, q);
  }

  /** A cluster event happened: retry the unschedulable pods it could help. */
  moveAllToActiveOrBackoffQueue(ev: ClusterEvent, filter?: (pod: Pod) => boolean): void {
    for (const events of this.inFlight.values()) events.push(ev);
    for (const [k, q] of this.unschedulable) {
      if (q.gated || !this.relevant(q, ev)) continue;
      if (filter && !filter(q.podInfo.pod)) continue;
      this.unschedulable.delete(k);
      this.toActiveOrBackoff(q);
    }
  }

  flushBackoffQCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const q = this.backoff.peek();
      if (!q || this.backoffExpiry(q) > now) return;
      this.backoff.pop();
      this.toActive(q);
    }
  }

  flushUnschedulablePodsLeftover(): void {
    const now = this.clock.now();
    for (const [k, q] of this.unschedulable) {
      if (q.gated || now - q.timestamp <= this.maxUnschedulable) continue;
      this.unschedulable.delete(k);
      this.toActiveOrBackoff(q);
    }
  }

  /** Where a pod currently is (tests, debugging). */
  where(pod: Pod): 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined {
    const k = key(pod);
    if (this.active.has(k)) return 'active';
    if (this.backoff.has(k)) return 'backoff';
    if (this.unschedulable.has(k)) return 'unschedulable';
    if (this.inFlight.has(k)) return 'inFlight';
    return undefined;
  }

  get counts(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size };
  }
}
