// A scheduler that loses its lease stops scheduling, and when it wins the lease again it schedules
// the pods that arrived meanwhile (upstream would exit and be restarted instead).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, microTime } from '../client/api-client.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { startScheduler } from './scheduler.ts';
import { poll } from '../testing/poll.ts';
import type { KObject } from '../api/types.ts';

const leaseRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name: 'kube-scheduler' };
const pods = { version: 'v1', resource: 'pods', namespace: 'default' };

describe('scheduler leadership', () => {
  let api: TestApiServer;
  let client: ApiClient;
  let sched: { close(): Promise<void> };

  before(async () => {
    api = await startTestApiServer({ name: 'sched-lease' });
    client = new ApiClient({ server: api.server.url, ca: api.pki.caCertPem, cert: api.pki.adminCertPem, key: api.pki.adminKeyPem });
    await client.create({ version: 'v1', resource: 'nodes' }, { metadata: { name: 'n1' } });
    await client.patch({ version: 'v1', resource: 'nodes', name: 'n1', subresource: 'status' }, 'merge', {
      status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, capacity: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    sched = await startScheduler({ client, leaderElect: true, leaseDurationSeconds: 3, renewDeadlineMs: 2000, retryPeriodMs: 500 });
  });
  after(async () => {
    await sched?.close();
    client?.close();
    await api?.close();
  });

  const bound = async (name: string) => ((await client.get<KObject>({ ...pods, name })).spec?.nodeName ?? '') as string;
  const pod = (name: string) => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'pause' }] } });

  it('steps down when another holds the lease, and schedules again once it leads again', async () => {
    await client.create(pods, pod('first'));
    await poll(async () => (await bound('first')) === 'n1', { what: 'the first pod bound' });

    // Someone else takes the lease and keeps renewing it.
    let stealing = true;
    const steal = (async () => {
      while (stealing) {
        try {
          const l = await client.get<KObject>(leaseRef);
          await client.update(leaseRef, { ...l, spec: { ...l.spec, holderIdentity: 'someone-else', renewTime: microTime(), leaseDurationSeconds: 3 } });
        } catch {
          // a conflict with the scheduler's own renewal: try again
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    // Past the renew deadline our scheduler has stepped down: a new pod stays unscheduled.
    await new Promise((r) => setTimeout(r, 3000));
    await client.create(pods, pod('second'));
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await bound('second'), '', 'no scheduling while another holds the lease');

    stealing = false;
    await steal;
    await poll(async () => (await bound('second')) === 'n1', { what: 'the second pod bound after the scheduler leads again', timeoutMs: 20_000 });
  });
});
