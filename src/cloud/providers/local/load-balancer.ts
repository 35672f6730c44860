// The local load balancer: each LoadBalancer Service gets an ingress IP (one per Service from the
// configured range, or the one configured host address) and a TCP or UDP listener on that IP for
// each of its ports, forwarding to the Service's ready endpoints from its EndpointSlices, kept
// current as the slices change (like cloud-provider-kind, with the proxy in-process). Endpoints
// this machine cannot reach locally (simulated pods) are never used: see machine.ts. With
// forwardTo: nodePorts, a port with a NodePort goes to 127.0.0.1:<nodePort> instead, where the
// local node's service proxy takes it to any endpoint it has programmed.

import type { KObject } from '../../../api/types.ts';
import { formatIPv4 } from '../../../machinery/ipv4.ts';
import type { Informer } from '../../../client/informer.ts';
import { parseCIDR, rangeContainsIP } from '../../cidr.ts';
import { defaultLoadBalancerName, objectKey, type LoadBalancer, type LoadBalancerStatus, type ProviderContext } from '../../provider.ts';
import type { LocalConfig } from './config.ts';
import { endpointRoutable, type LocalMachine } from './machine.ts';
import { TcpListener, UdpListener, type Backend, type Listener } from './proxy.ts';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const SLICE_INDEX = 'cloud-local:service';

interface Balancer {
  key: string;
  name: string;
  ip: string;
  /** `${protocol}/${port}` -> listener */
  listeners: Map<string, Listener>;
  service: KObject;
}

/** The endpoints of one service port, as proxy backends. */
export function backendsFor(
  svc: KObject,
  port: { name?: string; protocol?: string },
  slices: KObject[],
  routable: (address: string, nodeName: string | undefined) => boolean,
  onSkip: (address: string) => void = () => {},
): Backend[] {
  const name = port.name ?? '';
  const protocol = port.protocol ?? 'TCP';
  const out: Backend[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    if (slice.metadata.labels?.[SERVICE_NAME_LABEL] !== svc.metadata.name) continue;
    const sp = ((slice.ports ?? []) as any[]).find((p) => (p?.name ?? '') === name && (p?.protocol ?? 'TCP') === protocol);
    if (!sp || typeof sp.port !== 'number') continue;
    for (const ep of (slice.endpoints ?? []) as any[]) {
      // ready unset means ready (the EndpointSlice API's rule).
      if (ep?.conditions?.ready === false) continue;
      for (const address of (ep?.addresses ?? []) as string[]) {
        const k = `${address}:${sp.port}`;
        if (seen.has(k)) continue;
        seen.add(k);
        if (!routable(address, ep.nodeName)) {
          onSkip(address);
          continue;
        }
        out.push({ host: address, port: sp.port });
      }
    }
  }
  return out;
}

/** The backend of a Service port forwarded to its NodePort on this machine, if it has one. */
export function nodePortBackend(port: { nodePort?: unknown }): Backend | undefined {
  const n = port.nodePort;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536 ? { host: '127.0.0.1', port: n } : undefined;
}

function describeListenError(e: NodeJS.ErrnoException, protocol: string, ip: string, port: number): string {
  const what = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : e.message;
  return `listen ${protocol.toLowerCase()} ${ip}:${port}: ${what}`;
}

export class LocalLoadBalancer implements LoadBalancer {
  private readonly balancers = new Map<string, Balancer>();
  private slices?: Informer;
  private nodes?: Informer;
  private services?: Informer;
  private log: (m: string) => void = () => {};
  private readonly skipped = new Set<string>();
  private pending = new Set<string>();
  private flush?: NodeJS.Immediate;

  constructor(
    private readonly config: LocalConfig,
    private readonly machine: LocalMachine,
  ) {}

