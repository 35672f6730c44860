// The aws provider on the real SDK against a local stand-in speaking the AWS Query protocol:
// exact requests, realistic answers and errors (throttling retried by the SDK and then by the
// service controller with a Warning, not found). Every client gets explicit fake credentials and
// the stand-in's endpoint; instance metadata lookups are switched off, so nothing leaves 127.0.0.1.

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_CONFIG_FILE = '/nonexistent/mizzen-test-aws-config';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/mizzen-test-aws-credentials';
delete process.env.AWS_PROFILE;

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../api/types.ts';
import { isNotFound } from '../../../client/api-client.ts';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { createNamespace, testControllerEnv } from '../../../controllers/test-support.ts';
import { serviceController } from '../../controllers/service/index.ts';
import { createNode, eventsFor, fastCloudOptions, loadBalancerService, waitForEvent, waitUntil } from '../../testing/support.ts';
import { CloudConfigError } from '../../errors.ts';
import type { CloudProvider } from '../../provider.ts';
import { AwsStandIn } from './stand-in.ts';
import { createProvider, parseAwsConfig } from './index.ts';
import { targetGroupName } from './load-balancer.ts';

const CREDS = { accessKeyId: 'AKIDMIZZENTEST', secretAccessKey: 'mizzen-test-secret' };
const NS = 'aws';
let standIn: AwsStandIn;
let aws: CloudProvider;
let cluster: TestCluster;
let env: ReturnType<typeof testControllerEnv>;

const config = () => ({
  region: 'us-east-1',
  vpcId: 'vpc-0mizzen',
  subnetIds: ['subnet-a', 'subnet-b'],
  maxAttempts: 2,
  endpoints: { ec2: standIn.url, elbv2: standIn.url },
});

before(async () => {
  standIn = new AwsStandIn();
  await standIn.start();
  standIn.instances.set('i-0aaa', { id: 'i-0aaa', state: 'running', type: 'm5.large', zone: 'us-east-1a', privateIp: '10.0.1.10', publicIp: '203.0.113.10', privateDns: 'ip-10-0-1-10.ec2.internal', publicDns: 'ec2-203-0-113-10.compute-1.amazonaws.com' });
  standIn.instances.set('i-0bbb', { id: 'i-0bbb', state: 'stopped', type: 't3.small', zone: 'us-east-1b', privateIp: '10.0.2.20', privateDns: 'ip-10-0-2-20.ec2.internal' });
  standIn.instances.set('i-0ccc', { id: 'i-0ccc', state: 'running', type: 'm5.large', zone: 'us-east-1b', privateIp: '10.0.2.30', privateDns: 'ip-10-0-2-30.ec2.internal' });
  aws = await createProvider({ config: config(), overrides: { credentials: CREDS } });
  cluster = await startTestCluster();
  await createNamespace(cluster.client, NS);
  await createNode(cluster.client, 'ip-10-0-1-10.ec2.internal', { providerID: 'aws:///us-east-1a/i-0aaa' });
  env = testControllerEnv(cluster.client);
  await env.start((ctx) => serviceController(ctx, aws, { ...fastCloudOptions, clusterName: 'mizzen-test' }));
});

after(async () => {
  await env?.stop();
  await cluster?.close();
  await standIn?.close();
});

test('cloud-config: required fields and bad values are named', () => {
  const msg = (cfg: Record<string, unknown>) => {
    try {
      parseAwsConfig(cfg);
    } catch (e) {
      assert.ok(e instanceof CloudConfigError);
      return e.message;
    }
    return 'no error';
  };
  assert.equal(msg({}), 'cloud-config for provider "aws": region: is required');
  assert.equal(msg({ region: 'us-east-1', endpoints: { ec2: 'not a url' } }), 'cloud-config for provider "aws": endpoints.ec2: must be a URL such as https://host:port, not "not a url"');
  assert.equal(msg({ region: 'us-east-1', scheme: 'public' }), 'cloud-config for provider "aws": scheme: must be one of internet-facing, internal, not "public"');
  assert.equal(msg({ region: 'us-east-1', subnets: ['x'] }), 'cloud-config for provider "aws": subnets: is not a known field');
});

