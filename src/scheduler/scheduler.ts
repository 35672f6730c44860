// The scheduler: informers feed the queue (pending pods of our profiles) and the cache (assigned
// pods, nodes); a loop pops pods, runs the profile's framework against a fresh snapshot, assumes
// the result and binds asynchronously so the loop never waits for the API server.

import { schedulerAttemptDuration, schedulerPodSchedulingAttempts, setPendingPodsSource } from '../metrics/prometheus.ts';
import { isPodTerminal } from '../api/core/pod-state.ts';
import { ApiClient, rfc3339 } from '../client/api-client.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import { SharedInformerFactory, trimForCache, type Informer } from '../client/informer.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { LeaderElector } from '../client/leader-election.ts';
import type { KObject } from '../api/types.ts';
import { SchedulerCache } from './cache/cache.ts';
import { Snapshot } from './cache/snapshot.ts';
import { DEFAULT_SCHEDULER_NAME, buildFramework, profilesOf, type SchedulerConfiguration } from './config.ts';
import type { Framework } from './framework/framework.ts';
import { podKey } from './framework/node-info.ts';
import { FitError, NodeWindow, schedulePod } from './framework/schedule-pod.ts';
import { Code } from './framework/status.ts';
import { CycleState, type ClusterEvent, type EnqueueExtensions, type Node, type Pod } from './framework/types.ts';
import { defaultIdentity, makeHandle } from './handle.ts';
import { SchedulingQueue, type QueuedPodInfo } from './queue/scheduling-queue.ts';
import { ScheduledEventWriter } from './scheduled-events.ts';

export interface SchedulerOptions {
  kubeconfig?: string;
  client?: ApiClient;
  config?: SchedulerConfiguration;
  leaderElect?: boolean;
  log?: (m: string) => void;
  /** Assumed-pod TTL after binding (ms). */
  assumedTTLMs?: number;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Informers shared with other components of this thread (the controller manager). */
  informers?: SharedInformerFactory;
}

export interface RunningScheduler {
  close(): Promise<void>;
}

/** How long the loop may schedule pods back to back before yielding to I/O. */
export const SCHEDULING_SLICE_MS = 10;

const isAssigned = (p: Pod) => !!p.spec?.nodeName;

