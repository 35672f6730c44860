// Pod-network routes for the aws provider, as the AWS provider keeps them: one route per node
// podCIDR in the cluster's VPC route table, to the node's instance (whose source/destination check
// is turned off so it may carry pod traffic). The table is the cloud-config's routeTableId, or the
// one table tagged `kubernetes.io/cluster/<cluster name>`. EC2 routes have no names: a route is
// named `<cluster>-<CIDR>` and its node is the one whose providerID names the instance, else the
// instance's private DNS name (as instances.ts finds nodes); routes to gateways are not listed.

import type { Route, Routes } from '../../provider.ts';
import { InstanceNotFoundError } from '../../errors.ts';
import type { NodeDirectory } from '../node-directory.ts';
import { instanceIdFromProviderID, isAwsNotFound, type AwsConfig } from './index.ts';
import type { AwsInstances } from './instances.ts';

type Ec2Module = typeof import('@aws-sdk/client-ec2');
type Ec2Client = InstanceType<Ec2Module['EC2Client']>;
type RouteTable = import('@aws-sdk/client-ec2').RouteTable;

/** The tag key that marks a cluster's resources (value `owned` or `shared`). */
export const clusterTagKey = (clusterName: string) => `kubernetes.io/cluster/${clusterName}`;

export class AwsRoutes implements Routes {
  constructor(
    private readonly config: AwsConfig,
    private readonly sdk: Ec2Module,
    private readonly client: Ec2Client,
    private readonly instances: AwsInstances,
    private readonly nodes: NodeDirectory,
  ) {}

  /** The route table: by ID, or the single one carrying the cluster tag (in the VPC, when configured). */
  async findRouteTable(clusterName: string): Promise<RouteTable> {
    const Filters = this.config.routeTableId
      ? [{ Name: 'route-table-id', Values: [this.config.routeTableId] }]
      : [{ Name: 'tag-key', Values: [clusterTagKey(clusterName)] }, ...(this.config.vpcId ? [{ Name: 'vpc-id', Values: [this.config.vpcId] }] : [])];
    const tables: RouteTable[] = [];
    let NextToken: string | undefined;
    do {
      const out = await this.client.send(new this.sdk.DescribeRouteTablesCommand({ Filters, NextToken }));
      tables.push(...(out.RouteTables ?? []));
      NextToken = out.NextToken;
    } while (NextToken);
    if (tables.length === 0)
      throw new Error(this.config.routeTableId ? `route table ${this.config.routeTableId} (cloud-config routeTableId) not found` : `no route table tagged ${clusterTagKey(clusterName)}${this.config.vpcId ? ` in ${this.config.vpcId}` : ''}: tag one, or set routeTableId in the cloud-config`);
    if (tables.length > 1) throw new Error(`more than one route table tagged ${clusterTagKey(clusterName)} (${tables.map((t) => t.RouteTableId).join(', ')}): set routeTableId in the cloud-config`);
    return tables[0]!;
  }

  async listRoutes(clusterName: string): Promise<Route[]> {
    const table = await this.findRouteTable(clusterName);
    const ids = [...new Set((table.Routes ?? []).map((r) => r.InstanceId).filter((x): x is string => !!x))];
    // A filter, not InstanceIds: an instance long gone must not fail the whole call.
    const names = new Map<string, string>();
    const byInstance = this.nodes.namesBy(instanceIdFromProviderID);
    if (ids.length) {
      const out = await this.client.send(new this.sdk.DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: ids }] }));
      for (const i of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        const node = byInstance.get(i.InstanceId ?? '') ?? i.PrivateDnsName;
        if (i.InstanceId && node) names.set(i.InstanceId, node);
      }
    }
    const routes: Route[] = [];
    for (const r of table.Routes ?? []) {
      const cidr = r.DestinationCidrBlock;
      if (!cidr) continue;
      const route: Route = { name: `${clusterName}-${cidr}`, targetNode: '', destinationCIDR: cidr };
      // EC2 marks a route whose instance is gone (terminated, detached interface) as a blackhole.
      if (r.State === 'blackhole') routes.push({ ...route, targetNode: names.get(r.InstanceId ?? '') ?? '', blackhole: true });
      else if (r.InstanceId && names.has(r.InstanceId)) routes.push({ ...route, targetNode: names.get(r.InstanceId)! });
    }
    return routes;
  }

  async createRoute(clusterName: string, _nameHint: string, route: Route): Promise<void> {
    const node = this.nodes.node(route.targetNode);
    const instance = await this.instances.find(node);
    if (!instance?.InstanceId) throw new InstanceNotFoundError(`instance not found: no EC2 instance for node ${route.targetNode}${node.spec?.providerID ? ` (${node.spec.providerID})` : ' (by private DNS name)'}`);
    // An instance drops packets not addressed to it unless this check is off.
    if (instance.SourceDestCheck !== false) {
      await this.client.send(new this.sdk.ModifyInstanceAttributeCommand({ InstanceId: instance.InstanceId, SourceDestCheck: { Value: false } }));
    }
    const table = await this.findRouteTable(clusterName);
    const existing = (table.Routes ?? []).find((r) => r.DestinationCidrBlock === route.destinationCIDR);
    if (existing?.State === 'blackhole') {
      await this.deleteFrom(table.RouteTableId!, route.destinationCIDR);
    } else if (existing?.InstanceId === instance.InstanceId) {
      return; // made already (an earlier answer lost on the way)
    }
    await this.client.send(new this.sdk.CreateRouteCommand({ RouteTableId: table.RouteTableId, DestinationCidrBlock: route.destinationCIDR, InstanceId: instance.InstanceId }));
  }

  async deleteRoute(clusterName: string, route: Route): Promise<void> {
    const table = await this.findRouteTable(clusterName);
    await this.deleteFrom(table.RouteTableId!, route.destinationCIDR);
  }

  private async deleteFrom(RouteTableId: string, DestinationCidrBlock: string): Promise<void> {
    try {
      await this.client.send(new this.sdk.DeleteRouteCommand({ RouteTableId, DestinationCidrBlock }));
    } catch (e) {
      if (!isAwsNotFound(e, 'InvalidRoute.NotFound')) throw e;
    }
  }
}
