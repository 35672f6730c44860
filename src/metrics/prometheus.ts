// Every component's Prometheus metrics, through prom-client, under upstream's names and labels so
// that existing dashboards and alerts work. prom-client's default registry is per thread: the API
// server's thread registers the process metrics and its own; a components worker registers what its
// components use, and the parent asks for them when /metrics is scraped (thread-port.ts), merging
// with AggregatorRegistry.aggregate. Updating a metric is a Map lookup and an add; nothing is
// formatted until a scrape.

import client from 'prom-client';
import { threadServices, type ThreadPortClient } from './thread-port.ts';

const { Counter, Gauge, Histogram, register, AggregatorRegistry, collectDefaultMetrics } = client;

// --- API server (upstream k8s.io/apiserver/pkg/endpoints/metrics, storage) ---

const REQUEST_LABELS = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;

export const apiserverRequestTotal = new Counter({
  name: 'apiserver_request_total',
  help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
  labelNames: [...REQUEST_LABELS, 'code'],
});

export const apiserverRequestDuration = new Histogram({
  name: 'apiserver_request_duration_seconds',
  help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
  labelNames: [...REQUEST_LABELS],
  buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
});

export const apiserverLongrunningRequests = new Gauge({
  name: 'apiserver_longrunning_requests',
  help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.',
  labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
});

export const apiserverWatchEventsTotal = new Counter({
  name: 'apiserver_watch_events_total',
  help: 'Number of events sent in watch clients',
  labelNames: ['group', 'version', 'kind'],
});

/** Objects stored per resource, read from the watch caches at scrape time. */
let storageObjects: (() => Iterable<[string, number]>) | undefined;
export function setStorageObjectsSource(fn: (() => Iterable<[string, number]>) | undefined): void {
  storageObjects = fn;
}
new Gauge({
  name: 'apiserver_storage_objects',
  help: 'Number of stored objects at the time of last check split by kind.',
  labelNames: ['resource'],
  collect() {
    this.reset();
    if (storageObjects) for (const [resource, n] of storageObjects()) this.set({ resource }, n);
  },
});

export const storageRequestDuration = new Histogram({
  name: 'etcd_request_duration_seconds',
  help: 'Etcd request latency in seconds for each operation and object type.',
  labelNames: ['operation', 'type'],
  buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
});

/** The SQLite store's group commits (writes per transaction = rows / commits); no upstream equivalent. */
export const storageCommitsTotal = new Counter({ name: 'mizzen_storage_commits_total', help: 'Transactions the SQLite store committed (one per group of writes).' });
export const storageCommittedRowsTotal = new Counter({ name: 'mizzen_storage_committed_rows_total', help: 'Log rows (writes) the SQLite store committed.' });

// --- Scheduler (upstream pkg/scheduler/metrics) ---

export const schedulerPodSchedulingAttempts = new Histogram({
  name: 'scheduler_pod_scheduling_attempts',
  help: 'Number of attempts to successfully schedule a pod.',
  buckets: [1, 2, 4, 8, 16],
});

export const schedulerAttemptDuration = new Histogram({
  name: 'scheduler_scheduling_attempt_duration_seconds',
  help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
  labelNames: ['result', 'profile'],
  buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384],
});

/** Pending pods per sub-queue (active, backoff, unschedulable, gated), read at scrape time. */
let pendingPods: (() => Record<string, number>) | undefined;
export function setPendingPodsSource(fn: (() => Record<string, number>) | undefined): void {
  pendingPods = fn;
}
new Gauge({
  name: 'scheduler_pending_pods',
  help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
  labelNames: ['queue'],
  collect() {
    this.reset();
    if (pendingPods) for (const [queue, n] of Object.entries(pendingPods())) this.set({ queue }, n);
  },
});

// --- Work queues (upstream client-go workqueue metrics, by queue name) ---

export const workqueueAdds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'] });
export const workqueueQueueDuration = new Histogram({
  name: 'workqueue_queue_duration_seconds',
  help: 'How long in seconds an item stays in workqueue before being requested.',
  labelNames: ['name'],
  buckets: [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10],
});
const queues = new Map<object, { name: string; depth(): number }>();
/** A named queue whose depth is read at scrape time; returns its unregister function. */
export function registerQueue(q: object, name: string, depth: () => number): () => void {
  queues.set(q, { name, depth });
  return () => void queues.delete(q);
}
new Gauge({
  name: 'workqueue_depth',
  help: 'Current depth of workqueue',
  labelNames: ['name'],
  collect() {
    this.reset();
    const byName = new Map<string, number>();
    for (const q of queues.values()) byName.set(q.name, (byName.get(q.name) ?? 0) + q.depth());
    for (const [name, n] of byName) this.set({ name }, n);
  },
});

// --- Kubelet (upstream pkg/kubelet/metrics), for the kubelet's own /metrics ---

export const kubeletPodStartDuration = new Histogram({
  name: 'kubelet_pod_start_duration_seconds',
  help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
  buckets: [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600],
});
export const kubeletRunningPods = new Gauge({ name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox' });

// --- Process metrics (CPU, memory, event-loop lag): once per process, on the main thread ---

let processMetrics = false;
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ eventLoopMonitoringPrecision: 20 });
}

/** In a components worker: let the parent read this thread's registry. */
export function serveThreadMetrics(): void {
  threadServices.prom = () => register.getMetricsAsJSON() as Promise<unknown[]>;
}

export const PROMETHEUS_CONTENT_TYPE = register.contentType;

/** The text exposition of this thread's metrics and those of the given worker threads. */
export async function exposition(workers: ThreadPortClient[] = []): Promise<string> {
  if (!workers.length) return register.metrics();
  const all = [await register.getMetricsAsJSON()];
  for (const w of workers) {
    try {
      all.push((await w.prom()) as Awaited<ReturnType<typeof register.getMetricsAsJSON>>);
    } catch {
      // A worker that is stopping: serve the rest.
    }
  }
  return AggregatorRegistry.aggregate(all).metrics();
}
