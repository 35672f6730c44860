// The resource metrics pipeline (Mizzen's built-in metrics-server): every resolution period it
// collects each node's usage and keeps the latest per node and per pod, for metrics.k8s.io.
//
// - Real nodes: HTTPS GET of the kubelet's /metrics/resource with the API server's kubelet client
//   certificate, as metrics-server does; CPU is the rate between the last two cumulative points,
//   memory the latest working set. A pod is reported once all its containers have a rate.
// - Simulated nodes run no kubelet server: their pods' usage comes from the pods themselves
//   (annotations, else a fraction of requests; simulated-usage.ts), read from the informer cache
//   this process already holds, so 50,000 pods cost a Map lookup each per period. A pod's usage
//   is recomputed only when its resourceVersion changes. The node's usage is its pods' sum plus a
//   small base for the system.

import type { KObject } from '../api/types.ts';
import type { Informer } from '../client/informer.ts';
import { isSimulatedNode, kubeletLocation, kubeletRequest, readSmallBody, type KubeletClientConfig } from '../apiserver/kubelet-client.ts';
import { parseResourceMetrics, type UsagePoint } from './resource-text.ts';
import { simulatedPodUsage, type ContainerUsage } from './simulated-usage.ts';

export const DEFAULT_METRIC_RESOLUTION_MS = 15_000;
/** What a simulated node's system uses besides its pods. */
const SIMULATED_NODE_BASE = { cpuNanoCores: 25_000_000, memoryBytes: 256 * 1024 * 1024 };

export interface NodeUsage {
  timestampMs: number;
  windowMs: number;
  cpuNanoCores: number;
  memoryBytes: number;
}

export interface PodUsage {
  timestampMs: number;
  windowMs: number;
  containers: ContainerUsage[];
}

export interface PipelineOptions {
  pods: Informer;
  nodes: Informer;
  /** --metric-resolution (default 15 s). */
  resolutionMs?: number;
  /** Client certificate for kubelets; without it real nodes are not scraped. */
  kubeletClient?: KubeletClientConfig;
  /** Kubelet port for every real node instead of the one the node reports (tests). */
  kubeletPort?: number;
  log?: (msg: string) => void;
  now?: () => number;
}

interface SimulatedEntry {
  rv: string;
  node: string;
  containers: ContainerUsage[];
}

export class MetricsPipeline {
  readonly resolutionMs: number;
  /** Latest usage by node name and by `namespace/name` pod key. */
  readonly nodeUsage = new Map<string, NodeUsage>();
  readonly podUsage = new Map<string, PodUsage>();
  /** Last cumulative point per real node and per `ns/pod/container`, for rates. */
  private lastNode = new Map<string, UsagePoint>();
  private lastContainer = new Map<string, Map<string, UsagePoint>>();
  private simulated = new Map<string, SimulatedEntry>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly log: (m: string) => void;
  /** Listeners told after each collection (the HPA bench measures from here). */
  private listeners: (() => void)[] = [];
  lastTickMs = 0;

