// The kubelet core: runs the pods bound to one node on a CRI runtime.
//
//   const kubelet = new Kubelet({ client, nodeName, runtime, rootDir, clusterDNS, clusterDomain, log, getNode });
//   await kubelet.start();            // resolves once the node's pods were listed
//   startKubeletServer({ pods: kubelet.podsView(), runtime: kubelet.streaming(), logs: kubelet.logSource(), ... });
//   ...
//   await kubelet.stop();             // containers keep running; a new Kubelet adopts them
//
// Pieces: a pod source (an informer on pods with spec.nodeName=<node>), per-pod workers (one sync
// at a time per UID, pod-workers.ts), the sync itself (pod-sync.ts), a relist of the runtime every
// second that wakes the workers of pods whose containers changed (runtime-state.ts), status
// written through pods/status only when it changed (pod-status.ts), events, and housekeeping that
// removes what deleted pods left behind (housekeeping.ts).

import { availableParallelism, totalmem } from 'node:os';
import type { KObject } from '../../api/types.ts';
import { ApiClient, isConflict, isNotFound } from '../../client/api-client.ts';
import { EventRecorder } from '../../client/event-recorder.ts';
import { Informer, trimForCache } from '../../client/informer.ts';
import { parseQuantity, quantityValue } from '../../machinery/quantity.ts';
import { observePodStartSeconds, setRunningPods } from './kubelet-metrics.ts';
import type { CriClient } from '../cri/services.ts';
import type { NodePaths } from '../containerd/paths.ts';
import { ApiObjectSources } from '../objects/api-sources.ts';
import type { Node, Pod, ResourceList } from '../pods/api-types.ts';
import { criExecSync } from '../prober/exec.ts';
import { ProbeManager } from '../prober/manager.ts';
import type { ProbeUpdate } from '../prober/results.ts';
import { criLogSource, criStreamingRuntime } from '../server/cri-runtime.ts';
import { runningContainerIdFromStatus, type ContainerLogSource, type KubeletPods, type StreamingRuntime } from '../server/types.ts';
import { canMount, SystemMounter } from '../volumes/mounter.ts';
import { KubeletPaths } from '../volumes/paths.ts';
import { VolumeManager, volumeObjectRefs } from '../volumes/volume-manager.ts';
import { Backoff } from './backoff.ts';
import { containerFieldPath, newRecord, type EventType, type PodRecord, type SyncContext } from './context.ts';
import { cleanupOrphans } from './housekeeping.ts';
import { ImagePuller } from './image-puller.ts';
import { PodWorkers } from './pod-workers.ts';
import { buildPodStatus, statusKey } from './pod-status.ts';
import { KUBELET_CONDITIONS } from '../pods/pod-conditions.ts';
import { syncPod } from './pod-sync.ts';
import { RuntimeState } from './runtime-state.ts';
import { Limiter } from './limiter.ts';
import { traceStep } from './trace.ts';

export interface KubeletOptions {
  /** The node's API client (system:node:<name>, or an admin client in tests). */
  client: ApiClient;
  nodeName: string;
  /** The node's runtime (node-runtime.ts): its CRI client, runtime name and the pod logs directory. */
  runtime: { cri: CriClient; version: { runtimeName: string }; paths: Pick<NodePaths, 'podLogsDir'> };
  /** The kubelet's own directory (pods' volumes, etc-hosts, termination messages), e.g. <data-dir>/kubelet. */
  rootDir: string;
  /** --cluster-dns and --cluster-domain. */
  clusterDNS: string[];
  clusterDomain: string;
  log: (msg: string) => void;
  /** The node's Node object as last seen (admission, allocatable, addresses); undefined until registered. */
  getNode(): Node | undefined;
  /** status.hostIP(s); default the Node's InternalIP addresses. */
  nodeIPs?: string[];
  /** Prefix of pod cgroups (cgroupfs): pods go under `<cgroupRoot>/kubepods/...`. Default ''. */
  cgroupRoot?: string;
  /** The resolv.conf pods with dnsPolicy Default get (default /etc/resolv.conf). */
  resolvConfPath?: string;
  /** How often the runtime is relisted (default 1000 ms). */
  relistPeriodMs?: number;
  /** How often orphans are cleaned up (default 10 s). */
  housekeepingPeriodMs?: number;
  /** How often mounted configMaps/secrets/downwardAPI volumes are refreshed (default 60 s). */
  volumeRefreshPeriodMs?: number;
  /** Crash-loop back-off (default 10 s doubling to 5 min). */
  restartBackoff?: { initialMs?: number; maxMs?: number };
  /**
   * How many RunPodSandbox calls may run at once (default twice the CPUs, at least 2). Sandboxes
   * cost the runtime CPU (shim, runc, CNI plugins); started all at once in a burst they all finish
   * late, started a few at a time the first pods run early and the last no later.
   */
  maxConcurrentSandboxes?: number;
  /** Events go here (default a recorder writing with `client` as component kubelet). */
  recorder?: EventRecorder;
}

