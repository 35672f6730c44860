// The cluster as the console's worker holds it: pods, nodes, leases and events kept in sync by
// watches, reduced to summaries with indexes (pods by node, events by object), aggregated per node,
// and sent to the page in batches: at most every FLUSH_MS, only what changed.

import type {
  ComponentHealth, EventFilter, EventSummary, FromWorker, MiniPod, NodeSummary, Overview, PodFilter, PodSummary, Query, Ref, ResourceStatus, Window,
} from '../shared/types.ts';
import { COUNT_FIELDS, DETAIL_NODES, NODE_TABLE } from '../shared/types.ts';
import { apiJSON, ApiError, clockSkew, resourcePath } from '../shared/http.ts';
import { Watcher, type EventType } from './watch.ts';
import { miniPod, nodeSummariesFromTable, nodeSummary, podSummary, time } from './summaries.ts';
import { buildFlow } from './flow.ts';

const FLUSH_MS = 200;
/** Lists (pods, events) are re-sorted at most this often while they change. */
const LIST_MS = 600;
/** The overview for activity counts alone: at most this often (see activityDirty). */
const ACTIVITY_MS = 1000;
/** Draw each pod on the map while the cluster has at most this many. */
const DETAIL_PODS = 600;
/** Events kept; the oldest go first. */
const MAX_EVENTS = 50_000;
/** Load all events only when there are at most this many; else only new ones. */
const EVENTS_TAIL_ABOVE = 20_000;
/** Pods seen going away, kept for flows (how a node's pods were replaced). */
const GRAVEYARD = 5000;
/** Pods are loaded in pages of this many (a few MB each), each taken in while the next comes. */
const POD_PAGE = 5000;
/** The pods' and events' watches wait at most this long for the nodes' list. */
const REST_AFTER_MS = 3000;
/** The nodes' and Leases' lists wait at most this long for the nodes' Table. */
const TABLE_WAIT_MS = 1500;
/** Node summaries sent to the page in one message at most. */
const NODES_PER_MESSAGE = 500;
const COMPONENT_LEASES = ['kube-scheduler', 'kube-controller-manager', 'cloud-controller-manager'];

type NodeBase = ReturnType<typeof nodeSummary>;

interface Sub {
  query: Query;
  dirty: boolean;
  lastSent: number;
  /** The filtered, sorted list behind a window. */
  cache?: unknown[];
}

