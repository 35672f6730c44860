// A Store that encrypts the values of chosen keys on the way in and decrypts them on the way out,
// so that everything above it (watch caches, the registry) sees plain JSON. Keys read with another
// provider than the first are "stale": the registry rewrites them even when an update changes
// nothing, which is how `kubectl get secrets -A -o json | kubectl replace -f -` moves every Secret
// to the new first key, as upstream. A value no provider can decrypt does not stop anything else:
// lists (the watch caches' start-up included) leave it out and remember why, and the registry
// answers reads of it with an internal error naming the key, as upstream fails only those reads.

import { StorageError, type KeyValue, type ListResult, type Store, type StoreEvent, type WatchHandle } from '../store.ts';
import type { ProviderChain } from './providers.ts';

export class EncryptedStore implements Store {
  private readonly stale = new Set<string>();
  /** Keys whose stored value could not be decrypted, with the reason (until rewritten or deleted). */
  private readonly broken = new Map<string, string>();

  constructor(
    private readonly inner: Store,
    /** The providers for a key, or undefined when its resource is stored as it is. */
    private readonly chainFor: (key: string) => ProviderChain | undefined,
  ) {}

  get shared(): boolean | undefined {
    return this.inner.shared;
  }

  /** Whether the key's stored value was written by another provider than the current first one. */
  isStale(key: string): boolean {
    return this.stale.has(key);
  }

  unreadable(prefix: string): { key: string; reason: string }[] {
    const out: { key: string; reason: string }[] = [];
    for (const [key, reason] of this.broken) if (key === prefix || key.startsWith(prefix)) out.push({ key, reason });
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  private seal(key: string, value: string): string {
    const chain = this.chainFor(key);
    this.stale.delete(key);
    this.broken.delete(key);
    return chain ? chain.encrypt(value, key) : value;
  }

  /** The value decrypted, or the reason it cannot be; records staleness, not brokenness. */
  private decrypt(kv: KeyValue): KeyValue | string {
    const chain = this.chainFor(kv.key);
    if (!chain) return kv;
    let r: { plain: string; stale: boolean };
    try {
      r = chain.decrypt(kv.value, kv.key);
    } catch (e) {
      return (e as Error).message;
    }
    if (r.stale) this.stale.add(kv.key);
    else this.stale.delete(kv.key);
    return { ...kv, value: r.plain };
  }

  /** A current value decrypted, or undefined when it cannot be (remembered as unreadable). */
  private tryOpen(kv: KeyValue): KeyValue | undefined {
    const r = this.decrypt(kv);
    if (typeof r === 'string') {
      this.broken.set(kv.key, r);
      return undefined;
    }
    this.broken.delete(kv.key);
    return r;
  }

  private open(kv: KeyValue | undefined): KeyValue | undefined {
    if (!kv) return kv;
    const r = this.tryOpen(kv);
    if (!r) throw new StorageError('Unavailable', kv.key, `unable to transform key ${JSON.stringify(kv.key)}: ${this.broken.get(kv.key)}`);
    return r;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const kv = await this.inner.create(key, this.seal(key, value));
    return { ...kv, value };
  }

  async get(key: string): Promise<KeyValue | undefined> {
    return this.open(await this.inner.get(key));
  }

  async list(prefix: string): Promise<ListResult> {
    const r = await this.inner.list(prefix);
    const items: KeyValue[] = [];
    for (const kv of r.items) {
      // Undecryptable: left out (tryOpen remembered why), so the rest of the list is served.
      const plain = this.tryOpen(kv);
      if (plain) items.push(plain);
    }
    return { revision: r.revision, items };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    const kv = await this.inner.update(key, this.seal(key, value), expectedRevision);
    return { ...kv, value };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    const deleted = await this.inner.delete(key, expectedRevision);
    this.stale.delete(key);
    this.broken.delete(key);
    const kv = this.decrypt(deleted);
    return typeof kv === 'string' ? deleted : kv;
  }

  watch(prefix: string, fromRevision: number, onEvent: (ev: StoreEvent) => void, onLost?: (err: StorageError) => void): WatchHandle {
    return this.inner.watch(
      prefix,
      fromRevision,
      (ev) => {
        if (!this.chainFor(ev.kv.key)) return onEvent(ev);
        const prev = ev.prev ? this.decrypt(ev.prev) : undefined;
        if (ev.type === 'DELETED') {
          this.broken.delete(ev.kv.key);
          const kv = this.decrypt(ev.kv);
          // A deleted value nobody can read: its watchers hear of the delete through the last readable one.
          if (typeof kv === 'string') return typeof prev === 'object' ? onEvent({ ...ev, kv: { ...prev, modRevision: ev.revision }, prev }) : undefined;
          return onEvent({ ...ev, kv, prev: typeof prev === 'object' ? prev : undefined });
        }
        const kv = this.tryOpen(ev.kv);
        if (kv) return onEvent({ ...ev, kv, prev: typeof prev === 'object' ? prev : undefined });
        // Written elsewhere with a key this server lacks: the object leaves the cache (reads of
        // it answer with the reason), as a delete of its last readable value.
        if (typeof prev === 'object') onEvent({ type: 'DELETED', kv: { ...prev, modRevision: ev.revision }, prev, revision: ev.revision });
      },
      onLost,
    );
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }

  get committedRevision(): (() => number) | undefined {
    const f = this.inner.committedRevision;
    return f ? () => f.call(this.inner) : undefined;
  }

  compactedRevision(): number {
    return this.inner.compactedRevision();
  }

  compact(revision: number): Promise<void> {
    return this.inner.compact(revision);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  get checkHealth(): (() => Promise<string | undefined>) | undefined {
    const f = this.inner.checkHealth;
    return f ? () => f.call(this.inner) : undefined;
  }
}
