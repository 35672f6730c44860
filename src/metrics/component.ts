// The metrics pipeline as a client component of `mizzen up` (upstream: metrics-server in a pod).
// It shares the informers of the thread it runs on (pods and nodes are watched there already),
// collects every --metric-resolution, and answers metrics.k8s.io through threadServices, which the
// API server reaches over the worker's MessagePort (thread-port.ts).

import { ApiClient } from '../client/api-client.ts';
import { SharedInformerFactory, type InformerFactory } from '../client/informer.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import type { KubeletClientConfig } from '../apiserver/kubelet-client.ts';
import { answerMetricsQuery } from './metrics-api.ts';
import { MetricsPipeline } from './pipeline.ts';
import { threadServices } from './thread-port.ts';

export interface MetricsServerOptions {
  resolutionMs?: number;
  kubeletClient?: KubeletClientConfig;
}

export function metricsServerComponent(opts: MetricsServerOptions) {
  return {
    name: 'metrics-server' as const,
    async start(ctx: { kubeconfig: string; client?: ApiClient; log: (m: string) => void; informers?: SharedInformerFactory }): Promise<{ close(): Promise<void>; pipeline: MetricsPipeline }> {
      const ownClient = ctx.client ? undefined : new ApiClient({ ...loadKubeconfig(ctx.kubeconfig), maxSockets: 8, userAgent: 'mizzen-metrics-server/0.1' });
      const ownFactory = ctx.informers ? undefined : new SharedInformerFactory((ctx.client ?? ownClient)!, { log: ctx.log });
      const informers: InformerFactory = ctx.informers ? ctx.informers.scope() : ownFactory!;
      const pods = informers.informerFor({ version: 'v1', resource: 'pods' });
      const nodes = informers.informerFor({ version: 'v1', resource: 'nodes' });
      informers.start();
      await informers.waitForCacheSync();
      const pipeline = new MetricsPipeline({ pods, nodes, resolutionMs: opts.resolutionMs, kubeletClient: opts.kubeletClient, log: ctx.log });
      pipeline.start();
      threadServices.resourceMetrics = (q) => answerMetricsQuery(q, pipeline, { pods, nodes });
      ctx.log(`collecting resource metrics every ${pipeline.resolutionMs / 1000}s`);
      return {
        pipeline,
        async close() {
          threadServices.resourceMetrics = undefined;
          await pipeline.stop();
          await informers.stop();
          ownClient?.close();
        },
      };
    },
  };
}
