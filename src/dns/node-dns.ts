// Cluster DNS on one real node: informers on the calling thread feed the zone of a DNS server on
// its own worker thread; once the zone has synced, the node publishes its kube-dns endpoint so
// the service proxy sends the node's pods here. This is the hook the kubelet's startNode calls.

import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { isIP } from 'node:net';
import type { ApiClient } from '../client/api-client.ts';
import { SharedInformerFactory, type InformerFactory } from '../client/informer.ts';
import { parseResolvConf } from '../kubelet/pods/dns.ts';
import { BatchZone, DnsThread, type DnsThreadConfig, type DnsThreadStats } from './dns-thread.ts';
import type { ZoneUpdate } from './entries.ts';
import { ZoneFeed, type ZoneSink } from './feed.ts';
import type { Upstream } from './forwarder.ts';
import { DEFAULT_CLUSTER_DNS, DEFAULT_CLUSTER_DOMAIN, ensureKubeDNSService, publishNodeDNSEndpoint, removeNodeDNSEndpoint } from './kube-dns-service.ts';
import type { ListenAddress } from './server.ts';
import type { PodMode } from './zone.ts';

export interface NodeDNSOptions {
  client: ApiClient;
  nodeName: string;
  /** Where the server listens, UDP and TCP (port 0 picks one free port per address). */
  listen: ListenAddress[];
  clusterDomain?: string;
  /** Upstream resolvers for names outside the cluster (`--dns-upstream`); default: `resolvConf`'s nameservers. */
  upstreams?: Upstream[];
  /** The node's resolv.conf (default /etc/resolv.conf), read when `upstreams` is not given. */
  resolvConf?: string;
  /** Share the caller's informers (the kubelet's) instead of starting our own. */
  informers?: InformerFactory;
  /** `a-b-c-d.<ns>.pod.<domain>` answers: insecure (default, as k3s), verified or disabled. */
  pods?: PodMode;
  /** Give up on upstreams after this long and answer SERVFAIL (default 3 s). */
  forwardTimeoutMs?: number;
  /** Encoded cluster answers kept until the zone changes (default 10,000; 0 = no cache). */
  cacheSize?: number;
  /** Run the server on the calling thread instead of a worker (tests, comparison benchmarks). */
  inThread?: boolean;
  /**
   * Make this node's server the kube-dns Service's endpoint on this node: `address` is what pods
   * reach (e.g. the pod bridge's gateway), the port is the first listen port. `ensureService`
   * also creates the Service with `clusterIP` if it is missing. Omit to publish nothing.
   */
  kubeDNS?: { endpointAddress: string; clusterIP?: string; ensureService?: boolean };
  log?: (msg: string) => void;
}

export interface NodeDNS {
  /** What the server is bound to (actual ports). */
  bound: ListenAddress[];
  upstreams: Upstream[];
  stats(): Promise<DnsThreadStats>;
  close(): Promise<void>;
}

export { parseUpstream } from './upstream.ts';

/** The nameservers of a resolv.conf, minus any that are this server itself (a forwarding loop). */
export function upstreamsFromResolvConf(text: string, self: ListenAddress[] = []): Upstream[] {
  return parseResolvConf(text)
    .nameservers.filter((ns) => isIP(ns))
    .map((ns) => ({ address: ns, port: 53 }))
    .filter((u) => !self.some((l) => l.address === u.address && l.port === u.port));
}

