// API servers on etcd: several on one etcd serve the same data, watches move between them, Service
// allocations stay unique, and an etcd outage gives 503 + Retry-After and a failing /readyz, then
// heals by itself without losing watch events.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { ApiClient, ApiError, type WatchEvent } from '../client/api-client.ts';
import { etcdMissing, startEtcd, type TestEtcd } from '../testing/etcd.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { poll } from '../testing/poll.ts';
import type { KObject } from '../api/types.ts';

const missing = etcdMissing();

function clientFor(s: TestApiServer): ApiClient {
  return new ApiClient({ server: s.server.url, ca: s.pki.caCertPem, cert: s.pki.adminCertPem, key: s.pki.adminKeyPem, maxRetries: 0, requestTimeoutMs: 30_000 });
}

/** A raw request, to see status codes and headers as sent. */
function raw(s: TestApiServer, method: string, path: string, body?: unknown): Promise<{ code: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, s.server.url);
    const req = https.request(
      { method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, ca: s.pki.caCertPem, cert: s.pki.adminCertPem, key: s.pki.adminKeyPem, headers: body ? { 'Content-Type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const cm = { version: 'v1', resource: 'configmaps', namespace: 'default' };
const svcs = { version: 'v1', resource: 'services', namespace: 'default' };

describe('API servers on one etcd', { skip: missing }, () => {
  let etcd: TestEtcd;
  let a: TestApiServer;
  let b: TestApiServer;
  let ca: ApiClient;
  let cb: ApiClient;

  before(async () => {
    etcd = await startEtcd({ name: 'apiservers' });
    a = await startTestApiServer({ name: 'etcd-a', datastore: { endpoints: etcd.endpoints } });
    b = await startTestApiServer({ name: 'etcd-b', datastore: { endpoints: etcd.endpoints }, pki: a.pki });
    ca = clientFor(a);
    cb = clientFor(b);
  });
  after(async () => {
    ca?.close();
    cb?.close();
    await a?.close();
    await b?.close();
    await etcd?.stop();
  });

  it('a write through one is read at once through the other (consistent reads)', async () => {
    for (let i = 0; i < 20; i++) {
      const created = await ca.create<KObject>(cm, { metadata: { name: `read-${i}` }, data: { i: String(i) } });
      const got = await cb.get<KObject>({ ...cm, name: `read-${i}` });
      assert.equal(got.metadata.resourceVersion, created.metadata.resourceVersion);
      const list = await cb.list<KObject>(cm);
      assert.ok(list.items.some((x) => x.metadata.name === `read-${i}`));
      assert.ok(Number(list.metadata.resourceVersion) >= Number(created.metadata.resourceVersion));
      // Deleting through B what A created a moment ago works too.
      await cb.delete({ ...cm, name: `read-${i}` });
      await assert.rejects(ca.get({ ...cm, name: `read-${i}` }), (e: unknown) => e instanceof ApiError && e.code === 404);
    }
  });

  it('a watch resumes on the other API server from its resourceVersion without losing events', async () => {
    const first = await ca.create<KObject>(cm, { metadata: { name: 'w-0' } });
    const seen: string[] = [];
    const onA = ca.watch<KObject>(cm, { resourceVersion: first.metadata.resourceVersion }, (ev) => seen.push(`${ev.type} ${ev.object.metadata.name}@${ev.object.metadata.resourceVersion}`), () => {});
    const written: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const o = await ca.create<KObject>(cm, { metadata: { name: `w-${i}` } });
      written.push(`ADDED w-${i}@${o.metadata.resourceVersion}`);
    }
    await poll(() => seen.length >= 5, { what: 'events on A' });
    onA.abort();
    // The client "reconnects" to B with the last revision it saw; writes go on through A.
    const last = seen[seen.length - 1].split('@')[1];
    const onB: string[] = [];
    const hb = cb.watch<KObject>(cm, { resourceVersion: last }, (ev: WatchEvent<KObject>) => onB.push(`${ev.type} ${ev.object.metadata.name}@${ev.object.metadata.resourceVersion}`), () => {});
    for (let i = 6; i <= 10; i++) {
      const o = await ca.create<KObject>(cm, { metadata: { name: `w-${i}` } });
      written.push(`ADDED w-${i}@${o.metadata.resourceVersion}`);
    }
    await poll(() => onB.length >= 5, { what: 'events on B' });
    hb.abort();
    assert.deepEqual([...seen, ...onB], written);
  });

  it('ClusterIPs and NodePorts stay unique when both allocate at once', async () => {
    const make = (c: ApiClient, name: string) =>
      c.create<KObject>(svcs, { metadata: { name }, spec: { type: 'NodePort', selector: { app: name }, ports: [{ port: 80 }] } });
    const created = await Promise.all(Array.from({ length: 30 }, (_, i) => make(i % 2 ? cb : ca, `alloc-${i}`)));
    const ips = new Set(created.map((s) => s.spec.clusterIP));
    const ports = new Set(created.map((s) => s.spec.ports[0].nodePort));
    assert.equal(ips.size, 30);
    assert.equal(ports.size, 30);
    // The same address asked for through both: one gets it, the other is told it is taken.
    const want = '10.43.200.7';
    const both = await Promise.allSettled([ca, cb].map((c, i) => c.create<KObject>(svcs, { metadata: { name: `static-${i}` }, spec: { clusterIP: want, ports: [{ port: 80 }] } })));
    assert.equal(both.filter((r) => r.status === 'fulfilled').length, 1);
    const refused = both.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    assert.equal((refused.reason as ApiError).code, 422);
    assert.match((refused.reason as ApiError).message, /provided IP is already allocated/);
    // Freed through one server, the address can be taken through the other.
    const holder = both.findIndex((r) => r.status === 'fulfilled');
    await [ca, cb][holder].delete({ ...svcs, name: `static-${holder}` });
    await poll(() => [cb, ca][holder].create<KObject>(svcs, { metadata: { name: 'static-again' }, spec: { clusterIP: want, ports: [{ port: 80 }] } }), {
      what: 'the freed address to be allocatable on the other server',
    });
  });

  it('when etcd is down: 503 with Retry-After, /readyz fails naming etcd; then it heals and watches go on', async () => {
    const start = await ca.create<KObject>(cm, { metadata: { name: 'outage-0' } });
    const events: string[] = [];
    let closedWith: Error | undefined | null = null;
    const w = cb.watch<KObject>(cm, { resourceVersion: start.metadata.resourceVersion }, (ev) => events.push(`${ev.type} ${ev.object.metadata.name}`), (e) => (closedWith = e));
    await etcd.members[0].kill();
    const write = await poll(() => raw(a, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'outage-x' } }), {
      what: 'a 503 answer',
      done: (r) => r.code === 503,
      timeoutMs: 20_000,
    });
    assert.equal(write.headers['retry-after'], '1');
    assert.equal(JSON.parse(write.text).reason, 'ServiceUnavailable');
    const ready = await poll(() => raw(b, 'GET', '/readyz'), { what: '/readyz to fail', done: (r) => r.code === 500, timeoutMs: 10_000 });
    assert.match(ready.text, /\[-\]etcd failed: .*etcd/);
    assert.match((await raw(b, 'GET', '/readyz?verbose')).text, /readyz check failed/);
    // Reads that must be current fail the same way; the watch stays open.
    assert.equal((await raw(b, 'GET', '/api/v1/namespaces/default/configmaps')).code, 503);

    await etcd.members[0].start();
    await poll(() => raw(a, 'GET', '/readyz'), { what: '/readyz to pass again', done: (r) => r.code === 200 && r.text === 'ok', timeoutMs: 30_000 });
    await poll(() => ca.create<KObject>(cm, { metadata: { name: 'outage-1' } }), { what: 'writes to work again', timeoutMs: 30_000 });
    await ca.create<KObject>(cm, { metadata: { name: 'outage-2' } });
    await poll(() => events.length >= 2, { what: 'the watch through B to see the writes after the outage' });
    assert.deepEqual(events, ['ADDED outage-1', 'ADDED outage-2']);
    assert.equal(closedWith, null, 'the watch was not closed');
    w.abort();
  });
});
