// The `azure` provider: virtual machines for instances, and a Standard Load Balancer shared by the
// cluster's Services (as cloud-provider-azure): per Service a Standard public IP, a frontend IP
// configuration, and per port a health probe on the node port and a load-balancing rule, over a
// backend pool of the nodes' IP addresses; and, when a routeTableName is configured, a route per
// node podCIDR in that route table (routes.ts). On the official SDKs (@azure/arm-compute,
// @azure/arm-network; @azure/identity for credentials), imported only when this provider is chosen.
// Credentials: a service principal when aadClientId/aadClientSecret are set, else
// DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI).
// Untested against a real subscription: the tests run it against a local stand-in speaking Azure
// Resource Manager's JSON, long-running operations included (stand-in.ts).
//
// cloud-config (field names as cloud-provider-azure's azure.json):
//   subscriptionId: 0000...        # required
//   resourceGroup: my-rg           # required: the VMs, the load balancer and public IPs live here
//   location: westeurope           # required
//   vnetName: my-vnet              # required for load balancers (the backend pool's addresses are in it)
//   vnetResourceGroup: net-rg      # default resourceGroup
//   loadBalancerName: my-lb        # default: the cluster name
//   routeTableName: my-routes      # pod routes go here (made when missing); unset: no routes
//   routeTableResourceGroup: rt-rg # default resourceGroup
//   tenantId / aadClientId / aadClientSecret   # a service principal (all three, or none)
//   resourceManagerEndpoint: https://management.azure.com   # another cloud, Azure Stack, a stand-in
//   resourceManagerCAFile: /path/ca.pem                       # trust this CA for that endpoint
//   maxRetries: 3                  # SDK retries per call (429 throttling honours Retry-After)

import { readFileSync } from 'node:fs';
import type { KObject } from '../../../api/types.ts';
import { ConfigReader, type CloudConfig } from '../../cloud-config.ts';
import { InstanceNotFoundError } from '../../errors.ts';
import type { CloudProvider, InstanceMetadata, InstancesV2, NodeAddress } from '../../provider.ts';
import type { ProviderOptions } from '../../registry.ts';
import { AzureLoadBalancer } from './load-balancer.ts';
import { AzureRoutes } from './routes.ts';
import { NodeDirectory } from '../node-directory.ts';
import { AccountProvider } from '../account-provider.ts';

export interface AzureConfig {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  vnetName?: string;
  vnetResourceGroup: string;
  loadBalancerName?: string;
  routeTableName?: string;
  routeTableResourceGroup: string;
  tenantId?: string;
  aadClientId?: string;
  aadClientSecret?: string;
  resourceManagerEndpoint?: string;
  resourceManagerCA?: string;
  maxRetries: number;
}

