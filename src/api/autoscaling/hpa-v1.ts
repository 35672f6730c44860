// autoscaling/v1 HorizontalPodAutoscaler: the stored autoscaling/v2 objects seen in v1's shape, as
// upstream converts them. v1 has only targetCPUUtilizationPercentage; everything else a v2 object
// holds travels through v1 in annotations (upstream's round-trip annotations), so a client that
// reads v1 and writes it back loses nothing:
//   autoscaling.alpha.kubernetes.io/metrics          spec metrics other than CPU utilization (v1 MetricSpec form)
//   autoscaling.alpha.kubernetes.io/behavior         spec.behavior (upstream marshals its internal type: Go field names)
//   autoscaling.alpha.kubernetes.io/current-metrics  status.currentMetrics (v1 MetricStatus form)
//   autoscaling.alpha.kubernetes.io/conditions       status.conditions

import type { KObject, ResourceDef } from '../types.ts';
import { canonicalizeQuantity } from '../../machinery/quantity.ts';
import { defaultCPUUtilization, defaultHPAv2, validateHPAStatus, validateHPAv2 } from './hpa-validation.ts';
import { hpaTable } from './hpa.ts';

export const metricSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/metrics';
export const behaviorAnnotation = 'autoscaling.alpha.kubernetes.io/behavior';
export const metricStatusesAnnotation = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const conditionsAnnotation = 'autoscaling.alpha.kubernetes.io/conditions';
const roundTrip = [metricSpecsAnnotation, behaviorAnnotation, metricStatusesAnnotation, conditionsAnnotation];

const has = (v: unknown) => v !== undefined && v !== null;
/** Go marshals a non-pointer Quantity even when zero. */
const qty = (v: unknown) => canonicalizeQuantity(v ?? 0);
const optQty = (v: unknown) => (has(v) ? canonicalizeQuantity(v) : undefined);

function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function refToV1(r: any): any {
  return compact({ kind: r?.kind ?? '', name: r?.name ?? '', apiVersion: r?.apiVersion || undefined });
}

const isCPUUtilization = (m: any) => m?.type === 'Resource' && m.resource?.name === 'cpu' && has(m.resource?.target?.averageUtilization);

// --- metric specs -----------------------------------------------------------------------------

function metricSpecToV1(m: any): any {
  const out: any = { type: m.type };
  if (m.object) {
    const t = m.object.target ?? {};
    out.object = compact({
      target: refToV1(m.object.describedObject),
      metricName: m.object.metric?.name ?? '',
      targetValue: qty(t.value),
      selector: m.object.metric?.selector,
      averageValue: optQty(t.averageValue),
    });
  }
  if (m.pods) out.pods = compact({ metricName: m.pods.metric?.name ?? '', targetAverageValue: qty(m.pods.target?.averageValue), selector: m.pods.metric?.selector });
  if (m.resource) {
    const t = m.resource.target ?? {};
    out.resource = compact({ name: m.resource.name, targetAverageUtilization: t.averageUtilization ?? undefined, targetAverageValue: optQty(t.averageValue) });
  }
  if (m.containerResource) {
    const t = m.containerResource.target ?? {};
    out.containerResource = compact({
      name: m.containerResource.name,
      targetAverageUtilization: t.averageUtilization ?? undefined,
      targetAverageValue: optQty(t.averageValue),
      container: m.containerResource.container,
    });
  }
  if (m.external) {
    const t = m.external.target ?? {};
    out.external = compact({ metricName: m.external.metric?.name ?? '', metricSelector: m.external.metric?.selector, targetValue: optQty(t.value), targetAverageValue: optQty(t.averageValue) });
  }
  return out;
}

function identifier(name: unknown, selector: unknown): any {
  return compact({ name: name ?? '', selector: selector ?? undefined });
}

function metricSpecFromV1(m: any): any {
  const out: any = { type: m?.type };
  if (m?.object) {
    const o = m.object;
    out.object = {
      describedObject: refToV1(o.target),
      target: compact({ type: has(o.averageValue) ? 'AverageValue' : 'Value', value: qty(o.targetValue), averageValue: optQty(o.averageValue) }),
      metric: identifier(o.metricName, o.selector),
    };
  }
  if (m?.pods) out.pods = { metric: identifier(m.pods.metricName, m.pods.selector), target: { type: 'AverageValue', averageValue: qty(m.pods.targetAverageValue) } };
  for (const key of ['resource', 'containerResource'] as const) {
    const r = m?.[key];
    if (!r) continue;
    const target = compact({
      type: has(r.targetAverageUtilization) ? 'Utilization' : 'AverageValue',
      averageUtilization: r.targetAverageUtilization ?? undefined,
      averageValue: optQty(r.targetAverageValue),
    });
    out[key] = key === 'resource' ? { name: r.name, target } : { name: r.name, target, container: r.container };
  }
  if (m?.external) {
    const e = m.external;
    out.external = {
      metric: identifier(e.metricName, e.metricSelector),
      target: compact({ type: has(e.targetValue) ? 'Value' : 'AverageValue', value: optQty(e.targetValue), averageValue: optQty(e.targetAverageValue) }),
    };
  }
  return out;
}

