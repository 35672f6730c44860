// Records core/v1 Events about objects, correlating repeats the way client-go's recorder does:
//  - identical events (same source, object, type, reason, message) within the window bump count
//    and lastTimestamp of the existing Event with a PATCH instead of creating a new Event;
//  - after maxSimilar distinct messages for the same (source, object, type, reason) in the window,
//    further ones are folded into one "(combined from similar events): ..." Event;
//  - a per-object token bucket drops floods (burst 25, one more every 5 minutes).
// Writes are asynchronous and ordered, one at a time; flush() waits for them. As client-go's
// broadcaster (maxQueuedEvents), at most 1,000 wait: under a burst beyond what one writer keeps up
// with, newer events are dropped (and counted in a log line) rather than queued without bound.

import type { KObject } from '../api/types.ts';
import { ApiClient, isAlreadyExists, isNotFound, rfc3339 } from './api-client.ts';
import { realClock, type Clock } from './clock.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  component: string;
  host?: string;
}

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EventRecorderOptions {
  source: EventSource;
  /** Dedup/aggregation window (default 10 minutes). */
  windowMs?: number;
  /** Distinct messages before aggregation kicks in (default 10). */
  maxSimilar?: number;
  /** Spam filter: burst and refill interval per object (default 25, one per 300 s). */
  spamBurst?: number;
  spamRefillMs?: number;
  /** Events waiting to be written before new ones are dropped (default 1000, as client-go). */
  maxQueued?: number;
  /** Write attempts per event (default 3) and pause between them. */
  maxTries?: number;
  retryDelayMs?: number;
  clock?: Clock;
  log?: (msg: string) => void;
}

interface SeenEvent {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  lastSeen: number;
}

interface SimilarRecord {
  messages: Set<string>;
  firstSeen: number;
}

export function referenceFor(obj: KObject | ObjectReference, fieldPath?: string): ObjectReference {
  const meta = (obj as KObject).metadata;
  const ref: ObjectReference = meta
    ? {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: meta.namespace,
        name: meta.name,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      }
    : { ...(obj as ObjectReference) };
  if (fieldPath) ref.fieldPath = fieldPath;
  for (const k of Object.keys(ref) as (keyof ObjectReference)[]) if (ref[k] === undefined || ref[k] === '') delete ref[k];
  return ref;
}

export class EventRecorder {
  private readonly client: ApiClient;
  private readonly o: EventRecorderOptions;
  private readonly clock: Clock;
  private seen = new Map<string, SeenEvent>();
  private similar = new Map<string, SimilarRecord>();
  private buckets = new Map<string, { tokens: number; last: number }>();
  private chain: Promise<void> = Promise.resolve();
  /** Writes queued or running. */
  private queued = 0;
  /** Events dropped because the queue was full, not yet logged. */
  private dropped = 0;
  private lastDropLog = 0;
  private seq = 0n;
  private lastNanos = 0n;

  constructor(client: ApiClient, opts: EventRecorderOptions) {
    this.client = client;
    this.o = opts;
    this.clock = opts.clock ?? realClock;
  }

  /** Record an event about obj. Returns at once; the write happens in the background. */
  event(obj: KObject | ObjectReference, type: EventType, reason: string, message: string, fieldPath?: string): void {
    const ref = referenceFor(obj, fieldPath);
    const now = this.clock.now();
    if (this.queued >= (this.o.maxQueued ?? 1000)) {
      this.drop(now);
      return;
    }
    if (!this.allow(ref, now)) return;
    this.prune(now);
    const windowMs = this.o.windowMs ?? 600_000;
    const src = this.o.source;
    const base = [src.component, src.host ?? '', ref.kind, ref.namespace, ref.name, ref.fieldPath, ref.uid, ref.apiVersion, type, reason].join('\u0000');

    // Aggregate: too many different messages for the same object+reason collapse into one event.
    let rec = this.similar.get(base);
    if (!rec || now - rec.firstSeen > windowMs) this.similar.set(base, (rec = { messages: new Set(), firstSeen: now }));
    rec.messages.add(message);
    let key = `${base}\u0000${message}`;
    if (rec.messages.size >= (this.o.maxSimilar ?? 10)) {
      message = `(combined from similar events): ${message}`;
      key = base;
    }

    const ts = rfc3339(new Date(now));
    const prev = this.seen.get(key);
    if (prev && now - prev.lastSeen <= windowMs) {
      prev.count++;
      prev.lastSeen = now;
      const count = prev.count;
      this.enqueue(() => this.patchExisting(prev, ref, type, reason, message, count, ts));
      return;
    }
    const namespace = ref.namespace || 'default';
    const entry: SeenEvent = { name: `${ref.name ?? ''}.${this.nanos(now).toString(16)}`, namespace, count: 1, firstTimestamp: ts, lastSeen: now };
    this.seen.set(key, entry);
    this.enqueue(() => this.create(this.build(entry, ref, type, reason, message, 1, ts)));
  }