  /** Register the informers the proxy follows (called at the start of each term). */
  initialize(ctx: ProviderContext): void {
    this.log = (m) => ctx.log(`local-lb: ${m}`);
    this.slices = ctx.informers.informerFor({
      group: 'discovery.k8s.io',
      version: 'v1',
      resource: 'endpointslices',
      indexers: {
        [SLICE_INDEX]: (s) => (s.metadata.labels?.[SERVICE_NAME_LABEL] ? [`${s.metadata.namespace}/${s.metadata.labels[SERVICE_NAME_LABEL]}`] : []),
      },
    });
    this.nodes = ctx.informers.informerFor({ version: 'v1', resource: 'nodes' });
    this.services = ctx.informers.informerFor({ version: 'v1', resource: 'services' });
    const onSlice = (s: KObject) => {
      const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
      if (svc) this.refreshSoon(`${s.metadata.namespace}/${svc}`);
    };
    this.slices.addEventHandler({ onAdd: onSlice, onUpdate: (_o, n) => onSlice(n), onDelete: onSlice });
    // Node changes (a pod range appearing, a node turning out simulated) can change what is routable.
    const onNode = () => {
      for (const k of this.balancers.keys()) this.refreshSoon(k);
    };
    this.nodes.addEventHandler({ onAdd: onNode, onUpdate: (o, n) => JSON.stringify([o.metadata.labels, o.spec?.podCIDRs]) !== JSON.stringify([n.metadata.labels, n.spec?.podCIDRs]) && onNode(), onDelete: onNode });
  }

  /** Close every listener (end of a term, or shutdown). Services keep their IPs in status. */
  async stop(): Promise<void> {
    if (this.flush) clearImmediate(this.flush);
    const all = [...this.balancers.values()];
    this.balancers.clear();
    await Promise.all(all.flatMap((b) => [...b.listeners.values()].map((l) => l.close())));
  }

  getLoadBalancerName(_cluster: string, svc: KObject): string {
    return defaultLoadBalancerName(svc);
  }

  async getLoadBalancer(_cluster: string, svc: KObject): Promise<{ status?: LoadBalancerStatus; exists: boolean }> {
    const b = this.balancers.get(objectKey(svc));
    return b ? { exists: true, status: { ingress: [{ ip: b.ip, ipMode: 'VIP' }] } } : { exists: false };
  }

  async ensureLoadBalancer(_cluster: string, svc: KObject, _nodes: KObject[]): Promise<LoadBalancerStatus> {
    const key = objectKey(svc);
    let b = this.balancers.get(key);
    const ip = this.chooseIP(svc, b?.ip);
    if (b && b.ip !== ip) {
      // A new spec.loadBalancerIP: move every listener.
      await this.closeListeners(b);
      b.ip = ip;
    }
    if (!b) {
      b = { key, name: defaultLoadBalancerName(svc), ip, listeners: new Map(), service: svc };
      this.balancers.set(key, b);
      this.log(`${key}: load balancer ${b.name} on ${ip}`);
    }
    b.service = svc;
    const problems: string[] = [];
    const wanted = new Map<string, { protocol: 'TCP' | 'UDP'; port: number }>();
    for (const sp of (svc.spec?.ports ?? []) as any[]) {
      const protocol = sp?.protocol ?? 'TCP';
      if (protocol !== 'TCP' && protocol !== 'UDP') {
        problems.push(`protocol ${protocol} is not supported by the local load balancer (port ${sp.port})`);
        continue;
      }
      wanted.set(`${protocol}/${sp.port}`, { protocol, port: sp.port });
    }
    for (const [k, l] of b.listeners) {
      if (wanted.has(k)) continue;
      b.listeners.delete(k);
      await l.close();
    }
    for (const [k, w] of wanted) {
      if (b.listeners.has(k)) continue;
      const l = w.protocol === 'TCP' ? new TcpListener(b.ip, w.port, this.log) : new UdpListener(b.ip, w.port, this.config.udpIdleTimeoutMs, this.log);
      try {
        await l.listen();
        b.listeners.set(k, l);
      } catch (e) {
        await l.close();
        problems.push(describeListenError(e as NodeJS.ErrnoException, w.protocol, b.ip, w.port));
      }
    }
    this.refresh(key);
    if (problems.length) {
      const served = b.listeners.size ? `; serving ${[...b.listeners.keys()].join(', ')}` : '';
      throw new Error(`${problems.join('; ')}${served}`);
    }
    return { ingress: [{ ip: b.ip, ipMode: 'VIP' }] };
  }

  async updateLoadBalancer(_cluster: string, svc: KObject, _nodes: KObject[]): Promise<void> {
    // Backends are endpoints, not nodes: nothing to do but make sure they are current.
    this.refresh(objectKey(svc));
  }

  async ensureLoadBalancerDeleted(_cluster: string, svc: KObject): Promise<void> {
    const key = objectKey(svc);
    const b = this.balancers.get(key);
    if (!b) return;
    this.balancers.delete(key);
    await this.closeListeners(b);
    this.log(`${key}: load balancer ${b.name} on ${b.ip} deleted`);
  }