// --- metric statuses --------------------------------------------------------------------------

function metricStatusToV1(m: any): any {
  const out: any = { type: m.type };
  if (m.object) {
    const c = m.object.current ?? {};
    out.object = compact({
      target: refToV1(m.object.describedObject),
      metricName: m.object.metric?.name ?? '',
      currentValue: qty(c.value),
      selector: m.object.metric?.selector,
      averageValue: optQty(c.averageValue),
    });
  }
  if (m.pods) out.pods = compact({ metricName: m.pods.metric?.name ?? '', currentAverageValue: qty(m.pods.current?.averageValue), selector: m.pods.metric?.selector });
  for (const key of ['resource', 'containerResource'] as const) {
    const r = m[key];
    if (!r) continue;
    out[key] = compact({
      name: r.name,
      currentAverageUtilization: r.current?.averageUtilization ?? undefined,
      currentAverageValue: qty(r.current?.averageValue),
      container: key === 'containerResource' ? r.container : undefined,
    });
  }
  if (m.external) {
    const c = m.external.current ?? {};
    out.external = compact({ metricName: m.external.metric?.name ?? '', metricSelector: m.external.metric?.selector, currentValue: qty(c.value), currentAverageValue: optQty(c.averageValue) });
  }
  return out;
}

function metricStatusFromV1(m: any): any {
  const out: any = { type: m?.type };
  if (m?.object) {
    const o = m.object;
    out.object = { metric: identifier(o.metricName, o.selector), current: compact({ value: qty(o.currentValue), averageValue: optQty(o.averageValue) }), describedObject: refToV1(o.target) };
  }
  if (m?.pods) out.pods = { metric: identifier(m.pods.metricName, m.pods.selector), current: { averageValue: qty(m.pods.currentAverageValue) } };
  for (const key of ['resource', 'containerResource'] as const) {
    const r = m?.[key];
    if (!r) continue;
    const current = compact({ averageValue: qty(r.currentAverageValue), averageUtilization: r.currentAverageUtilization ?? undefined });
    out[key] = key === 'resource' ? { name: r.name, current } : { name: r.name, current, container: r.container };
  }
  if (m?.external) {
    const e = m.external;
    out.external = { metric: identifier(e.metricName, e.metricSelector), current: compact({ value: qty(e.currentValue), averageValue: optQty(e.currentAverageValue) }) };
  }
  return out;
}

// --- behavior: Go field names, as upstream marshals its internal type --------------------------

function rulesToGo(r: any): any {
  if (!r) return null;
  return {
    StabilizationWindowSeconds: r.stabilizationWindowSeconds ?? null,
    SelectPolicy: r.selectPolicy ?? null,
    Policies: Array.isArray(r.policies) ? r.policies.map((p: any) => ({ Type: p.type, Value: p.value, PeriodSeconds: p.periodSeconds })) : null,
  };
}

/** Go's encoding/json matches keys case-insensitively; so does this. */
function pick(o: any, name: string): any {
  if (!o || typeof o !== 'object') return undefined;
  const k = Object.keys(o).find((key) => key.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : o[k];
}

function rulesFromGo(r: any): any {
  if (!r || typeof r !== 'object') return undefined;
  const policies = pick(r, 'policies');
  return compact({
    stabilizationWindowSeconds: pick(r, 'stabilizationWindowSeconds') ?? undefined,
    selectPolicy: pick(r, 'selectPolicy') ?? undefined,
    policies: Array.isArray(policies) ? policies.map((p: any) => ({ type: pick(p, 'type'), value: pick(p, 'value'), periodSeconds: pick(p, 'periodSeconds') })) : undefined,
  });
}

// --- whole objects ----------------------------------------------------------------------------

function parseAnnotation(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // upstream fails the conversion; a bad annotation is ignored here
  }
}

