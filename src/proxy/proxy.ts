// The service proxy of a real node: Services + EndpointSlices (and, for NetworkPolicy, Pods,
// Namespaces, NetworkPolicies) from informers → one Ruleset → the kernel, as kube-proxy's iptables
// mode does. Events only mark what changed; one sync at a time renders the tables (re-using the
// rules of every unchanged Service) and the writer restores only the chains that differ.
//
//   const proxy = await startServiceProxy({ client, nodeName, clusterCIDR, serviceCIDR, podBridge, log });
//   ...; await proxy.close();            // rules stay (traffic keeps flowing while Mizzen restarts)
//   await proxy.cleanup();               // `--cleanup`: our chains, jumps and routes go

import type { KObject } from '../api/types.ts';
import type { ApiClient } from '../client/api-client.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import { Informer } from '../client/informer.ts';
import { endpointsFor, serviceModel, type EndpointInfo, type Protocol, type ServicePortInfo } from './model.ts';
import { BUILTIN_JUMPS, assembleServiceTables, servicePortRules, type ServicePortRules, type ServiceRulesConfig } from './rules/service-rules.ts';
import { buildPolicyRules, podFromObject, type PolicyPod } from './rules/policy-rules.ts';
import { FILTER, type Ruleset } from './rules/chains.ts';
import { makeExec } from './iptables/exec.ts';
import { makeShellExec, type ShellExec } from './iptables/shell-exec.ts';
import { RuleWriter, type WriteStats } from './iptables/writer.ts';
import { HostRoutes } from './host-routes.ts';

export interface ServiceProxyOptions {
  client: ApiClient;
  nodeName: string;
  /** Addresses where NodePorts answer (plus 127.0.0.1); empty or unset: every local address. */
  nodeIPs?: string[];
  /** Pod addresses (traffic from elsewhere to a cluster IP is masqueraded). */
  clusterCIDR?: string;
  /** Service cluster IPs: host routes for programmed cluster IPs are only ever made inside it. */
  serviceCIDR?: string;
  /**
   * The pod bridge: each programmed cluster IP gets a /32 route to it, so processes on the node can
   * reach cluster IPs despite the node's unreachable route for the service CIDR (docs/node-runtime.md).
   */
  podBridge?: string;
  /** `--service-node-port-range` (default 30000-32767): a node port outside it gets a Warning event. */
  nodePortRange?: [number, number];
  /** Enforce NetworkPolicy for this node's pods (default true). */
  networkPolicy?: boolean;
  /** Run every command inside this network namespace (tests, benchmarks). */
  netns?: string;
  /** Shortest pause between two syncs (default 50 ms; kube-proxy: --iptables-min-sync-period). */
  minSyncPeriodMs?: number;
  /** Read the tables back and repair them this often (default 30 s; kube-proxy: --iptables-sync-period). */
  syncPeriodMs?: number;
  log?: (msg: string) => void;
  /** Called after every sync attempt (tests, benchmarks). */
  onSync?: (r: SyncResult) => void;
}

export interface SyncResult {
  ok: boolean;
  error?: string;
  /** Time to render the tables (ms) and to load them (ms). */
  buildMs: number;
  writeMs: number;
  stats?: WriteStats;
  /** Rules in our chains after this sync. */
  rules: number;
  chains: number;
}

export interface ServiceProxy {
  /** Resolves after the next sync that starts after this call. */
  sync(opts?: { verify?: boolean }): Promise<SyncResult>;
  /** Stop watching; rules stay in place. */
  close(): Promise<void>;
  /** Stop, then remove our chains, jumps and host routes (`mizzen ... --cleanup`). */
  cleanup(): Promise<void>;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

interface CachedService {
  ports: ServicePortInfo[];
  rules: ServicePortRules[];
  endpoints: Map<string, EndpointInfo[]>;
}

export async function startServiceProxy(opts: ServiceProxyOptions): Promise<ServiceProxy> {
  const p = new ProxyImpl(opts);
  await p.start();
  return p;
}

class ProxyImpl implements ServiceProxy {
  private readonly o: ServiceProxyOptions;
  private readonly exec: ShellExec;
  private readonly writer: RuleWriter;
  private readonly routes?: HostRoutes;
  private readonly events: EventRecorder;
  private readonly log: (m: string) => void;
  private readonly cfg: ServiceRulesConfig;
  private readonly services: Informer;
  private readonly slices: Informer;
  private readonly pods?: Informer;
  private readonly namespaces?: Informer;
  private readonly policies?: Informer;
  private supported: ReadonlySet<Protocol> = new Set<Protocol>(['TCP', 'UDP', 'SCTP']);

