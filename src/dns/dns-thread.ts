// Zone + forwarder + server, as one unit that runs on the DNS worker thread (or, for comparison and
// for callers that want no thread, on the caller's).

import type { ZoneUpdate } from './entries.ts';
import { Forwarder, type Upstream } from './forwarder.ts';
import { performance } from 'node:perf_hooks';
import { DnsServer, type DnsStats, type ListenAddress } from './server.ts';
import { ClusterZone, type PodMode } from './zone.ts';

export interface DnsThreadConfig {
  domain: string;
  ttl?: number;
  pods?: PodMode;
  listen: ListenAddress[];
  upstreams: Upstream[];
  forwardTimeoutMs?: number;
  /** Encoded answers kept (see DnsServer); 0 turns the cache off. */
  cacheSize?: number;
}

export type DnsThreadStats = DnsStats & { services: number; activeMs: number; idleMs: number };

export type ToDnsThread = { type: 'updates'; updates: ZoneUpdate[] } | { type: 'stats'; id: number } | { type: 'close' };

/** The zone fed in batches (a ZoneSink). */
export class BatchZone {
  constructor(readonly zone: ClusterZone) {}
  apply(updates: ZoneUpdate[]): void {
    for (const u of updates) this.zone.apply(u);
  }
}

export class DnsThread {
  readonly zone: BatchZone;
  private readonly forwarder: Forwarder;
  private readonly server: DnsServer;

  constructor(
    private readonly cfg: DnsThreadConfig,
    log: (msg: string) => void,
  ) {
    const zone = new ClusterZone({ domain: cfg.domain, ttl: cfg.ttl, pods: cfg.pods });
    this.zone = new BatchZone(zone);
    this.forwarder = new Forwarder({ upstreams: cfg.upstreams, timeoutMs: cfg.forwardTimeoutMs, log });
    this.server = new DnsServer({ zone, forwarder: this.forwarder, cacheSize: cfg.cacheSize, log });
  }

  start(): Promise<ListenAddress[]> {
    return this.server.listen(this.cfg.listen);
  }

  /** Counters, and this thread's event-loop busy/idle time (ms) so far: its CPU share per query. */
  stats(): DnsThreadStats {
    const elu = performance.eventLoopUtilization();
    return { ...this.server.stats, services: this.zone.zone.serviceCount, activeMs: elu.active, idleMs: elu.idle };
  }

  async close(): Promise<void> {
    this.forwarder.close();
    await this.server.close();
  }
}
