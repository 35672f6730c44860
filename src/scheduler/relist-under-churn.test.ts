// The binding-conflict loop of a scheduler whose pod informer cannot list again: once its watch
// is lost with a resourceVersion the server no longer keeps, the informer lists pods in pages; if
// pods change more between two pages than the server's watch-cache window holds, the continue
// token is 410 Expired. Without a fallback the informer retries that paged list for ever and keeps
// its old cache, so the scheduler binds pods that are already bound (409 "already assigned"),
// writes a PodScheduled=False status for each (more changes, so the next list fails too) and
// tries again after backoff, without end. Seen in `npm run bench -- scale` on a loaded machine.
// Here the window is made small and a client outruns it deterministically between pages.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, type ListOptions, type ObjectList, type ResourceRef, type WatchEvent, type WatchHandle } from '../client/api-client.ts';
import { SharedInformerFactory, dropManagedFields, type Informer } from '../client/informer.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { until } from '../testing/poll.ts';
import { startScheduler, type RunningScheduler } from './scheduler.ts';
import type { KObject } from '../api/types.ts';

const WINDOW = 20;
const pods = { version: 'v1', resource: 'pods', namespace: 'default' };

/**
 * The scheduler's client. While `churn` is on, every pods watch it opens and every continue page
 * it asks for is preceded by more pod changes than the server keeps (a ticker pod's label, written
 * through another client), as a busy cluster does between an informer's requests; and it counts
 * the 409s its bindings get.
 */
class ChurningClient extends ApiClient {
  churn = false;
  bindConflicts = 0;
  private ticks = 0;
  private podWatches = new Set<WatchHandle>();

  constructor(
    opts: ConstructorParameters<typeof ApiClient>[0],
    private readonly writer: ApiClient,
  ) {
    super(opts);
  }

  async outrunWindow(): Promise<void> {
    for (let i = 0; i < WINDOW + 2; i++) await this.writer.patch({ ...pods, name: 'ticker' }, 'merge', { metadata: { labels: { tick: String(++this.ticks) } } });
  }

  /** The pods watch's connection breaks (the informer watches again from where it was). */
  dropPodWatches(): void {
    for (const h of this.podWatches) h.abort();
  }

  override async list<T = KObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    if (this.churn && ref.resource === 'pods' && opts.continue) await this.outrunWindow();
    return super.list<T>(ref, opts);
  }

  override watch<T = KObject>(ref: ResourceRef, opts: ListOptions, onEvent: (ev: WatchEvent<T>) => void, onClose: (err?: Error) => void): WatchHandle {
    if (ref.resource !== 'pods') return super.watch(ref, opts, onEvent, onClose);
    let inner: WatchHandle | undefined;
    let aborted = false;
    let closed!: () => void;
    const handle: WatchHandle = {
      abort: () => {
        aborted = true;
        inner?.abort();
      },
      closed: new Promise<void>((r) => (closed = r)),
    };
    const done = (err?: Error) => {
      this.podWatches.delete(handle);
      onClose(err);
      closed();
    };
    this.podWatches.add(handle);
    void (this.churn ? this.outrunWindow() : Promise.resolve()).then(() => {
      if (aborted) return done();
      inner = super.watch(ref, opts, onEvent, done);
    }, done);
    return handle;
  }

  override async bind(namespace: string, pod: string, node: string, podUid?: string) {
    try {
      return await super.bind(namespace, pod, node, podUid);
    } catch (e) {
      if ((e as { code?: number }).code === 409) this.bindConflicts++;
      throw e;
    }
  }
}

let api: TestApiServer;
let admin: ApiClient;
let client: ChurningClient;
let factory: SharedInformerFactory;
let sched: RunningScheduler;

before(async () => {
  api = await startTestApiServer({ name: 'sched-relist', unixSocket: true, watchCacheWindow: WINDOW });
  admin = new ApiClient({ socketPath: api.socketPath });
  client = new ChurningClient({ socketPath: api.socketPath }, admin);
  // Small pages, so that listing the handful of pods here takes several.
  factory = new SharedInformerFactory(client, { pageSize: 2, transform: dropManagedFields, log: () => {} });
  await admin.create(pods, { metadata: { name: 'ticker' }, spec: { schedulerName: 'nobody', containers: [{ name: 'c', image: 'pause' }] } });
  sched = await startScheduler({ client, informers: factory, config: { podInitialBackoffSeconds: 1, podMaxBackoffSeconds: 1 } });
});

after(async () => {
  client.churn = false;
  await sched?.close();
  await factory?.stop();
  client?.close();
  admin?.close();
  await api?.close();
});

test('a scheduler whose pod informer lists again while pods change faster than the window binds each pod once', async () => {
  const names = ['p-0', 'p-1', 'p-2', 'p-3', 'p-4'];
  // No node yet: the pods wait, unschedulable, in the scheduler's queue.
  for (const name of names) await admin.create(pods, { metadata: { name }, spec: { containers: [{ name: 'c', image: 'pause', resources: { requests: { cpu: '100m' } } }] } });
  const informer = factory.informerFor({ version: 'v1', resource: 'pods' }) as Informer<KObject>;
  const unschedulable = async () => {
    const l = await admin.list<KObject>(pods);
    return names.every((n) => l.items.find((p) => p.metadata.name === n)?.status?.conditions?.some((c: any) => c.type === 'PodScheduled' && c.status === 'False'));
  };
  for (let i = 0; i < 100 && !(await unschedulable()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(await unschedulable(), 'every pod reported unschedulable');

  // The informer's watch is lost while the cluster is busy, and meanwhile the pods get bound (by
  // the scheduler's previous term, as after a lost lease); then a node appears, which sends the
  // waiting pods back to be scheduled.
  client.churn = true;
  client.dropPodWatches();
  for (const name of names) await admin.bind('default', name, 'n1');
  await admin.create({ version: 'v1', resource: 'nodes' }, { metadata: { name: 'n1' } });
  await admin.patch({ version: 'v1', resource: 'nodes', name: 'n1', subresource: 'status' }, 'merge', {
    status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, capacity: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  });

  // The informer must catch up (it lists without pages once a continue token has expired) ...
  const caughtUp = () => names.every((n) => !!informer.indexer.getByKey(`default/${n}`)?.spec?.nodeName);
  await until(caughtUp, 'the informer sees the pods bound', 15_000).catch((e: Error) => {
    throw new Error(`${e.message}; meanwhile ${client.bindConflicts} bindings were answered 409`);
  });
  // ... after which no binding is tried again.
  const conflicts = client.bindConflicts;
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(client.bindConflicts, conflicts, 'bindings still answered 409 after the informer caught up');
  assert.ok(conflicts <= names.length, `${conflicts} binding conflicts`);
});