test('instances: by providerID or private DNS name; not found; stopped is shut down', async () => {
  const inst = aws.instancesV2()!;
  standIn.requests.length = 0;
  const meta = await inst.instanceMetadata({ metadata: { name: 'ip-10-0-1-10.ec2.internal' } });
  assert.deepEqual(meta, {
    providerID: 'aws:///us-east-1a/i-0aaa',
    instanceType: 'm5.large',
    nodeAddresses: [
      { type: 'InternalIP', address: '10.0.1.10' },
      { type: 'ExternalIP', address: '203.0.113.10' },
      { type: 'InternalDNS', address: 'ip-10-0-1-10.ec2.internal' },
      { type: 'Hostname', address: 'ip-10-0-1-10.ec2.internal' },
      { type: 'ExternalDNS', address: 'ec2-203-0-113-10.compute-1.amazonaws.com' },
    ],
    zone: 'us-east-1a',
    region: 'us-east-1',
  });
  assert.deepEqual(standIn.requests[0]!.params, { 'Filter.1.Name': 'private-dns-name', 'Filter.1.Value.1': 'ip-10-0-1-10.ec2.internal' });
  assert.match(standIn.requests[0]!.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDMIZZENTEST\/\d{8}\/us-east-1\/ec2\/aws4_request/);
  assert.equal(await inst.instanceShutdown({ metadata: { name: 'b' }, spec: { providerID: 'aws:///us-east-1b/i-0bbb' } }), true);
  assert.equal(await inst.instanceExists({ metadata: { name: 'gone' }, spec: { providerID: 'aws:///us-east-1a/i-0dead' } }), false);
  assert.deepEqual(standIn.requests.at(-1)!.params, { 'InstanceId.1': 'i-0dead' });
  await assert.rejects(inst.instanceMetadata({ metadata: { name: 'nobody' } }), { code: 'InstanceNotFound' });
});

test('the standard credential chain is used without explicit credentials (environment here)', async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFROMENV';
  process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
  try {
    const p = await createProvider({ config: config() });
    await p.instancesV2()!.instanceExists({ metadata: { name: 'x' }, spec: { providerID: 'aws:///us-east-1a/i-0aaa' } });
    assert.match(standIn.requests.at(-1)!.authorization, /Credential=AKIDFROMENV\//);
  } finally {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
  }
});

const svcRef = (name = '') => ({ version: 'v1', resource: 'services', namespace: NS, name });

