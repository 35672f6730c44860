// One probe of one container, run every periodSeconds (upstream prober/worker.go): waits for a
// running container and its initialDelaySeconds, lets the startup probe gate liveness and
// readiness, applies successThreshold/failureThreshold, holds off after a liveness/startup
// failure until the container is replaced, and stops when the pod is finished.

import type { Container, Pod, PodStatus, Probe } from '../pods/api-types.ts';
import { probeContainer, probeDefaults, type ProbeType, type Result } from './prober.ts';
import type { ProbeManager } from './manager.ts';
import type { ResultsManager } from './results.ts';

const INITIAL_VALUE: Record<ProbeType, Result> = { Readiness: 'Failure', Liveness: 'Success', Startup: 'Unknown' };

export class ProbeWorker {
  readonly spec: Probe;
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private pendingTrigger = false;
  private containerID = '';
  private lastResult: Result | undefined;
  private resultRun = 0;
  private onHold = false;

  constructor(
    private readonly manager: ProbeManager,
    readonly probeType: ProbeType,
    readonly pod: Pod,
    readonly container: Container,
    private readonly results: ResultsManager,
  ) {
    const spec = probeType === 'Readiness' ? container.readinessProbe : probeType === 'Liveness' ? container.livenessProbe : container.startupProbe;
    this.spec = spec!;
  }

  private get periodMs(): number {
    return probeDefaults(this.spec).periodSeconds * this.manager.msPerSecond;
  }

  /** Start probing. Right after the kubelet starts, the first probe waits a random part of a period to spread load. */
  start(): void {
    const period = this.periodMs;
    const delay = period > this.manager.now() - this.manager.startedAt ? this.manager.random() * period : 0;
    this.schedule(delay);
  }

  /** Probe now (readiness is triggered this way when a started container has no result yet). */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.pendingTrigger = true;
      return;
    }
    this.schedule(0);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.containerID) this.results.remove(this.containerID);
    this.manager.removeWorker(this);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    const started = this.manager.now();
    let keepGoing = true;
    try {
      keepGoing = await this.doProbe();
    } catch {
      // a probe never stops the worker by throwing
    } finally {
      this.running = false;
    }
    if (!keepGoing) return this.stop();
    if (this.pendingTrigger) {
      this.pendingTrigger = false;
      return this.schedule(0);
    }
    this.schedule(Math.max(0, started + this.periodMs - this.manager.now()));
  }

  /** One round; false when the worker should end. Exported behaviour follows upstream's doProbe. */
  async doProbe(): Promise<boolean> {
    const uid = this.pod.metadata.uid ?? '';
    const status: PodStatus | undefined = this.manager.getPodStatus(uid);
    if (!status) return true;
    if (status.phase === 'Failed' || status.phase === 'Succeeded') return false;
    const c =
      (status.containerStatuses ?? []).find((s) => s.name === this.container.name && s.containerID) ??
      (status.initContainerStatuses ?? []).find((s) => s.name === this.container.name && s.containerID);
    if (!c?.containerID) return true;

    if (this.containerID !== c.containerID) {
      if (this.containerID) this.results.remove(this.containerID);
      this.containerID = c.containerID;
      this.results.set(this.containerID, INITIAL_VALUE[this.probeType], uid, this.container.name);
      this.onHold = false; // a new container: probe it
    }
    if (this.onHold) return true;

    if (!c.state?.running) {
      this.results.set(this.containerID, 'Failure', uid, this.container.name);
      // Keep watching unless the container ended and will not be restarted.
      return !c.state?.terminated || this.pod.spec.restartPolicy !== 'Never';
    }

    if (this.pod.metadata.deletionTimestamp && (this.probeType === 'Liveness' || this.probeType === 'Startup')) {
      // The pod is shutting down: no liveness restarts during its grace period.
      this.results.set(this.containerID, 'Success', uid, this.container.name);
      return false;
    }

    const startedAt = Date.parse(c.state.running.startedAt ?? '');
    const sinceStart = Number.isFinite(startedAt) ? Math.trunc((this.manager.now() - startedAt) / this.manager.msPerSecond) : Infinity;
    if (sinceStart < probeDefaults(this.spec).initialDelaySeconds) return true;

    if (c.started) {
      if (this.probeType === 'Startup') return true; // started: the startup probe is done (kept for a restart)
    } else if (this.probeType !== 'Startup') {
      return true; // liveness and readiness wait for the startup probe
    }

    const { result, error } = await probeContainer(
      this.probeType,
      this.spec,
      this.pod,
      this.container,
      this.containerID,
      status.podIP ?? status.podIPs?.[0]?.ip ?? '',
      this.manager.execSync,
      this.manager.recordEvent,
    );
    if (error || this.stopped) return true; // the probe could not run: discard

    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    const d = probeDefaults(this.spec);
    if ((result === 'Failure' && this.resultRun < d.failureThreshold) || (result === 'Success' && this.resultRun < d.successThreshold)) return true;

    this.results.set(this.containerID, result, uid, this.container.name);
    if ((this.probeType === 'Liveness' || this.probeType === 'Startup') && result === 'Failure') {
      // The container will be restarted; stop probing it until a new one appears.
      this.onHold = true;
      this.resultRun = 0;
    }
    return true;
  }
}
