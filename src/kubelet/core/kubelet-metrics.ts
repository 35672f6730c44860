// The pod workers' Prometheus series (kubelet_pod_start_duration_seconds, kubelet_running_pods)
// without loading prom-client at start: it and the metrics module cost the kubelet ~1.7 MB of heap
// (measured), and most kubelets are never scraped. The kubelet server's /metrics loads them
// (`connectKubeletMetrics`); the start durations seen until then are kept (one number per started
// pod, at most MAX_PENDING) and handed over then, so the histogram counts every pod.

interface Sink {
  observe(seconds: number): void;
  set(running: number): void;
}

const MAX_PENDING = 10_000;
let sink: Sink | undefined;
let pending: number[] = [];
let running = 0;

export function observePodStartSeconds(seconds: number): void {
  if (sink) sink.observe(seconds);
  else if (pending.length < MAX_PENDING) pending.push(seconds);
}

export function setRunningPods(n: number): void {
  running = n;
  sink?.set(n);
}

/** Loads the metrics module and registers the series (idempotent). */
export async function connectKubeletMetrics(): Promise<void> {
  if (sink) return;
  const m = await import('../../metrics/prometheus.ts');
  if (sink) return;
  sink = { observe: (s) => m.kubeletPodStartDuration.observe(s), set: (n) => m.kubeletRunningPods.set(n) };
  for (const s of pending) sink.observe(s);
  pending = [];
  sink.set(running);
}
