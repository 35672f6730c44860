// A real node's half of the kubelet that is about the Node object itself:
//   - registration: create the Node, or adopt the one that exists (its default labels and status
//     brought up to date, as upstream's tryRegisterWithAPIServer);
//   - status: every 10 s the status is computed (capacity, allocatable, conditions, addresses,
//     nodeInfo, images) and written with a strategic merge patch only when it changed, or at
//     least every 5 minutes (upstream's nodeStatusUpdateFrequency / nodeStatusReportFrequency);
//   - the Lease in kube-node-lease every 10 s (lease.ts);
//   - the Node as the API server has it (a watch on this one Node), for spec.podCIDR and the
//     pod workers' admission.

import type { KObject } from '../../api/types.ts';
import { ApiClient, isAlreadyExists, isNotFound, type ResourceRef } from '../../client/api-client.ts';
import { Informer } from '../../client/informer.ts';
import type { CriClient } from '../cri/services.ts';
import type { VersionResponse } from '../cri/types.ts';
import { nodeMemory, processCounts } from '../stats/host.ts';
import { nodeConditions, pressureFrom, readiness, type Pressure, type RuntimeHealth } from './conditions.ts';
import { NodeLease } from './lease.ts';
import { fsInfo, readMachineInfo, type MachineInfo } from './machine-info.ts';
import { buildNode, defaultNodeLabels, nodeStatus, statusFingerprint, type NodeIdentity, type Taint } from './node-object.ts';
import { nodeAllocatable, nodeCapacity, quantitiesToStrings, type ResourceOptions } from './resources.ts';

const NODES: ResourceRef = { version: 'v1', resource: 'nodes' };

export interface NodeControllerOptions {
  client: ApiClient;
  nodeName: string;
  /** The kubelet's root dir: its filesystem is the node's ephemeral storage. */
  rootDir: string;
  /** Where the runtime keeps images (imagefs), if elsewhere than rootDir's filesystem. */
  imageFsDir?: string;
  cri: CriClient;
  runtimeVersion: VersionResponse;
  addresses: { type: string; address: string }[];
  kubeletPort: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  externalCloudProvider?: boolean;
  resources?: ResourceOptions;
  /** Extra reasons the node is not ready (e.g. the pod network is not configured yet). */
  readinessErrors?: () => string[];
  statusIntervalMs?: number;
  reportIntervalMs?: number;
  leaseRenewIntervalMs?: number;
  leaseDurationSeconds?: number;
  log: (msg: string) => void;
}

export class NodeController {
  private node?: KObject;
  private machine: MachineInfo;
  private lastFingerprint = '';
  private lastReportAt = 0;
  private statusTimer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private stopped = false;
  private informer?: Informer;
  private lease: NodeLease;
  private podCIDRWaiters: ((cidr: string) => void)[] = [];
  private pressureNow: Pressure = { memory: false, disk: false, pid: false };
  private failures = 0;
  private nodeListeners: ((n: KObject) => void)[] = [];
  /** Status writes (tests and benchmarks read it). */
  statusWrites = 0;

  constructor(private readonly o: NodeControllerOptions) {
    this.machine = readMachineInfo(o.rootDir);
    this.lease = new NodeLease({ client: o.client, nodeName: o.nodeName, nodeUid: () => this.node?.metadata.uid, renewIntervalMs: o.leaseRenewIntervalMs, durationSeconds: o.leaseDurationSeconds, log: o.log });
  }

  get identity(): NodeIdentity {
    return { nodeName: this.o.nodeName, machine: this.machine, labels: this.o.labels, taints: this.o.taints, externalCloudProvider: this.o.externalCloudProvider };
  }

  /** The Node as last seen (watch or our own write). */
  getNode(): KObject | undefined {
    return this.node;
  }

  /** Current pressure (for pod admission). */
  pressure(): Pressure {
    return this.pressureNow;
  }

  /** Called with every new version of the Node. */
  onNode(fn: (n: KObject) => void): void {
    this.nodeListeners.push(fn);
  }

  /** Computes the status as of now. */
  async computeStatus(existingConditions?: any[]): Promise<Record<string, any>> {
    this.machine = { ...this.machine, rootFs: fsInfo(this.o.rootDir) };
    const capacity = nodeCapacity(this.machine, this.o.resources);
    const allocatable = nodeAllocatable(capacity, this.o.resources);
    const mem = nodeMemory(this.machine.memoryBytes);
    const procs = processCounts();
    let imagefs;
    try {
      imagefs = this.o.imageFsDir ? fsInfo(this.o.imageFsDir) : undefined;
    } catch {
      imagefs = undefined;
    }
    this.pressureNow = pressureFrom(
      { memoryCapacityBytes: this.machine.memoryBytes, memoryWorkingSetBytes: mem.workingSetBytes, nodefs: this.machine.rootFs, imagefs, pidMax: procs.maxPid, processes: procs.processes },
      this.o.resources?.evictionHard,
    );
    const health = await this.runtimeHealth();
    const images = health.reachable ? await this.o.cri.listImages(undefined, { timeoutMs: 10_000 }).catch(() => []) : [];
    const ready = readiness(health, this.o.readinessErrors?.() ?? []);
    return nodeStatus(this.identity, {
      capacity: quantitiesToStrings(capacity),
      allocatable: quantitiesToStrings(allocatable),
      conditions: nodeConditions(existingConditions, this.pressureNow, ready, new Date()),
      addresses: this.o.addresses,
      kubeletPort: this.o.kubeletPort,
      runtimeVersion: this.o.runtimeVersion,
      images,
    });
  }

