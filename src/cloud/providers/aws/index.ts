// The `aws` provider: instances from EC2 DescribeInstances, and for each LoadBalancer Service an
// Elastic Load Balancing v2 Network Load Balancer with one target group (instance targets on the
// node port) and one listener per Service port, and a route to each node's podCIDR in the
// cluster's VPC route table (routes.ts). On the official SDK (@aws-sdk/client-ec2,
// @aws-sdk/client-elastic-load-balancing-v2), imported only when this provider is chosen.
// Credentials come from the SDK's standard chain (environment, shared files, SSO, web identity,
// container and instance metadata). Untested against a real account: the tests run it against a
// local stand-in speaking the AWS Query wire format (stand-in.ts).
//
// cloud-config:
//   region: us-east-1              # required
//   vpcId: vpc-0abc                # required for load balancers (target groups live in a VPC)
//   subnetIds: [subnet-1, ...]     # required for load balancers
//   scheme: internet-facing        # or internal
//   routeTableId: rtb-0abc         # pod routes go here; default: the one table tagged
//                                  # kubernetes.io/cluster/<cluster name> (in vpcId, when set)
//   maxAttempts: 3                 # SDK attempts per call (throttling is retried with backoff)
//   endpoints:                     # optional overrides (a private endpoint, a local stand-in)
//     ec2: https://...
//     elbv2: https://...

import { ConfigReader, type CloudConfig } from '../../cloud-config.ts';
import type { CloudProvider } from '../../provider.ts';
import type { ProviderOptions } from '../../registry.ts';
import { AwsInstances } from './instances.ts';
import { AwsLoadBalancer } from './load-balancer.ts';
import { AwsRoutes } from './routes.ts';
import { NodeDirectory } from '../node-directory.ts';
import { AccountProvider } from '../account-provider.ts';

export interface AwsConfig {
  region: string;
  vpcId?: string;
  subnetIds: string[];
  scheme: 'internet-facing' | 'internal';
  routeTableId?: string;
  maxAttempts: number;
  endpoints: { ec2?: string; elbv2?: string };
}

export function parseAwsConfig(config: CloudConfig): AwsConfig {
  const r = new ConfigReader('aws', config);
  const e = r.section('endpoints');
  const out: AwsConfig = {
    region: r.string('region', { required: true }),
    vpcId: r.string('vpcId'),
    subnetIds: r.strings('subnetIds'),
    scheme: r.oneOf('scheme', ['internet-facing', 'internal'] as const, 'internet-facing'),
    routeTableId: r.string('routeTableId'),
    maxAttempts: r.integer('maxAttempts', { default: 3, min: 1, max: 20 }),
    endpoints: { ec2: e.url('ec2'), elbv2: e.url('elbv2') },
  };
  e.done();
  r.done();
  return out;
}

/** An SDK error's code, whichever way the SDK names it (`LoadBalancerNotFound(Exception)`). */
export function awsErrorCode(e: unknown): string {
  const x = e as { name?: string; Code?: string; code?: string };
  return String(x?.Code ?? x?.name ?? x?.code ?? '');
}

export function isAwsNotFound(e: unknown, code: string): boolean {
  const c = awsErrorCode(e);
  return c === code || c === `${code}Exception`;
}

/** The instance ID in a providerID `aws:///us-east-1a/i-0abc` (or `aws://us-east-1a/i-0abc`). */
export function instanceIdFromProviderID(providerID: string | undefined): string | undefined {
  if (!providerID?.startsWith('aws://')) return undefined;
  const id = providerID.split('/').pop();
  return id?.startsWith('i-') ? id : undefined;
}

/**
 * overrides.credentials: explicit credentials for the SDK clients (tests); without them the
 * SDK's default chain is used.
 */
export async function createProvider(opts: ProviderOptions): Promise<CloudProvider> {
  const config = parseAwsConfig(opts.config);
  const [ec2, elb] = await Promise.all([import('@aws-sdk/client-ec2'), import('@aws-sdk/client-elastic-load-balancing-v2')]);
  const common = {
    region: config.region,
    maxAttempts: config.maxAttempts,
    ...(opts.overrides?.credentials ? { credentials: opts.overrides.credentials as { accessKeyId: string; secretAccessKey: string } } : {}),
  };
  const ec2Client = new ec2.EC2Client({ ...common, ...(config.endpoints.ec2 ? { endpoint: config.endpoints.ec2 } : {}) });
  const elbClient = new elb.ElasticLoadBalancingV2Client({ ...common, ...(config.endpoints.elbv2 ? { endpoint: config.endpoints.elbv2 } : {}) });
  const instances = new AwsInstances(config, ec2, ec2Client);
  const nodes = new NodeDirectory();
  return new AccountProvider('aws', { instances, loadBalancer: new AwsLoadBalancer(config, elb, elbClient, instances), routes: new AwsRoutes(config, ec2, ec2Client, instances, nodes), nodes });
}