test('a LoadBalancer Service gets an NLB, target group and listener; throttling is retried and reported', async () => {
  const c = cluster.client;
  standIn.requests.length = 0;
  // Three throttles: the SDK's two attempts of the first sync fail (a Warning), the second sync's retry succeeds.
  standIn.fail('DescribeLoadBalancers', 'Throttling', 'Rate exceeded', 3);
  const svc = await c.create<KObject>(svcRef(), loadBalancerService('web'));
  const ev = await waitForEvent(c, NS, 'web', 'SyncLoadBalancerFailed');
  assert.equal(ev.type, 'Warning');
  assert.match(ev.message, /^Error syncing load balancer: failed to ensure load balancer: Rate exceeded/);
  const hostname = await waitUntil('ingress hostname', async () => (await c.get<KObject>(svcRef('web'))).status?.loadBalancer?.ingress?.[0]?.hostname);
  const lbName = `a${svc.metadata.uid!.replace(/-/g, '')}`.slice(0, 32);
  assert.equal(hostname, `${lbName}-1.elb.us-east-1.amazonaws.com`);
  const nodePort = (await c.get<KObject>(svcRef('web'))).spec.ports[0].nodePort;
  const tgName = targetGroupName(lbName, { port: 80, protocol: 'TCP', nodePort });

  // The exact calls after the throttles, with their parameters.
  const calls = standIn.requests.filter((r) => r.service === 'elbv2');
  assert.deepEqual(calls.slice(0, 4).map((r) => r.action), ['DescribeLoadBalancers', 'DescribeLoadBalancers', 'DescribeLoadBalancers', 'DescribeLoadBalancers']);
  const rest = calls.slice(4);
  assert.deepEqual(rest.map((r) => r.action), ['CreateLoadBalancer', 'DescribeTargetGroups', 'CreateTargetGroup', 'DescribeTargetHealth', 'RegisterTargets', 'DescribeListeners', 'CreateListener']);
  assert.deepEqual(rest[0]!.params, {
    Name: lbName,
    Type: 'network',
    Scheme: 'internet-facing',
    'Subnets.member.1': 'subnet-a',
    'Subnets.member.2': 'subnet-b',
    'Tags.member.1.Key': 'kubernetes.io/service-name',
    'Tags.member.1.Value': `${NS}/web`,
    'Tags.member.2.Key': 'kubernetes.io/cluster/mizzen-test',
    'Tags.member.2.Value': 'owned',
  });
  assert.deepEqual(rest[1]!.params, { 'Names.member.1': tgName });
  assert.equal(rest[2]!.params.Name, tgName);
  assert.equal(rest[2]!.params.Protocol, 'TCP');
  assert.equal(rest[2]!.params.Port, String(nodePort));
  assert.equal(rest[2]!.params.VpcId, 'vpc-0mizzen');
  assert.equal(rest[2]!.params.TargetType, 'instance');
  assert.equal(rest[2]!.params.HealthCheckProtocol, 'TCP');
  const tgArn = [...standIn.tgs.values()][0]!.arn;
  assert.deepEqual(rest[4]!.params, { TargetGroupArn: tgArn, 'Targets.member.1.Id': 'i-0aaa', 'Targets.member.1.Port': String(nodePort) });
  assert.deepEqual(rest[6]!.params, { LoadBalancerArn: standIn.lbs.get(lbName)!.arn, Protocol: 'TCP', Port: '80', 'DefaultActions.member.1.Type': 'forward', 'DefaultActions.member.1.TargetGroupArn': tgArn });
  assert.ok(standIn.requests.every((r) => r.authorization.includes('Credential=AKIDMIZZENTEST/')));
  const failures = (await eventsFor(c, NS, 'web')).filter((e) => e.reason === 'SyncLoadBalancerFailed');
  assert.equal(failures.length, 1);
});

test('a new node becomes a target; deleting the Service removes listener, target group and balancer', async () => {
  const c = cluster.client;
  await waitUntil('web served', async () => (await c.get<KObject>(svcRef('web'))).status?.loadBalancer?.ingress?.[0]?.hostname);
  await createNode(c, 'ip-10-0-2-30.ec2.internal', { providerID: 'aws:///us-east-1b/i-0ccc' });
  await waitUntil('two targets', () => [...standIn.tgs.values()][0]?.targets.size === 2);
  await waitForEvent(c, NS, 'web', 'UpdatedLoadBalancer', 'Updated load balancer with new hosts');
  standIn.requests.length = 0;
  await c.delete(svcRef('web'));
  await waitUntil('service gone', async () => {
    try {
      await c.get(svcRef('web'));
      return false;
    } catch (e) {
      return isNotFound(e);
    }
  });
  assert.deepEqual(standIn.actions('elbv2'), ['DescribeLoadBalancers', 'DescribeLoadBalancers', 'DescribeListeners', 'DeleteListener', 'DeleteTargetGroup', 'DescribeTargetGroups', 'DeleteLoadBalancer']);
  assert.equal(standIn.lbs.size, 0);
  assert.equal(standIn.tgs.size, 0);
  assert.equal(standIn.listeners.size, 0);
});
