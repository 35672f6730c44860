// The informer side of cluster DNS: Services, EndpointSlices and (optionally) pods from informer
// caches, turned into ServiceEntry/PodEntry updates for the zone. Handlers only note a key; one
// flush per turn of the event loop recomputes those keys from the caches and sends what changed
// (compared with what was sent before), in one batch.

import type { KObject } from '../api/types.ts';
import type { Informer, InformerFactory } from '../client/informer.ts';
import { podEntry, serviceEntry, type EndpointSliceLike, type ZoneUpdate } from './entries.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const BY_SERVICE = 'dns:byService';

export interface ZoneSink {
  apply(updates: ZoneUpdate[]): void;
}

export interface ZoneFeedOptions {
  /** Watch pods for pod PTR records and `verified` pod names (default true). */
  pods?: boolean;
  log?: (msg: string) => void;
}

const keyOf = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

export class ZoneFeed {
  private readonly services: Informer<KObject>;
  private readonly slices: Informer<KObject>;
  private readonly pods?: Informer<KObject>;
  private dirtyServices = new Set<string>();
  private dirtyPods = new Set<string>();
  private sent = new Map<string, string>();
  private scheduled = false;
  private stopped = false;
  private regs: { remove(): void }[] = [];

  constructor(
    informers: InformerFactory,
    private readonly sink: ZoneSink,
    opts: ZoneFeedOptions = {},
  ) {
    this.services = informers.informerFor({ version: 'v1', resource: 'services' });
    this.slices = informers.informerFor<KObject>({
      group: 'discovery.k8s.io',
      version: 'v1',
      resource: 'endpointslices',
      indexers: {
        [BY_SERVICE]: (s) => {
          const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
          return svc ? [`${s.metadata.namespace}/${svc}`] : [];
        },
      },
    });
    if (opts.pods !== false) this.pods = informers.informerFor({ version: 'v1', resource: 'pods' });
    const svcKey = (o: KObject) => this.markService(keyOf(o));
    this.regs.push(this.services.addEventHandler({ onAdd: svcKey, onUpdate: (_o, n) => svcKey(n), onDelete: svcKey }));
    const sliceKey = (o: KObject) => {
      const svc = o.metadata.labels?.[SERVICE_NAME_LABEL];
      if (svc) this.markService(`${o.metadata.namespace}/${svc}`);
    };
    this.regs.push(
      this.slices.addEventHandler({
        onAdd: sliceKey,
        onUpdate: (o, n) => {
          sliceKey(o);
          sliceKey(n);
        },
        onDelete: sliceKey,
      }),
    );
    if (this.pods) {
      const podKey = (o: KObject) => this.markPod(keyOf(o));
      this.regs.push(this.pods.addEventHandler({ onAdd: podKey, onUpdate: (_o, n) => podKey(n), onDelete: podKey }));
    }
  }

  /** Resolves once every informer this feed reads has synced and the first batch went out. */
  async synced(): Promise<void> {
    await Promise.all([this.services.waitForSync(), this.slices.waitForSync(), this.pods?.waitForSync()]);
    this.flush();
  }

  stop(): void {
    this.stopped = true;
    for (const r of this.regs) r.remove();
  }

  private markService(key: string): void {
    this.dirtyServices.add(key);
    this.schedule();
  }

  private markPod(key: string): void {
    this.dirtyPods.add(key);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const updates: ZoneUpdate[] = [];
    for (const key of this.dirtyServices) {
      const svc = this.services.indexer.getByKey(key);
      const entry = svc ? serviceEntry(svc as any, this.slices.indexer.byIndex(BY_SERVICE, key) as unknown as EndpointSliceLike[]) : undefined;
      this.push(updates, `s:${key}`, entry, () => ({ kind: 'service', key, entry }));
    }
    this.dirtyServices.clear();
    if (this.pods) {
      for (const key of this.dirtyPods) {
        const pod = this.pods.indexer.getByKey(key);
        const entry = pod ? podEntry(pod as any) : undefined;
        this.push(updates, `p:${key}`, entry, () => ({ kind: 'pod', key, entry }));
      }
    }
    this.dirtyPods.clear();
    if (updates.length) this.sink.apply(updates);
  }

  /** Queue an update unless the zone already has exactly this entry. */
  private push(updates: ZoneUpdate[], id: string, entry: object | undefined, make: () => ZoneUpdate): void {
    const text = entry ? JSON.stringify(entry) : undefined;
    if (this.sent.get(id) === text) return;
    if (text === undefined) this.sent.delete(id);
    else this.sent.set(id, text);
    updates.push(make());
  }
}
