// The `gcp` provider: Compute Engine instances, and for each LoadBalancer Service a regional
// target pool (the nodes' instances) behind a forwarding rule (the in-tree GCE "external load
// balancer"), and a global VPC route to each node's podCIDR (routes.ts). On the official SDK (@google-cloud/compute, REST transport), imported only when this
// provider is chosen. Credentials: Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
// gcloud's user credentials, the metadata server). Untested against a real project: the tests run
// it against a local stand-in speaking the Compute REST JSON wire format (stand-in.ts).
//
// cloud-config:
//   projectId: my-project          # required
//   region: us-central1            # required: target pools and forwarding rules are regional
//   zones: [us-central1-a, ...]    # where to find the instance of a node without a providerID
//                                  # (and of a route's node: routes know nodes by name only)
//   network: default               # the VPC network pod routes go in (a name, or its URL)
//   networkProjectId: host-project # the network's project when it is a Shared VPC's (default projectId)
//   apiEndpoint: https://...       # optional override (a private endpoint, a local stand-in)
//   operationTimeoutSeconds: 60    # how long one sync waits for an operation before retrying later

import type { KObject } from '../../../api/types.ts';
import { ConfigReader, type CloudConfig } from '../../cloud-config.ts';
import { InstanceNotFoundError, RetryError } from '../../errors.ts';
import type { CloudProvider, InstanceMetadata, InstancesV2, NodeAddress } from '../../provider.ts';
import type { ProviderOptions } from '../../registry.ts';
import { GcpLoadBalancer } from './load-balancer.ts';
import { GcpRoutes } from './routes.ts';
import { NodeDirectory } from '../node-directory.ts';
import { AccountProvider } from '../account-provider.ts';

export interface GcpConfig {
  projectId: string;
  region: string;
  zones: string[];
  network: string;
  networkProjectId?: string;
  apiEndpoint?: string;
  operationTimeoutMs: number;
}

export function parseGcpConfig(config: CloudConfig): GcpConfig {
  const r = new ConfigReader('gcp', config);
  const out: GcpConfig = {
    projectId: r.string('projectId', { required: true }),
    region: r.string('region', { required: true }),
    zones: r.strings('zones'),
    network: r.string('network', { default: 'default' })!,
    networkProjectId: r.string('networkProjectId'),
    apiEndpoint: r.url('apiEndpoint'),
    operationTimeoutMs: r.integer('operationTimeoutSeconds', { default: 60, min: 1, max: 3600 }) * 1000,
  };
  r.done();
  return out;
}

type Compute = typeof import('@google-cloud/compute');
export interface GcpClients {
  sdk: Compute;
  instances: InstanceType<Compute['InstancesClient']>;
  targetPools: InstanceType<Compute['TargetPoolsClient']>;
  forwardingRules: InstanceType<Compute['ForwardingRulesClient']>;
  regionOperations: InstanceType<Compute['RegionOperationsClient']>;
  routes: InstanceType<Compute['RoutesClient']>;
  globalOperations: InstanceType<Compute['GlobalOperationsClient']>;
}

/** gax errors carry the gRPC code (5 NOT_FOUND) and the HTTP status of the REST answer. */
export function isGcpNotFound(e: unknown): boolean {
  const x = e as { code?: number; status?: number };
  return x?.code === 5 || x?.code === 404 || x?.status === 404;
}

/** `gce://project/zone/instance` -> its parts. */
export function parseGceProviderID(providerID: string | undefined): { project: string; zone: string; name: string } | undefined {
  const m = /^gce:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(providerID ?? '');
  return m ? { project: m[1]!, zone: m[2]!, name: m[3]! } : undefined;
}

const lastSegment = (url: string | null | undefined) => String(url ?? '').split('/').pop() ?? '';

export class GcpInstances implements InstancesV2 {
  constructor(
    private readonly config: GcpConfig,
    private readonly c: GcpClients,
  ) {}

  /** The node's instance and zone, or undefined when Compute Engine does not know it. */
  async find(node: KObject): Promise<{ instance: any; zone: string; project: string } | undefined> {
    const id = parseGceProviderID(node.spec?.providerID);
    const candidates = id ? [{ project: id.project, zone: id.zone, name: id.name }] : this.config.zones.map((zone) => ({ project: this.config.projectId, zone, name: String(node.metadata.name) }));
    for (const cand of candidates) {
      try {
        const [instance] = await this.c.instances.get({ project: cand.project, zone: cand.zone, instance: cand.name });
        return { instance, zone: cand.zone, project: cand.project };
      } catch (e) {
        if (!isGcpNotFound(e)) throw e;
      }
    }
    return undefined;
  }

