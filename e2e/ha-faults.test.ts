// Fault tests, bounded in time, all on this machine:
//
// - etcd: a 3-member cluster (loopback ports, TLS with client certificates), 3 API servers on it, 2 schedulers and 2 controller
//   managers (leader-elected, as separate processes) and simulated nodes, all reaching the API
//   servers through a client-side load balancer. During a rollout of 300 pods: kill -9 the etcd
//   leader, an API server, the scheduler leader and the controller-manager leader. The rollout
//   completes with exactly 300 pods, every write the API acknowledged is there, and a watch that
//   moves between API servers (resuming from its resourceVersion) ends with the true state.
// - SQLite: kill -9 the API server during writes; after a restart every acknowledged write is there.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIZZEN_BIN, freePort } from './harness.ts';
import { etcdMissing, startEtcd, type TestEtcd } from '../src/testing/etcd.ts';
import { poll } from '../src/testing/poll.ts';
import { ensurePki, type Pki } from '../src/apiserver/pki.ts';
import { writeKubeconfig } from '../src/apiserver/kubeconfig.ts';
import { startLoadBalancer, type RunningLoadBalancer } from '../src/agent/load-balancer.ts';
import { ApiClient, ApiError, isResourceExpired, type ObjectList } from '../src/client/api-client.ts';
import type { KObject } from '../src/api/types.ts';

const skip = etcdMissing();
const LEASE_FLAGS = ['--leader-elect-lease-duration', '6s', '--leader-elect-renew-deadline', '4s', '--leader-elect-retry-period', '1s'];

class Proc {
  proc!: ChildProcess;
  private log = '';
  constructor(
    readonly name: string,
    private readonly args: string[],
  ) {
    this.start();
  }
  start(): void {
    this.proc = spawn(process.execPath, [MIZZEN_BIN, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => (this.log += d));
    this.proc.stderr!.on('data', (d) => (this.log += d));
  }
  get out(): string {
    return this.log;
  }
  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }
  async ready(marker: string): Promise<void> {
    await poll(
      () => {
        if (!this.alive) throw new Error(`${this.name} exited:\n${this.log}`);
        return this.log.includes(marker);
      },
      { what: `${this.name} to be ready`, timeoutMs: 60_000, intervalMs: 100 },
    );
  }
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return Promise.resolve();
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill(signal);
    return gone;
  }
}

