// The page's side of the data worker: the overview and node summaries it sends, merged once per
// animation frame, and subscriptions to windows of long lists or flows.

import { useEffect, useState } from 'preact/hooks';
import { DETAIL_NODES, NODE_TABLE, type FromWorker, type NodeSummary, type Overview, type Query, type Ref, type ToWorker } from '../shared/types.ts';
import { apiAnswer, apiFetch } from '../shared/http.ts';
import { nodeSummariesFromTable } from '../worker/summaries.ts';

type Listener = () => void;

export class Store {
  private worker?: Worker;
  overview?: Overview;
  readonly nodes = new Map<string, NodeSummary>();
  private sortedNodes?: NodeSummary[];
  private readonly nodeIndex = new Map<string, number>();
  /** Bumped on every merged batch: views compare it to know they must draw again. */
  version = 0;
  nodesVersion = 0;
  private listeners = new Set<Listener>();
  private frame = 0;
  private nextId = 1;
  private results = new Map<number, (data: unknown) => void>();
  onAuthFailed?: (message: string) => void;
  onFollowed?: (root: Ref) => void;

  /** A worker made ahead of time: its script loads and compiles while the page checks the login. */
  private spare?: Worker;

  prepare(): void {
    // index.html's inline script started one as the page was parsed (see build.mjs).
    const w = globalThis as { __mizzenWorker?: Worker };
    this.spare ??= w.__mizzenWorker ?? new Worker(new URL('../worker/main.ts', import.meta.url), { type: 'module' });
    w.__mizzenWorker = undefined;
  }

  /** The nodes' Table, asked for as the page starts (before the worker is up), for the first start. */
  private early?: { token: string | undefined; response: Promise<Response>; drawn: Promise<{ body?: ArrayBuffer; drawn: boolean }> };

  prefetchNodeTable(token: string | undefined): void {
    // index.html's inline script asked for it already, as the page was parsed.
    const boot = (globalThis as { __mizzenNodeTable?: { token?: string; response: Promise<Response>; body?: Promise<ArrayBuffer | undefined>; ok?: boolean; buffer?: ArrayBuffer } }).__mizzenNodeTable;
    (globalThis as { __mizzenNodeTable?: unknown }).__mizzenNodeTable = undefined;
    const mine = boot && boot.token === token ? boot : undefined;
    this.acceptedEarly = mine?.ok === true;
    const response = mine ? apiAnswer(mine.response) : apiFetch(NODE_TABLE.path, { token, headers: { Accept: NODE_TABLE.accept } });
    response.catch(() => {});
    // The inline script reads the body as it comes (an older page's did not).
    const body = mine?.body
      ? mine.body.then((b) => b, () => undefined)
      : response.then(
          (r) => r.arrayBuffer().then((b) => (performance.mark('mizzen:table-body'), b)),
          () => undefined,
        );
    // Drawn as soon as it is in, before the login check and the worker's start (the app's first
    // effects run after its first frame): a Table answered is credentials accepted, and the map
    // is shown only once the check says so. start() hands the body to the worker after.
    // Already in (the usual case at 5,000 nodes: the app's script comes after the Table): drawn
    // now, so the app's first render has the map.
    const now = mine?.buffer ? { body: mine.buffer, drawn: this.drawTable(mine.buffer) } : undefined;
    const drawn = now ? Promise.resolve(now) : body.then((b) => ({ body: b, drawn: !!b && this.drawTable(b) }));
    this.early = { token, response, drawn };
  }

  /**
   * Whether the early Table was answered (2xx) before the app's script ran: these credentials are
   * accepted, and the app shows the map at once rather than after its login check's round of
   * effects and frames (the check still runs).
   */
  acceptedEarly = false;

  /** The early Table's answer, for these credentials: it tells whether they are accepted. */
  earlyAnswer(token: string | undefined): Promise<Response> | undefined {
    return this.early && this.early.token === token ? this.early.response : undefined;
  }

  start(token: string | undefined): void {
    const early = this.early?.token === token ? this.early : undefined;
    this.early = undefined;
    // The first start keeps what the early Table drew (there is no worker yet to stop).
    if (!early || this.worker) this.stop();
    this.prepare();
    this.worker = this.spare!;
    this.spare = undefined;
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.send({ t: 'init', token, nodeTable: !!early });
    if (early) {
      const worker = this.worker;
      void early.drawn.then(({ body, drawn }) => {
        if (this.worker !== worker) return;
        worker.postMessage({ t: 'nodeTable', body, drawn } satisfies ToWorker, body ? [body] : []);
      });
    }
  }

  /** Node counts the page drew from the Table itself, shown until the worker knows the nodes. */
  private tableCounts?: Overview['nodes'];

