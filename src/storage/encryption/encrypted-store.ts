// A Store that encrypts the values of chosen keys on the way in and decrypts them on the way out,
// so that everything above it (watch caches, the registry) sees plain JSON. Keys read with another
// provider than the first are "stale": the registry rewrites them even when an update changes
// nothing, which is how `kubectl get secrets -A -o json | kubectl replace -f -` moves every Secret
// to the new first key, as upstream.

import { StorageError, type KeyValue, type ListResult, type Store, type StoreEvent, type WatchHandle } from '../store.ts';
import type { ProviderChain } from './providers.ts';

export class EncryptedStore implements Store {
  private readonly stale = new Set<string>();

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

  private seal(key: string, value: string): string {
    const chain = this.chainFor(key);
    this.stale.delete(key);
    return chain ? chain.encrypt(value, key) : value;
  }

  private open(kv: KeyValue): KeyValue;
  private open(kv: KeyValue | undefined): KeyValue | undefined;
  private open(kv: KeyValue | undefined): KeyValue | undefined {
    if (!kv) return kv;
    const chain = this.chainFor(kv.key);
    if (!chain) return kv;
    let r: { plain: string; stale: boolean };
    try {
      r = chain.decrypt(kv.value, kv.key);
    } catch (e) {
      throw new StorageError('Unavailable', kv.key, `failed to decrypt ${kv.key}: ${(e as Error).message}`);
    }
    if (r.stale) this.stale.add(kv.key);
    else this.stale.delete(kv.key);
    return { ...kv, value: r.plain };
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
    return { revision: r.revision, items: r.items.map((kv) => this.open(kv)) };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    const kv = await this.inner.update(key, this.seal(key, value), expectedRevision);
    return { ...kv, value };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    const kv = this.open(await this.inner.delete(key, expectedRevision));
    this.stale.delete(key);
    return kv;
  }

  watch(prefix: string, fromRevision: number, onEvent: (ev: StoreEvent) => void, onLost?: (err: StorageError) => void): WatchHandle {
    return this.inner.watch(
      prefix,
      fromRevision,
      (ev) => {
        const kv = this.chainFor(ev.kv.key) ? this.openQuietly(ev.kv) : ev.kv;
        const prev = ev.prev && this.chainFor(ev.prev.key) ? this.openQuietly(ev.prev) : ev.prev;
        onEvent(kv === ev.kv && prev === ev.prev ? ev : { ...ev, kv, prev });
      },
      onLost,
    );
  }

  /** In a watch, an undecryptable value cannot be refused; it is passed on as stored (and fails to decode there). */
  private openQuietly(kv: KeyValue): KeyValue {
    try {
      return this.open(kv);
    } catch {
      return kv;
    }
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
