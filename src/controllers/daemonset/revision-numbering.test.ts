// Revision numbers when the controller's cache lags behind the API server (a loaded machine, or
// the first syncs after a lease hand-over): the revisions are numbered from what the API server
// holds, so a template changed right after the first revision was written gets revision 2, not a
// second revision 1; a rollback moves the old revision to the top, numbered from the API server.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { ApiClient } from '../../client/api-client.ts';
import { loadKubeconfig } from '../../client/kubeconfig.ts';
import type { KObject } from '../../api/types.ts';
import { REVISIONS } from '../job/pod-helpers.ts';
import { ensureRevision, revisionSpecFor } from './revision-history.ts';

let api: TestApiServer;
let client: ApiClient;
before(async () => {
  api = await startTestApiServer({ name: 'revision-numbering' });
  client = new ApiClient(loadKubeconfig(api.kubeconfig));
});
after(async () => {
  client?.close();
  await api?.close();
});

function daemonSet(image: string, uid: string): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'ds', namespace: 'default', uid },
    spec: { selector: { matchLabels: { app: 'ds' } }, template: { metadata: { labels: { app: 'ds' } }, spec: { containers: [{ name: 'c', image }] } } },
  };
}

const numbers = async () =>
  (await client.list<KObject>({ ...REVISIONS, namespace: 'default' })).items.map((r) => [r.metadata.labels?.['controller-revision-hash'], r.revision]).sort((a, b) => Number(a[1]) - Number(b[1]));

test('a new template after a revision the cache has not seen yet gets the next number; a rollback is renumbered from the API server', async () => {
  const uid = randomUUID();
  const spec = (image: string) => revisionSpecFor(daemonSet(image, uid), 'DaemonSet', 'controller-revision-hash');
  const first = await ensureRevision(client, [], spec('busybox:1'), 0);
  assert.equal(first.revision.revision, 1);
  // The cache is still empty: the revision just written has not come through the watch.
  const second = await ensureRevision(client, [], spec('busybox:2'), 0);
  assert.equal(second.revision.revision, 2);
  assert.deepEqual(second.revisions.map((r) => r.revision).sort(), [1, 2]);
  // Back to the first template. A cache that knows only the first revision sees nothing to do
  // (no request: this is every sync's path); once it has caught up, the first revision is moved
  // to number 3 (a rollback keeps its hash), numbered from the API server's revisions.
  const stale = await ensureRevision(client, [first.revision], spec('busybox:1'), 0);
  assert.equal(stale.revision.revision, 1);
  const back = await ensureRevision(client, [first.revision, second.revision], spec('busybox:1'), 0);
  assert.equal(back.revision.metadata.name, first.revision.metadata.name);
  assert.equal(back.revision.revision, 3);
  assert.deepEqual(await numbers(), [
    [second.revision.metadata.labels!['controller-revision-hash'], 2],
    [first.revision.metadata.labels!['controller-revision-hash'], 3],
  ]);
  // Nothing to write when the cache's newest revision is the template's: no request beyond it.
  const again = await ensureRevision(client, [second.revision, back.revision], spec('busybox:1'), 0);
  assert.equal(again.revision.revision, 3);
});