  /**
   * The first paint: every node with its health, from the nodes' Table, on the page itself as
   * soon as its body is in (parsing 5,000 rows takes a few milliseconds). Through the worker it
   * took a hand-over of the body, the worker's parse, its batch and four messages back, each
   * waiting for a thread on a busy machine (0.6-1.4 s at 5,000 nodes under load 15-27). The
   * worker still gets the body, and does not send these nodes again (`drawn`).
   */
  private drawTable(body: ArrayBuffer): boolean {
    if (this.nodes.size) return false;
    let table: any;
    try {
      table = JSON.parse(new TextDecoder().decode(body));
    } catch {
      return false;
    }
    if (table?.kind !== 'Table') return false;
    const bases = nodeSummariesFromTable(table);
    performance.mark('mizzen:table-parsed', { detail: { nodes: bases.length } });
    if (!bases.length) return false;
    const counts = { total: bases.length, ready: 0, notReady: 0, unknown: 0, simulated: 0 };
    for (const b of bases) {
      this.nodes.set(b.name, { ...b, pods: 0, running: 0, pending: 0, failed: 0, succeeded: 0, cpuRequested: 0, memoryRequested: 0 });
      if (b.health === 'Ready') counts.ready++;
      else if (b.health === 'NotReady') counts.notReady++;
      else counts.unknown++;
    }
    this.sortedNodes = undefined;
    this.nodesVersion++;
    this.tableCounts = counts;
    this.overview = this.withTableCounts(this.overview ?? firstOverview());
    // Rendered now rather than at the next animation frame: the frame that follows paints it.
    this.flush();
    return true;
  }

  /** The worker's overview, with the Table's node counts while the worker has none yet. */
  private withTableCounts(ov: Overview): Overview {
    const t = this.tableCounts;
    if (!t) return ov;
    if (ov.nodes.total > 0 || (ov.resources.nodes && ov.resources.nodes.state !== 'loading')) {
      this.tableCounts = undefined;
      return ov;
    }
    return { ...ov, nodes: t, detailed: ov.detailed && t.total <= DETAIL_NODES };
  }

  stop(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.overview = undefined;
    this.tableCounts = undefined;
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
        this.overview = this.withTableCounts(m.overview);
        break;
      case 'nodes': {
        // Changed nodes keep their place in the sorted list; only new or removed ones re-sort it.
        let reorder = m.remove.length > 0;
        for (const n of m.upsert) {
          const at = this.nodeIndex.get(n.name);
          if (at === undefined || !this.sortedNodes) reorder = true;
          else this.sortedNodes[at] = n;
          this.nodes.set(n.name, n);
        }
        for (const r of m.remove) this.nodes.delete(r);
        if (reorder) this.sortedNodes = undefined;
        this.nodesVersion++;
        break;
      }
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
    if (!this.sortedNodes) {
      this.sortedNodes = naturalSort([...this.nodes.values()]);
      this.nodeIndex.clear();
      this.sortedNodes.forEach((n, i) => this.nodeIndex.set(n.name, i));
    }
    return this.sortedNodes;
  }

  /** Tell the views now, not at the next frame (a pending frame's call is dropped). */
  private flush(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.version++;
    for (const l of this.listeners) l();
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

/** The overview before the worker's first: nothing known but the nodes of the Table. */
function firstOverview(): Overview {
  return {
    connection: { state: 'connecting', since: Date.now(), attempts: 0 },
    skewMs: 0,
    resources: { nodes: { state: 'loading', count: 0 } },
    nodes: { total: 0, ready: 0, notReady: 0, unknown: 0, simulated: 0 },
    pods: { total: 0, running: 0, pending: 0, unscheduled: 0, succeeded: 0, failed: 0, terminating: 0, orphaned: 0 },
    components: [],
    activity: {},
    queue: [],
    orphans: {},
    detailed: true,
  };
}

/**
 * Nodes by name in natural order, each name split once into its text and its number at the end
 * (most names are PREFIX-N): comparing those is cheap, and naturalCompare is left for the rest.
 * naturalCompare alone took ~0.1 s of the page's main thread for 5,000 names under load.
 */
export function naturalSort<T extends { name: string }>(items: T[]): T[] {
  const keyed = items.map((item) => {
    const m = /^(.*?)(\d{1,15})$/.exec(item.name);
    return { item, head: m ? m[1]! : item.name, num: m ? Number(m[2]) : -1, plain: !m || /\d/.test(m[1]!) || m[2]!.length > 1 && m[2]![0] === '0' };
  });
  keyed.sort((a, b) => {
    if (a.plain || b.plain || a.head !== b.head) return naturalCompare(a.item.name, b.item.name);
    return a.num - b.num;
  });
  return keyed.map((k) => k.item);
}

/**
 * Names in natural order (sim-2 before sim-10). Hand-written: Intl.Collator's numeric compare took
 * ~0.4 s to sort 5,000 node names on the page's main thread.
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    const da = ca >= 48 && ca <= 57;
    const db = cb >= 48 && cb <= 57;
    if (da && db) {
      let ei = i;
      while (ei < a.length && a.charCodeAt(ei) >= 48 && a.charCodeAt(ei) <= 57) ei++;
      let ej = j;
      while (ej < b.length && b.charCodeAt(ej) >= 48 && b.charCodeAt(ej) <= 57) ej++;
      const na = Number(a.slice(i, ei));
      const nb = Number(b.slice(j, ej));
      if (na !== nb) return na - nb;
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  return a.length - i - (b.length - j);
}

export const store = new Store();

/** Re-render on every merged batch from the worker. */
export function useStore(): Store {
  const [, setV] = useState(0);
  const seen = store.version;
  useEffect(() => {
    const off = store.listen(() => setV(store.version));
    // A change between this render and this effect (e.g. the first Table drawn) had no listener.
    if (store.version !== seen) setV(store.version);
    return off;
  }, []);
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
