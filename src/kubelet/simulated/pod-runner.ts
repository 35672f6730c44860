// The pod half of a simulated kubelet: for pods bound to our nodes, report them Running with an IP,
// finish job-style pods on cue, and carry out graceful deletion. One informer over all pods feeds a
// de-duplicating work queue drained by a fixed number of workers, so status writes are batched
// (one write per pod per change) and their concurrency bounded.

import type { KObject } from '../../api/types.ts';
import { ApiClient, isConflict, isNotFound } from '../../client/api-client.ts';
import { realClock, type Clock } from '../../client/clock.ts';
import { Informer } from '../../client/informer.ts';
import { metaNamespaceKey } from '../../client/cache.ts';
import { RateLimitedQueue } from '../../client/rate-limited-queue.ts';
import { PodIPAllocator } from './addresses.ts';
import { completionPlan, runningStatus, statusFingerprint, terminalStatus } from './pod-status.ts';

/** What the pod runner needs to know about one of our nodes. */
export interface NodeFacts {
  hostIP: string;
  /** node.spec.podCIDR when the cluster assigned one, else the simulator's derived range. */
  podCIDR: string;
}

export interface NodeDirectory {
  /** Facts for one of our nodes; undefined for anyone else's. */
  lookup(name: string): NodeFacts | undefined;
}

export interface PodRunnerOptions {
  client: ApiClient;
  /** The client that acts as one node (`system:node:<name>`); default `client` for every node. */
  clientFor?: (node: string) => ApiClient;
  /** Which pods to watch (default every bound pod, `spec.nodeName!=`). */
  podFieldSelector?: string;
  nodes: NodeDirectory;
  /** Parallel status writers (default 32). */
  workers?: number;
  /** Longest simulated container stop on graceful deletion (default 1000 ms; min with the grace period). */
  maxStopMs?: number;
  log: (m: string) => void;
  clock?: Clock;
}

interface PodRecord {
  uid: string;
  node: string;
  ip?: string;
  /** Whether ip came from our allocator (hostNetwork pods use the node's address). */
  allocated?: boolean;
  startedAt?: number;
  finishAt?: number;
  exitCode?: number;
  /** We reported a terminal phase: never start it again. */
  done?: boolean;
  /** When the simulated container stop of a deleting pod completes. */
  stopAt?: number;
  /** resourceVersion of our last write, to ignore cache states older than it. */
  writtenRV?: number;
}

export interface PodRunnerStats {
  tracked: number;
  started: number;
  completed: number;
  deleted: number;
  writeErrors: number;
}

const PODS = { version: 'v1', resource: 'pods' } as const;

function rvNumber(obj: KObject | undefined): number | undefined {
  const rv = obj?.metadata?.resourceVersion;
  if (!rv || !/^\d+$/.test(rv)) return undefined;
  return Number(rv);
}

export class PodRunner {
  private readonly informer: Informer;
  private readonly queue: RateLimitedQueue<string>;
  private readonly records = new Map<string, PodRecord>();
  /** Records per node, so a node's fresh IP allocator re-reserves its pods without a scan of every pod. */
  private readonly byNode = new Map<string, Set<PodRecord>>();
  private readonly allocators = new Map<string, PodIPAllocator>();
  private readonly clock: Clock;
  private workers: Promise<void>[] = [];
  private stopped = false;
  private readonly counters: Omit<PodRunnerStats, 'tracked'> = { started: 0, completed: 0, deleted: 0, writeErrors: 0 };

  constructor(private readonly opts: PodRunnerOptions) {
    this.clock = opts.clock ?? realClock;
    this.queue = new RateLimitedQueue<string>({ clock: this.clock });
    // All bound pods, filtered here by node: a field selector cannot name thousands of nodes, but
    // it can leave out unscheduled pods, a third of all pod events under load.
    this.informer = new Informer(opts.client, { version: 'v1', resource: 'pods' }, { log: opts.log, fieldSelector: opts.podFieldSelector ?? 'spec.nodeName!=' });
    const consider = (pod: KObject) => {
      if (this.opts.nodes.lookup(pod.spec?.nodeName ?? '')) this.queue.add(metaNamespaceKey(pod));
    };
    this.informer.addEventHandler({
      onAdd: consider,
      onUpdate: (_old, pod) => consider(pod),
      onDelete: (pod) => {
        const key = metaNamespaceKey(pod);
        if (this.records.has(key)) this.queue.add(key);
      },
    });
  }

