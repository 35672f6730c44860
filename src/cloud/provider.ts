// The cloud-provider contract, in the shape of upstream's k8s.io/cloud-provider `cloud.go`: a
// provider answers each optional capability with an implementation or undefined, and the cloud
// controllers run only for the capabilities it has. Objects are the API's JSON (KObject).

import type { KObject } from '../api/types.ts';
import type { ApiClient } from '../client/api-client.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import type { InformerFactory } from '../client/informer.ts';

export interface NodeAddress {
  type: 'Hostname' | 'InternalIP' | 'ExternalIP' | 'InternalDNS' | 'ExternalDNS';
  address: string;
}

/** What the cloud knows about a node's machine (upstream InstanceMetadata). */
export interface InstanceMetadata {
  /** `<provider>://<provider-specific>`, e.g. `local://node-a`, `aws:///us-east-1a/i-0abc`. */
  providerID: string;
  instanceType?: string;
  nodeAddresses: NodeAddress[];
  zone?: string;
  region?: string;
  /** Extra labels; keys in the kubernetes.io / k8s.io namespaces are dropped by the node controller. */
  additionalLabels?: Record<string, string>;
}

/** Instances by Node object (upstream InstancesV2). */
export interface InstancesV2 {
  /** False when the machine is gone (the lifecycle controller then deletes a NotReady node). */
  instanceExists(node: KObject): Promise<boolean>;
  /** True when the machine exists but is shut down (the node gets the shutdown taint). */
  instanceShutdown(node: KObject): Promise<boolean>;
  instanceMetadata(node: KObject): Promise<InstanceMetadata>;
}

export interface PortStatus {
  port: number;
  protocol: string;
  /** CamelCase reason when this port could not be provided. */
  error?: string;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: 'VIP' | 'Proxy';
  ports?: PortStatus[];
}

export interface LoadBalancerStatus {
  ingress?: LoadBalancerIngress[];
}

/** Load balancers for `type: LoadBalancer` Services (upstream LoadBalancer). */
export interface LoadBalancer {
  /** The balancer's current status and whether it exists. */
  getLoadBalancer(clusterName: string, service: KObject): Promise<{ status?: LoadBalancerStatus; exists: boolean }>;
  /** The name the provider gives the Service's balancer (defaultLoadBalancerName unless it knows better). */
  getLoadBalancerName(clusterName: string, service: KObject): string;
  /** Create or update the balancer for the Service over these nodes; returns the status to publish. */
  ensureLoadBalancer(clusterName: string, service: KObject, nodes: KObject[]): Promise<LoadBalancerStatus>;
  /** Point an existing balancer at a new set of nodes. */
  updateLoadBalancer(clusterName: string, service: KObject, nodes: KObject[]): Promise<void>;
  /** Delete the balancer; succeeds when it is already gone. */
  ensureLoadBalancerDeleted(clusterName: string, service: KObject): Promise<void>;
}

export interface Route {
  name: string;
  targetNode: string;
  targetNodeAddresses?: NodeAddress[];
  destinationCIDR: string;
  /** A route whose target is gone; the route controller deletes these. */
  blackhole?: boolean;
}

/** Routes to node pod ranges (upstream Routes). */
export interface Routes {
  listRoutes(clusterName: string): Promise<Route[]>;
  /** nameHint is the node's UID; providers may use it to name the route. */
  createRoute(clusterName: string, nameHint: string, route: Route): Promise<void>;
  deleteRoute(clusterName: string, route: Route): Promise<void>;
}

/** What a provider gets at the start of each leadership term (upstream Initialize's client builder). */
export interface ProviderContext {
  client: ApiClient;
  /** The manager's shared informers: register what you need synchronously, they start after. */
  informers: InformerFactory;
  recorder(component: string): EventRecorder;
  log(msg: string): void;
}

export interface CloudProvider {
  /** The name it is registered under (`local`, `aws`, ...). */
  readonly name: string;
  /**
   * Called when a leadership term starts, before the informers start. Providers that watch the
   * cluster (the local load balancer watches EndpointSlices) register their informers here.
   */
  initialize?(ctx: ProviderContext): void;
  /** Called when the informers have synced, before the controllers run. */
  run?(): void;
  /** End of the term: close listeners and clients the term opened. */
  stop?(): Promise<void>;
  loadBalancer(): LoadBalancer | undefined;
  instancesV2(): InstancesV2 | undefined;
  routes(): Routes | undefined;
  /** Whether the provider can tell this cluster's resources from others' (clusterName tags). */
  hasClusterID(): boolean;
}

/**
 * Upstream's DefaultLoadBalancerName: "a" + the Service UID without dashes, cut to 32 characters
 * (the longest name AWS allows, and a valid name on every cloud).
 */
export function defaultLoadBalancerName(service: KObject): string {
  return `a${String(service.metadata.uid ?? '').replace(/-/g, '')}`.slice(0, 32);
}

/** `namespace/name` of an object, for messages. */
export function objectKey(obj: KObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : String(obj.metadata.name);
}
