// The contract between the controller manager and each controller.
// A controller is level-triggered: event handlers enqueue `namespace/name` keys, one sync(key)
// re-reads the informer cache and reconciles; a thrown error requeues the key with backoff.

import type { ApiClient } from '../client/api-client.ts';
import type { InformerFactory } from '../client/informer.ts';
import type { EventRecorder } from '../client/event-recorder.ts';

export interface ControllerManagerOptions {
  /** A node whose lease is not renewed for this long gets Ready=Unknown (upstream default 50 s). */
  nodeMonitorGracePeriodMs: number;
  /** How often node health is checked (upstream --node-monitor-period, 5 s). */
  nodeMonitorPeriodMs: number;
  /** Pod CIDR range for node IPAM (--cluster-cidr, default 10.42.0.0/16) and per-node mask size (24). */
  clusterCIDR: string;
  nodeCIDRMaskSize: number;
  /** Evictions per second from unhealthy nodes (upstream --node-eviction-rate 0.1). */
  nodeEvictionRate: number;
  /** Terminated pods kept before PodGC removes the oldest (upstream 12500). */
  terminatedPodGCThreshold: number;
  /**
   * How often the pod garbage collector runs (upstream's fixed 20 s); pods of a deleted node are
   * collected once it has been gone twice this long (upstream's fixed 40 s). Tests shorten it.
   */
  podGCPeriodMs?: number;
  /** Workers per controller (upstream --concurrent-*-syncs, mostly 5). */
  workers: number;
  /** PEM of the cluster CA, published as the kube-root-ca.crt ConfigMap in every namespace. */
  rootCAPem?: string;
  /** PEM private key that signs legacy ServiceAccount token Secrets (--service-account-private-key-file). */
  serviceAccountKeyPem?: string;
  /** The CA that signs approved CertificateSigningRequests (--cluster-signing-cert-file / -key-file). */
  clusterSigningCertPem?: string;
  clusterSigningKeyPem?: string;
  /** Longest certificate the signer issues, seconds (--cluster-signing-duration, upstream 1 year). */
  clusterSigningDurationSeconds?: number;
  /** Base directory of local-path volumes on nodes the local-path-config ConfigMap does not name. */
  localPathDir?: string;
  /** The real node this controller manager runs beside (default: the host name). */
  localNodeName?: string;
  /** --horizontal-pod-autoscaler-sync-period (upstream 15 s). */
  hpaSyncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (upstream 5 m). */
  hpaDownscaleStabilizationMs?: number;
  /** --horizontal-pod-autoscaler-tolerance (upstream 0.1). */
  hpaTolerance?: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (upstream 5 m). */
  hpaCpuInitializationPeriodMs?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (upstream 30 s). */
  hpaInitialReadinessDelayMs?: number;
}

export const defaultControllerManagerOptions: ControllerManagerOptions = {
  nodeMonitorGracePeriodMs: 50_000,
  nodeMonitorPeriodMs: 5_000,
  clusterCIDR: '10.42.0.0/16',
  nodeCIDRMaskSize: 24,
  nodeEvictionRate: 0.1,
  terminatedPodGCThreshold: 12_500,
  workers: 5,
};

export interface ControllerContext {
  client: ApiClient;
  /** Shared informers: ask for one with informers.informerFor({ group, version, resource }). */
  informers: InformerFactory;
  /** An event recorder whose source component is `component` (e.g. 'deployment-controller'). */
  recorder(component: string): EventRecorder;
  options: ControllerManagerOptions;
  log(msg: string): void;
}

export interface Controller {
  readonly name: string;
  /** Start workers; called after the shared informers have synced. */
  run(): void;
  /** Stop workers and timers (informers are stopped by the manager). */
  stop(): Promise<void>;
}

/**
 * Each controller module exports a factory, registered by name in src/controllers/registry.ts.
 * The factory registers its informers and handlers synchronously; `run` starts the work.
 */
export type ControllerFactory = (ctx: ControllerContext) => Controller;
