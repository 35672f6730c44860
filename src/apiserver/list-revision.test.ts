// A LIST answers the store's revision, whatever resource it names: never "0" for a resource
// nobody wrote (clients read "0" as "any", and client-go's RetryWatcher refuses to start from it),
// and never older than a write acknowledged before the list, so a watch from it misses nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient, type WatchEvent } from '../client/api-client.ts';
import type { KObject } from '../api/types.ts';

let api: TestApiServer;
let client: ApiClient;

before(async () => {
  api = await startTestApiServer({ name: 'list-rev', unixSocket: true });
  client = new ApiClient({ socketPath: api.socketPath, maxSockets: 4 });
});

after(async () => {
  client?.close();
  await api?.close();
});

const podtemplates = { version: 'v1', resource: 'podtemplates', namespace: 'default' };

test('a list of a resource never written answers the current revision, then a watch from it sees the next write', async () => {
  const first = await client.list(podtemplates);
  assert.notEqual(first.metadata.resourceVersion, '0');
  const cm = await client.create<KObject>({ version: 'v1', resource: 'configmaps', namespace: 'default' }, { metadata: { name: 'c1' } });
  const written = Number(cm.metadata.resourceVersion);
  for (const ref of [
    podtemplates,
    { version: 'v1', resource: 'replicationcontrollers' },
    { group: 'apps', version: 'v1', resource: 'replicasets' },
    { group: 'batch', version: 'v1', resource: 'cronjobs' },
  ]) {
    const l = await client.list(ref);
    assert.ok(Number(l.metadata.resourceVersion) >= written, `${ref.resource}: ${l.metadata.resourceVersion} < ${written}`);
  }
  const listed = await client.list(podtemplates);
  const seen: WatchEvent[] = [];
  const got = new Promise<void>((resolve, reject) => {
    const h = client.watch(
      podtemplates,
      { resourceVersion: listed.metadata.resourceVersion },
      (ev) => {
        seen.push(ev);
        h.abort();
        resolve();
      },
      (err) => (err ? reject(err) : resolve()),
    );
  });
  await client.create(podtemplates, { metadata: { name: 't1' }, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
  await got;
  assert.equal(seen[0].type, 'ADDED');
  assert.equal(seen[0].object.metadata.name, 't1');
});
