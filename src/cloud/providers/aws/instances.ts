// EC2 instances for the aws provider: a node is found by its providerID's instance ID, or else
// by its name as the instance's private DNS name (as the in-tree AWS provider did).

import type { KObject } from '../../../api/types.ts';
import { InstanceNotFoundError } from '../../errors.ts';
import type { InstanceMetadata, InstancesV2, NodeAddress } from '../../provider.ts';
import { instanceIdFromProviderID, isAwsNotFound, type AwsConfig } from './index.ts';

type Ec2Module = typeof import('@aws-sdk/client-ec2');
type Ec2Client = InstanceType<Ec2Module['EC2Client']>;
type Instance = import('@aws-sdk/client-ec2').Instance;

export class AwsInstances implements InstancesV2 {
  constructor(
    private readonly config: AwsConfig,
    private readonly sdk: Ec2Module,
    private readonly client: Ec2Client,
  ) {}

  /** The node's instance, or undefined when EC2 does not know it. */
  async find(node: KObject): Promise<Instance | undefined> {
    const id = instanceIdFromProviderID(node.spec?.providerID);
    const input = id ? { InstanceIds: [id] } : { Filters: [{ Name: 'private-dns-name', Values: [String(node.metadata.name)] }] };
    let out;
    try {
      out = await this.client.send(new this.sdk.DescribeInstancesCommand(input));
    } catch (e) {
      if (isAwsNotFound(e, 'InvalidInstanceID.NotFound')) return undefined;
      throw e;
    }
    const all = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    // A terminated instance lingers in answers for a while: it is gone.
    return all.find((i) => i.State?.Name !== 'terminated');
  }

  async instanceExists(node: KObject): Promise<boolean> {
    return (await this.find(node)) !== undefined;
  }

  async instanceShutdown(node: KObject): Promise<boolean> {
    const i = await this.find(node);
    if (!i) throw new InstanceNotFoundError();
    return i.State?.Name === 'stopped';
  }

  async instanceMetadata(node: KObject): Promise<InstanceMetadata> {
    const i = await this.find(node);
    if (!i) throw new InstanceNotFoundError(`instance not found: no EC2 instance for node ${node.metadata.name}`);
    const zone: string = i.Placement?.AvailabilityZone ?? '';
    const addresses: NodeAddress[] = [];
    if (i.PrivateIpAddress) addresses.push({ type: 'InternalIP', address: i.PrivateIpAddress });
    if (i.PublicIpAddress) addresses.push({ type: 'ExternalIP', address: i.PublicIpAddress });
    if (i.PrivateDnsName) {
      addresses.push({ type: 'InternalDNS', address: i.PrivateDnsName });
      addresses.push({ type: 'Hostname', address: i.PrivateDnsName });
    }
    if (i.PublicDnsName) addresses.push({ type: 'ExternalDNS', address: i.PublicDnsName });
    return {
      providerID: `aws:///${zone}/${i.InstanceId}`,
      instanceType: i.InstanceType,
      nodeAddresses: addresses,
      zone: zone || undefined,
      region: this.config.region,
    };
  }
}