export async function startNodeDNS(opts: NodeDNSOptions): Promise<NodeDNS> {
  const log = opts.log ?? (() => {});
  let upstreams = opts.upstreams;
  if (!upstreams) {
    let text = '';
    try {
      text = readFileSync(opts.resolvConf ?? '/etc/resolv.conf', 'utf8');
    } catch (e) {
      log(`dns: cannot read ${opts.resolvConf ?? '/etc/resolv.conf'}: ${(e as Error).message}; names outside the cluster get SERVFAIL`);
    }
    upstreams = upstreamsFromResolvConf(text, opts.listen);
  }
  const cfg: DnsThreadConfig = {
    domain: opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
    pods: opts.pods,
    listen: opts.listen,
    upstreams,
    forwardTimeoutMs: opts.forwardTimeoutMs,
    cacheSize: opts.cacheSize,
  };
  const server = opts.inThread ? await startLocal(cfg, log) : await startWorker(cfg, log);

  const ownInformers = !opts.informers;
  const informers = opts.informers ?? new SharedInformerFactory(opts.client, { log, backoffInitialMs: 200, backoffMaxMs: 5000 });
  const feed = new ZoneFeed(informers, server.sink, { pods: opts.pods !== 'disabled', log });
  informers.start();
  let closed = false;
  try {
    await feed.synced();
  } catch (e) {
    feed.stop();
    if (ownInformers) await informers.stop();
    await server.close();
    throw e;
  }
  // Publishing this node as a kube-dns endpoint is retried in the background if the API refuses
  // (a missing permission, a conflict): the server answers meanwhile, on its own address.
  let retry: NodeJS.Timeout | undefined;
  const publish = async (): Promise<void> => {
    if (!opts.kubeDNS || closed) return;
    try {
      const owner = opts.kubeDNS.ensureService ? await ensureKubeDNSService(opts.client, opts.kubeDNS.clusterIP ?? DEFAULT_CLUSTER_DNS, log) : undefined;
      await publishNodeDNSEndpoint(opts.client, opts.nodeName, opts.kubeDNS.endpointAddress, server.bound[0].port, owner);
    } catch (e) {
      log(`dns: publishing this node's kube-dns endpoint: ${(e as Error).message}; retrying in 10s`);
      if (!closed) retry = setTimeout(() => void publish(), 10_000);
    }
  };
  await publish();
  log(`dns: serving ${cfg.domain} on ${server.bound.map((b) => `${b.address}:${b.port}`).join(', ')}; upstreams ${upstreams.map((u) => `${u.address}:${u.port}`).join(', ') || 'none'}`);
  return {
    bound: server.bound,
    upstreams,
    stats: server.stats,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retry);
      feed.stop();
      if (opts.kubeDNS) await removeNodeDNSEndpoint(opts.client, opts.nodeName).catch((e) => log(`dns: removing the kube-dns endpoint: ${(e as Error).message}`));
      if (ownInformers) await informers.stop();
      await server.close();
    },
  };
}

const WORKER_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const load = workerData.tsx ? import(workerData.tsx).then((t) => t.tsImport(workerData.script, workerData.script)) : import(workerData.script);
load.catch((e) => { console.error(e); process.exit(1); });
`;

interface ServerHandle {
  bound: ListenAddress[];
  sink: ZoneSink;
  stats(): Promise<DnsThreadStats>;
  close(): Promise<void>;
}

async function startLocal(cfg: DnsThreadConfig, log: (m: string) => void): Promise<ServerHandle> {
  const t = new DnsThread(cfg, log);
  const bound = await t.start();
  const sink: BatchZone = t.zone;
  return { bound, sink, stats: async () => t.stats(), close: () => t.close() };
}

function startWorker(cfg: DnsThreadConfig, log: (m: string) => void): Promise<ServerHandle> {
  // From the bundle (dist/cli/main.mjs) the worker is its sibling bundle; from sources, tsx loads it
  // (a worker does not inherit the parent's loader hooks on Node 20).
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './dns-worker.ts' : './dns-worker.mjs', import.meta.url);
  const worker = new Worker(WORKER_BOOTSTRAP, {
    eval: true,
    workerData: { cfg, script: entry.href, tsx: fromSources ? import.meta.resolve('tsx/esm/api') : undefined },
    execArgv: [],
  });
  let nextId = 0;
  const statsWaiters = new Map<number, (s: DnsThreadStats) => void>();
  let onClosed: (() => void) | undefined;
  return new Promise((resolve, reject) => {
    let ready = false;
    worker.on('message', (m: { type: string; msg?: string; error?: string; bound?: ListenAddress[]; id?: number; stats?: DnsThreadStats }) => {
      if (m.type === 'log') log(`dns: ${m.msg}`);
      else if (m.type === 'failed') {
        reject(new Error(`the DNS server could not start: ${m.error}`));
        void worker.terminate();
      } else if (m.type === 'stats') {
        statsWaiters.get(m.id!)?.(m.stats!);
        statsWaiters.delete(m.id!);
      } else if (m.type === 'closed') onClosed?.();
      else if (m.type === 'ready') {
        ready = true;
        resolve({
          bound: m.bound!,
          sink: { apply: (updates: ZoneUpdate[]) => worker.postMessage({ type: 'updates', updates }) },
          stats: () =>
            new Promise((r) => {
              const id = nextId++;
              statsWaiters.set(id, r);
              worker.postMessage({ type: 'stats', id });
            }),
          close: () =>
            new Promise<void>((done) => {
              const timer = setTimeout(() => void worker.terminate().then(() => done()), 5000);
              onClosed = () => {
                clearTimeout(timer);
                void worker.terminate().then(() => done());
              };
              worker.postMessage({ type: 'close' });
            }),
        });
      }
    });
    worker.on('error', (e) => {
      if (!ready) reject(e);
      else log(`dns: worker failed: ${e.stack ?? e.message}`);
    });
    worker.on('exit', (code) => {
      if (!ready) reject(new Error(`the DNS worker exited with code ${code} before it was ready`));
    });
  });
}