  /** The listeners of a Service's balancer, for tests and diagnostics. */
  listenersOf(key: string): Listener[] {
    return [...(this.balancers.get(key)?.listeners.values() ?? [])];
  }

  private async closeListeners(b: Balancer): Promise<void> {
    const ls = [...b.listeners.values()];
    b.listeners.clear();
    await Promise.all(ls.map((l) => l.close()));
  }

  /** The ingress IP for a Service: its requested one, the one it already has, or the lowest free one. */
  private chooseIP(svc: KObject, current: string | undefined): string {
    if (this.config.address) {
      const requested = svc.spec?.loadBalancerIP;
      if (requested && requested !== this.config.address) throw new Error(`spec.loadBalancerIP ${requested} is not the local load balancer's address ${this.config.address}`);
      return this.config.address;
    }
    const range = parseCIDR(this.config.ipRange!)!;
    const key = objectKey(svc);
    const taken = this.takenIPs(key);
    const requested: string | undefined = svc.spec?.loadBalancerIP || undefined;
    if (requested) {
      if (!rangeContainsIP(range, requested)) throw new Error(`spec.loadBalancerIP ${requested} is not in the local load balancer range ${this.config.ipRange}`);
      const owner = taken.get(requested);
      if (owner) throw new Error(`spec.loadBalancerIP ${requested} is already used by Service ${owner}`);
      return requested;
    }
    if (current) return current;
    // After a restart, keep the address the Service already publishes.
    const previous: string | undefined = svc.status?.loadBalancer?.ingress?.[0]?.ip;
    if (previous && rangeContainsIP(range, previous) && !taken.has(previous)) return previous;
    // Skip the range's first and last address when it has room, as for any subnet.
    const first = range.size > 2 ? 1 : 0;
    const last = range.size > 2 ? range.size - 2 : range.size - 1;
    for (let i = first; i <= last; i++) {
      const ip = formatIPv4(range.base + i);
      if (!taken.has(ip)) return ip;
    }
    throw new Error(`no free address left in the local load balancer range ${this.config.ipRange}`);
  }

  /** Addresses in use by other Services: our balancers, and what other Services publish or request. */
  private takenIPs(exceptKey: string): Map<string, string> {
    const taken = new Map<string, string>();
    for (const b of this.balancers.values()) if (b.key !== exceptKey) taken.set(b.ip, b.key);
    for (const s of this.services?.indexer.list() ?? []) {
      const k = objectKey(s);
      if (k === exceptKey || s.spec?.type !== 'LoadBalancer') continue;
      for (const ing of (s.status?.loadBalancer?.ingress ?? []) as any[]) if (ing?.ip && !taken.has(ing.ip)) taken.set(ing.ip, k);
      if (s.spec?.loadBalancerIP && !taken.has(s.spec.loadBalancerIP)) taken.set(s.spec.loadBalancerIP, k);
    }
    return taken;
  }

  private refreshSoon(key: string): void {
    if (!this.balancers.has(key)) return;
    this.pending.add(key);
    this.flush ??= setImmediate(() => {
      this.flush = undefined;
      const keys = [...this.pending];
      this.pending.clear();
      for (const k of keys) this.refresh(k);
    });
  }

  /** Recompute every listener's backends of one Service from the current slices. */
  private refresh(key: string): void {
    const b = this.balancers.get(key);
    if (!b) return;
    const slices = this.slices?.indexer.byIndex(SLICE_INDEX, key) ?? [];
    const nodeByName = (n: string) => this.nodes?.indexer.getByKey(n);
    const bridged = this.machine.bridgedPodRanges(this.nodes?.indexer.list() ?? []);
    const routable = (address: string, nodeName: string | undefined) => endpointRoutable(address, nodeName, nodeByName, bridged);
    const onSkip = (address: string) => {
      const k = `${key}/${address}`;
      if (this.skipped.has(k)) return;
      this.skipped.add(k);
      this.log(`${key}: not forwarding to ${address}: not reachable from this machine (a simulated pod, or no local bridge for its pod range)`);
    };
    for (const sp of (b.service.spec?.ports ?? []) as any[]) {
      const l = b.listeners.get(`${sp?.protocol ?? 'TCP'}/${sp?.port}`);
      if (!l) continue;
      const viaNodePort = this.config.forwardTo === 'nodePorts' ? nodePortBackend(sp) : undefined;
      l.setBackends(viaNodePort ? [viaNodePort] : backendsFor(b.service, sp, slices, routable, onSkip));
    }
  }
}
