// One etcd watch over a key range that never gives up: it follows the range from a revision,
// reconnects (to the next endpoint when the current one fails) and resumes after the last revision
// it delivered, so its owner sees every event exactly once and in order. Only a compaction past
// that revision breaks the chain, and is reported as such.
//
// The stream asks etcd to cancel it when its member loses the raft leader ("hasleader"), as etcd's
// own client does, so a member cut off from the others cannot keep us on a stale, silent stream.

import { decodeWatchResponse, encodeWatchCreate, encodeWatchProgress, type KnownValue, type WatchEvent } from './codec.ts';
import type { EtcdClient } from './client.ts';
import type { GrpcError, GrpcStream } from './grpc-transport.ts';

export interface WatchFollowerHandlers {
  /** Events of one or more whole revisions, in order; `revision` is the last of them. */
  onEvents(events: WatchEvent[], revision: number): void;
  /** Nothing in the range changed up to `revision` beyond what was delivered. */
  onProgress(revision: number, requested: boolean): void;
  /** The revisions after the last delivered one were compacted away (at compactRevision). */
  onCompacted(compactRevision: number): void;
  /** The stream is up (error undefined) or down (why). */
  onState(up: boolean, error?: string): void;
  /** Values the owner holds already, used instead of decoding the events' (see KnownValue). */
  knownValue?: KnownValue;
}

const WATCH_ID = 1;

export class WatchFollower {
  private stream: GrpcStream | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs = 50;
  private fragments: WatchEvent[] = [];
  /** The last revision delivered; the next stream starts after it. */
  private last: number;
  private up = false;
  private progressAsked = false;

  constructor(
    private readonly client: EtcdClient,
    private readonly key: Buffer,
    private readonly rangeEnd: Buffer,
    from: number,
    private readonly h: WatchFollowerHandlers,
  ) {
    this.last = from;
  }

  get revision(): number {
    return this.last;
  }

  get connected(): boolean {
    return this.up;
  }

  start(): void {
    if (this.stopped || this.stream) return;
    let opened: ReturnType<EtcdClient['watchStream']>;
    try {
      opened = this.client.watchStream();
    } catch (e) {
      this.retry((e as Error).message);
      return;
    }
    const { stream, failover } = opened;
    this.stream = stream;
    this.fragments = [];
    this.progressAsked = false;
    stream.on('message', (b: Buffer) => {
      if (this.stream !== stream) return;
      this.onResponse(b, stream);
    });
    const ended = (why: string, moveOn: boolean) => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      if (moveOn) failover();
      this.setUp(false, why);
      this.retry(why);
    };
    stream.on('error', (e: GrpcError) => ended(`etcd watch on ${opened.endpoint} failed: ${e.details || e.message}`, true));
    stream.on('end', () => ended(`etcd watch on ${opened.endpoint} ended`, true));
    stream.write(
      encodeWatchCreate({
        key: this.key,
        rangeEnd: this.rangeEnd,
        startRevision: this.last + 1,
        prevKv: true,
        progressNotify: true,
        fragment: true,
        watchId: WATCH_ID,
      }),
    );
  }

  /** Start over after a compaction: follow from `revision` (the owner listed again at it). */
  resume(revision: number): void {
    this.last = revision;
    this.start();
  }

  /** Ask etcd for a progress notification (answered for the whole stream). */
  requestProgress(): void {
    if (!this.stream || !this.up || this.progressAsked) return;
    this.progressAsked = true;
    this.stream.write(encodeWatchProgress());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      s.cancel();
      s.on('error', () => undefined);
    }
  }

  private retry(why: string): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 1000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start();
    }, delay);
    void why;
  }

  private setUp(up: boolean, error?: string): void {
    if (this.up === up && up) return;
    this.up = up;
    this.h.onState(up, error);
  }

  private onResponse(b: Buffer, stream: GrpcStream): void {
    let r;
    try {
      r = decodeWatchResponse(b, this.h.knownValue);
    } catch (e) {
      // A response we cannot read: drop this stream and resume from the last revision.
      stream.cancel();
      this.stream = undefined;
      this.setUp(false, `cannot decode an etcd watch response: ${(e as Error).message}`);
      this.retry('decode');
      return;
    }
    if (r.created) {
      this.backoffMs = 50;
      this.setUp(true);
    }
    if (r.canceled) {
      this.stream = undefined;
      stream.cancel();
      if (r.compactRevision > 0) {
        this.setUp(false, `etcd compacted revision ${r.compactRevision} before the watch could read it`);
        this.h.onCompacted(r.compactRevision);
        return;
      }
      this.setUp(false, `etcd canceled the watch: ${r.cancelReason || 'no reason given'}`);
      this.retry('canceled');
      return;
    }
    if (r.fragment) {
      for (const ev of r.events) this.fragments.push(ev);
      return;
    }
    let events = r.events;
    if (this.fragments.length) {
      events = this.fragments.concat(events);
      this.fragments = [];
    }
    if (events.length > 0) {
      // After a reconnect etcd starts at last+1, so nothing arrives twice; be safe anyway.
      let i = 0;
      while (i < events.length && events[i].kv.modRevision <= this.last) i++;
      if (i > 0) events = events.slice(i);
      if (events.length === 0) return;
      const rev = events[events.length - 1].kv.modRevision;
      this.last = rev;
      this.h.onEvents(events, rev);
      return;
    }
    if (r.created) return;
    // A progress notification: periodic ones carry our watch id, requested ones -1.
    const requested = r.watchId !== WATCH_ID;
    if (requested) this.progressAsked = false;
    const rev = r.header.revision;
    if (rev > this.last && !requested) this.last = rev;
    this.h.onProgress(rev, requested);
  }
}
