// metrics.k8s.io/v1beta1 answers (NodeMetrics, PodMetrics) from the pipeline's latest usage, in
// metrics-server's shapes: CPU in nanocores ("1234n"), memory in Ki when whole, the window as a Go
// duration, labels copied from the node or pod so label selectors work. The objects are listed
// from the informer caches (as metrics-server lists its pods), then matched to their usage.

import type { KObject } from '../api/types.ts';
import type { Informer } from '../client/informer.ts';
import { parseLabelSelector, type LabelSelector } from '../machinery/labels.ts';
import { parseFieldSelector, type FieldSelector } from '../machinery/fields.ts';
import { errors, StatusError } from '../machinery/errors.ts';
import { rfc3339 } from '../machinery/time.ts';
import type { MetricsPipeline, NodeUsage, PodUsage } from './pipeline.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

export interface MetricsQuery {
  resource: 'nodes' | 'pods';
  namespace?: string;
  name?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface MetricsAnswer {
  code: number;
  /** JSON text: the object, the list, or a Status. */
  body: string;
}

/** Go's time.Duration.String() for the windows metrics-server reports ("15s", "14.998s", "1m0.5s"). */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalSec = ms / 1000;
  const h = Math.floor(totalSec / 3600);
  const m = Math.floor((totalSec % 3600) / 60);
  const s = Number((totalSec % 60).toFixed(3));
  const sec = `${s}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}

function cpu(n: number): string {
  return `${Math.max(0, Math.round(n))}n`;
}

function memory(bytes: number): string {
  const b = Math.max(0, Math.round(bytes));
  return b % 1024 === 0 ? `${b / 1024}Ki` : String(b);
}

function meta(obj: KObject, now: string): Record<string, unknown> {
  const m: Record<string, unknown> = { name: obj.metadata.name };
  if (obj.metadata.namespace) m.namespace = obj.metadata.namespace;
  m.creationTimestamp = now;
  if (obj.metadata.labels) m.labels = obj.metadata.labels;
  return m;
}

export function nodeMetrics(node: KObject, u: NodeUsage, now: string): Record<string, unknown> {
  return { metadata: meta(node, now), timestamp: rfc3339(new Date(u.timestampMs)), window: goDuration(u.windowMs), usage: { cpu: cpu(u.cpuNanoCores), memory: memory(u.memoryBytes) } };
}

export function podMetrics(pod: KObject, u: PodUsage, now: string): Record<string, unknown> {
  return {
    metadata: meta(pod, now),
    timestamp: rfc3339(new Date(u.timestampMs)),
    window: goDuration(u.windowMs),
    containers: u.containers.map((c) => ({ name: c.name, usage: { cpu: cpu(c.cpuNanoCores), memory: memory(c.memoryBytes) } })),
  };
}

function statusBody(e: StatusError): MetricsAnswer {
  return { code: e.code, body: JSON.stringify(e.toStatus()) };
}

function selectors(q: MetricsQuery): { labels?: LabelSelector; fields?: FieldSelector } {
  const out: { labels?: LabelSelector; fields?: FieldSelector } = {};
  if (q.labelSelector) out.labels = parseLabelSelector(q.labelSelector);
  if (q.fieldSelector) {
    out.fields = parseFieldSelector(q.fieldSelector);
    for (const r of out.fields.requirements)
      if (r.field !== 'metadata.name' && (q.resource === 'nodes' || r.field !== 'metadata.namespace'))
        throw errors.badRequest(`field label not supported: ${r.field}`);
  }
  return out;
}

/** Answers one metrics.k8s.io request; bad selectors are 400s, missing objects 404s. */
export function answerMetricsQuery(q: MetricsQuery, pipeline: MetricsPipeline, informers: { pods: Informer; nodes: Informer }): MetricsAnswer {
  try {
    const now = rfc3339(new Date());
    const sel = selectors(q);
    const matches = (o: KObject) =>
      (!sel.labels || sel.labels.matches(o.metadata.labels)) &&
      (!sel.fields || sel.fields.matches((f) => (f === 'metadata.name' ? o.metadata.name : o.metadata.namespace)));
    if (q.resource === 'nodes') {
      if (q.name !== undefined) {
        const node = informers.nodes.indexer.getByKey(q.name);
        const u = pipeline.nodeUsage.get(q.name);
        if (!node || !u) throw errors.notFound({ group: METRICS_GROUP, resource: 'nodes' }, q.name);
        return { code: 200, body: JSON.stringify({ kind: 'NodeMetrics', apiVersion: API_VERSION, ...nodeMetrics(node, u, now) }) };
      }
      const items: Record<string, unknown>[] = [];
      for (const node of informers.nodes.indexer.list()) {
        const u = pipeline.nodeUsage.get(node.metadata.name!);
        if (u && matches(node)) items.push(nodeMetrics(node, u, now));
      }
      items.sort((a: any, b: any) => (a.metadata.name < b.metadata.name ? -1 : 1));
      return { code: 200, body: JSON.stringify({ kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items }) };
    }
    if (q.name !== undefined) {
      const key = `${q.namespace}/${q.name}`;
      const pod = informers.pods.indexer.getByKey(key);
      const u = pipeline.podUsage.get(key);
      if (!pod || !u) throw errors.notFound({ group: METRICS_GROUP, resource: 'pods' }, q.name);
      return { code: 200, body: JSON.stringify({ kind: 'PodMetrics', apiVersion: API_VERSION, ...podMetrics(pod, u, now) }) };
    }
    const pods = q.namespace ? informers.pods.indexer.byIndex('namespace', q.namespace) : informers.pods.indexer.list();
    const items: Record<string, unknown>[] = [];
    for (const pod of pods) {
      const u = pipeline.podUsage.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
      if (u && matches(pod)) items.push(podMetrics(pod, u, now));
    }
    items.sort((a: any, b: any) => (a.metadata.namespace < b.metadata.namespace ? -1 : a.metadata.namespace > b.metadata.namespace ? 1 : a.metadata.name < b.metadata.name ? -1 : 1));
    return { code: 200, body: JSON.stringify({ kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items }) };
  } catch (e) {
    if (e instanceof StatusError) return statusBody(e);
    return statusBody(errors.internal((e as Error).message));
  }
}