/** A stored autoscaling/v2 HPA as autoscaling/v1 shows it. */
export function hpaToV1(v2: KObject): KObject {
  const spec = v2.spec ?? {};
  const status = v2.status ?? {};
  const annotations: Record<string, string> = { ...(v2.metadata.annotations ?? {}) };
  for (const a of roundTrip) delete annotations[a];
  const metrics: any[] = Array.isArray(spec.metrics) ? spec.metrics : [];
  const others = metrics.filter((m) => !isCPUUtilization(m)).map(metricSpecToV1);
  if (others.length) annotations[metricSpecsAnnotation] = JSON.stringify(others);
  if (Array.isArray(status.currentMetrics) && status.currentMetrics.length)
    annotations[metricStatusesAnnotation] = JSON.stringify(status.currentMetrics.map(metricStatusToV1));
  if (Array.isArray(status.conditions) && status.conditions.length)
    annotations[conditionsAnnotation] = JSON.stringify(
      status.conditions.map((c: any) => compact({ type: c.type, status: c.status, lastTransitionTime: c.lastTransitionTime ?? null, reason: c.reason || undefined, message: c.message || undefined })),
    );
  if (spec.behavior) annotations[behaviorAnnotation] = JSON.stringify({ ScaleUp: rulesToGo(spec.behavior.scaleUp), ScaleDown: rulesToGo(spec.behavior.scaleDown) });

  const cpu = metrics.find((m) => m?.type === 'Resource' && m.resource?.name === 'cpu');
  const v1Spec: any = compact({
    scaleTargetRef: refToV1(spec.scaleTargetRef),
    minReplicas: spec.minReplicas ?? undefined,
    maxReplicas: spec.maxReplicas ?? 0,
    targetCPUUtilizationPercentage: cpu?.resource?.target?.averageUtilization ?? undefined,
  });
  let currentCPU: number | undefined;
  for (const m of status.currentMetrics ?? []) if (m?.type === 'Resource' && m.resource?.name === 'cpu' && has(m.resource.current?.averageUtilization)) currentCPU = m.resource.current.averageUtilization;
  const v1Status: any = compact({
    observedGeneration: status.observedGeneration ?? undefined,
    lastScaleTime: status.lastScaleTime ?? undefined,
    currentReplicas: status.currentReplicas ?? 0,
    desiredReplicas: status.desiredReplicas ?? 0,
    currentCPUUtilizationPercentage: currentCPU,
  });
  const { apiVersion: _a, kind: _k, metadata, spec: _s, status: _st, ...rest } = v2;
  const meta = { ...metadata };
  if (Object.keys(annotations).length) meta.annotations = annotations;
  else delete meta.annotations;
  return { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: meta, ...rest, spec: v1Spec, status: v1Status };
}

/** An autoscaling/v1 HPA in the autoscaling/v2 form it is stored in (with v2's defaults, as a read from storage applies them). */
export function hpaFromV1(v1: KObject): KObject {
  const spec = v1.spec ?? {};
  const status = v1.status ?? {};
  const annotations: Record<string, string> = { ...(v1.metadata?.annotations ?? {}) };
  const v2Spec: any = compact({ scaleTargetRef: refToV1(spec.scaleTargetRef), minReplicas: spec.minReplicas ?? undefined, maxReplicas: spec.maxReplicas ?? 0 });
  let metrics: any[] = [];
  if (has(spec.targetCPUUtilizationPercentage))
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }];
  const others = parseAnnotation(annotations[metricSpecsAnnotation]);
  if (Array.isArray(others)) metrics = [...others.map(metricSpecFromV1), ...metrics];
  if (metrics.length === 0) metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: defaultCPUUtilization } } }];
  v2Spec.metrics = metrics;
  const behavior = parseAnnotation(annotations[behaviorAnnotation]);
  if (behavior && typeof behavior === 'object') {
    const b = compact({ scaleUp: rulesFromGo(pick(behavior, 'scaleUp')), scaleDown: rulesFromGo(pick(behavior, 'scaleDown')) });
    if (Object.keys(b).length) v2Spec.behavior = b;
  }

  const v2Status: any = compact({
    observedGeneration: status.observedGeneration ?? undefined,
    lastScaleTime: status.lastScaleTime ?? undefined,
    currentReplicas: status.currentReplicas || undefined,
    desiredReplicas: status.desiredReplicas ?? 0,
  });
  let current: any[] | null = null;
  if (has(status.currentCPUUtilizationPercentage))
    current = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
  const currentAnn = parseAnnotation(annotations[metricStatusesAnnotation]);
  if (Array.isArray(currentAnn)) current = currentAnn.map(metricStatusFromV1);
  v2Status.currentMetrics = current;
  const conditions = parseAnnotation(annotations[conditionsAnnotation]);
  if (Array.isArray(conditions) && conditions.length) v2Status.conditions = conditions;

  for (const a of roundTrip) delete annotations[a];
  const { apiVersion: _a, kind: _k, metadata, spec: _s, status: _st, ...rest } = v1;
  const meta = { ...(metadata ?? {}) };
  if (Object.keys(annotations).length) meta.annotations = annotations;
  else delete meta.annotations;
  const out: KObject = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta, ...rest, spec: v2Spec, status: v2Status };
  defaultHPAv2(out);
  return out;
}

export const hpaV1: ResourceDef = {
  group: 'autoscaling',
  version: 'v1',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  model: 'V1HorizontalPodAutoscaler',
  strategy: {
    defaults(obj) {
      obj.spec ??= {};
      obj.spec.minReplicas ??= 1;
    },
    prepareForCreate(obj) {
      obj.status = { currentReplicas: 0, desiredReplicas: 0 };
    },
    validate: (obj) => validateHPAv2(hpaFromV1(obj)),
  },
  status: { validateUpdate: (obj) => validateHPAStatus(obj) },
  storedAs: { group: 'autoscaling', plural: 'horizontalpodautoscalers', toStored: hpaFromV1, fromStored: hpaToV1 },
  table: { columns: hpaTable.columns, row: (obj, now) => hpaTable.row(hpaFromV1(obj), now) },
};