export class ClusterState {
  private readonly pods = new Map<string, PodSummary>();
  private readonly podsByNode = new Map<string, Set<string>>();
  private readonly unscheduled = new Set<string>();
  private readonly nodes = new Map<string, NodeBase>();
  /** Nodes known so far only from the first Table (not yet from the nodes' list). */
  private readonly tableNodes = new Set<string>();
  private readonly nodeLeases = new Map<string, { renew: number; duration: number }>();
  private readonly components = new Map<string, ComponentHealth>();
  private readonly events = new Map<string, EventSummary>();
  private readonly eventsByUid = new Map<string, Set<string>>();
  private readonly graveyard = new Map<string, PodSummary>();
  /** When objects were seen appearing and going, by uid (for flows). */
  private readonly seenTimes = new Map<string, { created?: number; deleted?: number }>();
  private readonly resources: Record<string, ResourceStatus> = {};
  private readonly activity: { at: number; who: string }[] = [];
  private readonly subs = new Map<number, Sub>();
  private readonly dirtyNodes = new Set<string>();
  private readonly removedNodes = new Set<string>();
  private readonly sentNodes = new Map<string, string>();
  /** What the page has of each node but its counts and heartbeat (see 'nodeCounts'). */
  private readonly sentBase = new Map<string, string>();
  private overviewDirty = true;
  /**
   * Only the activity counts changed ("N heartbeats in 10 s"): the overview goes at most once a
   * second for that. At 5,000 nodes their Leases are renewed 500 times a second, and an overview
   * at every batch re-rendered the page five times a second for a number.
   */
  private activityDirty = false;
  private lastOverviewAt = 0;
  private podsChanged = false;
  private eventsChanged = false;
  private conn: Overview['connection'] = { state: 'connecting', since: Date.now(), attempts: 0 };
  private readonly down = new Set<string>();
  private watchers: Watcher[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private followArmed = false;
  private detailed = false;
  private focus?: { key: string; root: Ref; object?: any; middle: Map<string, any>; watcher?: Watcher; rootRead?: ReturnType<typeof setTimeout> };

  /** The nodes' Table the page fetched, when it said it would send one. */
  private pageTable?: Promise<ArrayBuffer | undefined>;
  private gotPageTable?: (body: ArrayBuffer | undefined) => void;
  /** The page drew the Table's nodes itself: they count as sent. */
  private pageDrewTable = false;

  constructor(
    private readonly post: (m: FromWorker) => void,
    private readonly token: string | undefined,
    pageFetchesTable = false,
  ) {
    if (pageFetchesTable) this.pageTable = new Promise((r) => (this.gotPageTable = r));
  }

  receiveNodeTable(body: ArrayBuffer | undefined, drawn = false): void {
    this.pageDrewTable = drawn && !!body;
    this.gotPageTable?.(body);
  }

  start(): void {
    const w = (name: string, path: string, on: (type: EventType, o: any, live: boolean) => void, extra: Partial<ConstructorParameters<typeof Watcher>[0]> = {}) => {
      this.resources[name] ??= { state: 'loading', count: 0 };
      const watcher = new Watcher({ path, ...extra }, this.handlers(name, on), () => this.token);
      this.watchers.push(watcher);
      watcher.start();
    };
    // Four long-lived streams: a browser opens at most six HTTP/1.1 connections to one origin, and
    // the pages need the rest for their own requests (objects, logs, the flow's ReplicaSets).
    // The map first: nodes and their Leases (health and heartbeats) load alone, so that at 5,000
    // nodes their lists are not queued behind 150,000 pods on the API server, the wire and this
    // worker's parser; pods and events start once the nodes are in (or could not be read).
    // Before the nodes' list (12 MB of JSON at 5,000 nodes), their Table (about 1 MB, and gzipped
    // on the wire): every node is drawn with its health from it, and the list fills in the rest.
    // The lists wait for the Table (at most TABLE_WAIT_MS): asked for together, the API server
    // would write them first and the Table behind them.
    this.resources.nodes = { state: 'loading', count: 0 };
    this.resources.leases = { state: 'loading', count: 0 };
    let mapStarted = false;
    const startMap = () => {
      if (mapStarted || this.stopped) return;
      mapStarted = true;
      w('nodes', '/api/v1/nodes', (t, o, live) => this.onNode(t, o, live));
      w('leases', '/apis/coordination.k8s.io/v1/leases', (t, o, live) => this.onLease(t, o, live));
    };
    void this.loadNodeTable().finally(startMap);
    setTimeout(startMap, TABLE_WAIT_MS);
    this.resources.pods = { state: 'loading', count: 0 };
    this.resources.events = { state: 'loading', count: 0 };
    this.startRest = () => {
      this.startRest = undefined;
      w('pods', '/api/v1/pods', (t, o, live) => this.onPod(t, o, live), { pageSize: POD_PAGE });
      w('events', '/api/v1/events', (t, o, live) => this.onEvent(t, o, live), { tailAbove: EVENTS_TAIL_ABOVE });
    };
    // Never wait for the nodes for long (a slow or silent nodes list must not hide the pods).
    this.restTimer = setTimeout(() => this.startRest?.(), REST_AFTER_MS);
    this.schedule();
  }

  /** Starts the pods' and events' watches (once): when the nodes are in, or after REST_AFTER_MS. */
  private startRest?: () => void;
  private restTimer?: ReturnType<typeof setTimeout>;

  private stopped = false;

  stop(): void {
    this.stopped = true;
    this.startRest = undefined;
    clearTimeout(this.restTimer);
    for (const w of this.watchers) w.stop();
    this.focus?.watcher?.stop();
    clearTimeout(this.timer);
  }

  private handlers(name: string, on: (type: EventType, o: any, live: boolean) => void) {
    return {
      event: on,
      synced: () => {
        this.overviewDirty = true;
        if (name === 'nodes') {
          // Nodes in the Table but not in the list have gone since.
          for (const n of this.tableNodes) {
            this.nodes.delete(n);
            this.removedNodes.add(n);
            this.dirtyNodes.delete(n);
          }
          this.tableNodes.clear();
          this.resources.nodes!.count = this.nodes.size;
          this.startRest?.();
        }
        // A list complete is worth drawing now, not at the next tick.
        this.schedule(0);
      },
      state: (state: ResourceStatus['state'], message?: string, partialTotal?: number) => {
        const r = this.resources[name]!;
        r.state = state;
        r.message = message;
        if (partialTotal !== undefined) r.partial = { total: partialTotal };
        this.overviewDirty = true;
        if (name === 'nodes' && (state === 'forbidden' || state === 'error')) this.startRest?.();
      },
      connection: (up: boolean, error?: string) => {
        if (up) this.down.delete(name);
        else this.down.add(name);
        const state = this.down.size ? 'reconnecting' : 'connected';
        if (state !== this.conn.state) this.conn = { state, since: Date.now(), attempts: 0, lastError: error };
        if (!up) {
          this.conn.attempts++;
          this.conn.lastError = error;
        }
        this.overviewDirty = true;
      },
      unauthorized: (message: string) => {
        this.stop();
        this.post({ t: 'auth', message });
      },
    };
  }

  private act(who: string, live: boolean): void {
    if (!live) return;
    this.activity.push({ at: Date.now(), who });
    this.activityDirty = true;
  }

  // ---- pods ----

  private onPod(type: EventType, obj: any, live: boolean): void {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    const prev = this.pods.get(key);
    this.podsChanged = true;
    this.overviewDirty = true;
    if (type === 'DELETED') {
      if (!prev) return;
      this.pods.delete(key);
      this.unindexPod(key, prev);
      if (live) {
        prev.seen.deleted = Date.now();
        this.act('deletions', true);
        this.graveyard.set(key, prev);
        if (this.graveyard.size > GRAVEYARD) this.graveyard.delete(this.graveyard.keys().next().value!);
      }
      return;
    }
    const s = podSummary(obj, prev, live ? Date.now() : undefined);
    if (live) {
      if (!prev) this.act(s.owner ? 'controller manager' : 'users', true);
      else if (s.node && !prev.node) this.act('scheduler', true);
      else if (s.phase !== prev.phase || s.ready !== prev.ready || s.status !== prev.status) this.act('kubelets', true);
      if (!prev && this.followArmed) this.followPod(s);
    }
    if (prev) this.unindexPod(key, prev);
    this.pods.set(key, s);
    if (s.node) {
      let set = this.podsByNode.get(s.node);
      if (!set) this.podsByNode.set(s.node, (set = new Set()));
      set.add(key);
      this.dirtyNodes.add(s.node);
    } else if (s.phase === 'Pending') this.unscheduled.add(key);
    this.resources.pods!.count = this.pods.size;
  }

  private unindexPod(key: string, p: PodSummary): void {
    if (p.node) {
      this.podsByNode.get(p.node)?.delete(key);
      this.dirtyNodes.add(p.node);
    }
    this.unscheduled.delete(key);
  }

  // ---- nodes and leases ----

  private onNode(type: EventType, obj: any, live: boolean): void {
    const name = obj.metadata?.name;
    this.overviewDirty = true;
    this.tableNodes.delete(name);
    if (type === 'DELETED') {
      this.nodes.delete(name);
      this.removedNodes.add(name);
      this.dirtyNodes.delete(name);
      if (live) this.seenTimes.set(obj.metadata?.uid, { ...this.seenTimes.get(obj.metadata?.uid), deleted: Date.now() });
      if (this.focus?.root.kind === 'Node' && this.focus.root.name === name) this.markFlows();
      this.resources.nodes!.count = this.nodes.size;
      return;
    }
    if (live && !this.nodes.has(name)) this.seenTimes.set(obj.metadata.uid, { created: Date.now() });
    this.nodes.set(name, nodeSummary(obj));
    this.removedNodes.delete(name);
    this.dirtyNodes.add(name);
    this.resources.nodes!.count = this.nodes.size;
  }

  /** The nodes' Table, once at start: drawn unless the nodes' list is in first. */
  private async loadNodeTable(): Promise<void> {
    let table: any;
    try {
      const body = await this.pageTable;
      table = body ? JSON.parse(new TextDecoder().decode(body)) : await apiJSON(NODE_TABLE.path, { token: this.token, headers: { Accept: NODE_TABLE.accept } });
    } catch {
      // Forbidden, refused or unreachable: the nodes' watch finds out and says so.
      return;
    }
    if (this.stopped || this.resources.nodes?.state === 'synced' || table?.kind !== 'Table') return;
    const now = Date.now();
    const rows = nodeSummariesFromTable(table);
    // As the next batch will have it (flush): cards with each pod for a small cluster, else cells.
    const detailed = this.pods.size <= DETAIL_PODS && this.nodes.size + rows.length <= DETAIL_NODES;
    for (const n of rows) {
      if (this.nodes.has(n.name)) continue;
      this.nodes.set(n.name, n);
      this.tableNodes.add(n.name);
      // Drawn by the page as this summary (no pods, no Lease yet): recorded as sent, not sent.
      const drawn = this.pageDrewTable && this.sentNodes.get(n.name) === undefined && this.signature(n.name, now, detailed);
      if (drawn) {
        this.sentNodes.set(n.name, drawn.sig);
        this.sentBase.set(n.name, drawn.base);
      } else this.dirtyNodes.add(n.name);
    }
    this.resources.nodes!.count = this.nodes.size;
    this.overviewDirty = true;
    this.schedule(0);
  }

  private onLease(type: EventType, obj: any, live: boolean): void {
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name;
    this.resources.leases!.count += type === 'ADDED' ? 1 : type === 'DELETED' ? -1 : 0;
    const spec = obj.spec ?? {};
    const renew = time(spec.renewTime) ?? time(spec.acquireTime);
    if (ns === 'kube-node-lease') {
      if (type === 'DELETED') this.nodeLeases.delete(name);
      else if (renew !== undefined) this.nodeLeases.set(name, { renew, duration: spec.leaseDurationSeconds ?? 40 });
      this.act('kubelet heartbeats', live);
      this.dirtyNodes.add(name);
      return;
    }
    if (ns === 'kube-system' && COMPONENT_LEASES.includes(name)) {
      if (type === 'DELETED') this.components.delete(name);
      else this.components.set(name, { name, lease: { holder: spec.holderIdentity ?? '', renewTime: renew ?? 0, durationSeconds: spec.leaseDurationSeconds ?? 15, transitions: spec.leaseTransitions ?? 0 } });
      this.overviewDirty = true;
    }
  }

  // ---- events ----

  private onEvent(type: EventType, obj: any, live: boolean): void {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    const prev = this.events.get(key);
    this.eventsChanged = true;
    if (type === 'DELETED') {
      if (prev) this.unindexEvent(key, prev);
      this.events.delete(key);
      return;
    }
    const io = obj.involvedObject ?? obj.regarding ?? {};
    const e: EventSummary = {
      uid: obj.metadata?.uid ?? key,
      namespace: obj.metadata?.namespace ?? '',
      type: obj.type ?? 'Normal',
      reason: obj.reason ?? '',
      message: obj.message ?? obj.note ?? '',
      object: { kind: io.kind ?? '', namespace: io.namespace, name: io.name ?? '', uid: io.uid, apiVersion: io.apiVersion },
      source: obj.source?.component || obj.reportingComponent || obj.reportingController || '',
      count: obj.count ?? obj.series?.count ?? 1,
      time: time(obj.lastTimestamp) ?? time(obj.eventTime) ?? time(obj.series?.lastObservedTime) ?? time(obj.metadata?.creationTimestamp) ?? 0,
      first: time(obj.firstTimestamp) ?? time(obj.eventTime) ?? time(obj.metadata?.creationTimestamp) ?? 0,
    };
    if (prev) this.unindexEvent(key, prev);
    this.events.set(key, e);
    if (e.object.uid) {
      let set = this.eventsByUid.get(e.object.uid);
      if (!set) this.eventsByUid.set(e.object.uid, (set = new Set()));
      set.add(key);
    }
    if (live && !prev) {
      const src = e.source;
      this.act(src === 'default-scheduler' ? 'scheduler events' : src === 'kubelet' ? 'kubelet events' : src ? `event:${src}` : 'events', true);
      if (this.followArmed && e.object.kind === 'Deployment' && e.reason === 'ScalingReplicaSet') {
        this.followArmed = false;
        this.post({ t: 'followed', root: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: e.object.namespace, name: e.object.name, uid: e.object.uid } });
      }
    }
    if (this.events.size > MAX_EVENTS) this.trimEvents();
    this.resources.events!.count = this.events.size;
    if (this.focus && e.object.uid && (this.focus.middle.has(e.object.uid) || this.focus.object?.metadata?.uid === e.object.uid) && live) void this.refreshFocusRoot();
  }

