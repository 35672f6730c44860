// The page's side of the data worker: the overview and node summaries it sends, merged once per
// animation frame, and subscriptions to windows of long lists or flows.

import { useEffect, useState } from 'preact/hooks';
import { COUNT_FIELDS, DETAIL_NODES, NODE_TABLE, type FromWorker, type NodeSummary, type Overview, type Query, type Ref, type ToWorker } from '../shared/types.ts';
import { apiAnswer, apiFetch } from '../shared/http.ts';
import { nodeSummariesFromTable } from '../worker/summaries.ts';
import { naturalSort } from '../shared/natural-sort.ts';

export { naturalCompare, naturalSort } from '../shared/natural-sort.ts';

type Listener = () => void;

/** What index.html's inline scripts leave for the app: the nodes' Table and its first paint. */
interface Boot {
  token?: string;
  response: Promise<Response>;
  body?: Promise<ArrayBuffer | undefined>;
  /** The Table was answered 2xx (set when its headers came). */
  ok?: boolean;
  buffer?: ArrayBuffer;
  /** The first paint's outcome, after the frame that showed it (src/first-paint). */
  paint?: Promise<{ nodes?: NodeSummary[]; painted: boolean }>;
  /** The data worker, told to start by the inline script when the Table came, and its messages since. */
  worker?: { worker: Worker; queue: FromWorker[] };
  /** The same, once settled. */
  painted?: { nodes?: NodeSummary[]; painted: boolean };
}

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
    // index.html's inline script started the worker itself (its watches): start() takes it.
    if (this.spare || this.boot?.worker) return;
    // Older pages' inline scripts started one as the page was parsed; index.html's now starts
    // it after the first paint (boot.worker) or, when the Table was not drawn, leaves it to this.
    const w = globalThis as { __mizzenWorker?: Worker };
    this.spare ??= w.__mizzenWorker ?? new Worker(new URL('../worker/main.ts', import.meta.url), { type: 'module' });
    w.__mizzenWorker = undefined;
  }

  /** What index.html's inline scripts left for these credentials. */
  private boot?: Boot;

  /** The nodes' Table, asked for as the page starts (before the worker is up), for the first start. */
  private early?: { token: string | undefined; response: Promise<Response>; drawn: Promise<{ body?: ArrayBuffer; drawn: boolean }> };

  prefetchNodeTable(token: string | undefined): void {
    // index.html's inline script asked for it already, as the page was parsed.
    const boot = (globalThis as { __mizzenNodeTable?: Boot }).__mizzenNodeTable;
    (globalThis as { __mizzenNodeTable?: unknown }).__mizzenNodeTable = undefined;
    const mine = boot && boot.token === token ? boot : undefined;
    this.boot = mine;
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
    // The page's first paint (src/first-paint) drew it already, and parsed it: its nodes are
    // taken as they are, and drawn here only after that paint's frame (drawing them now would
    // hold that frame back behind the app's render of the whole page).
    const draw = (b: ArrayBuffer | undefined, nodes: NodeSummary[] | undefined) => ({ body: b, drawn: nodes ? this.drawTable(nodes) : !!b && this.drawTable(b) });
    // Already in (the usual case at 5,000 nodes: the app's script comes after the Table): drawn
    // now, so the app's first render has the map.
    const now = mine?.painted ? draw(mine.buffer, mine.painted.nodes) : mine?.buffer && !mine.paint ? draw(mine.buffer, undefined) : undefined;
    const drawn = now
      ? Promise.resolve(now)
      : mine?.paint
        ? mine.paint.then((p) => draw(mine.buffer, p.nodes), () => draw(mine.buffer, undefined))
        : body.then((b) => draw(b, undefined));
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
    // The inline script told the worker to start when the Table came (before this script ran):
    // its messages since are taken in first, and it is not told again.
    const booted = early ? this.boot?.worker : undefined;
    if (this.boot) this.boot.worker = undefined;
    if (booted) {
      this.worker = booted.worker;
      for (const m of booted.queue.splice(0)) this.receive(m);
      this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
      return;
    }
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
  private drawTable(from: ArrayBuffer | NodeSummary[]): boolean {
    if (this.nodes.size) return false;
    let bases: Omit<NodeSummary, 'pods' | 'running' | 'pending' | 'failed' | 'succeeded' | 'cpuRequested' | 'memoryRequested'>[];
    if (Array.isArray(from)) {
      bases = from;
    } else {
      let table: any;
      try {
        table = JSON.parse(new TextDecoder().decode(from));
      } catch {
        return false;
      }
      if (table?.kind !== 'Table') return false;
      bases = nodeSummariesFromTable(table);
      performance.mark('mizzen:table-parsed', { detail: { nodes: bases.length } });
    }
    if (!bases.length) return false;
    const counts = { total: bases.length, ready: 0, notReady: 0, unknown: 0, simulated: 0 };
    for (const b of bases) {
      this.nodes.set(b.name, { ...b, pods: 0, running: 0, pending: 0, failed: 0, succeeded: 0, cpuRequested: 0, memoryRequested: 0 });
      if (b.health === 'Ready') counts.ready++;
      else if (b.health === 'NotReady') counts.notReady++;
      else counts.unknown++;
    }
    // The first paint's nodes come sorted as nodeList() sorts them.
    this.sortedNodes = undefined;
    if (Array.isArray(from) && from.length === this.nodes.size) {
      this.sortedNodes = [...this.nodes.values()];
      this.nodeIndex.clear();
      this.sortedNodes.forEach((n, i) => this.nodeIndex.set(n.name, i));
    }
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
      case 'nodeCounts': {
        // Changed in place: the node keeps its place in the sorted list, and the views draw
        // again from the bumped version.
        const v = m.values;
        const k = COUNT_FIELDS.length;
        for (let i = 0; i < m.names.length; i++) {
          const n = this.nodes.get(m.names[i]!);
          if (!n) continue;
          for (let j = 0; j < k; j++) {
            const x = v[i * k + j]!;
            (n as unknown as Record<string, number | undefined>)[COUNT_FIELDS[j]!] = Number.isNaN(x) ? undefined : x;
          }
        }
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
