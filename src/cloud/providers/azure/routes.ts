// Pod-network routes for the azure provider, as cloud-provider-azure keeps them: one route per node
// podCIDR in the cluster's route table (cloud-config routeTableName, created in the location when
// missing), next hop type VirtualAppliance at the node's VM's private IP. A route is named
// `<node>____<CIDR as 10-244-1-0_24>` (ARM names allow no '/'; the CIDR keeps a dual-stack node's
// two routes apart); a route named after the node alone (upstream's single-stack form) is read as
// that node's too. The table is the cluster's own: every route in it is listed.

import type { Route, Routes } from '../../provider.ts';
import { InstanceNotFoundError } from '../../errors.ts';
import type { NodeDirectory } from '../node-directory.ts';
import { isAzureNotFound, vmNameOf, type AzureConfig, type AzureInstances } from './index.ts';

type NetworkClient = InstanceType<typeof import('@azure/arm-network')['NetworkManagementClient']>;

const SEPARATOR = '____';

export function routeName(node: string, cidr: string): string {
  return `${node}${SEPARATOR}${cidr.replace(/[.:]/g, '-').replace('/', '_')}`;
}

export function nodeOfRoute(name: string): string {
  const at = name.indexOf(SEPARATOR);
  return at < 0 ? name : name.slice(0, at);
}

export class AzureRoutes implements Routes {
  constructor(
    private readonly config: AzureConfig & { routeTableName: string },
    private readonly network: NetworkClient,
    private readonly instances: AzureInstances,
    private readonly pollIntervalMs: number,
    private readonly nodes: NodeDirectory,
  ) {}

  private get rg(): string {
    return this.config.routeTableResourceGroup;
  }

  async listRoutes(_clusterName: string): Promise<Route[]> {
    let table;
    try {
      table = await this.network.routeTables.get(this.rg, this.config.routeTableName);
    } catch (e) {
      if (isAzureNotFound(e)) return []; // made by the first createRoute
      throw e;
    }
    return (table.routes ?? [])
      .filter((r) => r.name && r.addressPrefix)
      .map((r) => ({ name: r.name!, targetNode: nodeOfRoute(r.name!), destinationCIDR: r.addressPrefix! }));
  }

  async createRoute(_clusterName: string, _nameHint: string, route: Route): Promise<void> {
    const node = this.nodes.node(route.targetNode);
    const vm = await this.instances.find(node);
    if (!vm) throw new InstanceNotFoundError(`instance not found: no virtual machine ${vmNameOf(node)} in resource group ${this.config.resourceGroup}`);
    const ip = await this.instances.privateIP(vm);
    if (!ip) throw new Error(`virtual machine ${vm.name} has no private IP address on its primary network interface`);
    await this.ensureTable();
    await this.network.routes.beginCreateOrUpdateAndWait(
      this.rg,
      this.config.routeTableName,
      routeName(route.targetNode, route.destinationCIDR),
      { addressPrefix: route.destinationCIDR, nextHopType: 'VirtualAppliance', nextHopIpAddress: ip },
      { updateIntervalInMs: this.pollIntervalMs },
    );
  }

  async deleteRoute(_clusterName: string, route: Route): Promise<void> {
    try {
      await this.network.routes.beginDeleteAndWait(this.rg, this.config.routeTableName, route.name, { updateIntervalInMs: this.pollIntervalMs });
    } catch (e) {
      if (!isAzureNotFound(e)) throw e; // the table itself is gone: so is the route
    }
  }

  /** The route table, created empty when missing (the subnet still has to be associated with it). */
  private async ensureTable(): Promise<void> {
    try {
      await this.network.routeTables.get(this.rg, this.config.routeTableName);
      return;
    } catch (e) {
      if (!isAzureNotFound(e)) throw e;
    }
    await this.network.routeTables.beginCreateOrUpdateAndWait(this.rg, this.config.routeTableName, { location: this.config.location }, { updateIntervalInMs: this.pollIntervalMs });
  }
}
