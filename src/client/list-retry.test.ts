// An informer's list under a server that does not answer some requests in time (as on a starved
// machine, where a page of a long relist timed out at 60 s): a page that times out is asked for
// again from the same continue token, with backoff and a bound, so the list goes on from where it
// was instead of starting over from its first page; a relist for a watch that expires again right
// after a list waits a backoff that doubles, so a client that cannot keep up does not relist in a
// loop. The stalls are real: a proxy on the API server's private socket holds back the requests
// it is told to, and the client's own timeout ends them.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient } from './api-client.ts';
import { Informer } from './informer.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { until } from '../testing/poll.ts';

const cms = { version: 'v1', resource: 'configmaps', namespace: 'retry' };
const WINDOW = 5;

/**
 * A proxy to the API server's socket that sees each request's first line: `hold(line)` true keeps
 * the request from the server (the client times out); the request is forwarded once the promise
 * `before(line)` returns (if any) has settled.
 */
class StallingProxy {
  readonly socketPath: string;
  readonly seen: string[] = [];
  hold: (line: string) => boolean = () => false;
  before: (line: string) => Promise<void> | undefined = () => undefined;
  private readonly dir: string;
  private readonly server: net.Server;
  private readonly conns = new Set<net.Socket>();

  constructor(upstream: string) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'scalelist-proxy-'));
    this.socketPath = path.join(this.dir, 'p.sock');
    this.server = net.createServer((client) => {
      const up = net.connect(upstream);
      this.conns.add(client).add(up);
      up.pipe(client);
      // One request at a time per connection (the client's pool): each chunk starting with a
      // method is a new request.
      let chain = Promise.resolve();
      client.on('data', (d: Buffer) => {
        const line = /^[A-Z]+ /.test(d.toString('latin1', 0, 8)) ? d.toString('latin1', 0, d.indexOf('\r\n')) : '';
        if (line) this.seen.push(line);
        if (line && this.hold(line)) return;
        const first = line ? this.before(line) : undefined;
        chain = chain.then(() => first).then(() => void up.write(d));
      });
      const end = () => {
        client.destroy();
        up.destroy();
      };
      client.on('close', end).on('error', end);
      up.on('close', end).on('error', end);
    });
  }

  listen(): Promise<void> {
    return new Promise((r) => this.server.listen(this.socketPath, r));
  }

  count(re: RegExp): number {
    return this.seen.filter((l) => re.test(l)).length;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise((r) => this.server.close(r));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let api: TestApiServer;
let writer: ApiClient;
let proxy: StallingProxy;

before(async () => {
  api = await startTestApiServer({ name: 'list-retry', unixSocket: true, watchCacheWindow: WINDOW });
  writer = new ApiClient({ socketPath: api.socketPath });
  await writer.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: 'retry' } });
  for (let i = 0; i < 23; i++) await writer.create(cms, { metadata: { name: `cm-${String(i).padStart(2, '0')}` } });
  proxy = new StallingProxy(api.socketPath);
  await proxy.listen();
});

after(async () => {
  writer?.close();
  await proxy?.close();
  await api?.close();
});

const firstPage = /^GET \/api\/v1\/namespaces\/retry\/configmaps\?limit=5 /;
const continuePage = /^GET \/api\/v1\/namespaces\/retry\/configmaps\?.*continue=/;

test('a page that times out is asked for again from its continue token, not from the first page', async () => {
  proxy.seen.length = 0;
  const client = new ApiClient({ socketPath: proxy.socketPath, requestTimeoutMs: 300 });
  // The third page (the second continue) is held back twice.
  let continues = 0;
  let held = 0;
  proxy.hold = (line) => continuePage.test(line) && ++continues >= 2 && held < 2 && ++held > 0;
  const waits: number[] = [];
  try {
    const list = await client.listAll(cms, { limit: 5 }, { attempts: 3, wait: async (attempt) => void waits.push(attempt) });
    assert.equal(list.items.length, 23);
    assert.equal(held, 2);
    assert.deepEqual(waits, [1, 2]);
    assert.equal(proxy.count(firstPage), 1, 'the list did not start over');
    assert.equal(proxy.count(continuePage), 4 + 2);
  } finally {
    client.close();
    proxy.hold = () => false;
  }
});

test('retries are bounded: a page that never comes fails the list after them', async () => {
  proxy.seen.length = 0;
  const client = new ApiClient({ socketPath: proxy.socketPath, requestTimeoutMs: 200 });
  proxy.hold = (line) => continuePage.test(line);
  try {
    await assert.rejects(client.listAll(cms, { limit: 5 }, { attempts: 2, wait: async () => undefined }), /timed out/);
    assert.equal(proxy.count(continuePage), 3);
    // Answers the server gives are not retried: a 4xx comes back the same.
    proxy.hold = () => false;
    await assert.rejects(client.listAll(cms, { limit: 5, labelSelector: '!!bad' }, { attempts: 2, wait: async () => assert.fail('retried a 400') }), /unable to parse requirement/);
  } finally {
    client.close();
    proxy.hold = () => false;
  }
});

test("an informer's relist goes on through page timeouts and syncs with one first page", async () => {
  proxy.seen.length = 0;
  const client = new ApiClient({ socketPath: proxy.socketPath, requestTimeoutMs: 300 });
  let held = 0;
  proxy.hold = (line) => continuePage.test(line) && held < 3 && ++held > 0;
  const inf = new Informer(client, cms, { pageSize: 5, backoffInitialMs: 20, backoffMaxMs: 100, log: () => {} });
  try {
    inf.start();
    await inf.waitForSync();
    assert.equal(inf.indexer.list().length, 23);
    assert.equal(held, 3);
    assert.equal(proxy.count(firstPage), 1, 'the informer did not list again from the first page');
  } finally {
    await inf.stop();
    client.close();
    proxy.hold = () => false;
  }
});

test('a watch that expires again right after each list: the relists wait a doubling backoff, not a loop', async () => {
  proxy.seen.length = 0;
  const client = new ApiClient({ socketPath: proxy.socketPath });
  // Every watch reaches the server after more writes than it keeps: it is 410 Expired as soon as
  // it starts, as for a client that cannot keep up with a busy resource.
  let writes = 0;
  let outrunning: Promise<void> = Promise.resolve();
  const outrun = async () => {
    for (let i = 0; i < WINDOW + 2; i++) await writer.patch({ ...cms, name: 'cm-00' }, 'merge', { data: { n: String(++writes) } });
  };
  proxy.before = (line) => (/[?&]watch=true/.test(line) ? (outrunning = outrun()) : undefined);
  const logs: string[] = [];
  const inf = new Informer(client, cms, { pageSize: 0, backoffInitialMs: 50, backoffMaxMs: 400, log: (m) => logs.push(m) });
  try {
    inf.start();
    await inf.waitForSync();
    const t0 = performance.now();
    // Five watches: the first list's, then four relists each followed by a watch.
    await until(() => proxy.count(/watch=true/) >= 5, 'watches after relists', 20_000);
    const secs = (performance.now() - t0) / 1000;
    // At least 50 + 100 + 200 + 400 ms of waits before the fifth list: not back to back.
    assert.ok(secs >= 0.75, `four relists took ${secs.toFixed(2)} s`);
    assert.equal(proxy.count(/^GET \/api\/v1\/namespaces\/retry\/configmaps(?!.*watch=true)/), 5);
    assert.equal(logs.filter((l) => /relisting in/.test(l)).length, 4);
  } finally {
    proxy.before = () => undefined;
    await inf.stop();
    await outrunning;
    client.close();
  }
});
