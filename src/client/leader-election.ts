// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: a candidate takes
// the lease only when it has seen the lease unchanged for leaseDurationSeconds (measured on its own
// clock, so clock skew between candidates does not matter), writes are guarded by resourceVersion,
// and a leader that cannot renew within renewDeadline steps down.

import { ApiClient, isAlreadyExists, isConflict, isNotFound, microTime, type ResourceRef } from './api-client.ts';
import type { KObject } from '../api/types.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KObject {
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: ApiClient;
  /** Lease namespace and name, e.g. kube-system / kube-scheduler. */
  namespace: string;
  name: string;
  /** This candidate's identity (usually hostname + unique suffix). */
  identity: string;
  leaseDurationSeconds?: number; // default 15
  renewDeadlineMs?: number; // default 10 s
  retryPeriodMs?: number; // default 2 s
  /** Clear holderIdentity when stop() is called while leading (default true). */
  releaseOnCancel?: boolean;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  /** Called when the observed leader changes (including to ourselves). */
  onNewLeader?: (identity: string) => void;
  log?: (msg: string) => void;
}

const leasesRef = (ns: string): ResourceRef => ({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: ns });

export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader' | 'log'>> &
    LeaderElectionOptions;
  private observed?: Lease;
  private observedRaw = '';
  private observedTime = 0;
  private leading = false;
  private stopped = false;
  private running?: Promise<void>;
  private wake?: () => void;
  private reportedLeader = '';

  constructor(opts: LeaderElectionOptions) {
    // Options left undefined take the defaults (a plain spread would let `undefined` override them,
    // and an undefined retry period made renewals spin).
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as LeaderElectionOptions;
    this.o = {
      leaseDurationSeconds: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      releaseOnCancel: true,
      ...given,
    };
    if (this.o.leaseDurationSeconds * 1000 <= this.o.renewDeadlineMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.o.renewDeadlineMs <= this.o.retryPeriodMs * 1.2) throw new Error('renewDeadline must be greater than retryPeriod*1.2');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder of the lease as last observed ('' if none). */
  getLeader(): string {
    return this.observed?.spec?.holderIdentity ?? '';
  }

  /**
   * Campaign, lead until leadership is lost or stop() is called, then resolve. Like client-go, an
   * elector runs once: after losing the lease, create a new one to campaign again.
   */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stop campaigning or leading; releases the lease if held (and releaseOnCancel). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    // Acquire.
    for (;;) {
      if (this.stopped) return;
      if (await this.tryAcquireOrRenew()) break;
      await this.sleep(this.o.retryPeriodMs * (1 + Math.random() * 1.2));
    }
    this.leading = true;
    this.safe(() => this.o.onStartedLeading?.());

    // Renew every retryPeriod; each renewal may retry until renewDeadline passes.
    renew: while (!this.stopped) {
      await this.sleep(this.o.retryPeriodMs);
      if (this.stopped) break;
      const deadline = Date.now() + this.o.renewDeadlineMs;
      for (;;) {
        if (this.stopped) break renew;
        if (await this.tryAcquireOrRenew(deadline - Date.now())) break;
        if (Date.now() + this.o.retryPeriodMs >= deadline) {
          this.log(`failed to renew lease ${this.o.namespace}/${this.o.name}: timed out`);
          break renew;
        }
        await this.sleep(this.o.retryPeriodMs);
      }
    }
    if (this.stopped && this.o.releaseOnCancel) await this.release();
    this.leading = false;
    this.safe(() => this.o.onStoppedLeading?.());
  }

  /** One attempt to take or renew the lease; false on any failure (conflict, held by another, errors). */
  private async tryAcquireOrRenew(timeoutMs?: number): Promise<boolean> {
    try {
      const attempt = this.attempt();
      if (timeoutMs === undefined) return await attempt;
      return await Promise.race([attempt, new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, timeoutMs)).unref())]);
    } catch (e) {
      this.log(`error acquiring or renewing lease ${this.o.namespace}/${this.o.name}: ${(e as Error).message}`);
      return false;
    }
  }

  private async attempt(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const now = new Date();
    let current: Lease | undefined;
    try {
      current = await client.get<Lease>({ ...leasesRef(namespace), name });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }

    if (!current) {
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: this.o.leaseDurationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      };
      try {
        const created = await client.create<Lease>(leasesRef(namespace), lease);
        this.observe(created, Date.now());
        return true;
      } catch (e) {
        if (isAlreadyExists(e)) return false;
        throw e;
      }
    }

    // Restart the lease timer whenever the record changes, on our clock.
    const spec = current.spec ?? {};
    const raw = JSON.stringify(spec);
    if (raw !== this.observedRaw) this.observe(current, Date.now());
    else this.observed = current;

    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? this.o.leaseDurationSeconds) * 1000;
    const weHold = holder === identity;
    if (holder && !weHold && this.observedTime + durationMs > Date.now()) return false;

    const next: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.o.leaseDurationSeconds,
      acquireTime: weHold ? spec.acquireTime ?? microTime(now) : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: weHold ? spec.leaseTransitions ?? 0 : (spec.leaseTransitions ?? 0) + 1,
    };
    try {
      const updated = await client.update<Lease>({ ...leasesRef(namespace), name }, { ...current, spec: { ...spec, ...next } });
      this.observe(updated, Date.now());
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  /** Give the lease up so another candidate can take it at once (client-go's release). */
  private async release(): Promise<void> {
    const { client, namespace, name, identity } = this.o;
    try {
      const current = await client.get<Lease>({ ...leasesRef(namespace), name });
      if ((current.spec?.holderIdentity ?? '') !== identity) return;
      const now = microTime();
      const spec: LeaseSpec = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: current.spec?.leaseTransitions ?? 0,
      };
      const updated = await client.update<Lease>({ ...leasesRef(namespace), name }, { ...current, spec });
      this.observe(updated, Date.now());
    } catch (e) {
      this.log(`failed to release lease ${namespace}/${name}: ${(e as Error).message}`);
    }
  }

  private observe(lease: Lease, at: number): void {
    this.observed = lease;
    this.observedRaw = JSON.stringify(lease.spec ?? {});
    this.observedTime = at;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      this.safe(() => this.o.onNewLeader?.(holder));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        if (self.wake === done) self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log(`leader election callback failed: ${(e as Error).stack ?? e}`);
    }
  }

  private log(msg: string): void {
    (this.o.log ?? ((m: string) => console.warn(m)))(msg);
  }
}