  private cache = new Map<string, CachedService>();
  private dirtyServices = new Set<string>();
  private policyDirty = true;
  private policyChains = new Map<string, string[]>();
  /** The tables as last rendered, kept up to date Service by Service (see replaceChains). */
  private tables?: Ruleset;
  private sharedDirty = true;
  /** uid → messages already reported as Events (so each problem is told once, not every sync). */
  private reported = new Map<string, Set<string>>();

  private running = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private periodic?: NodeJS.Timeout;
  private lastSyncEnd = 0;
  private wantVerify = false;
  private waiters: Array<(r: SyncResult) => void> = [];
  private retryMs = 0;
  private routeError = '';

  constructor(o: ServiceProxyOptions) {
    this.o = o;
    this.log = o.log ?? ((m) => console.log(m));
    this.exec = makeShellExec(o.netns);
    this.writer = new RuleWriter(this.exec, BUILTIN_JUMPS);
    if (o.podBridge && o.serviceCIDR) this.routes = new HostRoutes(this.exec, o.podBridge, o.serviceCIDR);
    this.events = new EventRecorder(o.client, { source: { component: 'kube-proxy', host: o.nodeName }, log: this.log });
    this.cfg = { clusterCIDR: o.clusterCIDR, nodePortAddresses: o.nodeIPs?.length ? o.nodeIPs : undefined };
    const informerLog = (m: string) => this.log(`service proxy: ${m}`);
    // As upstream: a Service that names another proxy (service.kubernetes.io/service-proxy-name) is not ours.
    this.services = new Informer(o.client, { version: 'v1', resource: 'services' }, { log: informerLog, labelSelector: '!service.kubernetes.io/service-proxy-name' });
    this.slices = new Informer(
      o.client,
      { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
      { log: informerLog, labelSelector: SERVICE_NAME_LABEL, indexers: { service: (s) => [`${s.metadata.namespace}/${s.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`] } },
    );
    const svcKey = (o: KObject) => `${o.metadata.namespace}/${o.metadata.name}`;
    const sliceKey = (o: KObject) => `${o.metadata.namespace}/${o.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`;
    this.services.addEventHandler(this.handlers(svcKey));
    this.slices.addEventHandler(this.handlers(sliceKey));
    if (o.networkPolicy !== false) {
      const mark = {
        onAdd: () => this.policyChanged(),
        onUpdate: (a: KObject, b: KObject) => {
          if (a !== b) this.policyChanged();
        },
        onDelete: () => this.policyChanged(),
      };
      this.pods = new Informer(o.client, { version: 'v1', resource: 'pods' }, { log: informerLog });
      this.namespaces = new Informer(o.client, { version: 'v1', resource: 'namespaces' }, { log: informerLog });
      this.policies = new Informer(o.client, { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' }, { log: informerLog });
      // A pod's status changes often; only what policies look at (IP, labels, ports, phase) counts.
      this.pods.addEventHandler({
        onAdd: () => this.policyChanged(),
        onUpdate: (a, b) => {
          if (policyView(a) !== policyView(b)) this.policyChanged();
        },
        onDelete: () => this.policyChanged(),
      });
      this.namespaces.addEventHandler({
        onAdd: () => this.policyChanged(),
        onUpdate: (a, b) => {
          if (JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {})) this.policyChanged();
        },
        onDelete: () => this.policyChanged(),
      });
      this.policies.addEventHandler(mark);
    }
  }

  private handlers(keyOf: (o: KObject) => string) {
    return {
      onAdd: (o: KObject) => this.serviceChanged(keyOf(o)),
      onUpdate: (a: KObject, b: KObject) => {
        if (a !== b) this.serviceChanged(keyOf(b));
      },
      onDelete: (o: KObject) => this.serviceChanged(keyOf(o)),
    };
  }

  private serviceChanged(key: string): void {
    this.dirtyServices.add(key);
    this.schedule();
  }

  private policyChanged(): void {
    this.policyDirty = true;
    this.schedule();
  }

  private informers(): Informer[] {
    return [this.services, this.slices, this.pods, this.namespaces, this.policies].filter((i): i is Informer => !!i);
  }

  async start(): Promise<void> {
    await this.prepareKernel();
    for (const i of this.informers()) i.start();
    await Promise.all(this.informers().map((i) => i.waitForSync()));
    await this.sync({ verify: true });
    const period = this.o.syncPeriodMs ?? 30_000;
    this.periodic = setInterval(() => {
      this.wantVerify = true;
      this.schedule();
    }, period);
    this.periodic.unref();
  }

  /** route_localnet (NodePorts on 127.0.0.1, as upstream) and which protocols the kernel matches. */
  private async prepareKernel(): Promise<void> {
    try {
      await this.exec(['sysctl', '-q', '-w', 'net.ipv4.conf.all.route_localnet=1']);
    } catch (e) {
      this.log(`service proxy: cannot set route_localnet (NodePorts on 127.0.0.1 will not answer): ${(e as Error).message}`);
    }
    const supported = new Set<Protocol>(['TCP', 'UDP']);
    try {
      // A throw-away chain: does this kernel (and iptables build) match SCTP?
      await this.exec(['iptables-restore', '--noflush', '-w', '5'], '*filter\n:MZ-PROBE - [0:0]\n-A MZ-PROBE -p sctp -m sctp --dport 1 -j RETURN\n:MZ-PROBE - [0:0]\n-X MZ-PROBE\nCOMMIT\n');
      supported.add('SCTP');
    } catch {
      this.log('service proxy: this kernel does not match SCTP; SCTP service ports are not programmed');
    }
    this.supported = supported;
  }

  private schedule(): void {
    if (this.closed || this.timer || !this.services.hasSynced()) return;
    if (this.running) return; // the running sync re-schedules when it ends
    const min = this.o.minSyncPeriodMs ?? 50;
    const wait = Math.max(this.retryMs, this.lastSyncEnd + min - Date.now(), 0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runSync();
    }, wait);
  }

  sync(opts: { verify?: boolean } = {}): Promise<SyncResult> {
    if (opts.verify) this.wantVerify = true;
    this.dirtyServices.add('');
    const p = new Promise<SyncResult>((resolve) => this.waiters.push(resolve));
    if (!this.running) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.runSync();
    }
    return p;
  }

