// The node half of a simulated kubelet: register the Node objects, renew their Leases every few
// seconds and re-post node status now and then (or at once when someone marked a node unhealthy).

import type { KObject } from '../../api/types.ts';
import { ApiClient, isAlreadyExists, isConflict, isNotFound, microTime, type ResourceRef } from '../../client/api-client.ts';
import { realClock, type Clock } from '../../client/clock.ts';
import { dropManagedFields } from '../../client/informer.ts';
import { Limiter, Spreader } from './pacer.ts';
import { LEASE_DURATION_SECONDS, NODE_LEASE_NAMESPACE, buildLease, buildNode, healthyNodeConditions, nodeLooksHealthy, nodeStatus, type NodeTemplate } from './node-object.ts';

const NODES: ResourceRef = { version: 'v1', resource: 'nodes' };
const LEASES: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: NODE_LEASE_NAMESPACE };

export interface SimNode {
  name: string;
  index: number;
  uid?: string;
  /** Our last copy of the node (from a write or the informer). */
  node?: KObject;
  /**
   * The last lease the server returned, without `managedFields`: its resourceVersion makes
   * renewals a single PUT, and an update without managed fields keeps the stored ones (the server
   * would otherwise compare the sent entries with its own on each of 500 renewals a second).
   */
  lease?: KObject;
  /** The node was deleted by someone else: stop heartbeats for it. */
  gone?: boolean;
}

export interface NodeAgentOptions {
  client: ApiClient;
  /** The client that acts as one node (`system:node:<name>`); default `client` for every node. */
  clientFor?: (node: string) => ApiClient;
  template: NodeTemplate;
  /** Lease renewal interval (kubelet: 10 s, a quarter of the lease duration). */
  leaseRenewSeconds: number;
  leaseDurationSeconds?: number;
  /** Unconditional node status report interval (kubelet: 5 minutes). */
  nodeStatusSeconds: number;
  concurrency: number;
  log: (m: string) => void;
  clock?: Clock;
}

export class NodeAgent {
  readonly nodes = new Map<string, SimNode>();
  private readonly limiter: Limiter;
  private readonly leases: Spreader<string>;
  private readonly statuses: Spreader<string>;
  private readonly clock: Clock;
  private stopped = false;
  private errorCount = 0;

  constructor(private readonly opts: NodeAgentOptions, names: string[], firstIndex = 0) {
    this.clock = opts.clock ?? realClock;
    names.forEach((name, i) => this.nodes.set(name, { name, index: firstIndex + i }));
    this.limiter = new Limiter(opts.concurrency);
    const onError = (name: string, e: unknown) => this.reportError(`node ${name}`, e);
    this.leases = new Spreader({ intervalMs: opts.leaseRenewSeconds * 1000, limiter: this.limiter, work: (n) => this.renewLease(n), clock: this.clock, onError });
    this.statuses = new Spreader({ intervalMs: opts.nodeStatusSeconds * 1000, limiter: this.limiter, work: (n) => this.postStatus(n), clock: this.clock, onError });
  }

  /** Register every node and its lease (bounded concurrency); resolves when all are done. */
  async registerAll(): Promise<void> {
    const failures: string[] = [];
    await Promise.all(
      [...this.nodes.values()].map((n) =>
        this.limiter.run(() => this.register(n)).catch((e) => {
          failures.push(`${n.name}: ${(e as Error).message}`);
        }),
      ),
    );
    if (failures.length) throw new Error(`could not register ${failures.length} node(s): ${failures.slice(0, 3).join('; ')}`);
  }

  /** Start the periodic lease renewals and status reports. */
  start(): void {
    for (const n of this.nodes.values()) {
      this.leases.add(n.name);
      this.statuses.add(n.name);
    }
    this.leases.start();
    this.statuses.start();
  }

  /** Stop all heartbeats; in-flight requests are awaited. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.leases.stop();
    this.statuses.stop();
    await this.limiter.idle();
  }

  /**
   * Delete the nodes (leases go with them through their owner reference, and explicitly here). As
   * the simulator itself: a kubelet may not delete its own Node.
   */
  async deleteAll(): Promise<void> {
    await Promise.all(
      [...this.nodes.values()].map((n) =>
        this.limiter.run(async () => {
          await this.opts.client.delete({ ...LEASES, name: n.name }).catch(ignoreNotFound);
          await this.opts.client.delete({ ...NODES, name: n.name }).catch(ignoreNotFound);
        }),
      ),
    );
  }

  /** Rounds where a node's previous renewal had not finished yet (falling behind). */
  laggingRounds(): number {
    return this.leases.skipped;
  }