  constructor(private readonly opts: PipelineOptions) {
    this.resolutionMs = opts.resolutionMs ?? DEFAULT_METRIC_RESOLUTION_MS;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((e) => this.log(`metrics: collection failed: ${(e as Error).message}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.resolutionMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  onCollected(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** One collection over every node. */
  async tick(): Promise<void> {
    const started = this.now();
    const real: KObject[] = [];
    const simulatedNodes = new Set<string>();
    for (const n of this.opts.nodes.indexer.list()) {
      if (isSimulatedNode(n)) simulatedNodes.add(n.metadata.name!);
      else real.push(n);
    }
    this.collectSimulated(simulatedNodes, started);
    await Promise.all(real.map((n) => this.scrapeNode(n)));
    // Forget nodes that are gone.
    const names = new Set(this.opts.nodes.indexer.listKeys());
    for (const n of this.nodeUsage.keys()) if (!names.has(n)) this.nodeUsage.delete(n);
    for (const n of this.lastNode.keys()) if (!names.has(n)) {
      this.lastNode.delete(n);
      this.lastContainer.delete(n);
    }
    this.lastTickMs = this.now();
    for (const l of this.listeners) l();
  }

  private collectSimulated(nodes: Set<string>, now: number): void {
    const perNode = new Map<string, { cpu: number; mem: number }>();
    const seen = new Set<string>();
    for (const pod of this.opts.pods.indexer.list()) {
      const node = pod.spec?.nodeName;
      if (!node || !nodes.has(node) || pod.status?.phase !== 'Running') continue;
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      seen.add(key);
      const rv = pod.metadata.resourceVersion ?? '';
      let e = this.simulated.get(key);
      if (!e || e.rv !== rv) this.simulated.set(key, (e = { rv, node, containers: simulatedPodUsage(pod) }));
      this.podUsage.set(key, { timestampMs: now, windowMs: this.resolutionMs, containers: e.containers });
      let sum = perNode.get(node);
      if (!sum) perNode.set(node, (sum = { cpu: 0, mem: 0 }));
      for (const c of e.containers) {
        sum.cpu += c.cpuNanoCores;
        sum.mem += c.memoryBytes;
      }
    }
    for (const [key, e] of this.simulated) {
      if (seen.has(key)) continue;
      this.simulated.delete(key);
      if (nodes.has(e.node) || !this.opts.nodes.indexer.getByKey(e.node)) this.podUsage.delete(key);
    }
    for (const node of nodes) {
      const s = perNode.get(node) ?? { cpu: 0, mem: 0 };
      this.nodeUsage.set(node, {
        timestampMs: now,
        windowMs: this.resolutionMs,
        cpuNanoCores: SIMULATED_NODE_BASE.cpuNanoCores + s.cpu,
        memoryBytes: SIMULATED_NODE_BASE.memoryBytes + s.mem,
      });
    }
  }

  private async scrapeNode(node: KObject): Promise<void> {
    const cfg = this.opts.kubeletClient;
    if (!cfg) return;
    const name = node.metadata.name!;
    let text: string;
    try {
      const loc = kubeletLocation(node, cfg, this.opts.kubeletPort);
      const res = await kubeletRequest({ ...cfg, timeoutMs: Math.min(cfg.timeoutMs ?? 10_000, Math.max(1000, this.resolutionMs * 0.9)) }, loc, '/metrics/resource');
      const body = await readSmallBody(res, 32 << 20);
      if (res.statusCode !== 200) throw new Error(`the kubelet answered ${res.statusCode}: ${body.toString('utf8').slice(0, 200)}`);
      text = body.toString('utf8');
    } catch (e) {
      this.log(`metrics: failed to scrape node ${JSON.stringify(name)}: ${(e as Error).message}`);
      return;
    }
    let scrape;
    try {
      scrape = parseResourceMetrics(text, this.now());
    } catch (e) {
      this.log(`metrics: node ${JSON.stringify(name)} sent unreadable metrics: ${(e as Error).message}`);
      return;
    }
    this.storeNode(name, scrape.node);
    this.storeContainers(name, scrape.containers);
  }

  /** Rate between two cumulative CPU points, in nanocores; undefined unless the later is newer and not lower. */
  private static rate(prev: UsagePoint | undefined, cur: UsagePoint): number | undefined {
    if (!prev || cur.timestampMs <= prev.timestampMs || cur.cpuCoreSeconds < prev.cpuCoreSeconds) return undefined;
    return Math.round(((cur.cpuCoreSeconds - prev.cpuCoreSeconds) / ((cur.timestampMs - prev.timestampMs) / 1000)) * 1e9);
  }

  private storeNode(name: string, point: UsagePoint | undefined): void {
    if (!point) return;
    const prev = this.lastNode.get(name);
    if (prev && point.timestampMs <= prev.timestampMs) return;
    const cpu = MetricsPipeline.rate(prev, point);
    this.lastNode.set(name, point);
    if (cpu === undefined) return;
    this.nodeUsage.set(name, { timestampMs: point.timestampMs, windowMs: point.timestampMs - prev!.timestampMs, cpuNanoCores: cpu, memoryBytes: Math.round(point.memoryBytes) });
  }

  private storeContainers(node: string, pods: Map<string, Map<string, UsagePoint>>): void {
    const prevByKey = this.lastContainer.get(node) ?? new Map<string, UsagePoint>();
    const next = new Map<string, UsagePoint>();
    const seenPods = new Set<string>();
    for (const [podKey, containers] of pods) {
      seenPods.add(podKey);
      const usage: ContainerUsage[] = [];
      let complete = true;
      let ts = 0;
      let window = 0;
      for (const [cname, point] of containers) {
        const k = `${podKey}/${cname}`;
        const prev = prevByKey.get(k);
        // Keep the older point when the kubelet has nothing newer, so the next rate spans both.
        next.set(k, prev && point.timestampMs <= prev.timestampMs ? prev : point);
        const cpu = MetricsPipeline.rate(prev, point);
        if (cpu === undefined) {
          complete = false;
          continue;
        }
        ts = Math.max(ts, point.timestampMs);
        window = Math.max(window, point.timestampMs - prev!.timestampMs);
        usage.push({ name: cname, cpuNanoCores: cpu, memoryBytes: Math.round(point.memoryBytes) });
      }
      if (complete && usage.length) {
        usage.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        this.podUsage.set(podKey, { timestampMs: ts, windowMs: window, containers: usage });
      }
    }
    // Pods this node no longer reports are gone from it.
    for (const k of prevByKey.keys()) {
      const podKey = k.slice(0, k.lastIndexOf('/'));
      if (!seenPods.has(podKey)) this.podUsage.delete(podKey);
    }
    this.lastContainer.set(node, next);
  }
}