  private async runtimeHealth(): Promise<RuntimeHealth> {
    try {
      const st = await this.o.cri.status(false, { timeoutMs: 5000 });
      return { reachable: true, conditions: st.status?.conditions?.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })) ?? [] };
    } catch (e) {
      return { reachable: false, conditions: [], error: (e as Error).message };
    }
  }

  /** Creates the Node, or adopts the existing one; resolves with the Node as stored. */
  async register(): Promise<KObject> {
    const c = this.o.client;
    const status = await this.computeStatus();
    let node: KObject;
    try {
      node = await c.create(NODES, buildNode(this.identity, status));
      this.o.log(`registered node ${this.o.nodeName}`);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await c.get<KObject>({ ...NODES, name: this.o.nodeName });
      // Adopt it (a restarted kubelet, or a node registered before): default labels as this
      // kubelet sees the machine; taints and other labels stay as people set them.
      const want = { ...defaultNodeLabels(this.identity), ...(this.o.labels ?? {}) };
      const labels = existing.metadata.labels ?? {};
      const missing = Object.entries(want).filter(([k, v]) => labels[k] !== v);
      node = existing;
      if (missing.length) node = await c.patch({ ...NODES, name: this.o.nodeName }, 'strategic', { metadata: { labels: Object.fromEntries(missing) } });
      this.o.log(`node ${this.o.nodeName} exists already: adopted it`);
    }
    this.node = node;
    await this.writeStatus(node.status?.conditions, true);
    return this.node!;
  }

  /** Starts the status loop, the lease and the watch of the Node. Call after register(). */
  start(): void {
    this.lease.start();
    this.informer = new Informer(this.o.client, NODES, { fieldSelector: `metadata.name=${this.o.nodeName}`, log: (m) => this.o.log(`node watch: ${m}`) });
    this.informer.addEventHandler({
      onAdd: (n) => this.observe(n),
      onUpdate: (_o, n) => this.observe(n),
      onDelete: () => {
        // Upstream's kubelet registers again when its Node is deleted: the status loop does it.
        this.o.log(`node ${this.o.nodeName} was deleted; registering it again`);
        this.node = undefined;
      },
    });
    this.informer.start();
    this.scheduleStatus(this.o.statusIntervalMs ?? 10_000);
  }

  private observe(n: KObject): void {
    const prev = this.node;
    if (prev && prev.metadata.uid === n.metadata.uid && Number(prev.metadata.resourceVersion) > Number(n.metadata.resourceVersion)) return;
    this.node = n;
    const cidr = n.spec?.podCIDR;
    if (cidr && this.podCIDRWaiters.length) for (const w of this.podCIDRWaiters.splice(0)) w(cidr);
    for (const l of this.nodeListeners) l(n);
  }

  /** Resolves with spec.podCIDR once the node IPAM controller has set it. */
  waitForPodCIDR(signal?: AbortSignal): Promise<string> {
    const now = this.node?.spec?.podCIDR;
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      this.podCIDRWaiters.push(resolve);
      signal?.addEventListener('abort', () => reject(new Error('stopped while waiting for the node\'s podCIDR')), { once: true });
    });
  }

  /** Computes and writes the status now (when something changed, e.g. the pod network came up). */
  syncStatusNow(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.syncStatus().finally(() => (this.syncing = undefined));
    }
    return this.syncing;
  }

  private scheduleStatus(ms: number): void {
    if (this.stopped) return;
    this.statusTimer = setTimeout(() => {
      this.syncStatusNow().then(
        () => {
          this.failures = 0;
          this.scheduleStatus(this.o.statusIntervalMs ?? 10_000);
        },
        (e) => {
          this.failures++;
          if (this.failures <= 3 || this.failures % 30 === 0) this.o.log(`failed to update the status of node ${this.o.nodeName} (${this.failures} in a row): ${(e as Error).message}`);
          this.scheduleStatus(this.o.statusIntervalMs ?? 10_000);
        },
      );
    }, ms);
    this.statusTimer.unref?.();
  }

  private async syncStatus(): Promise<void> {
    if (this.stopped) return;
    if (!this.node) {
      await this.register();
      return;
    }
    await this.writeStatus(this.node.status?.conditions, false);
  }

  private async writeStatus(existing: any[] | undefined, force: boolean): Promise<void> {
    const status = await this.computeStatus(existing);
    const fp = statusFingerprint(status);
    const due = Date.now() - this.lastReportAt >= (this.o.reportIntervalMs ?? 300_000);
    // Someone else changed one of our conditions (the node lifecycle controller's Unknown): repost.
    const ours = new Map(status.conditions.map((c: any) => [c.type, c.status]));
    const drifted = (this.node?.status?.conditions ?? []).some((c: any) => ours.has(c.type) && ours.get(c.type) !== c.status);
    if (!force && !due && !drifted && fp === this.lastFingerprint) return;
    try {
      this.node = await this.o.client.patch({ ...NODES, name: this.o.nodeName, subresource: 'status' }, 'strategic', { status });
    } catch (e) {
      if (isNotFound(e)) {
        this.node = undefined;
        return;
      }
      throw e;
    }
    this.statusWrites++;
    this.lastFingerprint = fp;
    this.lastReportAt = Date.now();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.statusTimer);
    await this.syncing?.catch(() => {});
    await this.lease.stop();
    await this.informer?.stop();
  }
}