/** Node changes worth telling unschedulable pods about. */
function nodeChanged(a: Node, b: Node): boolean {
  const pick = (n: Node) =>
    JSON.stringify([n.metadata.labels, n.spec?.taints, n.spec?.unschedulable, n.status?.allocatable, (n.status?.conditions ?? []).map((c: any) => [c.type, c.status])]);
  return pick(a) !== pick(b);
}

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly snapshot = new Snapshot();
  readonly queue: SchedulingQueue;
  readonly frameworks = new Map<string, Framework>();
  private readonly window = new NodeWindow();
  private readonly log: (m: string) => void;
  private running = false;
  private loopDone?: Promise<void>;
  private timers: NodeJS.Timeout[] = [];
  private pending = new Set<Promise<void>>();
  podInformer?: Informer<Pod>;
  private stoppedOnce = false;
  private readonly scheduledEvents?: ScheduledEventWriter;

  constructor(
    private readonly client: ApiClient | undefined,
    private readonly recorder: EventRecorder | undefined,
    config: SchedulerConfiguration | undefined,
    deps: Partial<Parameters<typeof makeHandle>[0]>,
    opts: { log?: (m: string) => void; assumedTTLMs?: number; scheduledEvents?: ScheduledEventWriter } = {},
  ) {
    this.log = opts.log ?? (() => {});
    this.scheduledEvents = opts.scheduledEvents;
    this.cache = new SchedulerCache({ assumedTTLMs: opts.assumedTTLMs });
    const pluginEvents = new Map<string, Set<ClusterEvent>>();
    for (const profile of profilesOf(config)) {
      const name = profile.schedulerName ?? DEFAULT_SCHEDULER_NAME;
      const fwk = buildFramework(profile, (f) => makeHandle({ ...deps, client, recorder, snapshot: this.snapshot }, name, f), config?.percentageOfNodesToScore ?? 0);
      this.frameworks.set(name, fwk);
      const all = [...fwk.plugins.preFilter, ...fwk.plugins.filter, ...fwk.plugins.score.map((s) => s.plugin)];
      for (const p of all) {
        const reg = (p as Partial<EnqueueExtensions>).eventsToRegister?.();
        if (reg) pluginEvents.set(p.name, new Set(reg));
      }
    }
    this.queue = new SchedulingQueue({
      pluginEvents,
      podInitialBackoffMs: (config?.podInitialBackoffSeconds ?? 1) * 1000,
      podMaxBackoffMs: (config?.podMaxBackoffSeconds ?? 10) * 1000,
    });
  }

  responsibleFor(pod: Pod): boolean {
    return this.frameworks.has(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME);
  }

  // ---- informer event handlers ----

  onPodAdd(pod: Pod): void {
    if (isAssigned(pod)) {
      if (isPodTerminal(pod)) return;
      this.cache.addPod(pod);
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd');
    } else if (this.responsibleFor(pod) && !pod.metadata.deletionTimestamp) {
      this.queue.add(pod);
    }
  }

  onPodUpdate(old: Pod, pod: Pod): void {
    if (isAssigned(pod)) {
      if (!isAssigned(old)) this.queue.delete(pod);
      if (isPodTerminal(pod)) {
        this.cache.removePod(pod);
        this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
        return;
      }
      if (isAssigned(old)) this.cache.updatePod(old, pod);
      else this.cache.addPod(pod);
      this.queue.moveAllToActiveOrBackoffQueue(isAssigned(old) ? 'AssignedPodUpdate' : 'AssignedPodAdd');
      return;
    }
    if (!this.responsibleFor(pod) || this.cache.isAssumed(pod)) return;
    this.queue.update(old, pod);
  }

  onPodDelete(pod: Pod): void {
    if (isAssigned(pod)) {
      this.cache.removePod(pod);
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
    } else {
      this.queue.delete(pod);
    }
  }

  onNodeAdd(node: Node): void {
    this.cache.addNode(node);
    this.queue.moveAllToActiveOrBackoffQueue('NodeAdd');
  }

  onNodeUpdate(old: Node, node: Node): void {
    this.cache.updateNode(node);
    if (nodeChanged(old, node)) this.queue.moveAllToActiveOrBackoffQueue('NodeUpdate');
  }

  onNodeDelete(node: Node): void {
    this.cache.removeNode(node);
  }

  // ---- the loop ----

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.stoppedOnce) {
      // A later leadership term: pods whose attempts ended while stopped were not queued again.
      this.queue.reopen();
      for (const p of this.podInformer?.indexer.list() ?? []) if (!isAssigned(p) && this.responsibleFor(p) && !p.metadata.deletionTimestamp) this.queue.add(p);
    }
    this.queue.run();
    this.timers.push(setInterval(() => this.cache.cleanupExpiredAssumedPods(), 1000).unref());
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stoppedOnce = true;
    for (const t of this.timers) clearInterval(t);
    this.queue.close();
    await this.loopDone;
    await Promise.allSettled([...this.pending]);
  }

  private async loop(): Promise<void> {
    let sliceStart = performance.now();
    while (this.running) {
      const q = await this.queue.pop();
      if (!q || !this.running) break;
      try {
        await this.scheduleOne(q);
      } catch (e) {
        this.log(`scheduler: unexpected error scheduling ${podKey(q.podInfo.pod)}: ${(e as Error).stack ?? e}`);
        this.retryAfterError(q, e as Error);
      }
      // Let informer events and binding answers in now and then. Yielding after every pod would
      // schedule one pod per event-loop turn, and a turn of a busy process (API server, storage
      // commits) can take many milliseconds; assumed pods keep a slice's decisions consistent.
      if (performance.now() - sliceStart >= SCHEDULING_SLICE_MS) {
        await new Promise((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    }
  }

  /** The current version of a queued pod; undefined if it is gone or already assigned. */
  private current(pod: Pod): Pod | undefined {
    if (!this.podInformer) return pod;
    const cur = this.podInformer.indexer.getByKey(podKey(pod));
    if (!cur || cur.metadata.uid !== pod.metadata.uid || isAssigned(cur)) return undefined;
    return cur;
  }

  async scheduleOne(q: QueuedPodInfo): Promise<void> {
    const pod = this.current(q.podInfo.pod);
    if (!pod || pod.metadata.deletionTimestamp || this.cache.isAssumed(pod)) {
      this.queue.done(q.podInfo.pod);
      return;
    }
    const profile = pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME;
    const fwk = this.frameworks.get(profile)!;
    const started = performance.now();
    const attempt = (result: string) => schedulerAttemptDuration.observe({ result, profile }, (performance.now() - started) / 1000);
    this.snapshot.update(this.cache);
    const state = new CycleState();
    let host: string;
    try {
      host = schedulePod(fwk, state, pod, this.snapshot, this.window).suggestedHost;
    } catch (e) {
      if (e instanceof FitError) {
        let nominated: string | undefined;
        if (fwk.plugins.postFilter.length) {
          const [res, st] = await fwk.runPostFilterPlugins(state, pod, e.diagnosis.nodeToStatus);
          if (st.code === Code.Error) this.log(`scheduler: preemption for ${podKey(pod)} failed: ${st.message()}`);
          else if (st.code !== Code.Success) e.diagnosis.postFilterMsg = st.message();
          nominated = res?.nominatedNodeName;
        }
        q.unschedulablePlugins = e.diagnosis.unschedulablePlugins;
        attempt('unschedulable');
        this.handleFailure(q, pod, e.message, 'Unschedulable', nominated);
      } else {
        attempt('error');
        q.unschedulablePlugins = new Set();
        this.handleFailure(q, pod, (e as Error).message, (e as Error).message === 'no nodes available to schedule pods' ? 'Unschedulable' : 'SchedulerError');
      }
      return;
    }

    const assumed: Pod = { ...pod, spec: { ...pod.spec, nodeName: host } };
    this.cache.assumePod(assumed);
    const reserve = fwk.runReservePluginsReserve(state, assumed, host);
    if (reserve) {
      fwk.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(assumed);
      q.unschedulablePlugins = reserve.isRejected() ? new Set([reserve.plugin]) : new Set();
      this.handleFailure(q, pod, reserve.message(), reserve.isRejected() ? 'Unschedulable' : 'SchedulerError');
      return;
    }
    const [permit] = fwk.runPermitPlugins(state, assumed, host);
    if (permit) {
      fwk.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(assumed);
      q.unschedulablePlugins = permit.isRejected() ? new Set([permit.plugin]) : new Set();
      this.handleFailure(q, pod, permit.message(), permit.isRejected() ? 'Unschedulable' : 'SchedulerError');
      return;
    }
    // The scheduling attempt is over: cluster events no longer need recording for this pod (a
    // failed binding goes to backoff whatever happened meanwhile).
    this.queue.done(pod);
    const p = this.bindingCycle(fwk, state, q, pod, assumed, host).then((bound) => {
      attempt(bound ? 'scheduled' : 'error');
      if (bound) schedulerPodSchedulingAttempts.observe(Math.max(1, q.attempts));
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /**
   * A scheduling attempt threw outside the framework's plugin calls (a scheduler bug): the pod goes
   * back to the queue with backoff and gets a FailedScheduling event, as upstream's failure handler
   * does for errors, rather than staying Pending with no attempt and no event.
   */
  private retryAfterError(q: QueuedPodInfo, e: Error): void {
    try {
      const pod = q.podInfo.pod;
      // Already placed (its binding runs on its own): nothing to retry.
      if (this.cache.isAssumed(pod)) {
        this.queue.done(pod);
        return;
      }
      q.unschedulablePlugins = new Set();
      this.handleFailure(q, pod, `scheduler error: ${e?.message ?? e}`, 'SchedulerError');
    } catch (e2) {
      this.log(`scheduler: requeueing ${podKey(q.podInfo.pod)} after an error: ${(e2 as Error).stack ?? e2}`);
      this.queue.done(q.podInfo.pod);
    }
  }

  /** Resolves true once the pod is bound. */
  private async bindingCycle(fwk: Framework, state: CycleState, q: QueuedPodInfo, pod: Pod, assumed: Pod, host: string): Promise<boolean> {
    let st = await fwk.runPreBindPlugins(state, assumed, host);
    if (!st) st = await fwk.runBindPlugins(state, assumed, host);
    if (st) {
      fwk.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(assumed);
      // The node's room is back: pods waiting for it may fit now.
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
      q.unschedulablePlugins = new Set();
      this.handleFailure(q, pod, `binding rejected: ${st.message()}`, 'SchedulerError');
      return false;
    }
    this.cache.finishBinding(assumed);
    if (this.scheduledEvents) this.scheduledEvents.scheduled(pod, host);
    else this.recorder?.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${host}`);
    return true;
  }

  private handleFailure(q: QueuedPodInfo, pod: Pod, message: string, reason: string, nominatedNodeName?: string): void {
    const cur = this.current(pod);
    if (!cur) {
      this.queue.done(pod);
      return;
    }
    q.podInfo = { ...q.podInfo, pod: cur };
    this.queue.addUnschedulableIfNotPresent(q);
    this.recorder?.event(cur, 'Warning', 'FailedScheduling', truncate(message));
    void this.updatePodStatus(cur, reason, message, nominatedNodeName);
  }

  private async updatePodStatus(pod: Pod, reason: string, message: string, nominatedNodeName?: string): Promise<void> {
    if (!this.client) return;
    const old = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
    const nominatedChanged = nominatedNodeName !== undefined && (pod.status?.nominatedNodeName ?? '') !== nominatedNodeName;
    const same = old && old.status === 'False' && old.reason === reason && old.message === message;
    if (same && !nominatedChanged) return;
    const status: Record<string, unknown> = {
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason,
          message,
          lastProbeTime: null,
          lastTransitionTime: old?.status === 'False' ? old.lastTransitionTime : rfc3339(),
        },
      ],
    };
    if (nominatedChanged) status.nominatedNodeName = nominatedNodeName || null;
    try {
      await this.client.patch({ version: 'v1', resource: 'pods', namespace: pod.metadata.namespace, name: pod.metadata.name!, subresource: 'status' }, 'strategic', { status });
    } catch (e) {
      this.log(`scheduler: updating status of ${podKey(pod)}: ${(e as Error).message}`);
    }
  }
}

function truncate(msg: string): string {
  // Event messages are capped at 1 KiB by the API.
  return msg.length > 1024 ? msg.slice(0, 1021) + '...' : msg;
}

/** Start a scheduler against an API server; resolves once its informers have synced. */
export async function startScheduler(opts: SchedulerOptions): Promise<RunningScheduler> {
  const log = opts.log ?? (() => {});
  const ownClient = !opts.client;
  const client = opts.client ?? new ApiClient({ ...loadKubeconfig(opts.kubeconfig), userAgent: 'mizzen-scheduler', maxSockets: 128 });
  const recorder = new EventRecorder(client, { source: { component: 'default-scheduler' }, log });
  const factory = opts.informers ? opts.informers.scope() : new SharedInformerFactory(client, { log, transform: trimForCache({ sharePodParts: true }) });
  const pods = factory.informerFor<Pod>({ version: 'v1', resource: 'pods' });
  const nodes = factory.informerFor<Node>({ version: 'v1', resource: 'nodes' });
  const deps = {
    namespaces: factory.informerFor({ version: 'v1', resource: 'namespaces' }),
    pdbs: factory.informerFor({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' }),
    services: factory.informerFor({ version: 'v1', resource: 'services' }),
    replicaSets: factory.informerFor({ group: 'apps', version: 'v1', resource: 'replicasets' }),
    statefulSets: factory.informerFor({ group: 'apps', version: 'v1', resource: 'statefulsets' }),
    replicationControllers: factory.informerFor({ version: 'v1', resource: 'replicationcontrollers' }),
    persistentVolumeClaims: factory.informerFor({ version: 'v1', resource: 'persistentvolumeclaims' }),
    persistentVolumes: factory.informerFor({ version: 'v1', resource: 'persistentvolumes' }),
    storageClasses: factory.informerFor({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }),
  };
  const scheduledEvents = new ScheduledEventWriter(client, { log });
  const sched = new Scheduler(client, recorder, opts.config, deps, { log, assumedTTLMs: opts.assumedTTLMs, scheduledEvents });
  sched.podInformer = pods;
  // scheduler_pending_pods is read from the queue when /metrics is scraped.
  setPendingPodsSource(() => ({ ...sched.queue.counts, gated: 0 }));
  pods.addEventHandler({
    onAdd: (p) => sched.onPodAdd(p),
    onUpdate: (o, p) => sched.onPodUpdate(o, p),
    onDelete: (p) => sched.onPodDelete(p),
  });
  nodes.addEventHandler({
    onAdd: (n) => sched.onNodeAdd(n),
    onUpdate: (o, n) => sched.onNodeUpdate(o, n),
    onDelete: (n) => sched.onNodeDelete(n),
  });
  const nsEvent = () => sched.queue.moveAllToActiveOrBackoffQueue('NamespaceChange');
  deps.namespaces.addEventHandler({ onAdd: (_o: KObject, initial: boolean) => !initial && nsEvent(), onUpdate: nsEvent, onDelete: nsEvent });
  // Claims, volumes and classes appearing or binding can make VolumeBinding's rejects schedulable.
  for (const [inf, ev] of [
    [deps.persistentVolumeClaims, 'PvcChange'],
    [deps.persistentVolumes, 'PvChange'],
    [deps.storageClasses, 'StorageClassChange'],
  ] as const) {
    const move = () => sched.queue.moveAllToActiveOrBackoffQueue(ev);
    inf.addEventHandler({ onAdd: (_o: KObject, initial: boolean) => !initial && move(), onUpdate: move });
  }
  factory.start();
  await factory.waitForCacheSync();

  let elector: LeaderElector | undefined;
  let closed = false;
  let campaign: Promise<void> | undefined;
  if (opts.leaderElect) {
    // Upstream exits when it loses the lease (and is restarted); here it stops scheduling and
    // campaigns again, so an API server or etcd outage longer than the renew deadline heals.
    const identity = defaultIdentity();
    let stopping: Promise<void> = Promise.resolve();
    campaign = (async () => {
      while (!closed) {
        elector = new LeaderElector({
          client,
          namespace: 'kube-system',
          name: 'kube-scheduler',
          identity,
          leaseDurationSeconds: opts.leaseDurationSeconds,
          renewDeadlineMs: opts.renewDeadlineMs,
          retryPeriodMs: opts.retryPeriodMs,
          log,
          onStartedLeading: () => {
            log(`scheduler: ${identity} became leader`);
            void stopping.then(() => !closed && sched.start());
          },
          onStoppedLeading: () => {
            log(`scheduler: ${identity} lost leadership, stopping`);
            stopping = sched.stop();
          },
        });
        await elector.run();
        await stopping;
      }
    })();
  } else {
    sched.start();
  }

  return {
    async close() {
      closed = true;
      await elector?.stop();
      await campaign;
      await sched.stop();
      await factory.stop();
      await recorder.flush();
      await scheduledEvents.flush();
      if (ownClient) client.close();
    },
  };
}
