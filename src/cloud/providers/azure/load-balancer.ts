// The azure provider's Standard Load Balancer, shared by the cluster's Services (named by the
// config's loadBalancerName or the cluster name), as cloud-provider-azure lays it out: per Service
// a Standard static public IP `<cluster>-<balancer name>`, a frontend IP configuration named by
// defaultLoadBalancerName, and per port a TCP probe on the node port and a rule
// `<name>-<Protocol>-<port>`; one backend pool (named after the cluster) of the nodes' InternalIPs
// in the configured virtual network. Every change is one PUT of the balancer (a long-running
// operation, waited for).

import type { KObject } from '../../../api/types.ts';
import { defaultLoadBalancerName, objectKey, type LoadBalancer, type LoadBalancerStatus } from '../../provider.ts';
import { isAzureNotFound, type AzureConfig, type AzureInstances } from './index.ts';

type NetworkClient = InstanceType<typeof import('@azure/arm-network')['NetworkManagementClient']>;
type ArmLoadBalancer = import('@azure/arm-network').LoadBalancer;

export class AzureLoadBalancer implements LoadBalancer {
  constructor(
    private readonly config: AzureConfig,
    private readonly network: NetworkClient,
    private readonly instances: AzureInstances,
    private readonly pollIntervalMs: number,
  ) {}

  getLoadBalancerName(_cluster: string, svc: KObject): string {
    return defaultLoadBalancerName(svc);
  }

  private lbName(cluster: string): string {
    return this.config.loadBalancerName ?? cluster;
  }

  private lbID(cluster: string): string {
    return `/subscriptions/${this.config.subscriptionId}/resourceGroups/${this.config.resourceGroup}/providers/Microsoft.Network/loadBalancers/${this.lbName(cluster)}`;
  }

  private pipName(cluster: string, svc: KObject): string {
    return `${cluster}-${this.getLoadBalancerName(cluster, svc)}`;
  }

  private async getLB(cluster: string): Promise<ArmLoadBalancer | undefined> {
    try {
      return await this.network.loadBalancers.get(this.config.resourceGroup, this.lbName(cluster));
    } catch (e) {
      if (isAzureNotFound(e)) return undefined;
      throw e;
    }
  }

  private async getPIP(name: string) {
    try {
      return await this.network.publicIPAddresses.get(this.config.resourceGroup, name);
    } catch (e) {
      if (isAzureNotFound(e)) return undefined;
      throw e;
    }
  }

  async getLoadBalancer(cluster: string, svc: KObject): Promise<{ status?: LoadBalancerStatus; exists: boolean }> {
    const lb = await this.getLB(cluster);
    const name = this.getLoadBalancerName(cluster, svc);
    if (!lb?.frontendIPConfigurations?.some((f) => f.name === name)) return { exists: false };
    const pip = await this.getPIP(this.pipName(cluster, svc));
    return { exists: true, status: pip?.ipAddress ? { ingress: [{ ip: pip.ipAddress }] } : {} };
  }