  /** What the node informer saw: keep our copy, and repair the status if it no longer looks healthy. */
  observe(node: KObject): void {
    const n = this.nodes.get(node.metadata.name ?? '');
    if (!n || this.stopped) return;
    if (n.uid && node.metadata.uid !== n.uid) return; // an older incarnation's event
    n.node = node;
    if (!nodeLooksHealthy(node)) this.statuses.trigger(n.name);
  }

  /** The node object was deleted by someone else: a deleted node's kubelet stays quiet. */
  forget(node: KObject): void {
    const n = this.nodes.get(node.metadata.name ?? '');
    if (!n || (n.uid && node.metadata.uid !== n.uid)) return;
    if (!n.gone) this.opts.log(`node ${n.name} was deleted; stopping its heartbeats`);
    n.gone = true;
    this.leases.remove(n.name);
    this.statuses.remove(n.name);
  }

  private client(node: string): ApiClient {
    return this.opts.clientFor?.(node) ?? this.opts.client;
  }

  private async register(n: SimNode): Promise<void> {
    const c = this.client(n.name);
    const now = new Date(this.clock.now());
    let node: KObject;
    try {
      node = await c.create(NODES, buildNode(n.name, n.index, this.opts.template, now));
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      // A restarted simulator takes its nodes back, as a rebooted kubelet does.
      node = await c.get({ ...NODES, name: n.name });
    }
    n.uid = node.metadata.uid;
    n.node = node;
    // Some servers drop status on create; an adopted node carries old heartbeats. Post it either way.
    if (!nodeLooksHealthy(node) || !node.status?.nodeInfo || !node.status?.capacity) {
      n.node = await c.patch({ ...NODES, name: n.name, subresource: 'status' }, 'merge', {
        status: nodeStatus(n.name, n.index, this.opts.template, node.status?.conditions, now),
      });
    }
    await this.renewLease(n.name);
  }

  private async renewLease(name: string): Promise<void> {
    const n = this.nodes.get(name);
    if (!n || n.gone || this.stopped) return;
    const c = this.client(name);
    const now = new Date(this.clock.now());
    const duration = this.opts.leaseDurationSeconds ?? LEASE_DURATION_SECONDS;
    if (n.lease) {
      const next = structuredClone(n.lease);
      next.spec = { ...next.spec, holderIdentity: name, leaseDurationSeconds: duration, renewTime: microTime(now) };
      try {
        n.lease = withoutManagedFields(await c.update({ ...LEASES, name }, next));
        return;
      } catch (e) {
        if (!isConflict(e) && !isNotFound(e)) throw e;
        n.lease = undefined; // someone else wrote it or it is gone: start over from the server's copy
      }
    }
    let current: KObject | undefined;
    try {
      current = await c.get({ ...LEASES, name });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!current) {
      try {
        n.lease = withoutManagedFields(await c.create(LEASES, buildLease(name, n.uid, now, duration)));
        return;
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        current = await c.get({ ...LEASES, name });
      }
    }
    const next = withoutManagedFields(structuredClone(current!));
    next.spec = { ...next.spec, holderIdentity: name, leaseDurationSeconds: duration, renewTime: microTime(now) };
    n.lease = withoutManagedFields(await c.update({ ...LEASES, name }, next));
  }

  private async postStatus(name: string): Promise<void> {
    const n = this.nodes.get(name);
    if (!n || n.gone || this.stopped) return;
    const now = new Date(this.clock.now());
    try {
      // A merge patch replaces the conditions list wholesale; healthyNodeConditions keeps others' entries.
      n.node = dropManagedFields(
        await this.client(name).patch({ ...NODES, name, subresource: 'status' }, 'merge', {
          status: { conditions: healthyNodeConditions(n.node?.status?.conditions, now) },
        }),
      );
    } catch (e) {
      if (isNotFound(e)) {
        if (n.node) this.forget(n.node);
        return;
      }
      throw e;
    }
  }

  private reportError(what: string, e: unknown): void {
    this.errorCount++;
    // Log the first few and then every hundredth, so an API server outage does not flood the log.
    if (this.errorCount <= 5 || this.errorCount % 100 === 0) this.opts.log(`heartbeat for ${what} failed (${this.errorCount} failures so far): ${(e as Error).message}`);
  }
}

function withoutManagedFields(o: KObject): KObject {
  if (o.metadata) delete o.metadata.managedFields;
  return o;
}

function ignoreNotFound(e: unknown): void {
  if (!isNotFound(e)) throw e;
}
