// Options of the cloud controllers, with upstream's defaults in one place.

export interface CloudControllerOptions {
  /** --cluster-name: tags and names cloud resources (upstream default "kubernetes"). */
  clusterName: string;
  /** --cluster-cidr: the pod network; the route controller only touches routes inside it. */
  clusterCIDR?: string;
  /** --configure-cloud-routes (default true): run the route controller when the provider has routes. */
  configureCloudRoutes: boolean;
  /** --node-monitor-period: how often the lifecycle controller looks at NotReady nodes (5 s). */
  nodeMonitorPeriodMs: number;
  /** --node-status-update-frequency: how often node addresses are refreshed (5 min). */
  nodeStatusUpdateFrequencyMs: number;
  /** --route-reconciliation-period (10 s). */
  routeReconciliationPeriodMs: number;
  /** --concurrent-service-syncs (1). */
  concurrentServiceSyncs: number;
  /** --concurrent-node-syncs (1). */
  concurrentNodeSyncs: number;
  /** Backoff of a Service whose balancer failed: 5 s doubling to 300 s, as upstream. */
  serviceRetryMinMs: number;
  serviceRetryMaxMs: number;
  /** Backoff of a node that failed to initialise (client-go's default controller limiter: 5 ms .. 1000 s). */
  nodeRetryMinMs: number;
  nodeRetryMaxMs: number;
}

export const defaultCloudControllerOptions: CloudControllerOptions = {
  clusterName: 'kubernetes',
  configureCloudRoutes: true,
  nodeMonitorPeriodMs: 5_000,
  nodeStatusUpdateFrequencyMs: 300_000,
  routeReconciliationPeriodMs: 10_000,
  concurrentServiceSyncs: 1,
  concurrentNodeSyncs: 1,
  serviceRetryMinMs: 5_000,
  serviceRetryMaxMs: 300_000,
  nodeRetryMinMs: 5,
  nodeRetryMaxMs: 1_000_000,
};
