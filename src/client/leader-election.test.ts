import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from './api-client.ts';
import { FakeApiServer } from './fake-api-server.ts';
import { LeaderElector } from './leader-election.ts';
import { until as waitFor } from '../testing/poll.ts';

const LEASES = 'apis/coordination.k8s.io/v1/leases';
const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

function elector(client: ApiClient, identity: string, log: string[]) {
  return new LeaderElector({
    client,
    namespace: 'kube-system',
    name: 'sched',
    identity,
    leaseDurationSeconds: 1,
    renewDeadlineMs: 400,
    retryPeriodMs: 50,
    onStartedLeading: () => log.push(`${identity} started`),
    onStoppedLeading: () => log.push(`${identity} stopped`),
    onNewLeader: (id) => log.push(`${identity} sees ${id}`),
    log: () => {},
  });
}

test('option validation follows upstream', () => {
  const client = new ApiClient({ server: 'http://127.0.0.1:1' });
  assert.throws(() => new LeaderElector({ client, namespace: 'x', name: 'y', identity: 'z', leaseDurationSeconds: 10 }), /leaseDuration/);
  assert.throws(() => new LeaderElector({ client, namespace: 'x', name: 'y', identity: 'z', renewDeadlineMs: 2000 }), /renewDeadline/);
  client.close();
});

test('acquire, hold against a second candidate, release on stop, hand over', async () => {
  const server = new FakeApiServer();
  await server.start();
  const client = new ApiClient({ server: server.url });
  const log: string[] = [];
  const a = elector(client, 'a', log);
  const runA = a.run();
  await waitFor(() => a.isLeader(), 'a leads');
  let lease = server.getObject(LEASES, 'kube-system', 'sched');
  assert.equal(lease.spec.holderIdentity, 'a');
  assert.equal(lease.spec.leaseDurationSeconds, 1);
  assert.equal(lease.spec.leaseTransitions, 0);
  assert.match(lease.spec.acquireTime, MICRO);
  assert.match(lease.spec.renewTime, MICRO);
  const acquired = lease.spec.acquireTime;

  const b = elector(client, 'b', log);
  const runB = b.run();
  // a keeps renewing (resourceVersion moves) while b stays a follower.
  const rv0 = Number(lease.metadata.resourceVersion);
  await waitFor(() => Number(server.getObject(LEASES, 'kube-system', 'sched').metadata.resourceVersion) >= rv0 + 3, 'renewals');
  assert.equal(b.isLeader(), false);
  assert.equal(b.getLeader(), 'a');
  lease = server.getObject(LEASES, 'kube-system', 'sched');
  assert.equal(lease.spec.acquireTime, acquired, 'renewal keeps acquireTime');
  assert.equal(lease.spec.leaseTransitions, 0);

  await a.stop();
  await runA;
  assert.equal(a.isLeader(), false);
  await waitFor(() => b.isLeader(), 'b takes over after release');
  lease = server.getObject(LEASES, 'kube-system', 'sched');
  assert.equal(lease.spec.holderIdentity, 'b');
  assert.equal(lease.spec.leaseTransitions, 1);
  assert.deepEqual(log.slice(0, 3), ['a sees a', 'a started', 'b sees a']);
  assert.ok(log.includes('a stopped'));
  assert.ok(log.includes('b started'));

  // The PUT that released the lease cleared the holder and shortened the duration.
  const release = server.requests.filter((r) => r.method === 'PUT' && r.body?.spec?.holderIdentity === '');
  assert.equal(release.length, 1);
  assert.equal(release[0].body.spec.leaseDurationSeconds, 1);

  await b.stop();
  await runB;
  client.close();
  await server.stop();
});

test('an expired lease of a dead holder is taken over; failing renewals make the leader step down', async () => {
  const server = new FakeApiServer();
  await server.start();
  const client = new ApiClient({ server: server.url });
  server.put(LEASES, {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'sched', namespace: 'kube-system' },
    spec: { holderIdentity: 'dead', leaseDurationSeconds: 1, acquireTime: '2020-01-01T00:00:00.000000Z', renewTime: '2020-01-01T00:00:00.000000Z', leaseTransitions: 4 },
  });
  const log: string[] = [];
  const c = elector(client, 'c', log);
  const run = c.run();
  await waitFor(() => c.isLeader(), 'c takes over after the lease duration');
  assert.equal(server.getObject(LEASES, 'kube-system', 'sched').spec.leaseTransitions, 5);

  // Every write now fails: c must give up within its renew deadline.
  for (let i = 0; i < 100; i++) server.failNext.push({ match: (r) => r.method === 'PUT', code: 500, reason: 'InternalError', message: 'etcd down' });
  await run;
  assert.equal(c.isLeader(), false);
  assert.deepEqual(log.filter((l) => l.includes('started') || l.includes('stopped')), ['c started', 'c stopped']);
  server.failNext.length = 0;
  client.close();
  await server.stop();
});

test('a conflicting write makes the attempt fail instead of overwriting', async () => {
  const server = new FakeApiServer();
  await server.start();
  const client = new ApiClient({ server: server.url });
  server.put(LEASES, {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'sched', namespace: 'kube-system' },
    spec: { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 2 },
  });
  server.failNext.push({ match: (r) => r.method === 'PUT', code: 409, reason: 'Conflict', message: 'the object has been modified' });
  const log: string[] = [];
  const d = elector(client, 'd', log);
  const run = d.run();
  await waitFor(() => d.isLeader(), 'd leads on the retry');
  assert.equal(server.requests.filter((r) => r.method === 'PUT').length >= 2, true);
  assert.equal(server.getObject(LEASES, 'kube-system', 'sched').spec.leaseTransitions, 3);
  await d.stop();
  await run;
  client.close();
  await server.stop();
});

test('options passed as undefined take the defaults', () => {
  const le = new LeaderElector({ client: {} as any, namespace: 'ns', name: 'n', identity: 'me', leaseDurationSeconds: undefined, renewDeadlineMs: undefined, retryPeriodMs: undefined });
  const o = (le as any).o;
  assert.equal(o.leaseDurationSeconds, 15);
  assert.equal(o.renewDeadlineMs, 10_000);
  assert.equal(o.retryPeriodMs, 2_000);
});