  /** Like event() with printf-style %s/%d/%v substitution. */
  eventf(obj: KObject | ObjectReference, type: EventType, reason: string, format: string, ...args: unknown[]): void {
    let i = 0;
    const message = format.replace(/%[sdvq]/g, (m) => {
      const a = args[i++];
      return m === '%q' ? JSON.stringify(String(a)) : String(a);
    });
    this.event(obj, type, reason, message);
  }

  /** Resolves when every event recorded so far has been written (or given up on). */
  flush(): Promise<void> {
    return this.chain;
  }

  private build(e: SeenEvent, ref: ObjectReference, type: EventType, reason: string, message: string, count: number, last: string): KObject {
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: e.name, namespace: e.namespace },
      involvedObject: ref,
      reason,
      message,
      source: this.o.source.host ? { component: this.o.source.component, host: this.o.source.host } : { component: this.o.source.component },
      firstTimestamp: e.firstTimestamp,
      lastTimestamp: last,
      count,
      type,
      eventTime: null,
      reportingComponent: this.o.source.component,
      reportingInstance: this.o.source.host ?? '',
    };
  }

  private async create(ev: KObject): Promise<void> {
    await this.withRetries(async () => {
      try {
        await this.client.createEvent(ev.metadata.namespace!, ev);
      } catch (e) {
        // Already recorded (e.g. a retry after a lost answer): nothing more to do.
        if (isAlreadyExists(e)) return;
        throw e;
      }
    });
  }

  private async patchExisting(e: SeenEvent, ref: ObjectReference, type: EventType, reason: string, message: string, count: number, ts: string): Promise<void> {
    await this.withRetries(async () => {
      try {
        await this.client.patch({ version: 'v1', resource: 'events', namespace: e.namespace, name: e.name }, 'strategic', {
          count,
          lastTimestamp: ts,
          message,
        });
      } catch (err) {
        // The event expired or was deleted: write it again under the same name.
        if (!isNotFound(err)) throw err;
        await this.create(this.build(e, ref, type, reason, message, count, ts));
      }
    });
  }

  private async withRetries(fn: () => Promise<void>): Promise<void> {
    const tries = this.o.maxTries ?? 3;
    for (let i = 1; ; i++) {
      try {
        return await fn();
      } catch (e) {
        if (i >= tries) {
          (this.o.log ?? ((m: string) => console.warn(m)))(`unable to write event: ${(e as Error).message}`);
          return;
        }
        await new Promise((r) => setTimeout(r, this.o.retryDelayMs ?? 1000));
      }
    }
  }

  private enqueue(fn: () => Promise<void>): void {
    this.queued++;
    const run = () => fn().finally(() => this.queued--);
    this.chain = this.chain.then(run, run);
  }

  /** Count a dropped event; say so at most every 10 seconds. */
  private drop(now: number): void {
    this.dropped++;
    if (now - this.lastDropLog < 10_000) return;
    this.lastDropLog = now;
    (this.o.log ?? ((m: string) => console.warn(m)))(`event queue full (${this.o.maxQueued ?? 1000} waiting): dropping new events (${this.dropped} since the last report)`);
    this.dropped = 0;
  }

  /** Unique, increasing nanosecond stamps even for events in the same millisecond. */
  private nanos(nowMs: number): bigint {
    let n = BigInt(nowMs) * 1_000_000n + (this.seq++ % 1_000_000n);
    if (n <= this.lastNanos) n = this.lastNanos + 1n;
    this.lastNanos = n;
    return n;
  }

  /** Per-object token bucket. */
  private allow(ref: ObjectReference, now: number): boolean {
    const burst = this.o.spamBurst ?? 25;
    const refill = this.o.spamRefillMs ?? 300_000;
    const key = [this.o.source.component, this.o.source.host ?? '', ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion].join('\u0000');
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: burst, last: now }));
    b.tokens = Math.min(burst, b.tokens + (now - b.last) / refill);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forget correlation state older than the window so memory stays bounded. */
  private lastPrune = 0;

  /** Drop expired dedup state; at most once a minute, since a sweep is linear in the entries. */
  private prune(now: number): void {
    if (this.seen.size < 4096 || now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    const windowMs = this.o.windowMs ?? 600_000;
    for (const [k, v] of this.seen) if (now - v.lastSeen > windowMs) this.seen.delete(k);
    for (const [k, v] of this.similar) if (now - v.firstSeen > windowMs) this.similar.delete(k);
    for (const [k, v] of this.buckets) if (now - v.last > (this.o.spamRefillMs ?? 300_000) * (this.o.spamBurst ?? 25)) this.buckets.delete(k);
  }
}
