// The page's side of the data worker: the overview and node summaries it sends, merged once per
// animation frame, and subscriptions to windows of long lists or flows.

import { useEffect, useState } from 'preact/hooks';
import type { FromWorker, NodeSummary, Overview, Query, Ref, ToWorker } from '../shared/types.ts';

type Listener = () => void;

export class Store {
  private worker?: Worker;
  overview?: Overview;
  readonly nodes = new Map<string, NodeSummary>();
  private sortedNodes?: NodeSummary[];
  /** Bumped on every merged batch: views compare it to know they must draw again. */
  version = 0;
  nodesVersion = 0;
  private listeners = new Set<Listener>();
  private frame = 0;
  private nextId = 1;
  private results = new Map<number, (data: unknown) => void>();
  onAuthFailed?: (message: string) => void;
  onFollowed?: (root: Ref) => void;

  start(token: string | undefined): void {
    this.stop();
    this.worker = new Worker(new URL('../worker/main.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.send({ t: 'init', token });
  }

  stop(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.overview = undefined;
    this.nodes.clear();
    this.sortedNodes = undefined;
    this.changed();
  }

  send(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  private receive(m: FromWorker): void {
    switch (m.t) {
      case 'overview':
        this.overview = m.overview;
        break;
      case 'nodes':
        for (const n of m.upsert) this.nodes.set(n.name, n);
        for (const r of m.remove) this.nodes.delete(r);
        this.sortedNodes = undefined;
        this.nodesVersion++;
        break;
      case 'result':
        this.results.get(m.id)?.(m.data);
        return;
      case 'auth':
        this.onAuthFailed?.(m.message);
        return;
      case 'followed':
        this.onFollowed?.(m.root);
        return;
    }
    this.changed();
  }

  /** Nodes by name (natural order: sim-2 before sim-10). */
  nodeList(): NodeSummary[] {
    this.sortedNodes ??= [...this.nodes.values()].sort((a, b) => collator.compare(a.name, b.name));
    return this.sortedNodes;
  }

  private changed(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.version++;
      for (const l of this.listeners) l();
    });
  }

  listen(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  query(query: Query, onData: (d: unknown) => void): { update(q: Query): void; close(): void } {
    const id = this.nextId++;
    this.results.set(id, onData);
    this.send({ t: 'subscribe', id, query });
    return {
      update: (q) => this.send({ t: 'subscribe', id, query: q }),
      close: () => {
        this.results.delete(id);
        this.send({ t: 'unsubscribe', id });
      },
    };
  }
}

export const collator = new Intl.Collator(undefined, { numeric: true });

export const store = new Store();

/** Re-render on every merged batch from the worker. */
export function useStore(): Store {
  const [, setV] = useState(0);
  useEffect(() => store.listen(() => setV(store.version)), []);
  return store;
}

/** A live query; re-sent when its key changes. */
export function useQuery<T>(query: Query | undefined): T | undefined {
  const [data, setData] = useState<T | undefined>(undefined);
  const key = query ? JSON.stringify(query) : '';
  useEffect(() => {
    if (!query) return;
    const h = store.query(query, (d) => setData(d as T));
    return () => h.close();
  }, [key]);
  return data;
}
