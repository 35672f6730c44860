// Fan-out of store events to prefix watchers, shared by the store backends.

import type { StoreEvent, WatchHandle } from './store.ts';

interface Watcher {
  prefix: string;
  /** Events at or below this revision are not delivered (a watch may start ahead of the store). */
  after: number;
  onEvent: (ev: StoreEvent) => void;
  stopped: boolean;
}

export class WatcherSet {
  // Replaced (never mutated) on add/remove so an emit in progress keeps a stable view.
  private watchers: Watcher[] = [];

  get size(): number {
    return this.watchers.length;
  }

  add(prefix: string, after: number, onEvent: (ev: StoreEvent) => void): WatchHandle {
    const w: Watcher = { prefix, after, onEvent, stopped: false };
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

  emit(ev: StoreEvent): void {
    const list = this.watchers;
    const key = ev.kv.key;
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      if (w.stopped || ev.revision <= w.after || !key.startsWith(w.prefix)) continue;
      try {
        w.onEvent(ev);
      } catch (e) {
        // A broken watcher must not break the write path or other watchers.
        console.error(`storage: watch handler for ${JSON.stringify(w.prefix)} threw:`, e);
      }
    }
  }

  clear(): void {
    for (const w of this.watchers) w.stopped = true;
    this.watchers = [];
  }
}
