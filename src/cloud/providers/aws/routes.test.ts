// The aws provider's routes on the real SDK against the EC2 stand-in (AWS Query protocol): the
// cluster's route table found by tag or ID, exact CreateRoute/DeleteRoute/ModifyInstanceAttribute
// requests, blackholes replaced, not-found taken as done, throttling retried by the SDK and then
// surfaced; then the route controller driving it against a real API server. Explicit fake
// credentials, the stand-in's endpoint, metadata off: nothing leaves 127.0.0.1.

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_CONFIG_FILE = '/nonexistent/mizzen-test-aws-config';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/mizzen-test-aws-credentials';
delete process.env.AWS_PROFILE;

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../../../kubelet/simulated/test-cluster.ts';
import { testControllerEnv } from '../../../controllers/test-support.ts';
import { cloudManagerFactories } from '../../controllers/index.ts';
import { createNode, fastCloudOptions, waitForNodeRouted, waitUntil } from '../../testing/support.ts';
import type { CloudProvider, Routes } from '../../provider.ts';
import { AwsStandIn, type StandInRoute } from './stand-in.ts';
import { createProvider } from './index.ts';

const CREDS = { accessKeyId: 'AKIDMIZZENTEST', secretAccessKey: 'mizzen-test-secret' };
const CLUSTER = 'mizzen-test';
const N1 = 'ip-10-0-1-10.ec2.internal';
const N3 = 'ip-10-0-2-30.ec2.internal';
let standIn: AwsStandIn;
let aws: CloudProvider;
let routes: Routes;

const config = (extra: Record<string, unknown> = {}) => ({ region: 'us-east-1', vpcId: 'vpc-0mizzen', maxAttempts: 2, endpoints: { ec2: standIn.url, elbv2: standIn.url }, ...extra });
const table = (id: string) => standIn.routeTables.get(id)!;
const podRoutes = (id: string) => table(id).routes.filter((r) => r.origin === 'CreateRoute');

before(async () => {
  standIn = new AwsStandIn();
  await standIn.start();
  standIn.instances.set('i-0aaa', { id: 'i-0aaa', state: 'running', type: 'm5.large', zone: 'us-east-1a', privateIp: '10.0.1.10', privateDns: N1 });
  standIn.instances.set('i-0ccc', { id: 'i-0ccc', state: 'running', type: 'm5.large', zone: 'us-east-1b', privateIp: '10.0.2.30', privateDns: N3, sourceDestCheck: false });
  const vpcRoutes: StandInRoute[] = [
    { destinationCidrBlock: '10.0.0.0/16', gatewayId: 'local', state: 'active', origin: 'CreateRouteTable' },
    { destinationCidrBlock: '0.0.0.0/0', gatewayId: 'igw-0mizzen', state: 'active', origin: 'CreateRoute' },
  ];
  standIn.routeTables.set('rtb-0main', { id: 'rtb-0main', vpcId: 'vpc-0mizzen', tags: { 'kubernetes.io/cluster/mizzen-test': 'owned', Name: 'mizzen-test' }, routes: [...vpcRoutes] });
  // Another cluster's table in the same VPC, and one in another VPC tagged as ours.
  standIn.routeTables.set('rtb-0other', { id: 'rtb-0other', vpcId: 'vpc-0mizzen', tags: { 'kubernetes.io/cluster/other': 'owned' }, routes: [...vpcRoutes] });
  standIn.routeTables.set('rtb-0elsewhere', { id: 'rtb-0elsewhere', vpcId: 'vpc-0else', tags: { 'kubernetes.io/cluster/mizzen-test': 'shared' }, routes: [...vpcRoutes] });
  aws = await createProvider({ config: config(), overrides: { credentials: CREDS } });
  routes = aws.routes()!;
});

after(async () => {
  await standIn?.close();
});

