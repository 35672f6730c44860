// The HorizontalPodAutoscaler controller (upstream's horizontal-pod-autoscaler in
// kube-controller-manager): every sync period each HPA reads its target's `scale` subresource, asks
// metrics.k8s.io for the usage of the pods its selector matches, computes the replica count every
// metric asks for (replica-calculator.ts), takes the highest, applies stabilization, bounds and
// rate policies (behavior.ts), rescales, and writes status (current metrics, conditions
// AbleToScale / ScalingActive / ScalingLimited) and events.
//
// Resource and ContainerResource metrics are supported; Pods, Object and External metrics need a
// custom or external metrics API, which Mizzen does not serve: they are reported as invalid
// (FailedGetPodsMetric and friends) and the others still count, as upstream does with one broken
// metric.

import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { parseLabelSelector } from '../../machinery/labels.ts';
import { rfc3339 } from '../../machinery/time.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { ScalingHistory, type Behavior } from './behavior.ts';
import {
  averageValueReplicas,
  DEFAULT_CPU_INITIALIZATION_PERIOD_MS,
  DEFAULT_INITIAL_READINESS_DELAY_MS,
  DEFAULT_TOLERANCE,
  MetricError,
  milli,
  resourceReplicas,
  type CalculatorOptions,
  type PodSample,
} from './replica-calculator.ts';
import { ScaleTargetResolver } from './scale-targets.ts';

export const DEFAULT_HPA_SYNC_PERIOD_MS = 15_000;
export const DEFAULT_DOWNSCALE_STABILIZATION_MS = 5 * 60_000;
const HPA = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };

interface MetricOutcome {
  replicas: number;
  name: string;
  status?: any;
  error?: { reason: string; message: string; event: string };
}