const DEFAULT_RELIST_MS = 1000;

export class Kubelet {
  private readonly o: KubeletOptions;
  private readonly records = new Map<string, PodRecord>();
  /** When each pod not yet started was first seen (performance.now()), for the start-duration metric. */
  private readonly firstSeen = new Map<string, number>();
  private readonly workers: PodWorkers;
  private readonly ctx: SyncContext;
  private readonly informer: Informer<Pod>;
  private readonly sources: ApiObjectSources;
  private readonly recorder: EventRecorder;
  private readonly ownRecorder: boolean;
  private timers: NodeJS.Timeout[] = [];
  private relistTimer?: NodeJS.Timeout;
  private runtimeDown = false;
  private stopped = false;
  private synced = false;
  private housekeepingRunning = false;

  constructor(opts: KubeletOptions) {
    this.o = opts;
    const cri = opts.runtime.cri;
    this.ownRecorder = !opts.recorder;
    this.recorder = opts.recorder ?? new EventRecorder(opts.client, { source: { component: 'kubelet', host: opts.nodeName }, log: opts.log });
    this.sources = new ApiObjectSources(opts.client, { onChange: (kind, ns, name) => this.objectChanged(kind, ns, name), log: opts.log });
    const paths = new KubeletPaths(opts.rootDir);
    const record = (pod: Pod, type: EventType, reason: string, message: string, fieldPath?: string) => this.recorder.event(pod, type, reason, message, fieldPath);
    const execSync = criExecSync(cri);
    const probes = new ProbeManager({
      execSync,
      getPodStatus: (uid) => this.records.get(uid)?.status,
      recordEvent: (pod, name, type, reason, message) => record(pod, type, reason, message, containerFieldPath(pod, name)),
      onUpdate: (u) => this.probeUpdate(u),
    });
    const allocatable = () => opts.getNode()?.status?.allocatable;
    this.ctx = {
      client: opts.client,
      cri,
      runtimeName: opts.runtime.version.runtimeName || 'containerd',
      nodeName: opts.nodeName,
      paths,
      podLogsDir: opts.runtime.paths.podLogsDir,
      cgroupRoot: opts.cgroupRoot ?? '',
      sources: this.sources,
      volumes: new VolumeManager({ rootDir: opts.rootDir, sources: this.sources, nodeAllocatable: allocatable, mounter: canMount() ? new SystemMounter() : null }),
      probes,
      images: new ImagePuller(cri, this.sources),
      restartBackoff: new Backoff({ initialMs: opts.restartBackoff?.initialMs ?? 10_000, maxMs: opts.restartBackoff?.maxMs ?? 300_000, resetAfterMs: 10 * 60_000 }),
      state: new RuntimeState(cri),
      sandboxLimiter: new Limiter(opts.maxConcurrentSandboxes ?? Math.max(2, 2 * availableParallelism())),
      execSync,
      dns: { clusterDNS: opts.clusterDNS, clusterDomain: opts.clusterDomain, resolvConfPath: opts.resolvConfPath, nodeIPs: opts.nodeIPs },
      node: opts.getNode,
      hostIPs: () => this.hostIPs(),
      memoryCapacity: () => quantityOf(opts.getNode()?.status?.capacity, 'memory') ?? totalmem(),
      nodeAllocatable: allocatable,
      record,
      log: opts.log,
    };
    this.workers = new PodWorkers((uid) => this.sync(uid), opts.log);
    this.informer = new Informer<Pod>(opts.client, { version: 'v1', resource: 'pods' }, { fieldSelector: `spec.nodeName=${opts.nodeName}`, log: opts.log, transform: trimForCache() });
    this.informer.addEventHandler({
      onAdd: (pod) => this.podChanged(pod),
      onUpdate: (_old, pod) => this.podChanged(pod),
      onDelete: (pod) => this.podRemoved(pod),
    });
  }