  private async runSync(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    const waiters = this.waiters;
    this.waiters = [];
    let result: SyncResult;
    try {
      result = await this.syncOnce();
    } catch (e) {
      result = { ok: false, error: (e as Error).message, buildMs: 0, writeMs: 0, rules: 0, chains: 0 };
    }
    this.running = false;
    this.lastSyncEnd = Date.now();
    if (!result.ok) {
      this.log(`service proxy: sync failed (retrying): ${result.error}`);
      this.retryMs = Math.min(Math.max(this.retryMs * 2, 500), 30_000);
      this.wantVerify = true;
    } else this.retryMs = 0;
    this.o.onSync?.(result);
    for (const w of waiters) w(result);
    if (!result.ok || this.dirtyServices.size > 0 || this.policyDirty || this.wantVerify || this.waiters.length) {
      if (this.waiters.length) void this.runSync();
      else if (!result.ok || this.dirtyServices.size > 0 || this.policyDirty) this.schedule();
    }
  }

  private async syncOnce(): Promise<SyncResult> {
    const t0 = performance.now();
    const dirty = this.dirtyServices;
    this.dirtyServices = new Set();
    const verify = this.wantVerify;
    this.wantVerify = false;
    const removedEndpoints: { sp: ServicePortInfo; ips: string[] }[] = [];
    for (const key of dirty) if (key) this.rebuildService(key, removedEndpoints);
    const ruleset = this.render();
    const t1 = performance.now();
    let stats: WriteStats;
    try {
      stats = await this.writer.write(ruleset, { verify });
    } catch (e) {
      // Nothing cached is wrong, only the kernel's copy: re-render everything next time.
      for (const k of dirty) this.dirtyServices.add(k);
      throw e;
    }
    const t2 = performance.now();
    await this.afterWrite(removedEndpoints);
    let rules = 0;
    for (const t of [ruleset.nat, ruleset.filter]) for (const r of t.values()) rules += r.length;
    return { ok: true, buildMs: t1 - t0, writeMs: t2 - t1, stats, rules, chains: ruleset.nat.size + ruleset.filter.size };
  }