  /**
   * The backend pool's addresses: each node's InternalIP in the configured virtual network, or its
   * VM's private IP when the node has not published one yet (its addresses are written just after
   * its providerID, which is what makes it eligible).
   */
  private async poolAddresses(nodes: KObject[]) {
    const vnet = `/subscriptions/${this.config.subscriptionId}/resourceGroups/${this.config.vnetResourceGroup}/providers/Microsoft.Network/virtualNetworks/${this.config.vnetName}`;
    const out = [];
    for (const n of nodes) {
      let ip = ((n.status?.addresses ?? []) as Array<{ type: string; address: string }>).find((a) => a.type === 'InternalIP')?.address;
      if (!ip) {
        const vm = await this.instances.find(n);
        if (vm) ip = await this.instances.privateIP(vm);
      }
      if (ip) out.push({ name: String(n.metadata.name), ipAddress: ip, virtualNetwork: { id: vnet } });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  private emptyLB(cluster: string): ArmLoadBalancer {
    return { location: this.config.location, sku: { name: 'Standard', tier: 'Regional' }, frontendIPConfigurations: [], backendAddressPools: [{ name: cluster }], probes: [], loadBalancingRules: [], tags: { 'k8s-azure-cluster-name': cluster } };
  }

  private async put(cluster: string, lb: ArmLoadBalancer): Promise<void> {
    await this.network.loadBalancers.beginCreateOrUpdateAndWait(this.config.resourceGroup, this.lbName(cluster), lb, { updateIntervalInMs: this.pollIntervalMs });
  }

  async ensureLoadBalancer(cluster: string, svc: KObject, nodes: KObject[]): Promise<LoadBalancerStatus> {
    if (!this.config.vnetName) throw new Error('cloud-config for provider "azure": vnetName: is required for load balancers');
    if (svc.spec?.loadBalancerIP) throw new Error('spec.loadBalancerIP is not supported by this provider: the public IP is created for the Service');
    const name = this.getLoadBalancerName(cluster, svc);
    const ports = ((svc.spec?.ports ?? []) as any[]).map((p) => {
      const protocol = p.protocol ?? 'TCP';
      if (protocol !== 'TCP' && protocol !== 'UDP') throw new Error(`protocol ${protocol} is not supported by an Azure load balancer (port ${p.port})`);
      if (!p.nodePort) throw new Error(`port ${p.port}/${protocol} has no nodePort: the backend pool's rules need one`);
      return { port: Number(p.port), nodePort: Number(p.nodePort), protocol: protocol === 'TCP' ? 'Tcp' : 'Udp' };
    });

    // The Service's public IP first: the frontend refers to it.
    const pipName = this.pipName(cluster, svc);
    let pip = await this.getPIP(pipName);
    if (!pip) {
      pip = await this.network.publicIPAddresses.beginCreateOrUpdateAndWait(
        this.config.resourceGroup,
        pipName,
        {
          location: this.config.location,
          sku: { name: 'Standard', tier: 'Regional' },
          publicIPAllocationMethod: 'Static',
          publicIPAddressVersion: 'IPv4',
          tags: { 'k8s-azure-service': objectKey(svc), 'k8s-azure-cluster-name': cluster },
        },
        { updateIntervalInMs: this.pollIntervalMs },
      );
    }

    const lb = (await this.getLB(cluster)) ?? this.emptyLB(cluster);
    const id = this.lbID(cluster);
    const mine = (n: string | undefined) => !!n && n.startsWith(`${name}-`);
    lb.frontendIPConfigurations = [...(lb.frontendIPConfigurations ?? []).filter((f) => f.name !== name), { name, publicIPAddress: { id: pip.id } }];
    lb.backendAddressPools = [...(lb.backendAddressPools ?? []).filter((p) => p.name !== cluster), { name: cluster, loadBalancerBackendAddresses: await this.poolAddresses(nodes) }];
    lb.probes = [
      ...(lb.probes ?? []).filter((p) => !mine(p.name)),
      ...ports.map((p) => ({ name: `${name}-${p.protocol}-${p.port}`, protocol: 'Tcp' as const, port: p.nodePort, intervalInSeconds: 5, numberOfProbes: 2 })),
    ];
    lb.loadBalancingRules = [
      ...(lb.loadBalancingRules ?? []).filter((r) => !mine(r.name)),
      ...ports.map((p) => ({
        name: `${name}-${p.protocol}-${p.port}`,
        protocol: p.protocol as 'Tcp' | 'Udp',
        frontendPort: p.port,
        backendPort: p.nodePort,
        frontendIPConfiguration: { id: `${id}/frontendIPConfigurations/${name}` },
        backendAddressPool: { id: `${id}/backendAddressPools/${cluster}` },
        probe: { id: `${id}/probes/${name}-${p.protocol}-${p.port}` },
        idleTimeoutInMinutes: 4,
        enableFloatingIP: false,
        disableOutboundSnat: true,
      })),
    ];
    await this.put(cluster, lb);
    if (!pip.ipAddress) pip = (await this.getPIP(pipName)) ?? pip;
    if (!pip.ipAddress) throw new Error(`public IP ${pipName} has no address yet`);
    return { ingress: [{ ip: pip.ipAddress }] };
  }

  async updateLoadBalancer(cluster: string, _svc: KObject, nodes: KObject[]): Promise<void> {
    const lb = await this.getLB(cluster);
    if (!lb) throw new Error(`load balancer ${this.lbName(cluster)} not found`);
    const want = await this.poolAddresses(nodes);
    const pool = (lb.backendAddressPools ?? []).find((p) => p.name === cluster);
    const have = (pool?.loadBalancerBackendAddresses ?? []).map((a) => ({ name: a.name, ipAddress: a.ipAddress, virtualNetwork: { id: a.virtualNetwork?.id } }));
    if (JSON.stringify(have) === JSON.stringify(want)) return;
    lb.backendAddressPools = [...(lb.backendAddressPools ?? []).filter((p) => p.name !== cluster), { name: cluster, loadBalancerBackendAddresses: want }];
    await this.put(cluster, lb);
  }

  async ensureLoadBalancerDeleted(cluster: string, svc: KObject): Promise<void> {
    const name = this.getLoadBalancerName(cluster, svc);
    const lb = await this.getLB(cluster);
    if (lb) {
      const mine = (n: string | undefined) => !!n && n.startsWith(`${name}-`);
      const frontends = (lb.frontendIPConfigurations ?? []).filter((f) => f.name !== name);
      const changed = frontends.length !== (lb.frontendIPConfigurations ?? []).length || (lb.loadBalancingRules ?? []).some((r) => mine(r.name)) || (lb.probes ?? []).some((p) => mine(p.name));
      if (frontends.length === 0) {
        // The last Service of the balancer: the balancer goes.
        await this.network.loadBalancers.beginDeleteAndWait(this.config.resourceGroup, this.lbName(cluster), { updateIntervalInMs: this.pollIntervalMs });
      } else if (changed) {
        lb.frontendIPConfigurations = frontends;
        lb.loadBalancingRules = (lb.loadBalancingRules ?? []).filter((r) => !mine(r.name));
        lb.probes = (lb.probes ?? []).filter((p) => !mine(p.name));
        await this.put(cluster, lb);
      }
    }
    try {
      await this.network.publicIPAddresses.beginDeleteAndWait(this.config.resourceGroup, this.pipName(cluster, svc), { updateIntervalInMs: this.pollIntervalMs });
    } catch (e) {
      if (!isAzureNotFound(e)) throw e;
    }
  }
}