/** Creates ConfigMaps until stopped; remembers those the API acknowledged (201). */
function startWriter(c: ApiClient, ns: string, concurrency: number) {
  const acked: string[] = [];
  let failed = 0;
  let stopped = false;
  let n = 0;
  const done = Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stopped) {
        const name = `ack-${n++}`;
        try {
          await c.create({ version: 'v1', resource: 'configmaps', namespace: ns }, { metadata: { name }, data: { n: name } });
          acked.push(name);
        } catch {
          failed++;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }),
  );
  return {
    acked,
    get failed() {
      return failed;
    },
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** A watch of one namespace's pods that reconnects from its last resourceVersion, as an informer does. */
function startFollower(c: ApiClient, ns: string) {
  const state = new Map<string, string>();
  let rv = '';
  let stopped = false;
  let expired = 0;
  let reconnects = 0;
  const ref = { version: 'v1', resource: 'pods', namespace: ns };
  const relist = async () => {
    const l: ObjectList<KObject> = await c.list(ref);
    state.clear();
    for (const p of l.items) state.set(p.metadata.name!, p.metadata.resourceVersion!);
    rv = l.metadata.resourceVersion!;
  };
  const loop = (async () => {
    await relist();
    while (!stopped) {
      const err = await new Promise<Error | undefined>((resolve) => {
        const h = c.watch<KObject>(ref, { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 30 }, (ev) => {
          if (ev.type === 'ERROR') {
            h.abort();
            resolve(new ApiError(ev.object as any));
            return;
          }
          const rvNow = ev.object.metadata.resourceVersion!;
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') state.set(ev.object.metadata.name!, rvNow);
          else if (ev.type === 'DELETED') state.delete(ev.object.metadata.name!);
          rv = rvNow;
        }, (e) => resolve(e));
        const check = setInterval(() => {
          if (stopped) {
            h.abort();
            clearInterval(check);
          }
        }, 200);
        void h.closed.then(() => clearInterval(check));
      });
      if (stopped) break;
      reconnects++;
      if (err && isResourceExpired(err)) {
        expired++;
        await relist().catch(() => undefined);
      } else await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    state,
    get expired() {
      return expired;
    },
    get reconnects() {
      return reconnects;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

function leaderOf(procs: Proc[], component: string, holder: string): Proc | undefined {
  return procs.find((p) => p.alive && p.out.includes(`${component}: ${holder} became leader`));
}

describe('fault tests', { skip }, () => {
  it('3 etcd members, 3 API servers: kill -9 the etcd leader, an API server, the scheduler and controller-manager leaders during a rollout of 300 pods', { timeout: 300_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mizzen-faults-'));
    let etcd: TestEtcd | undefined;
    let lb: RunningLoadBalancer | undefined;
    let followerLB: RunningLoadBalancer | undefined;
    let c: ApiClient | undefined;
    let followerClient: ApiClient | undefined;
    let writer: ReturnType<typeof startWriter> | undefined;
    let follower: ReturnType<typeof startFollower> | undefined;
    const procs: Proc[] = [];
    try {
      // etcd with TLS and client certificates, reached with kube-apiserver's flag names.
      etcd = await startEtcd({ members: 3, name: 'faults', tls: true });
      const tls = etcd.tls!;
      // Three API servers of one cluster: the same CA, each its own serving certificate.
      const pkis: Pki[] = [];
      for (let i = 0; i < 3; i++) {
        const d = join(dir, `api${i}`);
        if (i > 0) {
          mkdirSync(join(d, 'pki'), { recursive: true });
          // The CA and the ServiceAccount signing key: every API server must accept every other's tokens.
          for (const f of ['ca.crt', 'ca.key', 'service-account.key']) copyFileSync(join(dir, 'api0', 'pki', f), join(d, 'pki', f));
        }
        pkis.push(await ensurePki(d));
      }
      const ports = [await freePort(), await freePort(), await freePort()];
      const apis = ports.map((port, i) => new Proc(`apiserver-${i}`, ['apiserver', '--data-dir', join(dir, `api${i}`), '--port', String(port), '--etcd-servers', etcd!.endpoints.join(','), '--etcd-cafile', tls.caFile, '--etcd-certfile', tls.certFile, '--etcd-keyfile', tls.keyFile]));
      procs.push(...apis);
      await Promise.all(apis.map((a) => a.ready('mizzen apiserver is ready')));

      lb = await startLoadBalancer({ servers: ports.map((p) => `127.0.0.1:${p}`), holdOffMs: 2000 });
      const kubeconfig = join(dir, 'lb.kubeconfig');
      await writeKubeconfig(kubeconfig, { server: lb.url, caPem: pkis[0].caCertPem, clientCertPem: pkis[0].adminCertPem, clientKeyPem: pkis[0].adminKeyPem });
      const schedulers = [0, 1].map((i) => new Proc(`scheduler-${i}`, ['scheduler', '--kubeconfig', kubeconfig, ...LEASE_FLAGS]));
      const managers = [0, 1].map((i) => new Proc(`controller-manager-${i}`, ['controller-manager', '--kubeconfig', kubeconfig, ...LEASE_FLAGS]));
      const sim = new Proc('simulate', ['simulate', '--kubeconfig', kubeconfig, '--nodes', '10']);
      procs.push(...schedulers, ...managers, sim);

      c = new ApiClient({ server: lb.url, ca: pkis[0].caCertPem, cert: pkis[0].adminCertPem, key: pkis[0].adminKeyPem, maxRetries: 5, requestTimeoutMs: 30_000 });
      const client = c;
      const retry = <T>(what: string, f: () => Promise<T>) => poll(f, { what, timeoutMs: 30_000, intervalMs: 250 });
      await retry('the nodes', async () => (await client.list({ version: 'v1', resource: 'nodes' })).items.length === 10);
      await retry('a scheduler leader', async () => schedulers.some((s) => /became leader/.test(s.out)));
      await retry('a controller-manager leader', async () => managers.some((m) => /became leader/.test(m.out)));
      await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: 'faults' } });

      writer = startWriter(client, 'faults', 4);
      // The watch is served by apiserver-0 (killed below) until it has to move to another one.
      followerLB = await startLoadBalancer({ servers: ports.map((p) => `127.0.0.1:${p}`), holdOffMs: 2000, mode: 'first' });
      followerClient = new ApiClient({ server: followerLB.url, ca: pkis[0].caCertPem, cert: pkis[0].adminCertPem, key: pkis[0].adminKeyPem, maxRetries: 5, requestTimeoutMs: 30_000 });
      follower = startFollower(followerClient, 'default');
      await client.create({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' }, {
        metadata: { name: 'rollout' },
        spec: { replicas: 300, selector: { matchLabels: { app: 'rollout' } }, template: { metadata: { labels: { app: 'rollout' } }, spec: { containers: [{ name: 'c', image: 'registry.local/app:1' }] } } },
      });
      const podCount = async () => (await client.list({ version: 'v1', resource: 'pods', namespace: 'default' }, { labelSelector: 'app=rollout' })).items.length;
      // A request on a connection to the API server just killed fails once (as in any client).
      const running = () => retry('a pod list', async () => (await client.list<KObject>({ version: 'v1', resource: 'pods', namespace: 'default' }, { labelSelector: 'app=rollout' })).items.filter((p) => p.status?.phase === 'Running').length);
      await retry('the rollout to start', async () => (await podCount()) >= 30);

      const killed: string[] = [];
      const podsAtKill = await podCount();
      const leaseHolder = async (name: string) => ((await client.get<KObject>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name })).spec?.holderIdentity ?? '') as string;
      // 1. The etcd leader.
      const etcdLeader = await etcd.leader();
      await etcdLeader.kill();
      killed.push(`etcd ${etcdLeader.name} (${await running()} running)`);
      // 2. An API server.
      await new Promise((r) => setTimeout(r, 1500));
      await apis[0].kill();
      killed.push(`apiserver-0 (${await running()} running)`);
      // 3. The scheduler leader, 4. the controller-manager leader.
      for (const [component, lease, group] of [
        ['scheduler', 'kube-scheduler', schedulers],
        ['controller-manager', 'kube-controller-manager', managers],
      ] as const) {
        await new Promise((r) => setTimeout(r, 1500));
        const holder = await retry(`the ${lease} lease holder`, () => leaseHolder(lease).catch(() => ''));
        const leader = leaderOf(group, component, holder);
        assert.ok(leader, `the ${component} leader ${holder} among our processes`);
        await leader.kill();
        killed.push(`${leader.name} (${await running()} running)`);
      }
      // The etcd member comes back and catches up.
      await etcdLeader.start();

      await poll(
        async () => {
          const d = await client.get<KObject>({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'rollout' });
          return d.status?.availableReplicas === 300 && d.status?.updatedReplicas === 300;
        },
        { what: `the rollout to complete after killing ${killed.join(', ')}`, timeoutMs: 180_000, intervalMs: 1000 },
      );
      await writer.stop();

      // Exactly 300 pods: none lost, none duplicated, all bound and running.
      const w = writer;
      const f = follower;
      const pods = (await client.list<KObject>({ version: 'v1', resource: 'pods', namespace: 'default' }, { labelSelector: 'app=rollout' })).items;
      assert.equal(pods.length, 300);
      assert.equal(new Set(pods.map((p) => p.metadata.uid)).size, 300);
      assert.ok(pods.every((p) => p.spec?.nodeName && p.status?.phase === 'Running'));
      const rss = (await client.list<KObject>({ group: 'apps', version: 'v1', resource: 'replicasets', namespace: 'default' }, { labelSelector: 'app=rollout' })).items;
      assert.equal(rss.length, 1);

      // Every acknowledged write is there.
      const stored = new Set((await client.list<KObject>({ version: 'v1', resource: 'configmaps', namespace: 'faults' })).items.map((x) => x.metadata.name));
      const lost = w.acked.filter((n) => !stored.has(n));
      assert.deepEqual(lost, [], `acknowledged writes missing after the faults (${w.acked.length} acknowledged, ${w.failed} failed)`);
      assert.ok(w.acked.length > 50, `writes went on during the faults (${w.acked.length})`);

      // The watch that moved between API servers ends with the state a fresh list shows.
      const truth = new Map((await client.list<KObject>({ version: 'v1', resource: 'pods', namespace: 'default' })).items.map((p) => [p.metadata.name!, p.metadata.resourceVersion!]));
      await poll(() => f.state.size === truth.size && [...truth].every(([k, v]) => f.state.get(k) === v), { what: 'the watch to show the final state', timeoutMs: 20_000 });
      await follower.stop();
      assert.equal(f.expired, 0, 'the watch resumed every time without being told to list again');
      assert.ok(f.reconnects >= 1, 'the watch had to move to another API server');
      t.diagnostic(`killed ${killed.join(', ')} at ${podsAtKill} of 300 pods; ${w.acked.length} writes acknowledged, ${w.failed} failed; the watch reconnected ${f.reconnects} times`);
    } finally {
      await writer?.stop();
      await follower?.stop();
      c?.close();
      followerClient?.close();
      await Promise.all(procs.map((p) => p.kill()));
      await lb?.close();
      await followerLB?.close();
      await etcd?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SQLite: kill -9 the API server during writes; after a restart every acknowledged write is there', { timeout: 120_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mizzen-crash-'));
    let server: Proc | undefined;
    let c: ApiClient | undefined;
    try {
      const pki = await ensurePki(dir);
      const port = await freePort();
      server = new Proc('apiserver', ['apiserver', '--data-dir', dir, '--port', String(port)]);
      await server.ready('mizzen apiserver is ready');
      c = new ApiClient({ server: `https://127.0.0.1:${port}`, ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem, maxRetries: 0, requestTimeoutMs: 10_000 });
      const writer = startWriter(c, 'default', 16);
      await poll(() => writer.acked.length >= 500, { what: '500 acknowledged writes', timeoutMs: 60_000 });
      await server.kill('SIGKILL');
      await writer.stop();
      c.close();

      server = new Proc('apiserver', ['apiserver', '--data-dir', dir, '--port', String(port)]);
      await server.ready('mizzen apiserver is ready');
      c = new ApiClient({ server: `https://127.0.0.1:${port}`, ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem, maxRetries: 0 });
      const stored = new Set((await c.list<KObject>({ version: 'v1', resource: 'configmaps', namespace: 'default' })).items.map((x) => x.metadata.name));
      const lost = writer.acked.filter((n) => !stored.has(n));
      assert.deepEqual(lost, [], `${writer.acked.length} acknowledged`);
      t.diagnostic(`${writer.acked.length} writes acknowledged before the kill, ${stored.size} stored after the restart`);
    } finally {
      c?.close();
      await server?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