test('listRoutes: the tagged table in the VPC; instance routes by node name, blackholes, gateways left out', async () => {
  table('rtb-0main').routes.push(
    { destinationCidrBlock: '10.70.1.0/24', instanceId: 'i-0aaa', state: 'active', origin: 'CreateRoute' },
    { destinationCidrBlock: '10.70.9.0/24', instanceId: 'i-0gone', state: 'blackhole', origin: 'CreateRoute' },
  );
  standIn.requests.length = 0;
  assert.deepEqual(await routes.listRoutes(CLUSTER), [
    { name: 'mizzen-test-10.70.1.0/24', targetNode: N1, destinationCIDR: '10.70.1.0/24' },
    { name: 'mizzen-test-10.70.9.0/24', targetNode: '', destinationCIDR: '10.70.9.0/24', blackhole: true },
  ]);
  assert.deepEqual(standIn.actions(), ['DescribeRouteTables', 'DescribeInstances']);
  assert.deepEqual(standIn.requests[0]!.params, { 'Filter.1.Name': 'tag-key', 'Filter.1.Value.1': 'kubernetes.io/cluster/mizzen-test', 'Filter.2.Name': 'vpc-id', 'Filter.2.Value.1': 'vpc-0mizzen' });
  assert.deepEqual(standIn.requests[1]!.params, { 'Filter.1.Name': 'instance-id', 'Filter.1.Value.1': 'i-0aaa', 'Filter.1.Value.2': 'i-0gone' });
  assert.match(standIn.requests[0]!.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDMIZZENTEST\/\d{8}\/us-east-1\/ec2\/aws4_request/);
  table('rtb-0main').routes.splice(2);
});

test('the route table: by routeTableId; none or several tagged is a clear error', async () => {
  const byId = (await createProvider({ config: config({ routeTableId: 'rtb-0other' }), overrides: { credentials: CREDS } })).routes()!;
  standIn.requests.length = 0;
  assert.deepEqual(await byId.listRoutes(CLUSTER), []);
  assert.deepEqual(standIn.requests[0]!.params, { 'Filter.1.Name': 'route-table-id', 'Filter.1.Value.1': 'rtb-0other' });
  const missing = (await createProvider({ config: config({ routeTableId: 'rtb-0nope' }), overrides: { credentials: CREDS } })).routes()!;
  await assert.rejects(missing.listRoutes(CLUSTER), { message: 'route table rtb-0nope (cloud-config routeTableId) not found' });
  await assert.rejects(routes.listRoutes('nobody'), { message: 'no route table tagged kubernetes.io/cluster/nobody in vpc-0mizzen: tag one, or set routeTableId in the cloud-config' });
  const noVpc = (await createProvider({ config: config({ vpcId: undefined }), overrides: { credentials: CREDS } })).routes()!;
  await assert.rejects(noVpc.listRoutes(CLUSTER), { message: 'more than one route table tagged kubernetes.io/cluster/mizzen-test (rtb-0main, rtb-0elsewhere): set routeTableId in the cloud-config' });
});

test('createRoute: source/dest check off, then CreateRoute to the instance; a blackhole at the CIDR is replaced', async () => {
  standIn.requests.length = 0;
  await routes.createRoute(CLUSTER, 'uid-1', { name: '', targetNode: N1, destinationCIDR: '10.70.1.0/24' });
  assert.deepEqual(standIn.actions(), ['DescribeInstances', 'ModifyInstanceAttribute', 'DescribeRouteTables', 'CreateRoute']);
  assert.deepEqual(standIn.requests[0]!.params, { 'Filter.1.Name': 'private-dns-name', 'Filter.1.Value.1': N1 });
  assert.deepEqual(standIn.requests[1]!.params, { InstanceId: 'i-0aaa', 'SourceDestCheck.Value': 'false' });
  assert.deepEqual(standIn.requests[3]!.params, { RouteTableId: 'rtb-0main', DestinationCidrBlock: '10.70.1.0/24', InstanceId: 'i-0aaa' });
  assert.equal(standIn.instances.get('i-0aaa')!.sourceDestCheck, false);
  assert.deepEqual(podRoutes('rtb-0main').slice(-1), [{ destinationCidrBlock: '10.70.1.0/24', instanceId: 'i-0aaa', state: 'active', origin: 'CreateRoute' }]);

  // Again (an answer lost): the route is there to the same instance, nothing is created.
  standIn.requests.length = 0;
  await routes.createRoute(CLUSTER, 'uid-1', { name: '', targetNode: N1, destinationCIDR: '10.70.1.0/24' });
  assert.deepEqual(standIn.actions(), ['DescribeInstances', 'DescribeRouteTables']);

  // A dead route holds the CIDR: deleted first. The check is already off on i-0ccc.
  table('rtb-0main').routes.push({ destinationCidrBlock: '10.70.3.0/24', instanceId: 'i-0gone', state: 'blackhole', origin: 'CreateRoute' });
  standIn.requests.length = 0;
  await routes.createRoute(CLUSTER, 'uid-3', { name: '', targetNode: N3, destinationCIDR: '10.70.3.0/24' });
  assert.deepEqual(standIn.actions(), ['DescribeInstances', 'DescribeRouteTables', 'DeleteRoute', 'CreateRoute']);
  assert.deepEqual(standIn.requests[2]!.params, { RouteTableId: 'rtb-0main', DestinationCidrBlock: '10.70.3.0/24' });
  assert.deepEqual(podRoutes('rtb-0main').slice(-1), [{ destinationCidrBlock: '10.70.3.0/24', instanceId: 'i-0ccc', state: 'active', origin: 'CreateRoute' }]);

  // The CIDR routed to another instance: EC2's RouteAlreadyExists, as upstream.
  await assert.rejects(routes.createRoute(CLUSTER, 'uid-x', { name: '', targetNode: N1, destinationCIDR: '10.70.3.0/24' }), { name: 'RouteAlreadyExists', message: 'The route identified by 10.70.3.0/24 already exists.' });
  // No such machine.
  await assert.rejects(routes.createRoute(CLUSTER, 'uid-g', { name: '', targetNode: 'ghost', destinationCIDR: '10.70.4.0/24' }), { code: 'InstanceNotFound', message: 'instance not found: no EC2 instance for node ghost (by private DNS name)' });
});