  private rebuildService(key: string, removed: { sp: ServicePortInfo; ips: string[] }[]): void {
    const svc = this.services.indexer.getByKey(key);
    const before = this.cache.get(key);
    if (!svc) {
      this.cache.delete(key);
      if (before) {
        for (const sp of before.ports) if (sp.protocol === 'UDP') removed.push({ sp, ips: (before.endpoints.get(sp.key) ?? []).map((e) => e.ip) });
        this.replaceChains(before.rules, []);
      }
      return;
    }
    const model = serviceModel(svc, this.supported);
    const problems = [...model.problems];
    const [lo, hi] = this.o.nodePortRange ?? [30000, 32767];
    for (const sp of model.ports)
      if (sp.nodePort && (sp.nodePort < lo || sp.nodePort > hi)) problems.push(`node port ${sp.nodePort} is outside this node's service node port range ${lo}-${hi}`);
    this.report(svc, 'Service', 'v1', problems);
    const slices = this.slices.indexer.byIndex('service', key);
    const endpoints = new Map<string, EndpointInfo[]>();
    const rules: ServicePortRules[] = [];
    for (const sp of model.ports) {
      const eps = endpointsFor(sp, slices, this.o.nodeName);
      endpoints.set(sp.key, eps);
      rules.push(servicePortRules(sp, eps, this.cfg));
      if (sp.protocol === 'UDP' && before) {
        const now = new Set(eps.map((e) => e.ip));
        const gone = (before.endpoints.get(sp.key) ?? []).map((e) => e.ip).filter((ip) => !now.has(ip));
        if (gone.length) removed.push({ sp, ips: gone });
      }
    }
    this.cache.set(key, { ports: model.ports, rules, endpoints });
    this.replaceChains(before?.rules ?? [], rules);
  }

  /**
   * Keep the last rendered tables current for one Service: swap its own chains, and mark the
   * shared chains (MZ-SERVICES, MZ-NODEPORTS, the filter ones) for re-assembly only when its
   * entries there changed. An endpoint change touches only the Service's own chain, so a sync
   * re-assembles nothing of the other 999 Services.
   */
  private replaceChains(old: ServicePortRules[], now: ServicePortRules[]): void {
    const shared = (rs: ServicePortRules[]) => rs.map((r) => [r.natServices, r.natNodePorts, r.filterServices, r.filterExternal].map((l) => l.join('\n')).join('\u0000')).join('\u0001');
    if (shared(old) !== shared(now)) this.sharedDirty = true;
    if (!this.tables) return;
    for (const r of old) for (const [name] of r.natChains) this.tables.nat.delete(name);
    for (const r of now) for (const [name, lines] of r.natChains) this.tables.nat.set(name, lines);
  }

  private render(): Ruleset {
    if (!this.tables || this.sharedDirty) {
      const keys = [...this.cache.keys()].sort();
      const parts: ServicePortRules[] = [];
      for (const k of keys) parts.push(...this.cache.get(k)!.rules);
      this.tables = assembleServiceTables(parts, this.cfg);
      this.sharedDirty = false;
      // The filter table is new: put the policy chains back (or the empty hook chain without policies).
      if (this.policies) for (const [c, r] of this.policyChains) this.tables.filter.set(c, r);
      else this.tables.filter.set(FILTER.policy, []);
    }
    const filter = this.tables.filter;
    if (this.policies && this.policyDirty) {
      this.policyDirty = false;
      for (const c of this.policyChains.keys()) filter.delete(c);
      this.policyChains = this.renderPolicies();
      for (const [c, r] of this.policyChains) filter.set(c, r);
    } else if (!this.policies) this.policyDirty = false;
    return this.tables;
  }