  /** Starts watching the node's pods and running them; resolves once they were listed. */
  async start(): Promise<void> {
    this.sources.start();
    this.informer.start();
    this.relistLoop();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(this.o.housekeepingPeriodMs ?? 10_000, () => void this.housekeeping());
    every(this.o.volumeRefreshPeriodMs ?? 60_000, () => void this.refreshVolumes());
    await Promise.all([this.informer.waitForSync(), this.sources.waitForServices()]);
    this.synced = true;
    for (const uid of this.records.keys()) this.workers.enqueue(uid);
    void this.housekeeping();
  }

  /** Stops the kubelet; containers keep running (a new Kubelet on the same runtime adopts them). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.relistTimer);
    await this.informer.stop();
    await this.workers.stop();
    this.ctx.probes.stop();
    await this.sources.stop();
    if (this.ownRecorder) await this.recorder.flush().catch(() => {});
  }

  /** Pods admitted to run here that have not finished (upstream GetActivePods). */
  activePods(): Pod[] {
    const out: Pod[] = [];
    for (const r of this.records.values()) {
      if (!r.admitted || r.rejection || r.terminalPhase || r.deletedFromApi || r.terminated) continue;
      out.push(r.pod);
    }
    return out;
  }

  /** The pod as the kubelet sees it: the API object with the kubelet's latest status. */
  pod(uid: string): Pod | undefined {
    const r = this.records.get(uid);
    return r && ({ ...r.pod, status: r.status ?? r.pod.status } as Pod);
  }

  /** For the kubelet server: the pods it runs (GET /pods, exec/attach/portforward lookups). */
  podsView(): KubeletPods {
    const view = (r: PodRecord): KObject => ({ ...r.pod, status: r.status ?? r.pod.status }) as KObject;
    const find = (namespace: string, name: string, uid?: string) => {
      let best: PodRecord | undefined;
      for (const r of this.records.values()) {
        if (r.pod.metadata.namespace !== namespace || r.pod.metadata.name !== name) continue;
        if (uid && r.uid !== uid) continue;
        if (!best || !r.deletedFromApi) best = r;
      }
      return best;
    };
    return {
      list: () => [...this.records.values()].map(view),
      get: (namespace, name, uid) => {
        const r = find(namespace, name, uid);
        return r && view(r);
      },
      sandboxId: (pod) => this.records.get(pod.metadata.uid ?? '')?.sandboxId ?? find(pod.metadata.namespace ?? '', pod.metadata.name ?? '')?.sandboxId,
      runningContainerId: (pod, container) => {
        const r = this.records.get(pod.metadata.uid ?? '') ?? find(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
        return r ? runningContainerIdFromStatus(view(r), container) : undefined;
      },
    };
  }

  /** For the kubelet server: exec/attach/port-forward through the runtime's streaming server. */
  streaming(): StreamingRuntime {
    return criStreamingRuntime(this.o.runtime.cri);
  }

  /** For the kubelet server: container log files. */
  logSource(): ContainerLogSource {
    return criLogSource(this.o.runtime.cri);
  }

  // ---- pod source ----

  private podChanged(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    let r = this.records.get(uid);
    if (!r) {
      traceStep(pod, 'watch-seen');
      this.firstSeen.set(uid, performance.now());
      r = newRecord(pod);
      this.records.set(uid, r);
    } else {
      const old = r.pod;
      const labelsChanged = JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels) || JSON.stringify(old.metadata.annotations) !== JSON.stringify(pod.metadata.annotations);
      r.pod = pod;
      this.shortenStop(r, pod.metadata.deletionGracePeriodSeconds);
      if (labelsChanged && r.admitted && !r.terminalPhase) void this.ctx.volumes.refresh(pod).catch(() => {});
      // Most updates are the kubelet's own status writes coming back: nothing to do for them.
      const same =
        !labelsChanged &&
        old.metadata.deletionTimestamp === pod.metadata.deletionTimestamp &&
        old.metadata.deletionGracePeriodSeconds === pod.metadata.deletionGracePeriodSeconds &&
        JSON.stringify(old.spec) === JSON.stringify(pod.spec) &&
        // Conditions others own (readiness gates) decide Ready too.
        JSON.stringify(foreignConditions(old)) === JSON.stringify(foreignConditions(pod));
      if (same) return;
    }
    if (this.synced) this.workers.enqueue(uid);
  }

