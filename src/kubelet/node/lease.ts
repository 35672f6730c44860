// The node's heartbeat: its Lease in kube-node-lease, renewed every 10 s (a quarter of the 40 s
// duration), as upstream's node lease controller. A renewal is one PUT of the last Lease the
// server returned; after a conflict or a missing Lease it starts again from the server's copy.
// While renewals fail it retries sooner (200 ms doubling up to the interval), as upstream does.

import type { KObject } from '../../api/types.ts';
import { ApiClient, isAlreadyExists, isConflict, isNotFound, microTime, type ResourceRef } from '../../client/api-client.ts';
import { LEASE_DURATION_SECONDS, NODE_LEASE_NAMESPACE, buildLease } from '../simulated/node-object.ts';

const LEASES: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: NODE_LEASE_NAMESPACE };

export interface NodeLeaseOptions {
  client: ApiClient;
  nodeName: string;
  /** The Node's uid, for the Lease's owner reference (the Lease goes when the Node does). */
  nodeUid: () => string | undefined;
  renewIntervalMs?: number;
  durationSeconds?: number;
  log: (msg: string) => void;
}

export class NodeLease {
  private lease?: KObject;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private failures = 0;
  private inFlight?: Promise<void>;
  /** Renewals that succeeded (tests and benchmarks read it). */
  renewals = 0;

  constructor(private readonly o: NodeLeaseOptions) {}

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.renew().then(
        () => {
          this.failures = 0;
          this.renewals++;
          this.schedule(this.o.renewIntervalMs ?? 10_000);
        },
        (e) => {
          this.failures++;
          if (this.failures <= 3 || this.failures % 30 === 0) this.o.log(`failed to renew the node lease (${this.failures} in a row): ${(e as Error).message}`);
          this.schedule(Math.min(200 * 2 ** (this.failures - 1), this.o.renewIntervalMs ?? 10_000));
        },
      );
    }, ms);
    this.timer.unref?.();
  }

  /** One renewal: update from our copy, else from the server's, else create. */
  async renew(): Promise<void> {
    const { client, nodeName: name } = this.o;
    const now = new Date();
    const duration = this.o.durationSeconds ?? LEASE_DURATION_SECONDS;
    const next = (from: KObject): KObject => {
      const l = structuredClone(from);
      l.spec = { ...l.spec, holderIdentity: name, leaseDurationSeconds: duration, renewTime: microTime(now) };
      const uid = this.o.nodeUid();
      if (uid && !(l.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid)) l.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name, uid }];
      return l;
    };
    if (this.lease) {
      try {
        this.lease = await client.update({ ...LEASES, name }, next(this.lease));
        return;
      } catch (e) {
        this.lease = undefined;
        if (!isConflict(e) && !isNotFound(e)) throw e;
      }
    }
    let current: KObject | undefined;
    try {
      current = await client.get({ ...LEASES, name });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!current) {
      try {
        this.lease = await client.create(LEASES, buildLease(name, this.o.nodeUid(), now, duration));
        return;
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        current = await client.get({ ...LEASES, name });
      }
    }
    this.lease = await client.update({ ...LEASES, name }, next(current!));
  }
}
