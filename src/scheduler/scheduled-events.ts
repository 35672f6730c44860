// Writes the `Scheduled` event of every bound pod. These events are unique per pod, so they skip
// the general recorder's correlation (whose bookkeeping grows with every event) and are written by
// a few concurrent writers; when the API server falls far behind, the oldest unwritten events are
// dropped, as upstream's event broadcaster does when its buffer is full.

import type { ApiClient } from '../client/api-client.ts';
import { rfc3339 } from '../client/api-client.ts';
import type { Pod } from './framework/types.ts';

export interface ScheduledEventWriterOptions {
  component?: string;
  /** Requests in flight (default 4). */
  concurrency?: number;
  /** Unwritten events kept before the oldest are dropped (default 10,000). */
  maxQueued?: number;
  log?: (m: string) => void;
}

export class ScheduledEventWriter {
  private queue: Array<Record<string, unknown>> = [];
  private head = 0;
  private active = 0;
  private dropped = 0;
  private idle: Array<() => void> = [];
  private lastNanos = 0n;
  private readonly component: string;
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly log: (m: string) => void;

  constructor(
    private readonly client: ApiClient,
    opts: ScheduledEventWriterOptions = {},
  ) {
    this.component = opts.component ?? 'default-scheduler';
    this.concurrency = opts.concurrency ?? 4;
    this.maxQueued = opts.maxQueued ?? 10_000;
    this.log = opts.log ?? (() => {});
  }

  /** Queue "Successfully assigned ns/pod to node". */
  scheduled(pod: Pod, node: string): void {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    const now = Date.now();
    const ts = rfc3339(new Date(now));
    const involved: Record<string, string> = { apiVersion: 'v1', kind: 'Pod', namespace: ns, name };
    if (pod.metadata.uid) involved.uid = pod.metadata.uid;
    if (pod.metadata.resourceVersion) involved.resourceVersion = pod.metadata.resourceVersion;
    this.queue.push({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${name}.${this.nanos(now).toString(16)}`, namespace: ns },
      involvedObject: involved,
      reason: 'Scheduled',
      message: `Successfully assigned ${ns}/${name} to ${node}`,
      source: { component: this.component },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      type: 'Normal',
      eventTime: null,
      reportingComponent: this.component,
      reportingInstance: '',
    });
    if (this.queue.length - this.head > this.maxQueued) {
      this.head++;
      this.dropped++;
    }
    this.pump();
  }

  /** Resolves once everything queued so far has been written or given up on. */
  flush(): Promise<void> {
    if (this.active === 0 && this.head >= this.queue.length) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  get droppedCount(): number {
    return this.dropped;
  }

  /** Unique, increasing nanosecond stamps for event names. */
  private nanos(nowMs: number): bigint {
    let n = BigInt(nowMs) * 1_000_000n;
    if (n <= this.lastNanos) n = this.lastNanos + 1n;
    this.lastNanos = n;
    return n;
  }

  private pump(): void {
    while (this.active < this.concurrency && this.head < this.queue.length) {
      const ev = this.queue[this.head++]!;
      // Compact now and then so the array does not grow with every event ever written.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.active++;
      const ns = (ev.metadata as { namespace: string }).namespace;
      void this.client
        .createEvent(ns, ev)
        .catch((e: Error) => this.log(`unable to write event: ${e.message}`))
        .finally(() => {
          this.active--;
          this.pump();
          if (this.active === 0 && this.head >= this.queue.length) for (const r of this.idle.splice(0)) r();
        });
    }
  }
}