  async instanceExists(node: KObject): Promise<boolean> {
    return (await this.find(node)) !== undefined;
  }

  async instanceShutdown(node: KObject): Promise<boolean> {
    const f = await this.find(node);
    if (!f) throw new InstanceNotFoundError();
    // TERMINATED is Compute Engine's "stopped"; SUSPENDED keeps its memory but runs nothing.
    return ['STOPPING', 'TERMINATED', 'SUSPENDING', 'SUSPENDED'].includes(String(f.instance.status));
  }

  async instanceMetadata(node: KObject): Promise<InstanceMetadata> {
    const f = await this.find(node);
    if (!f) throw new InstanceNotFoundError(`instance not found: no Compute Engine instance for node ${node.metadata.name}${parseGceProviderID(node.spec?.providerID) || this.config.zones.length ? '' : ' (no providerID, and no zones in the cloud-config to look in)'}`);
    const addresses: NodeAddress[] = [];
    for (const nic of (f.instance.networkInterfaces ?? []) as any[]) {
      if (nic.networkIP) addresses.push({ type: 'InternalIP', address: nic.networkIP });
      for (const ac of (nic.accessConfigs ?? []) as any[]) if (ac.natIP) addresses.push({ type: 'ExternalIP', address: ac.natIP });
    }
    addresses.push({ type: 'Hostname', address: String(f.instance.name) });
    return {
      providerID: `gce://${f.project}/${f.zone}/${f.instance.name}`,
      instanceType: lastSegment(f.instance.machineType),
      nodeAddresses: addresses,
      zone: f.zone,
      region: f.zone.replace(/-[a-z]$/, ''),
    };
  }
}

/**
 * Wait for a regional operation: Compute Engine's wait call returns when it is done or after a
 * while; past the config's timeout the Service is looked at again later (a RetryError), since the
 * next ensure finds what the operation made.
 */
export async function waitRegionOperation(c: GcpClients, config: GcpConfig, op: any, what: string): Promise<void> {
  const deadline = Date.now() + config.operationTimeoutMs;
  let cur = op;
  while (cur?.status !== 'DONE') {
    if (Date.now() > deadline) throw new RetryError(`operation ${cur?.name} (${what}) is still ${cur?.status ?? 'running'}`, 10_000);
    [cur] = await c.regionOperations.wait({ project: config.projectId, region: config.region, operation: String(cur?.name) });
  }
  const errs = (cur.error?.errors ?? []) as Array<{ code?: string; message?: string }>;
  if (errs.length) throw new Error(`${what}: ${errs.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
}

/** overrides.authClient: a google-auth-library client to use instead of Application Default Credentials (tests). */
export async function createProvider(opts: ProviderOptions): Promise<CloudProvider> {
  const config = parseGcpConfig(opts.config);
  const sdk = await import('@google-cloud/compute');
  const clientOpts: Record<string, any> = {};
  if (config.apiEndpoint) {
    const u = new URL(config.apiEndpoint);
    clientOpts.apiEndpoint = u.hostname;
    clientOpts.port = Number(u.port || (u.protocol === 'http:' ? 80 : 443));
    clientOpts.protocol = u.protocol.replace(':', '');
  }
  if (opts.overrides?.authClient) clientOpts.authClient = opts.overrides.authClient;
  const clients: GcpClients = {
    sdk,
    instances: new sdk.InstancesClient(clientOpts),
    targetPools: new sdk.TargetPoolsClient(clientOpts),
    forwardingRules: new sdk.ForwardingRulesClient(clientOpts),
    regionOperations: new sdk.RegionOperationsClient(clientOpts),
    routes: new sdk.RoutesClient(clientOpts),
    globalOperations: new sdk.GlobalOperationsClient(clientOpts),
  };
  const instances = new GcpInstances(config, clients);
  const nodes = new NodeDirectory();
  return new AccountProvider('gcp', { instances, loadBalancer: new GcpLoadBalancer(config, clients, instances), routes: new GcpRoutes(config, clients, instances, nodes), nodes });
}