  private unindexEvent(key: string, e: EventSummary): void {
    if (e.object.uid) this.eventsByUid.get(e.object.uid)?.delete(key);
  }

  private trimEvents(): void {
    const all = [...this.events.entries()].sort((a, b) => a[1].time - b[1].time);
    for (const [k, e] of all.slice(0, all.length - Math.floor(MAX_EVENTS * 0.9))) {
      this.unindexEvent(k, e);
      this.events.delete(k);
    }
  }

  private eventsOf(uid: string): EventSummary[] {
    const keys = this.eventsByUid.get(uid);
    if (!keys) return [];
    const out: EventSummary[] = [];
    for (const k of keys) {
      const e = this.events.get(k);
      if (e) out.push(e);
    }
    return out.sort((a, b) => a.first - b.first);
  }

  // ---- follow the next object created ----

  setFollow(armed: boolean): void {
    this.followArmed = armed;
  }

  private followPod(p: PodSummary): void {
    this.followArmed = false;
    void (async () => {
      let root: Ref = { group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespace: p.namespace, name: p.name, uid: p.uid };
      if (p.owner?.kind === 'ReplicaSet') {
        root = { group: 'apps', version: 'v1', kind: 'ReplicaSet', resource: 'replicasets', namespace: p.namespace, name: p.owner.name, uid: p.owner.uid };
        try {
          const rs = await apiJSON(resourcePath(root), { token: this.token });
          const d = (rs.metadata?.ownerReferences ?? []).find((o: any) => o.kind === 'Deployment');
          if (d) root = { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: p.namespace, name: d.name, uid: d.uid };
        } catch {
          // show the ReplicaSet then
        }
      } else if (p.owner) {
        const kinds: Record<string, Ref['resource']> = { Job: 'jobs', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };
        const res = kinds[p.owner.kind];
        if (res) root = { group: p.owner.kind === 'Job' ? 'batch' : 'apps', version: 'v1', kind: p.owner.kind, resource: res, namespace: p.namespace, name: p.owner.name, uid: p.owner.uid };
      }
      this.post({ t: 'followed', root });
    })();
  }