  /** Start watching; resolves once the initial list is in and adopted pods are queued. */
  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
    const n = this.opts.workers ?? 32;
    for (let i = 0; i < n; i++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.queue.shutDown();
    await this.informer.stop();
    await Promise.all(this.workers);
  }

  /** A node's pod range changed (the controller manager assigned spec.podCIDR): pods started from now on use it. */
  nodeChanged(name: string): void {
    const alloc = this.allocators.get(name);
    const facts = this.opts.nodes.lookup(name);
    if (alloc && facts && alloc.cidr !== facts.podCIDR) this.allocators.delete(name);
  }

  stats(): PodRunnerStats {
    return { tracked: this.records.size, ...this.counters };
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcile(key);
        this.queue.forget(key);
      } catch (e) {
        this.counters.writeErrors++;
        if (!this.stopped) {
          this.opts.log(`pod ${key}: ${(e as Error).message}`);
          this.queue.addRateLimited(key);
        }
      } finally {
        this.queue.done(key);
      }
    }
  }

  private allocator(node: string): PodIPAllocator | undefined {
    const facts = this.opts.nodes.lookup(node);
    if (!facts) return undefined;
    let alloc = this.allocators.get(node);
    if (!alloc || alloc.cidr !== facts.podCIDR) {
      alloc = new PodIPAllocator(facts.podCIDR);
      for (const r of this.byNode.get(node) ?? []) if (r.allocated && r.ip && !r.done) alloc.reserve(r.ip);
      this.allocators.set(node, alloc);
    }
    return alloc;
  }

  private releaseIP(rec: PodRecord): void {
    if (rec.ip && rec.allocated) this.allocators.get(rec.node)?.release(rec.ip);
    rec.allocated = false;
  }

  private drop(key: string, rec: PodRecord): void {
    this.releaseIP(rec);
    this.records.delete(key);
    const set = this.byNode.get(rec.node);
    if (set?.delete(rec) && set.size === 0) this.byNode.delete(rec.node);
  }

  private track(key: string, rec: PodRecord): void {
    this.records.set(key, rec);
    let set = this.byNode.get(rec.node);
    if (!set) this.byNode.set(rec.node, (set = new Set()));
    set.add(rec);
  }

  private async reconcile(key: string): Promise<void> {
    if (this.stopped) return;
    const pod = this.informer.indexer.getByKey(key);
    let rec = this.records.get(key);
    const node = pod?.spec?.nodeName ?? '';
    const facts = pod ? this.opts.nodes.lookup(node) : undefined;
    if (!pod || !facts) {
      if (rec) this.drop(key, rec);
      return;
    }
    if (rec && rec.uid !== pod.metadata.uid) {
      this.drop(key, rec); // deleted and re-created under the same name
      rec = undefined;
    }
    // Our own write has not reached the cache yet; its event will bring us back here.
    const rv = rvNumber(pod);
    if (rec?.writtenRV !== undefined && rv !== undefined && rv < rec.writtenRV) return;

    const now = this.clock.now();
    if (pod.metadata.deletionTimestamp) return this.terminate(key, pod, rec, facts, now);

    const phase = pod.status?.phase;
    if (rec?.done || phase === 'Succeeded' || phase === 'Failed') {
      if (rec) {
        rec.done = true;
        this.releaseIP(rec);
      }
      return;
    }
    if (!rec) rec = this.admit(key, pod, facts, now);

    if (rec.finishAt !== undefined) {
      if (now >= rec.finishAt) {
        const status = terminalStatus(pod, this.facts(pod, rec, facts, now, rec.exitCode ?? 0));
        await this.writeStatus(pod, rec, status);
        rec.done = true;
        this.releaseIP(rec);
        this.counters.completed++;
        return;
      }
      this.queue.addAfter(key, rec.finishAt - now);
    }
    const desired = runningStatus(pod, this.facts(pod, rec, facts, now, 0));
    if (statusFingerprint(desired) !== statusFingerprint(pod.status)) {
      const first = pod.status?.phase !== 'Running';
      await this.writeStatus(pod, rec, desired);
      if (first) this.counters.started++;
    }
  }

  private facts(pod: KObject, rec: PodRecord, node: NodeFacts, now: number, exitCode: number) {
    return { hostIP: node.hostIP, podIP: rec.ip ?? pod.status?.podIP ?? '', startedAt: new Date(rec.startedAt ?? now), now: new Date(now), exitCode };
  }

  /** First sight of a pod: a fresh start, or adoption of one a previous simulator already started. */
  private admit(key: string, pod: KObject, facts: NodeFacts, now: number): PodRecord {
    const rec: PodRecord = { uid: pod.metadata.uid ?? '', node: pod.spec.nodeName };
    this.track(key, rec);
    const st = pod.status ?? {};
    if (st.phase === 'Running' && st.podIP) {
      rec.ip = st.podIP;
      rec.startedAt = Date.parse(st.startTime ?? '') || now;
      if (!pod.spec?.hostNetwork) rec.allocated = this.allocator(rec.node)?.reserve(st.podIP) ?? false;
    } else if (pod.spec?.hostNetwork) {
      rec.ip = facts.hostIP; // host-network pods share the node's address
      rec.startedAt = now;
    } else {
      rec.ip = this.allocator(rec.node)!.allocate();
      rec.allocated = true;
      rec.startedAt = now;
    }
    const plan = completionPlan(pod);
    if (plan) {
      rec.finishAt = rec.startedAt + plan.afterMs;
      rec.exitCode = plan.exitCode;
    }
    return rec;
  }

  /** Graceful deletion: stop the containers (briefly), report them terminated, then remove the pod. */
  private async terminate(key: string, pod: KObject, rec: PodRecord | undefined, facts: NodeFacts, now: number): Promise<void> {
    if (!rec) {
      rec = { uid: pod.metadata.uid ?? '', node: pod.spec.nodeName, done: pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' };
      if (pod.status?.podIP) rec.ip = pod.status.podIP;
      if (pod.status?.startTime) rec.startedAt = Date.parse(pod.status.startTime) || undefined;
      this.track(key, rec);
    }
    if (rec.stopAt === undefined) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      rec.stopAt = now + Math.min(Math.max(0, grace) * 1000, this.opts.maxStopMs ?? 1000);
    }
    if (now < rec.stopAt) {
      this.queue.addAfter(key, rec.stopAt - now);
      return;
    }
    const running = !rec.done && pod.status?.phase === 'Running';
    if (running) {
      try {
        await this.writeStatus(pod, rec, terminalStatus(pod, this.facts(pod, rec, facts, now, 0)));
      } catch (e) {
        if (isNotFound(e)) return this.drop(key, rec);
        throw e;
      }
      rec.done = true;
    }
    this.releaseIP(rec);
    try {
      await this.nodeClient(pod).delete({ ...PODS, namespace: pod.metadata.namespace, name: pod.metadata.name! }, { gracePeriodSeconds: 0, preconditions: { uid: rec.uid } });
      this.counters.deleted++;
    } catch (e) {
      // Gone already, or the name now belongs to a different pod: nothing left for us to do.
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }

  /** Writes about a pod are made by the node it is bound to. */
  private nodeClient(pod: KObject): ApiClient {
    const node = pod.spec?.nodeName;
    return (node && this.opts.clientFor?.(node)) || this.opts.client;
  }

  private async writeStatus(pod: KObject, rec: PodRecord, status: Record<string, any>): Promise<void> {
    // A merge patch cannot conflict with the scheduler's or controllers' writes; the uid guards
    // against a same-named replacement where the server checks it.
    const out = await this.nodeClient(pod).patch(
      { ...PODS, namespace: pod.metadata.namespace, name: pod.metadata.name!, subresource: 'status' },
      'merge',
      { metadata: { uid: rec.uid }, status },
    );
    const rv = rvNumber(out);
    if (rv !== undefined) rec.writtenRV = rv;
  }
}