  private podRemoved(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    const r = this.records.get(uid);
    if (!r) return;
    r.pod = pod;
    r.deletedFromApi = true;
    this.shortenStop(r, 0);
    this.workers.enqueue(uid);
  }

  /**
   * A shorter grace period for a pod being stopped (a force delete after a plain one): ask the
   * runtime to stop its containers again with the shorter timeout (at least 2 s, as upstream).
   */
  private shortenStop(r: PodRecord, grace: number | undefined): void {
    if (!r.stopping || grace === undefined || grace >= r.stopping.grace) return;
    r.stopping.grace = grace;
    for (const id of r.stopping.containerIds) void this.ctx.cri.stopContainer(id, Math.max(grace, 2)).catch(() => {});
  }

  // ---- sync ----

  private async sync(uid: string): Promise<{ requeueAfterMs?: number } | void> {
    const r = this.records.get(uid);
    if (!r || this.stopped) return;
    traceStep(r.pod, 'sync-start');
    const res = await syncPod(this.ctx, r, () => this.activePods().filter((p) => p.metadata.uid !== uid));
    if (res.forget) {
      this.records.delete(uid);
      this.firstSeen.delete(uid);
      this.workers.forget(uid);
      this.ctx.restartBackoff.prune((k) => !k.startsWith(`${uid}/`));
      return;
    }
    await this.updateStatus(r);
    if (r.terminated && !r.deletedFromApi && !r.deleteSent) await this.deletePodObject(r);
    return res;
  }

  /** kubelet_pod_start_duration_seconds (first seen → Running) and kubelet_running_pods, as upstream's. */
  private observeStart(uid: string, phase: string | undefined): void {
    const seen = this.firstSeen.get(uid);
    if (seen !== undefined && phase !== 'Pending') {
      this.firstSeen.delete(uid);
      if (phase === 'Running') observePodStartSeconds((performance.now() - seen) / 1000);
    }
    let running = 0;
    for (const rec of this.records.values()) if (rec.status?.phase === 'Running') running++;
    setRunningPods(running);
  }

  private async updateStatus(r: PodRecord): Promise<void> {
    const state = await this.ctx.state.podState(r.uid);
    const status = buildPodStatus({
      pod: r.pod,
      state,
      reasons: r.reasons,
      hostIPs: this.hostIPs(),
      startTime: r.startTime,
      runtimeName: this.ctx.runtimeName,
      rejection: r.rejection,
      terminalPhase: r.terminalPhase,
      stopped: r.terminated,
      setProbeFlags: (pod, st) => this.ctx.probes.updatePodStatus(pod, st),
    });
    r.status = status;
    const phase = status.phase;
    this.observeStart(r.uid, phase);
    if ((phase === 'Succeeded' || phase === 'Failed') && !r.terminalPhase && !r.terminated) {
      r.terminalPhase = phase;
      this.workers.enqueue(r.uid); // release the sandbox
    }
    if (r.deletedFromApi) return;
    const key = statusKey(status);
    if (key === r.lastWritten) return;
    const { namespace, name } = r.pod.metadata;
    try {
      traceStep(r.pod, `status-write-start ${status.phase}`);
      await this.o.client.patch({ version: 'v1', resource: 'pods', namespace, name: name!, subresource: 'status' }, 'merge', { metadata: { uid: r.uid }, status });
      traceStep(r.pod, `status-written ${status.phase}`);
      r.lastWritten = key;
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return; // gone, or another pod of that name now
      throw e;
    }
  }