function quantityFromMilli(m: number): string {
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

export function createHPAController(ctx: ControllerContext, over: { now?: () => number } = {}): Controller {
  const now = over.now ?? Date.now;
  const syncPeriodMs = ctx.options.hpaSyncPeriodMs ?? DEFAULT_HPA_SYNC_PERIOD_MS;
  const history = new ScalingHistory(ctx.options.hpaDownscaleStabilizationMs ?? DEFAULT_DOWNSCALE_STABILIZATION_MS);
  const recorder = ctx.recorder('horizontal-pod-autoscaler');
  const hpas = ctx.informers.informerFor(HPA);
  const pods = ctx.informers.informerFor({ version: 'v1', resource: 'pods' });
  const targets = new ScaleTargetResolver(ctx.client);
  const worker = new KeyWorker('horizontal-pod-autoscaler', sync, ctx.log);
  const scheduled = new Set<string>();
  const calc = (): CalculatorOptions => ({
    tolerance: ctx.options.hpaTolerance ?? DEFAULT_TOLERANCE,
    cpuInitializationPeriodMs: ctx.options.hpaCpuInitializationPeriodMs ?? DEFAULT_CPU_INITIALIZATION_PERIOD_MS,
    initialReadinessDelayMs: ctx.options.hpaInitialReadinessDelayMs ?? DEFAULT_INITIAL_READINESS_DELAY_MS,
    now: now(),
  });

  // As upstream, every HPA is evaluated once per sync period; an event does not add a second turn.
  const enqueue = (key: string, delayMs = syncPeriodMs) => {
    if (scheduled.has(key)) return;
    scheduled.add(key);
    worker.addAfter(key, delayMs);
  };
  const keyOf = (o: KObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  hpas.addEventHandler({
    // Upstream waits a period for a new HPA too, which gives the metrics a chance to exist.
    onAdd: (o) => enqueue(keyOf(o)),
    onUpdate: (_old, o) => enqueue(keyOf(o)),
    onDelete: (o) => history.forget(keyOf(o)),
  });

  async function sync(key: string): Promise<void> {
    scheduled.delete(key);
    const hpa = hpas.indexer.getByKey(key);
    if (!hpa) {
      history.forget(key);
      return;
    }
    try {
      await reconcile(structuredClone(hpa), key);
    } finally {
      if (hpas.indexer.getByKey(key)) enqueue(key);
    }
  }

  function setCondition(h: KObject, type: string, status: 'True' | 'False', reason: string, message: string): void {
    const conds: any[] = (h.status.conditions ??= []);
    const existing = conds.find((c) => c.type === type);
    if (existing) {
      if (existing.status !== status) existing.lastTransitionTime = rfc3339(new Date(now()));
      Object.assign(existing, { status, reason, message });
    } else conds.push({ type, status, lastTransitionTime: rfc3339(new Date(now())), reason, message });
  }

  async function writeStatus(original: KObject, h: KObject): Promise<void> {
    if (JSON.stringify(original.status ?? {}) === JSON.stringify(h.status)) return;
    try {
      await ctx.client.updateStatus({ ...HPA, namespace: h.metadata.namespace, name: h.metadata.name! }, h);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async function reconcile(h: KObject, key: string): Promise<void> {
    const original = structuredClone(h);
    h.status ??= {};
    h.status.observedGeneration = h.metadata.generation;
    const spec = h.spec ?? {};
    const ref = spec.scaleTargetRef ?? {};
    const reference = `${ref.kind}/${ref.name}`;
    const minReplicas: number = spec.minReplicas ?? 1;
    const maxReplicas: number = spec.maxReplicas;
    const ns = h.metadata.namespace!;

    let target;
    let scale: any;
    try {
      target = await targets.resolve(String(ref.apiVersion ?? ''), String(ref.kind ?? ''));
      scale = await ctx.client.get({ ...target, namespace: ns, name: String(ref.name), subresource: 'scale' });
    } catch (e) {
      const msg = (e as Error).message;
      setCondition(h, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${msg}`);
      recorder.event(h, 'Warning', 'FailedGetScale', msg);
      await writeStatus(original, h);
      return;
    }
    setCondition(h, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const currentReplicas: number = scale.spec?.replicas ?? 0;
    let desired = 0;
    let rescaleReason = '';
    let metricStatuses: any[] = h.status.currentMetrics ?? [];

    if (currentReplicas === 0 && minReplicas !== 0) {
      // Scaled to zero by someone else: autoscaling is off until they scale up again.
      setCondition(h, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
      desired = 0;
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desired = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desired = minReplicas;
    } else {
      const selectorText: string = scale.status?.selector ?? '';
      if (!selectorText) {
        const msg = 'selector is required';
        recorder.event(h, 'Warning', 'SelectorRequired', msg);
        setCondition(h, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
        await writeStatus(original, h);
        return;
      }
      let outcome;
      try {
        outcome = await computeForMetrics(h, ns, selectorText, currentReplicas);
      } catch (e) {
        h.status.currentReplicas = scale.status?.replicas ?? currentReplicas;
        recorder.event(h, 'Warning', 'FailedComputeMetricsReplicas', (e as Error).message);
        await writeStatus(original, h);
        return;
      }
      metricStatuses = outcome.statuses;
      desired = outcome.replicas;
      rescaleReason = desired > currentReplicas ? `${outcome.name} above target` : 'All metrics below target';
      const behavior = spec.behavior as Behavior | undefined;
      const n = history.normalize({ key, current: currentReplicas, desired, min: minReplicas, max: maxReplicas, behavior, now: now() });
      setCondition(h, 'AbleToScale', 'True', n.ableReason, n.ableMessage);
      setCondition(h, 'ScalingLimited', n.limited ? 'True' : 'False', n.limitReason, n.limitMessage);
      desired = n.replicas;
    }

    const rescale = desired !== currentReplicas && !(currentReplicas === 0 && minReplicas !== 0);
    if (rescale) {
      try {
        scale.spec = { ...(scale.spec ?? {}), replicas: desired };
        await ctx.client.update({ ...target, namespace: ns, name: String(ref.name), subresource: 'scale' }, scale);
      } catch (e) {
        const msg = (e as Error).message;
        recorder.event(h, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${rescaleReason}; error: ${msg}`);
        setCondition(h, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`);
        await writeStatus(original, h);
        return;
      }
      setCondition(h, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      recorder.event(h, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${rescaleReason}`);
      history.recordScale(key, spec.behavior, currentReplicas, desired, now());
      ctx.log(`horizontal-pod-autoscaler: ${key}: ${reference} scaled from ${currentReplicas} to ${desired} (${rescaleReason})`);
      h.status.lastScaleTime = rfc3339(new Date(now()));
    } else desired = currentReplicas === 0 && minReplicas !== 0 ? 0 : desired;
    h.status.currentReplicas = currentReplicas;
    h.status.desiredReplicas = desired;
    if (metricStatuses.length) h.status.currentMetrics = metricStatuses;
    await writeStatus(original, h);
  }

  /** The highest count any valid metric asks for; throws when none is valid (or a broken one might mean "scale down"). */
  async function computeForMetrics(h: KObject, ns: string, selectorText: string, currentReplicas: number): Promise<{ replicas: number; name: string; statuses: any[] }> {
    const metrics: any[] = h.spec?.metrics ?? [];
    const selector = parseLabelSelector(selectorText);
    const podList = pods.indexer.byIndex('namespace', ns).filter((p) => selector.matches(p.metadata.labels));
    let replicas = 0;
    let name = '';
    let invalid = 0;
    let firstError: MetricOutcome['error'] | undefined;
    const statuses: any[] = [];
    for (const spec of metrics) {
      const o = await computeForMetric(spec, ns, selectorText, podList, currentReplicas);
      if (o.error) {
        invalid++;
        firstError ??= o.error;
        recorder.event(h, 'Warning', o.error.event, o.error.message);
        setCondition(h, 'ScalingActive', 'False', o.error.reason, `the HPA was unable to compute the replica count: ${o.error.message}`);
        statuses.push({ type: '' });
        continue;
      }
      statuses.push(o.status);
      if (replicas === 0 || o.replicas > replicas) {
        replicas = o.replicas;
        name = o.name;
      }
    }
    const valid = statuses.filter((s) => s.type);
    if (invalid >= metrics.length || (invalid > 0 && replicas < currentReplicas)) {
      throw new Error(`invalid metrics (${invalid} invalid out of ${metrics.length}), first error is: ${firstError?.message}`);
    }
    setCondition(h, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${name}`);
    return { replicas, name, statuses: valid };
  }

  async function computeForMetric(spec: any, ns: string, selectorText: string, podList: KObject[], currentReplicas: number): Promise<MetricOutcome> {
    const type = spec?.type;
    if (type !== 'Resource' && type !== 'ContainerResource') {
      const kind = type === 'Pods' ? 'Pods' : type === 'Object' ? 'Object' : 'External';
      const api = type === 'External' ? 'external.metrics.k8s.io' : 'custom.metrics.k8s.io';
      const message = `unable to get metric ${spec?.[String(type).toLowerCase()]?.metric?.name ?? ''}: no ${api} API is served by this cluster`;
      return { replicas: 0, name: '', error: { reason: `FailedGet${kind}Metric`, message, event: `FailedGet${kind}Metric` } };
    }
    const src = type === 'Resource' ? spec.resource : spec.containerResource;
    const resource: string = src?.name;
    const container: string | undefined = type === 'ContainerResource' ? src?.container : undefined;
    const t = src?.target ?? {};
    const event = type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
    let samples: Map<string, PodSample>;
    try {
      samples = await podMetrics(ns, selectorText, resource, container);
    } catch (e) {
      const message = `failed to get ${resource} utilization: ${(e as Error).message}`;
      return { replicas: 0, name: '', error: { reason: event, message, event } };
    }
    const label = type === 'Resource' ? `${resource} resource` : `${resource} container resource`;
    try {
      if (t.type === 'AverageValue' || (t.averageValue !== undefined && t.averageUtilization === undefined)) {
        const r = averageValueReplicas(currentReplicas, milli(String(t.averageValue)), resource, podList, samples, calc());
        const current = { averageValue: quantityFromMilli(r.rawAverage) };
        return { replicas: r.replicas, name: label, status: statusFor(type, resource, container, current) };
      }
      const r = resourceReplicas(currentReplicas, Number(t.averageUtilization), resource, podList, samples, calc(), container);
      const current = { averageValue: quantityFromMilli(r.rawAverage), averageUtilization: r.utilization };
      return { replicas: r.replicas, name: `${label} utilization (percentage of request)`, status: statusFor(type, resource, container, current) };
    } catch (e) {
      const message = e instanceof MetricError ? `failed to get ${resource} utilization: ${e.message}` : (e as Error).message;
      return { replicas: 0, name: '', error: { reason: event, message, event } };
    }
  }

  function statusFor(type: string, resource: string, container: string | undefined, current: Record<string, unknown>): any {
    return type === 'Resource' ? { type, resource: { name: resource, current } } : { type, containerResource: { name: resource, container, current } };
  }

  /** Each pod's usage of one resource (milli-units) from metrics.k8s.io. */
  async function podMetrics(ns: string, selector: string, resource: string, container?: string): Promise<Map<string, PodSample>> {
    let list: any;
    try {
      list = await ctx.client.request('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(ns)}/pods?labelSelector=${encodeURIComponent(selector)}`);
    } catch (e) {
      throw new Error(`unable to get metrics for resource ${resource}: unable to fetch metrics from resource metrics API: ${(e as Error).message}`);
    }
    if (!list?.items?.length) throw new Error(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const out = new Map<string, PodSample>();
    for (const pm of list.items) {
      let sum = 0;
      let missing = false;
      let found = false;
      for (const c of pm.containers ?? []) {
        if (container && c.name !== container) continue;
        const v = c.usage?.[resource];
        if (v === undefined) {
          missing = true;
          break;
        }
        found = true;
        sum += milli(String(v));
      }
      if (missing || !found) continue;
      out.set(pm.metadata.name, { value: sum, timestampMs: Date.parse(pm.timestamp) || 0, windowMs: parseWindow(pm.window) });
    }
    return out;
  }

  return {
    name: 'horizontal-pod-autoscaler',
    run: () => worker.run(ctx.options.workers),
    stop: () => worker.stop(),
  };
}

function parseWindow(w: unknown): number {
  const m = /^(?:(\d+)m)?(?:([\d.]+)s)?$/.exec(String(w ?? ''));
  if (!m) return 0;
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000;
}

export const hpaController: ControllerFactory = (ctx) => createHPAController(ctx);