export function parseAzureConfig(config: CloudConfig): AzureConfig {
  const r = new ConfigReader('azure', config);
  const resourceGroup = r.string('resourceGroup', { required: true });
  const caFile = r.string('resourceManagerCAFile');
  let resourceManagerCA: string | undefined;
  if (caFile) {
    try {
      resourceManagerCA = readFileSync(caFile, 'utf8');
    } catch (e) {
      r.fail('resourceManagerCAFile', `cannot read ${caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const out: AzureConfig = {
    subscriptionId: r.string('subscriptionId', { required: true }),
    resourceGroup,
    location: r.string('location', { required: true }),
    vnetName: r.string('vnetName'),
    vnetResourceGroup: r.string('vnetResourceGroup') ?? resourceGroup,
    loadBalancerName: r.string('loadBalancerName'),
    routeTableName: r.string('routeTableName'),
    routeTableResourceGroup: r.string('routeTableResourceGroup') ?? resourceGroup,
    tenantId: r.string('tenantId'),
    aadClientId: r.string('aadClientId'),
    aadClientSecret: r.string('aadClientSecret'),
    resourceManagerEndpoint: r.url('resourceManagerEndpoint'),
    resourceManagerCA,
    maxRetries: r.integer('maxRetries', { default: 3, min: 0, max: 20 }),
  };
  const sp = [out.tenantId, out.aadClientId, out.aadClientSecret].filter(Boolean).length;
  if (sp !== 0 && sp !== 3) r.fail(!out.tenantId ? 'tenantId' : !out.aadClientId ? 'aadClientId' : 'aadClientSecret', 'is required with the other service principal fields');
  r.done();
  return out;
}

type ComputeClient = InstanceType<typeof import('@azure/arm-compute')['ComputeManagementClient']>;
type NetworkClient = InstanceType<typeof import('@azure/arm-network')['NetworkManagementClient']>;

/** ARM's "not found": HTTP 404 (ResourceNotFound, NotFound, ResourceGroupNotFound). */
export function isAzureNotFound(e: unknown): boolean {
  const x = e as { statusCode?: number; code?: string };
  return x?.statusCode === 404 || x?.code === 'ResourceNotFound' || x?.code === 'NotFound';
}

export const vmProviderID = (c: AzureConfig, name: string) => `azure:///subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`;

/** The VM name of a node: from its providerID, else the node name (as cloud-provider-azure). */
export function vmNameOf(node: KObject): string {
  const m = /\/virtualMachines\/([^/]+)$/i.exec(String(node.spec?.providerID ?? ''));
  return m ? m[1]! : String(node.metadata.name).toLowerCase();
}

export class AzureInstances implements InstancesV2 {
  constructor(
    private readonly config: AzureConfig,
    private readonly compute: ComputeClient,
    private readonly network: NetworkClient,
  ) {}

  async find(node: KObject): Promise<any | undefined> {
    try {
      return await this.compute.virtualMachines.get(this.config.resourceGroup, vmNameOf(node), { expand: 'instanceView' });
    } catch (e) {
      if (isAzureNotFound(e)) return undefined;
      throw e;
    }
  }

  async instanceExists(node: KObject): Promise<boolean> {
    return (await this.find(node)) !== undefined;
  }

  async instanceShutdown(node: KObject): Promise<boolean> {
    const vm = await this.find(node);
    if (!vm) throw new InstanceNotFoundError();
    const power = ((vm.instanceView?.statuses ?? []) as Array<{ code?: string }>).find((s) => s.code?.startsWith('PowerState/'))?.code;
    return power === 'PowerState/stopped' || power === 'PowerState/deallocated';
  }

  /** The node's private IP: its VM's primary NIC's primary IP configuration. */
  async privateIP(vm: any): Promise<string | undefined> {
    const nics = (vm.networkProfile?.networkInterfaces ?? []) as Array<{ id?: string; primary?: boolean }>;
    const nic = nics.find((n) => n.primary) ?? nics[0];
    if (!nic?.id) return undefined;
    const m = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/networkInterfaces\/([^/]+)$/i.exec(nic.id);
    if (!m) return undefined;
    const iface = await this.network.networkInterfaces.get(m[1]!, m[2]!);
    const ipc = (iface.ipConfigurations ?? []).find((c) => c.primary) ?? iface.ipConfigurations?.[0];
    return ipc?.privateIPAddress;
  }

  async instanceMetadata(node: KObject): Promise<InstanceMetadata> {
    const vm = await this.find(node);
    if (!vm) throw new InstanceNotFoundError(`instance not found: no virtual machine ${vmNameOf(node)} in resource group ${this.config.resourceGroup}`);
    const addresses: NodeAddress[] = [];
    const ip = await this.privateIP(vm);
    if (ip) addresses.push({ type: 'InternalIP', address: ip });
    addresses.push({ type: 'Hostname', address: String(vm.name) });
    const location = String(vm.location ?? this.config.location).toLowerCase();
    const fd = vm.instanceView?.platformFaultDomain ?? vm.platformFaultDomain;
    const zone = vm.zones?.length ? `${location}-${vm.zones[0]}` : fd !== undefined ? String(fd) : undefined;
    return { providerID: vmProviderID(this.config, String(vm.name)), instanceType: vm.hardwareProfile?.vmSize, nodeAddresses: addresses, zone, region: location };
  }
}

/**
 * overrides.credential: a TokenCredential to use instead of the configured or default chain
 * (tests); overrides.pollIntervalMs: how often long-running operations are polled (default 2 s).
 */
export async function createProvider(opts: ProviderOptions): Promise<CloudProvider> {
  const config = parseAzureConfig(opts.config);
  const [computeSdk, networkSdk] = await Promise.all([import('@azure/arm-compute'), import('@azure/arm-network')]);
  let credential = opts.overrides?.credential as import('@azure/core-auth').TokenCredential | undefined;
  if (!credential) {
    const identity = await import('@azure/identity');
    credential = config.aadClientId
      ? new identity.ClientSecretCredential(config.tenantId!, config.aadClientId, config.aadClientSecret!)
      : new identity.DefaultAzureCredential();
  }
  const clientOpts: Record<string, any> = { retryOptions: { maxRetries: config.maxRetries } };
  if (config.resourceManagerEndpoint) clientOpts.endpoint = config.resourceManagerEndpoint;
  if (config.resourceManagerCA) clientOpts.tlsOptions = { ca: config.resourceManagerCA };
  const compute = new computeSdk.ComputeManagementClient(credential, config.subscriptionId, clientOpts);
  const network = new networkSdk.NetworkManagementClient(credential, config.subscriptionId, clientOpts);
  const instances = new AzureInstances(config, compute, network);
  const pollIntervalMs = (opts.overrides?.pollIntervalMs as number | undefined) ?? 2000;
  const routeTableName = config.routeTableName;
  const nodes = new NodeDirectory();
  const routes = routeTableName ? new AzureRoutes({ ...config, routeTableName }, network, instances, pollIntervalMs, nodes) : undefined;
  return new AccountProvider('azure', { instances, loadBalancer: new AzureLoadBalancer(config, network, instances, pollIntervalMs), routes, nodes });
}
