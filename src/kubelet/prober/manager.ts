// The probe manager (upstream prober/prober_manager.go): a worker per container probe, results
// per probe type, and the container `started` / `ready` flags for the pod status. It only
// reports: the core restarts containers on liveness/startup failures (onUpdate) and writes
// readiness into the status (updatePodStatus).

import type { Container, ContainerStatus, Pod, PodStatus } from '../pods/api-types.ts';
import type { ExecSync } from './exec.ts';
import { type ContainerEventRecorder, type ProbeType, type Result } from './prober.ts';
import { ResultsManager, type ProbeUpdate } from './results.ts';
import { ProbeWorker } from './worker.ts';

export interface ProbeManagerOptions {
  /** CRI ExecSync, for exec probes. */
  execSync: ExecSync;
  /** The status the kubelet currently holds for a pod (container IDs, states, started flags). */
  getPodStatus: (podUid: string) => PodStatus | undefined;
  /** Unhealthy / ProbeWarning events. */
  recordEvent?: ContainerEventRecorder;
  /** A probe's result changed (liveness/startup Failure: restart the container; readiness: update status). */
  onUpdate?: (u: ProbeUpdate) => void;
  now?: () => number;
  random?: () => number;
  /** Length of a probe "second" in ms (periods and initial delays): 1000; tests shorten it. */
  msPerSecond?: number;
}

function key(uid: string, container: string, type: ProbeType): string {
  return `${uid}/${container}/${type}`;
}

function restartableInitContainers(pod: Pod): Container[] {
  return (pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
}

export class ProbeManager {
  readonly execSync: ExecSync;
  readonly getPodStatus: (uid: string) => PodStatus | undefined;
  readonly recordEvent?: ContainerEventRecorder;
  readonly now: () => number;
  readonly random: () => number;
  readonly msPerSecond: number;
  readonly startedAt: number;
  readonly liveness: ResultsManager;
  readonly readiness: ResultsManager;
  readonly startup: ResultsManager;
  private readonly workers = new Map<string, ProbeWorker>();

  constructor(opts: ProbeManagerOptions) {
    this.execSync = opts.execSync;
    this.getPodStatus = opts.getPodStatus;
    this.recordEvent = opts.recordEvent;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.msPerSecond = opts.msPerSecond ?? 1000;
    this.startedAt = this.now();
    this.liveness = new ResultsManager('Liveness', opts.onUpdate);
    this.readiness = new ResultsManager('Readiness', opts.onUpdate);
    this.startup = new ResultsManager('Startup', opts.onUpdate);
  }

  private resultsFor(type: ProbeType): ResultsManager {
    return type === 'Liveness' ? this.liveness : type === 'Readiness' ? this.readiness : this.startup;
  }

  /** Start workers for every probe of the pod's containers (and sidecars). Repeat calls are no-ops. */
  addPod(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    for (const c of [...(pod.spec.containers ?? []), ...restartableInitContainers(pod)]) {
      const probes: [ProbeType, unknown][] = [
        ['Startup', c.startupProbe],
        ['Readiness', c.readinessProbe],
        ['Liveness', c.livenessProbe],
      ];
      for (const [type, spec] of probes) {
        if (!spec) continue;
        const k = key(uid, c.name, type);
        if (this.workers.has(k)) continue;
        const w = new ProbeWorker(this, type, pod, c, this.resultsFor(type));
        this.workers.set(k, w);
        w.start();
      }
    }
  }

  /** Stop liveness and startup probing (the pod is terminating). */
  stopLivenessAndStartup(pod: Pod): void {
    for (const w of this.podWorkers(pod.metadata.uid ?? '')) if (w.probeType !== 'Readiness') w.stop();
  }

  removePod(pod: Pod): void {
    for (const w of this.podWorkers(pod.metadata.uid ?? '')) w.stop();
  }

  /** Stop the workers of every pod not in desiredUids. */
  cleanupPods(desiredUids: Set<string>): void {
    for (const w of [...this.workers.values()]) if (!desiredUids.has(w.pod.metadata.uid ?? '')) w.stop();
  }

  stop(): void {
    for (const w of [...this.workers.values()]) w.stop();
  }

  getResult(type: ProbeType, containerID: string): Result | undefined {
    return this.resultsFor(type).get(containerID);
  }

  /** @internal workers remove themselves when they stop */
  removeWorker(w: ProbeWorker): void {
    const k = key(w.pod.metadata.uid ?? '', w.container.name, w.probeType);
    if (this.workers.get(k) === w) this.workers.delete(k);
  }

  hasWorker(uid: string, container: string, type: ProbeType): boolean {
    return this.workers.has(key(uid, container, type));
  }

  private podWorkers(uid: string): ProbeWorker[] {
    return [...this.workers.values()].filter((w) => w.pod.metadata.uid === uid);
  }

  private isStarted(uid: string, s: ContainerStatus): boolean {
    if (!s.state?.running) return false;
    const r = s.containerID ? this.startup.get(s.containerID) : undefined;
    if (r !== undefined) return r === 'Success';
    return !this.hasWorker(uid, s.name, 'Startup'); // a startup probe that has not run yet: not started
  }

  private isReady(uid: string, s: ContainerStatus): boolean {
    if (!s.state?.running) return false;
    if (s.containerID && this.readiness.get(s.containerID) === 'Success') return true;
    const w = this.workers.get(key(uid, s.name, 'Readiness'));
    if (!w) return true; // no readiness probe: ready once started
    w.trigger(); // no result yet: probe now rather than at the next period
    return false;
  }

  /** Set `started` and `ready` on the status's container statuses as upstream's UpdatePodStatus. */
  updatePodStatus(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata.uid ?? '';
    for (const s of status.containerStatuses ?? []) {
      s.started = this.isStarted(uid, s);
      if (!s.started) {
        s.ready = false;
        continue;
      }
      s.ready = this.isReady(uid, s);
    }
    const inits = pod.spec.initContainers ?? [];
    for (const s of status.initContainerStatuses ?? []) {
      s.started = this.isStarted(uid, s);
      const spec = inits.find((c) => c.name === s.name);
      if (!spec) continue;
      if (spec.restartPolicy !== 'Always') {
        if (s.state?.terminated && s.state.terminated.exitCode === 0) s.ready = true;
        continue;
      }
      s.ready = s.started ? this.isReady(uid, s) : false;
    }
  }
}