  // ---- subscriptions ----

  subscribe(id: number, query: Query): void {
    // A list scrolled to another window keeps its sorted list (only the offset changed).
    const old = this.subs.get(id);
    const same = old && old.query.kind === query.kind && query.kind !== 'flow' && JSON.stringify((old.query as { filter?: unknown }).filter) === JSON.stringify(query.filter);
    this.subs.set(id, { query, dirty: true, lastSent: 0, cache: same ? old.cache : undefined });
    if (query.kind === 'flow') this.setFocus(query.root);
    this.schedule(0);
  }

  unsubscribe(id: number): void {
    const s = this.subs.get(id);
    this.subs.delete(id);
    if (s?.query.kind === 'flow' && ![...this.subs.values()].some((x) => x.query.kind === 'flow')) {
      this.focus?.watcher?.stop();
      this.focus = undefined;
    }
  }

  /** The flow's root and its ReplicaSets: fetched, and the ReplicaSets watched while it is shown. */
  private setFocus(root: Ref): void {
    const key = `${root.kind}/${root.namespace}/${root.name}`;
    if (this.focus?.key === key) return;
    this.focus?.watcher?.stop();
    const focus: NonNullable<typeof this.focus> = { key, root, middle: new Map() };
    this.focus = focus;
    void (async () => {
      if (root.kind === 'Pod') return;
      await this.refreshFocusRoot();
      if (this.focus !== focus || root.kind !== 'Deployment' || !focus.object) return;
      const sel = focus.object.spec?.selector?.matchLabels ?? {};
      const labelSelector = Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');
      focus.watcher = new Watcher(
        { path: `/apis/apps/v1/namespaces/${encodeURIComponent(root.namespace ?? 'default')}/replicasets`, labelSelector },
        {
          event: (type, o, live) => {
            const uid = o.metadata?.uid;
            const owned = (o.metadata?.ownerReferences ?? []).some((r: any) => r.uid === focus.object?.metadata?.uid);
            if (type === 'DELETED') {
              if (live && uid) this.seenTimes.set(uid, { ...this.seenTimes.get(uid), deleted: Date.now() });
              // Kept, marked gone: a deleted Deployment's flow still shows its ReplicaSets and pods going.
              if (!live) for (const [u, m] of focus.middle) if (m.metadata?.name === o.metadata?.name) focus.middle.delete(u);
              // The Deployment itself may be going too (its ReplicaSets are deleted by the garbage collector).
              if (live) void this.refreshFocusRoot();
            } else if (owned) {
              if (live && !focus.middle.has(uid)) this.seenTimes.set(uid, { created: Date.now() });
              focus.middle.set(uid, o);
              // The Deployment's status follows its ReplicaSets' (no event says so): read again, at most every 500 ms.
              if (live && !focus.rootRead) focus.rootRead = setTimeout(() => {
                focus.rootRead = undefined;
                if (this.focus === focus) void this.refreshFocusRoot();
              }, 500);
            }
            this.markFlows();
          },
          synced: () => this.markFlows(),
          state: () => {},
          connection: () => {},
          unauthorized: (m) => this.post({ t: 'auth', message: m }),
        },
        () => this.token,
      );
      focus.watcher.start();
    })();
  }