  /** A terminated pod is removed from the API: grace 0, only this instance (UID precondition). */
  private async deletePodObject(r: PodRecord): Promise<void> {
    const { namespace, name } = r.pod.metadata;
    try {
      await this.o.client.delete({ version: 'v1', resource: 'pods', namespace, name: name! }, { gracePeriodSeconds: 0, preconditions: { uid: r.uid } });
      r.deleteSent = true;
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) {
        r.deleteSent = true;
        return;
      }
      throw e;
    }
  }

  private probeUpdate(u: ProbeUpdate): void {
    const r = this.records.get(u.podUid);
    if (!r) return;
    if (u.result === 'Failure' && (u.probeType === 'Liveness' || u.probeType === 'Startup')) {
      r.killRequests.set(u.containerName, { containerId: u.containerID.slice(u.containerID.indexOf('://') + 3), reason: u.probeType });
    }
    this.workers.enqueue(u.podUid);
  }

  // ---- runtime relist (PLEG) ----

  private relistLoop(): void {
    if (this.stopped) return;
    const t0 = Date.now();
    this.ctx.state.relist().then(
      ({ changed }) => {
        if (this.runtimeDown) this.o.log('container runtime is back');
        this.runtimeDown = false;
        for (const uid of changed) if (this.records.has(uid) && this.synced) this.workers.enqueue(uid);
      },
      (e) => {
        if (!this.runtimeDown) this.o.log(`container runtime not answering: ${(e as Error).message}`);
        this.runtimeDown = true;
      },
    ).finally(() => {
      if (this.stopped) return;
      this.relistTimer = setTimeout(() => this.relistLoop(), Math.max(0, (this.o.relistPeriodMs ?? DEFAULT_RELIST_MS) - (Date.now() - t0)));
    });
  }

  private async housekeeping(): Promise<void> {
    if (!this.synced || this.stopped || this.housekeepingRunning || this.runtimeDown) return;
    this.housekeepingRunning = true;
    try {
      // Pods whose worker runs now are left alone until the next round.
      await cleanupOrphans(this.ctx, () => new Set(this.records.keys()), (uid) => this.workers.isRunning(uid));
      const known = new Set(this.records.keys());
      this.ctx.images.prune(known);
      this.ctx.probes.cleanupPods(known);
      await this.sources.retainNamespaces(new Set([...this.records.values()].map((r) => r.pod.metadata.namespace ?? '')));
    } catch (e) {
      this.o.log(`housekeeping: ${(e as Error).message}`);
    } finally {
      this.housekeepingRunning = false;
    }
  }

  private async refreshVolumes(): Promise<void> {
    for (const pod of this.activePods()) {
      const errs = await this.ctx.volumes.refresh(pod).catch(() => []);
      for (const e of errs) this.ctx.record(pod, 'Warning', e.reason, e.message);
    }
  }

  /** A ConfigMap or Secret changed: refresh the volumes that show it, retry pods waiting for it. */
  private objectChanged(kind: 'ConfigMap' | 'Secret', namespace: string, name: string): void {
    for (const r of this.records.values()) {
      const pod = r.pod;
      if (pod.metadata.namespace !== namespace || r.terminalPhase || r.deletedFromApi || !r.admitted) continue;
      const refs = volumeObjectRefs(pod);
      if ((kind === 'ConfigMap' ? refs.configMaps : refs.secrets).has(name)) {
        void this.ctx.volumes.refresh(pod).then(
          (errs) => errs.forEach((e) => this.ctx.record(pod, 'Warning', e.reason, e.message)),
          () => {},
        );
      }
      if (r.reasons.size || r.volumeWaitSince) this.workers.enqueue(r.uid);
    }
  }

  private hostIPs(): string[] {
    if (this.o.nodeIPs?.length) return this.o.nodeIPs;
    const addrs = this.o.getNode()?.status?.addresses ?? [];
    return addrs.filter((a) => a.type === 'InternalIP').map((a) => a.address);
  }
}

function foreignConditions(pod: Pod): unknown[] {
  return ((pod.status as any)?.conditions ?? []).filter((c: any) => !KUBELET_CONDITIONS.includes(c?.type) && c?.type !== 'PodScheduled');
}

function quantityOf(list: ResourceList | undefined, name: string): number | undefined {
  const v = list?.[name];
  if (v === undefined) return undefined;
  try {
    return Number(quantityValue(parseQuantity(String(v))));
  } catch {
    return undefined;
  }
}
