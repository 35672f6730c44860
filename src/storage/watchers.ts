// Fan-out of events to prefix watchers: the store backends' StoreEvents, and the watch cache's own
// events to the API server's watches.

import type { StoreEvent, WatchHandle } from './store.ts';

interface Watcher<E> {
  prefix: string;
  /** Events at or below this revision are not delivered (a watch may start ahead of the store). */
  after: number;
  onEvent: (ev: E) => void;
  stopped: boolean;
}

export class WatcherSet<E extends { revision: number } = StoreEvent> {
  // Replaced (never mutated) on add/remove so an emit in progress keeps a stable view.
  private watchers: Watcher<E>[] = [];

  /**
   * keyOf: the storage key an event is about. owner: how a failing handler is named in the log
   * (given the handler's prefix).
   */
  constructor(
    private readonly keyOf: (ev: E) => string = (ev) => (ev as unknown as StoreEvent).kv.key,
    private readonly owner: (prefix: string) => string = (prefix) => `storage: watch handler for ${JSON.stringify(prefix)}`,
  ) {}

  get size(): number {
    return this.watchers.length;
  }

  add(prefix: string, after: number, onEvent: (ev: E) => void): WatchHandle {
    const w: Watcher<E> = { prefix, after, onEvent, stopped: false };
    this.watchers = [...this.watchers, w];
    return {
      stop: () => {
        if (w.stopped) return;
        w.stopped = true;
        this.watchers = this.watchers.filter((x) => x !== w);
      },
    };
  }

  /** True if some watcher would receive an event for key (lets writers skip work nobody needs). */
  interested(key: string): boolean {
    for (const w of this.watchers) if (key.startsWith(w.prefix)) return true;
    return false;
  }

  emit(ev: E): void {
    const list = this.watchers;
    const key = this.keyOf(ev);
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      if (w.stopped || ev.revision <= w.after || !key.startsWith(w.prefix)) continue;
      try {
        w.onEvent(ev);
      } catch (e) {
        // A broken watcher must not break the write path or other watchers.
        console.error(`${this.owner(w.prefix)} threw:`, e);
      }
    }
  }

  clear(): void {
    for (const w of this.watchers) w.stopped = true;
    this.watchers = [];
  }
}
