// Service ClusterIPs and NodePorts when several API servers share one etcd. Each server allocates
// from its own in-memory view (ServiceAllocators), which follows every Service change through
// the services watch cache; to make an allocation its own, it also creates a claim key in
// storage, which only one server can create (a create guarded by "does not exist", like
// upstream's IPAddress objects; upstream's older RangeAllocation bitmap serialised every
// allocation behind one compare-and-swap). A server that loses a race picks another value.
//
// Claims are freed when their Service is deleted. What a crash or a failed update leaves behind
// is found by a repair pass (at start and every 3 minutes, as upstream's repair controllers):
// a claim that no Service uses in two passes in a row is deleted, and a Service value without a
// claim (a store migrated from SQLite, or written before claims existed) gets one.

import { errors } from '../machinery/errors.ts';
import { StorageError, type Store } from '../storage/store.ts';
import type { ClaimStore, ServiceAllocators } from '../api/core/service-allocator.ts';
import type { KObject } from '../api/types.ts';

export const CLAIM_PREFIX = { ip: '/registry/mizzen.dev/serviceipclaims/', port: '/registry/mizzen.dev/nodeportclaims/' } as const;

const REPAIR_INTERVAL_MS = 3 * 60_000;

export class StoreClaims implements ClaimStore {
  constructor(
    private readonly store: Store,
    private readonly log: (msg: string) => void,
  ) {}

  async claim(kind: 'ip' | 'port', value: string, owner: string): Promise<boolean> {
    try {
      await this.store.create(CLAIM_PREFIX[kind] + value, JSON.stringify({ owner }));
      return true;
    } catch (e) {
      if (e instanceof StorageError && e.code === 'Exists') return false;
      throw errors.serviceUnavailable(`cannot allocate: ${(e as Error).message}`, 1);
    }
  }

  unclaim(kind: 'ip' | 'port', value: string): void {
    this.store.delete(CLAIM_PREFIX[kind] + value).catch((e) => {
      // A claim that stays behind is removed by the next repairs.
      if (!(e instanceof StorageError && e.code === 'NotFound')) this.log(`cannot free the ${kind} claim ${value}: ${(e as Error).message}`);
    });
  }
}

/** What the claims need from the services watch cache. */
export interface ServicesView {
  list(): KObject[];
  /** Follow changes (any server's) from now on. */
  watch(cb: (before: KObject | undefined, after: KObject | undefined) => void): { stop(): void };
  /** Catch up with storage (other servers' writes). */
  sync(): Promise<void>;
}

export function enableServiceClaims(store: Store, allocators: ServiceAllocators, services: ServicesView, log: (msg: string) => void): { stop(): void; repair(): Promise<void> } {
  allocators.useClaims(new StoreClaims(store, log));
  const follow = services.watch((before, after) => allocators.observe(before, after));
  // Claims seen unused at the previous pass, with their revision then.
  let unused = new Map<string, number>();

  const repair = async () => {
    await services.sync();
    const used = new Set<string>();
    for (const s of services.list()) {
      const { ips, ports } = allocators.held(s);
      for (const off of ips) used.add(CLAIM_PREFIX.ip + allocators.ipAt(off));
      for (const p of ports) used.add(CLAIM_PREFIX.port + p);
    }
    const claims = new Map<string, number>();
    for (const prefix of Object.values(CLAIM_PREFIX)) for (const kv of (await store.list(prefix)).items) claims.set(kv.key, kv.modRevision);
    for (const key of used) {
      if (claims.has(key)) continue;
      await store.create(key, JSON.stringify({ owner: 'repair' })).catch((e) => {
        if (!(e instanceof StorageError && e.code === 'Exists')) throw e;
      });
    }
    const next = new Map<string, number>();
    for (const [key, rev] of claims) {
      if (used.has(key)) continue;
      if (unused.get(key) === rev) {
        await store.delete(key, rev).catch((e) => {
          if (!(e instanceof StorageError && (e.code === 'NotFound' || e.code === 'Conflict'))) throw e;
        });
      } else next.set(key, rev);
    }
    unused = next;
  };

  const run = () =>
    repair().catch((e) => log(`service allocation repair failed (it runs again in 3 minutes): ${(e as Error).message}`));
  void run();
  const timer = setInterval(run, REPAIR_INTERVAL_MS);
  timer.unref?.();
  return {
    repair,
    stop() {
      clearInterval(timer);
      follow.stop();
    },
  };
}