test('deleteRoute: by CIDR from the table; already gone is success; throttling retried, then an error', async () => {
  standIn.fail('DeleteRoute', 'RequestLimitExceeded', 'Request limit exceeded.', 1, 503);
  standIn.requests.length = 0;
  await routes.deleteRoute(CLUSTER, { name: 'mizzen-test-10.70.3.0/24', targetNode: N3, destinationCIDR: '10.70.3.0/24' });
  assert.deepEqual(standIn.actions(), ['DescribeRouteTables', 'DeleteRoute', 'DeleteRoute']);
  assert.deepEqual(standIn.requests[2]!.params, { RouteTableId: 'rtb-0main', DestinationCidrBlock: '10.70.3.0/24' });
  assert.ok(!table('rtb-0main').routes.some((r) => r.destinationCidrBlock === '10.70.3.0/24'));
  standIn.requests.length = 0;
  await routes.deleteRoute(CLUSTER, { name: 'mizzen-test-10.70.3.0/24', targetNode: N3, destinationCIDR: '10.70.3.0/24' });
  assert.deepEqual(standIn.actions(), ['DescribeRouteTables', 'DeleteRoute']);
  standIn.fail('DeleteRoute', 'RequestLimitExceeded', 'Request limit exceeded.', 2, 503);
  await assert.rejects(routes.deleteRoute(CLUSTER, { name: 'x', targetNode: N1, destinationCIDR: '10.70.1.0/24' }), { name: 'RequestLimitExceeded' });
  table('rtb-0main').routes.splice(2);
});

test('the route controller on aws: a route per node podCIDR, blackholes removed, gateways kept, NetworkUnavailable=False', async () => {
  const cluster: TestCluster = await startTestCluster();
  const env = testControllerEnv(cluster.client);
  try {
    const c = cluster.client;
    table('rtb-0main').routes.push({ destinationCidrBlock: '10.70.9.0/24', instanceId: 'i-0gone', state: 'blackhole', origin: 'CreateRoute' });
    await createNode(c, N1, { podCIDR: '10.70.1.0/24' });
    // A node named unlike its instance's DNS name: found by its providerID, and mapped back to it.
    await createNode(c, 'worker-c', { podCIDR: '10.70.3.0/24', providerID: 'aws:///us-east-1b/i-0ccc' });
    const { factories } = cloudManagerFactories(aws, { ...fastCloudOptions, clusterName: CLUSTER, clusterCIDR: '10.70.0.0/16' }, ['route']);
    await env.start(...Object.values(factories));
    await waitUntil('routes', () => podRoutes('rtb-0main').length === 3 && !podRoutes('rtb-0main').some((r) => r.state === 'blackhole'));
    assert.deepEqual(
      podRoutes('rtb-0main').map((r) => `${r.destinationCidrBlock} ${r.instanceId ?? r.gatewayId}`).sort(),
      ['0.0.0.0/0 igw-0mizzen', '10.70.1.0/24 i-0aaa', '10.70.3.0/24 i-0ccc'],
    );
    assert.equal(table('rtb-0main').routes[0]!.gatewayId, 'local');
    assert.equal(podRoutes('rtb-0other').length, 1);
    for (const n of [N1, 'worker-c']) assert.equal((await waitForNodeRouted(c, n)).reason, 'RouteCreated');
    const before = standIn.requests.length;
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual([...new Set(standIn.actions().slice(before))].sort(), ['DescribeInstances', 'DescribeRouteTables']);
  } finally {
    await env.stop();
    await cluster.close();
  }
});