  private async refreshFocusRoot(): Promise<void> {
    const focus = this.focus;
    if (!focus || focus.root.kind === 'Pod') return;
    try {
      focus.object = await apiJSON(resourcePath(focus.root), { token: this.token });
      if (this.focus === focus && focus.object?.metadata?.uid && !this.seenTimes.has(focus.object.metadata.uid)) this.seenTimes.set(focus.object.metadata.uid, {});
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) {
        // Gone while shown: keep what was there and say when it went, rather than "not found".
        const uid = focus.object?.metadata?.uid;
        if (uid && !focus.object.forbidden) {
          if (this.seenTimes.get(uid)?.deleted === undefined) this.seenTimes.set(uid, { ...this.seenTimes.get(uid), deleted: Date.now() });
        } else focus.object = undefined;
      }
      else if (e instanceof ApiError && e.code === 403) focus.object = { forbidden: e.message };
    }
    this.markFlows();
  }

  private markFlows(): void {
    for (const s of this.subs.values()) if (s.query.kind === 'flow') s.dirty = true;
    this.schedule(50);
  }

  private flowOf(root: Ref) {
    const focus = this.focus;
    if (focus?.object?.forbidden) return { root, found: false, message: focus.object.forbidden, start: Date.now(), lanes: [] };
    const ownerUids = new Set<string>();
    if (root.kind === 'Deployment') for (const u of focus?.middle.keys() ?? []) ownerUids.add(u);
    else if (focus?.object?.metadata?.uid) ownerUids.add(focus.object.metadata.uid);
    const pods: PodSummary[] = [];
    const take = (p: PodSummary) => {
      const mine = root.kind === 'Pod' ? p.namespace === root.namespace && p.name === root.name : root.kind === 'Node' ? p.node === root.name : p.owner && ownerUids.has(p.owner.uid);
      if (mine) pods.push(p);
    };
    for (const p of this.pods.values()) take(p);
    for (const p of this.graveyard.values()) if (!this.pods.has(`${p.namespace}/${p.name}`) || this.pods.get(`${p.namespace}/${p.name}`)!.uid !== p.uid) take(p);
    return buildFlow({
      root,
      rootObject: root.kind === 'Pod' ? undefined : focus?.object,
      middle: root.kind === 'Deployment' ? [...(focus?.middle.values() ?? [])] : [],
      pods,
      events: (uid) => this.eventsOf(uid),
      seen: (uid) => this.seenTimes.get(uid),
    });
  }

  private podMatches(p: PodSummary, f: PodFilter): boolean {
    if (f.namespace && p.namespace !== f.namespace) return false;
    if (f.node !== undefined && p.node !== f.node) return false;
    if (f.phase === 'unscheduled') {
      if (p.node || p.phase !== 'Pending') return false;
    } else if (f.phase && p.phase !== f.phase) return false;
    if (f.ownerUid && p.owner?.uid !== f.ownerUid) return false;
    if (f.text && !`${p.namespace}/${p.name} ${p.node} ${p.status} ${p.unschedulable?.message ?? ''}`.includes(f.text)) return false;
    return true;
  }

  private eventMatches(e: EventSummary, f: EventFilter): boolean {
    if (f.type && e.type !== f.type) return false;
    if (f.reason && e.reason !== f.reason) return false;
    if (f.kind && e.object.kind !== f.kind) return false;
    if (f.namespace && e.namespace !== f.namespace) return false;
    if (f.uid && e.object.uid !== f.uid) return false;
    if (f.text && !`${e.reason} ${e.message} ${e.object.kind}/${e.object.name} ${e.source}`.toLowerCase().includes(f.text.toLowerCase())) return false;
    return true;
  }

  private answer(sub: Sub): unknown {
    const q = sub.query;
    if (q.kind === 'flow') return this.flowOf(q.root);
    if (q.kind === 'pods') {
      if (!sub.cache || this.podsChanged) {
        const out: PodSummary[] = [];
        const from = q.filter.phase === 'unscheduled' ? [...this.unscheduled].map((k) => this.pods.get(k)!).filter(Boolean) : q.filter.node !== undefined ? [...(this.podsByNode.get(q.filter.node) ?? [])].map((k) => this.pods.get(k)!).filter(Boolean) : this.pods.values();
        for (const p of from) if (this.podMatches(p, q.filter)) out.push(p);
        // Oldest first: the pods that have waited longest lead a pending list.
        out.sort((a, b) => a.created - b.created || (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : 1));
        sub.cache = out;
      }
      const all = sub.cache as PodSummary[];
      return { total: all.length, offset: q.offset, rows: all.slice(q.offset, q.offset + q.limit) } satisfies Window<PodSummary>;
    }
    if (!sub.cache || this.eventsChanged) {
      const out: EventSummary[] = [];
      for (const e of this.events.values()) if (this.eventMatches(e, q.filter)) out.push(e);
      out.sort((a, b) => b.time - a.time);
      sub.cache = out;
    }
    const all = sub.cache as EventSummary[];
    return { total: all.length, offset: q.offset, rows: all.slice(q.offset, q.offset + q.limit) } satisfies Window<EventSummary>;
  }

  // ---- batching ----

  private schedule(ms = FLUSH_MS): void {
    if (this.timer !== undefined && ms !== 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
      this.schedule();
    }, ms);
  }

  private flush(): void {
    const now = Date.now();
    const small = this.pods.size <= DETAIL_PODS && this.nodes.size <= DETAIL_NODES;
    if (small !== this.detailed) {
      this.detailed = small;
      for (const n of this.nodes.keys()) this.dirtyNodes.add(n);
      // The overview (which says how to draw the nodes) goes before them: the page may draw
      // between two messages, and 2,000 nodes drawn as cards take it seconds.
      this.overviewDirty = false;
      this.post({ t: 'overview', overview: this.overview(now) });
    }
    // Heartbeats age without events: a node whose lease runs out must turn stale on the map.
    for (const [name, l] of this.nodeLeases) {
      const fresh = now + clockSkew() - l.renew < l.duration * 1000;
      const n = this.sentNodes.get(name);
      if (n !== undefined && n.startsWith(fresh ? 'stale' : 'fresh')) this.dirtyNodes.add(name);
    }
    this.flushNodes(now);
    if (this.podsChanged || this.eventsChanged) for (const s of this.subs.values()) if (s.query.kind !== 'flow' || this.podsChanged || this.eventsChanged) s.dirty = true;
    for (const [id, s] of this.subs) {
      if (!s.dirty) continue;
      const big = s.query.kind !== 'flow' && (s.cache?.length ?? 0) > 5000;
      if (big && now - s.lastSent < LIST_MS) continue;
      s.dirty = false;
      s.lastSent = now;
      this.post({ t: 'result', id, data: this.answer(s) });
    }
    this.podsChanged = false;
    this.eventsChanged = false;
    if (this.overviewDirty || (this.activityDirty && now - this.lastOverviewAt >= ACTIVITY_MS)) {
      this.overviewDirty = false;
      this.activityDirty = false;
      this.lastOverviewAt = now;
      this.post({ t: 'overview', overview: this.overview(now) });
    }
  }

  private flushNodes(now: number): void {
    if (!this.dirtyNodes.size && !this.removedNodes.size) return;
    const upsert: NodeSummary[] = [];
    const names: string[] = [];
    const values: number[] = [];
    for (const name of this.dirtyNodes) {
      const x = this.signature(name, now);
      if (!x) continue;
      // Send a node again only when what the page draws changed (not for every heartbeat).
      if (this.sentNodes.get(name) === x.sig) continue;
      this.sentNodes.set(name, x.sig);
      // Only its counts (or heartbeat) changed, on the canvas (no pod list): those numbers alone.
      if (!this.detailed && this.sentBase.get(name) === x.base) {
        names.push(name);
        for (const f of COUNT_FIELDS) values.push(x.s[f] ?? NaN);
        continue;
      }
      this.sentBase.set(name, x.base);
      upsert.push(x.s);
    }
    this.dirtyNodes.clear();
    const remove = [...this.removedNodes];
    for (const r of remove) {
      this.sentNodes.delete(r);
      this.sentBase.delete(r);
    }
    this.removedNodes.clear();
    if (names.length) this.post({ t: 'nodeCounts', names, values: Float64Array.from(values) });
    // Large clusters: split so no single message (and its handling on the page) is long: taking
    // in 2,000 summaries was one task of up to 0.2 s on the page under load; the page draws once
    // a frame whatever the number of messages.
    if (!upsert.length && !remove.length) return;
    for (let i = 0; i < Math.max(upsert.length, 1); i += NODES_PER_MESSAGE) this.post({ t: 'nodes', upsert: upsert.slice(i, i + NODES_PER_MESSAGE), remove: i === 0 ? remove : [] });
  }

  /**
   * A node's summary as the page gets it, and what of it the page draws (heartbeats aside):
   * `sig` all of it, `base` all but the counts ('nodeCounts').
   */
  private signature(name: string, now: number, detailed = this.detailed): { s: NodeSummary; sig: string; base: string } | undefined {
    const base = this.nodes.get(name);
    if (!base) return undefined;
    const s = this.nodeWithPods(base, detailed);
    const lease = this.nodeLeases.get(name);
    if (lease) {
      s.heartbeat = lease.renew;
      s.leaseDurationSeconds = lease.duration;
    }
    const fresh = lease ? now + clockSkew() - lease.renew < lease.duration * 1000 : true;
    const rest = JSON.stringify({ ...s, heartbeat: undefined, pods: undefined, running: undefined, pending: undefined, failed: undefined, succeeded: undefined, cpuRequested: undefined, memoryRequested: undefined });
    return { s, base: rest, sig: `${fresh ? 'fresh' : 'stale'}|${rest}|${s.pods} ${s.running} ${s.pending} ${s.failed} ${s.succeeded} ${s.cpuRequested} ${s.memoryRequested}` };
  }

  private nodeWithPods(base: NodeBase, detailed = this.detailed): NodeSummary {
    const s: NodeSummary = { ...base, pods: 0, running: 0, pending: 0, failed: 0, succeeded: 0, cpuRequested: 0, memoryRequested: 0 };
    const list: MiniPod[] | undefined = detailed ? [] : undefined;
    for (const k of this.podsByNode.get(base.name) ?? []) {
      const p = this.pods.get(k);
      if (!p) continue;
      s.pods++;
      if (p.phase === 'Running') s.running++;
      else if (p.phase === 'Pending') s.pending++;
      else if (p.phase === 'Failed') s.failed++;
      else if (p.phase === 'Succeeded') s.succeeded++;
      if (p.phase !== 'Succeeded' && p.phase !== 'Failed') {
        s.cpuRequested += p.cpu;
        s.memoryRequested += p.memory;
      }
      list?.push(miniPod(p));
    }
    if (list) s.podList = list.sort((a, b) => a.name.localeCompare(b.name));
    return s;
  }

  private overview(now: number): Overview {
    while (this.activity.length && now - this.activity[0]!.at > 10_000) this.activity.shift();
    const activity: Record<string, number> = {};
    for (const a of this.activity) activity[a.who] = (activity[a.who] ?? 0) + 1;
    const nodes = { total: this.nodes.size, ready: 0, notReady: 0, unknown: 0, simulated: 0 };
    for (const n of this.nodes.values()) {
      if (n.health === 'Ready') nodes.ready++;
      else if (n.health === 'NotReady') nodes.notReady++;
      else nodes.unknown++;
      if (n.simulated) nodes.simulated++;
    }
    const pods = { total: this.pods.size, running: 0, pending: 0, unscheduled: this.unscheduled.size, succeeded: 0, failed: 0, terminating: 0, orphaned: 0 };
    const orphans: Record<string, MiniPod[]> = {};
    for (const p of this.pods.values()) {
      if (p.phase === 'Running') pods.running++;
      else if (p.phase === 'Pending') pods.pending++;
      else if (p.phase === 'Succeeded') pods.succeeded++;
      else if (p.phase === 'Failed') pods.failed++;
      if (p.terminating) pods.terminating++;
    }
    if (this.resources.nodes?.state === 'synced') {
      for (const [node, keys] of this.podsByNode) {
        if (this.nodes.has(node) || keys.size === 0) continue;
        pods.orphaned += keys.size;
        if (this.detailed) orphans[node] = [...keys].map((k) => miniPod(this.pods.get(k)!)).filter(Boolean);
      }
    }
    const queue: MiniPod[] = [];
    for (const k of this.unscheduled) {
      if (queue.length >= 50) break;
      const p = this.pods.get(k);
      if (p) queue.push(miniPod(p));
    }
    return {
      connection: this.conn,
      skewMs: clockSkew(),
      resources: this.resources,
      nodes,
      pods,
      components: COMPONENT_LEASES.map((n) => this.components.get(n) ?? { name: n }),
      activity,
      queue,
      orphans,
      detailed: this.detailed,
    };
  }
}