  private renderPolicies(): Map<string, string[]> {
    const pods: PolicyPod[] = [];
    for (const p of this.pods!.indexer.list()) {
      const pp = podFromObject(p, this.o.nodeName);
      if (pp) pods.push(pp);
    }
    const namespaceLabels = new Map<string, Record<string, string>>();
    for (const n of this.namespaces!.indexer.list()) namespaceLabels.set(n.metadata.name ?? '', n.metadata.labels ?? {});
    const policies = this.policies!.indexer.list();
    const out = buildPolicyRules({ policies, pods, namespaceLabels });
    for (const pol of policies) this.report(pol, 'NetworkPolicy', 'networking.k8s.io/v1', out.problems.get(`${pol.metadata.namespace}/${pol.metadata.name}`) ?? []);
    return out.filter;
  }

  /** One Warning Event per new problem of an object; forgotten when the object has none. */
  private report(obj: KObject, kind: string, apiVersion: string, problems: string[]): void {
    const uid = obj.metadata.uid ?? `${obj.metadata.namespace}/${obj.metadata.name}`;
    if (problems.length === 0) {
      this.reported.delete(uid);
      return;
    }
    const told = this.reported.get(uid) ?? new Set<string>();
    for (const msg of problems) {
      if (told.has(msg)) continue;
      told.add(msg);
      this.log(`service proxy: ${kind} ${obj.metadata.namespace}/${obj.metadata.name}: ${msg}`);
      this.events.event({ apiVersion, kind, metadata: obj.metadata }, 'Warning', 'FailedToProgram', msg);
    }
    this.reported.set(uid, told);
  }

  /** Host routes for cluster IPs; UDP conntrack entries that still point at removed endpoints. */
  private async afterWrite(removed: { sp: ServicePortInfo; ips: string[] }[]): Promise<void> {
    if (this.routes) {
      const ips = new Set<string>();
      for (const c of this.cache.values()) for (const sp of c.ports) if (sp.clusterIP) ips.add(sp.clusterIP);
      try {
        await this.routes.reconcile(ips);
        this.routeError = '';
      } catch (e) {
        // Retried every sync (e.g. until the CNI made the bridge); told once per distinct error.
        const msg = (e as Error).message;
        if (msg !== this.routeError) this.log(`service proxy: host routes for cluster IPs: ${msg}`);
        this.routeError = msg;
      }
    }
    for (const { sp, ips } of removed)
      for (const ip of ips) {
        // UDP has no connection end: without this a client keeps sending to the old endpoint.
        await this.exec(['conntrack', '-D', '-p', 'udp', '--orig-dst', sp.clusterIP, '--dst-nat', ip]).catch(() => {});
      }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.periodic) clearInterval(this.periodic);
    await Promise.all(this.informers().map((i) => i.stop()));
    while (this.running) await new Promise((r) => setTimeout(r, 10));
    this.exec.close();
    await this.events.flush();
  }

  async cleanup(): Promise<void> {
    await this.close();
    await cleanupServiceProxy({ netns: this.o.netns, podBridge: this.o.podBridge, serviceCIDR: this.o.serviceCIDR });
  }
}

/** What a pod event must change for the policies to be re-rendered. */
function policyView(p: KObject): string {
  return JSON.stringify([p.status?.podIP, p.status?.phase, p.metadata.labels, p.spec?.nodeName, p.spec?.hostNetwork, (p.spec?.containers ?? []).map((c: any) => c.ports)]);
}

/**
 * `--cleanup`: removes every MZ- chain and our jumps from the built-in chains of nat and filter,
 * and the /32 host routes for cluster IPs. Leaves: route_localnet, conntrack entries, other
 * software's rules, the node's unreachable routes (the kubelet's). Safe to run with nothing there.
 */
export async function cleanupServiceProxy(opts: { netns?: string; podBridge?: string; serviceCIDR?: string; log?: (m: string) => void } = {}): Promise<{ chains: number; routes: number }> {
  const exec = makeExec(opts.netns);
  const chains = await new RuleWriter(exec, BUILTIN_JUMPS).cleanup();
  let routes = 0;
  if (opts.serviceCIDR) routes = await new HostRoutes(exec, opts.podBridge ?? '', opts.serviceCIDR).removeAll();
  opts.log?.(`service proxy cleanup: removed ${chains} chains and ${routes} host routes`);
  return { chains, routes };
}
