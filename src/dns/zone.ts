// The cluster zone in memory: every name the Services and pods give (upstream's DNS spec), indexed
// by name and by address, rebuilt per Service when it changes. lookup() answers one question from
// these maps alone; nothing here does I/O (CoreDNS's kubernetes plugin works the same way).

import { isIPv4 } from 'node:net';
import type { PodEntry, ServiceEntry, ZoneUpdate } from './entries.ts';
import { canonicalName, dashedIP, ipFromDashed, ipFromReverseName, isReverseName } from './names.ts';

export interface Srv {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** The records at one name. */
interface NameRecords {
  a: string[];
  aaaa: string[];
  srv: Srv[];
  cname?: string;
}

/** One resource record, in dns-packet's shape. */
export type ZoneRecord =
  | { type: 'A' | 'AAAA' | 'CNAME' | 'PTR'; name: string; ttl: number; data: string }
  | { type: 'SRV'; name: string; ttl: number; data: Srv }
  | { type: 'TXT'; name: string; ttl: number; data: string }
  | { type: 'NS'; name: string; ttl: number; data: string }
  | { type: 'SOA'; name: string; ttl: number; data: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number } };

export type LookupResult =
  /** Records for the question (answers at the asked name use `qname` as given). */
  | { kind: 'answer'; answers: ZoneRecord[]; additionals: ZoneRecord[]; /** A CNAME out of the zone the server may chase. */ chase?: string }
  | { kind: 'nodata' }
  | { kind: 'nxdomain' }
  /** Not the cluster's to answer: forward upstream. */
  | { kind: 'forward' };

export type PodMode = 'insecure' | 'verified' | 'disabled';

export interface ZoneOptions {
  /** e.g. cluster.local */
  domain: string;
  ttl?: number;
  /** `a-b-c-d.<ns>.pod.<domain>`: any address (insecure, CoreDNS's and k3s's default), only known pods (verified), or none. */
  pods?: PodMode;
}

const DNS_SCHEMA_VERSION = '1.1.0';

export class ClusterZone {
  readonly domain: string;
  readonly ttl: number;
  readonly pods: PodMode;
  private readonly suffix: string;
  private names = new Map<string, NameRecords>();
  /** The names each Service put into `names`, to take them out again. */
  private serviceNames = new Map<string, string[]>();
  /** Address → owner (service key) → PTR targets. */
  private ptr = new Map<string, Map<string, string[]>>();
  private servicePtrIPs = new Map<string, string[]>();
  /** Services per namespace: `<ns>.svc.<domain>` exists while it has one. */
  private namespaces = new Map<string, number>();
  private podsByKey = new Map<string, PodEntry>();
  /** Address → pod keys holding it (for pod PTR and verified pod names). */
  private podIPs = new Map<string, Set<string>>();
  /** Bumped on every change: answers cached under an older serial are stale. */
  serial: number;

  constructor(opts: ZoneOptions) {
    this.domain = canonicalName(opts.domain);
    this.suffix = `.${this.domain}`;
    this.ttl = opts.ttl ?? 5;
    this.pods = opts.pods ?? 'insecure';
    this.serial = Math.floor(Date.now() / 1000);
  }

  apply(u: ZoneUpdate): void {
    if (u.kind === 'service') this.setService(u.key, u.entry);
    else this.setPod(u.key, u.entry);
    this.serial++;
  }

  get serviceCount(): number {
    return this.serviceNames.size;
  }

  // ---- building ----

  private setService(key: string, e: ServiceEntry | undefined): void {
    for (const n of this.serviceNames.get(key) ?? []) this.names.delete(n);
    for (const ip of this.servicePtrIPs.get(key) ?? []) {
      const owners = this.ptr.get(ip);
      owners?.delete(key);
      if (owners?.size === 0) this.ptr.delete(ip);
    }
    const oldNs = key.slice(0, key.indexOf('/'));
    if (this.serviceNames.has(key)) {
      const n = (this.namespaces.get(oldNs) ?? 1) - 1;
      if (n > 0) this.namespaces.set(oldNs, n);
      else this.namespaces.delete(oldNs);
    }
    this.serviceNames.delete(key);
    this.servicePtrIPs.delete(key);
    if (!e) return;

    const built = new Map<string, NameRecords>();
    const ptrs = new Map<string, string[]>();
    const at = (name: string) => {
      let r = built.get(name);
      if (!r) built.set(name, (r = { a: [], aaaa: [], srv: [] }));
      return r;
    };
    const addIP = (r: NameRecords, ip: string) => {
      const list = isIPv4(ip) ? r.a : r.aaaa;
      if (!list.includes(ip)) list.push(ip);
    };
    const addPtr = (ip: string, target: string) => {
      const l = ptrs.get(ip) ?? [];
      if (!l.includes(target)) l.push(target);
      ptrs.set(ip, l);
    };
    const base = `${e.name}.${e.namespace}.svc.${this.domain}`;
    const svcRec = at(base);
    if (e.kind === 'ExternalName') {
      svcRec.cname = e.externalName;
    } else if (e.kind === 'ClusterIP') {
      for (const ip of e.clusterIPs) {
        addIP(svcRec, ip);
        addPtr(ip, base);
      }
      const weight = Math.floor(100 / Math.max(1, e.ports.length));
      for (const p of e.ports) {
        const srv = { priority: 0, weight, port: p.port, target: base };
        svcRec.srv.push(srv);
        if (p.name) at(`_${p.name}._${p.protocol.toLowerCase()}.${base}`).srv.push({ ...srv, weight: 100 });
      }
    } else {
      const perName = new Map<string, Srv[]>();
      const allSrv: Srv[] = [];
      for (const ep of e.endpoints) {
        const host = `${ep.hostname ?? dashedIP(ep.ips[0])}.${base}`;
        const hostRec = at(host);
        for (const ip of ep.ips) {
          addIP(svcRec, ip);
          addIP(hostRec, ip);
          addPtr(ip, host);
        }
        for (const p of ep.ports) {
          const srv = { priority: 0, weight: 0, port: p.port, target: host };
          allSrv.push(srv);
          if (!p.name) continue;
          const n = `_${p.name}._${p.protocol.toLowerCase()}.${base}`;
          const l = perName.get(n) ?? [];
          if (!l.some((s) => s.target === host && s.port === p.port)) l.push(srv);
          perName.set(n, l);
        }
      }
      // Equal shares of 100 among a name's targets, as CoreDNS weighs them.
      const weigh = (l: Srv[]) => l.map((s) => ({ ...s, weight: Math.floor(100 / l.length) }));
      svcRec.srv = weigh(dedupeSrv(allSrv));
      for (const [n, l] of perName) at(n).srv = weigh(l);
    }
    for (const [n, r] of built) this.names.set(n, r);
    this.serviceNames.set(key, [...built.keys()]);
    for (const [ip, targets] of ptrs) {
      let owners = this.ptr.get(ip);
      if (!owners) this.ptr.set(ip, (owners = new Map()));
      owners.set(key, targets);
    }
    this.servicePtrIPs.set(key, [...ptrs.keys()]);
    this.namespaces.set(e.namespace, (this.namespaces.get(e.namespace) ?? 0) + 1);
  }

  private setPod(key: string, e: PodEntry | undefined): void {
    for (const ip of this.podsByKey.get(key)?.ips ?? []) {
      const s = this.podIPs.get(ip);
      s?.delete(key);
      if (s?.size === 0) this.podIPs.delete(ip);
    }
    this.podsByKey.delete(key);
    if (!e) return;
    this.podsByKey.set(key, e);
    for (const ip of e.ips) {
      let s = this.podIPs.get(ip);
      if (!s) this.podIPs.set(ip, (s = new Set()));
      s.add(key);
    }
  }

  // ---- answering ----

  /** Answer one question; `name` as asked (any case, trailing dot or not). */
  lookup(name: string, type: string): LookupResult {
    const q = canonicalName(name);
    if (q === this.domain) return this.apex(name, type);
    if (!q.endsWith(this.suffix)) return isReverseName(q) ? this.reverse(name, q, type) : { kind: 'forward' };
    const rel = q.slice(0, -this.suffix.length);
    const labels = rel.split('.');
    const top = labels[labels.length - 1];
    if (rel === 'dns-version') return type === 'TXT' || type === 'ANY' ? answer([{ type: 'TXT', name, ttl: this.ttl, data: DNS_SCHEMA_VERSION }]) : { kind: 'nodata' };
    if (top === 'svc') {
      if (labels.length === 1) return { kind: 'nodata' };
      if (labels.length === 2) return this.namespaces.has(labels[0]) ? { kind: 'nodata' } : { kind: 'nxdomain' };
      const r = this.names.get(q);
      return r ? this.records(name, r, type) : { kind: 'nxdomain' };
    }
    if (top === 'pod') {
      if (labels.length <= 2) return { kind: 'nodata' };
      if (labels.length !== 3 || this.pods === 'disabled') return { kind: 'nxdomain' };
      const ip = ipFromDashed(labels[0]);
      if (!ip || !this.podNameValid(ip, labels[1])) return { kind: 'nxdomain' };
      const want = isIPv4(ip) ? 'A' : 'AAAA';
      if (type !== want && type !== 'ANY') return { kind: 'nodata' };
      return answer([{ type: want, name, ttl: this.ttl, data: ip }]);
    }
    return { kind: 'nxdomain' };
  }

  /** The zone's SOA record (also the authority of negative answers). */
  soa(): ZoneRecord {
    return {
      type: 'SOA',
      name: this.domain,
      ttl: this.ttl,
      data: { mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: this.serial >>> 0, refresh: 7200, retry: 1800, expire: 86400, minimum: this.ttl },
    };
  }

  private podNameValid(ip: string, namespace: string): boolean {
    if (this.pods === 'insecure') return true;
    for (const key of this.podIPs.get(ip) ?? []) if (this.podsByKey.get(key)?.namespace === namespace) return true;
    return false;
  }

  private apex(name: string, type: string): LookupResult {
    if (type === 'SOA') return answer([{ ...this.soa(), name }]);
    if (type === 'NS') return answer([{ type: 'NS', name, ttl: this.ttl, data: `ns.dns.${this.domain}` }]);
    return { kind: 'nodata' };
  }

  private records(name: string, r: NameRecords, type: string): LookupResult {
    if (r.cname) {
      const cname: ZoneRecord = { type: 'CNAME', name, ttl: this.ttl, data: r.cname };
      if (type === 'CNAME') return answer([cname]);
      // An ExternalName pointing back into the cluster resolves here; anything else is chased upstream.
      const inner = r.cname.endsWith(this.suffix) ? this.lookup(r.cname, type) : undefined;
      if (inner?.kind === 'answer') return answer([cname, ...inner.answers], inner.additionals);
      return { kind: 'answer', answers: [cname], additionals: [], chase: inner ? undefined : r.cname };
    }
    const out: ZoneRecord[] = [];
    const additionals: ZoneRecord[] = [];
    if (type === 'A' || type === 'ANY') for (const ip of r.a) out.push({ type: 'A', name, ttl: this.ttl, data: ip });
    if (type === 'AAAA' || type === 'ANY') for (const ip of r.aaaa) out.push({ type: 'AAAA', name, ttl: this.ttl, data: ip });
    if (type === 'SRV' || type === 'ANY') {
      const targets = new Set<string>();
      for (const s of r.srv) {
        out.push({ type: 'SRV', name, ttl: this.ttl, data: s });
        targets.add(s.target);
      }
      for (const t of targets) {
        const tr = this.names.get(t);
        if (!tr) continue;
        for (const ip of tr.a) additionals.push({ type: 'A', name: t, ttl: this.ttl, data: ip });
        for (const ip of tr.aaaa) additionals.push({ type: 'AAAA', name: t, ttl: this.ttl, data: ip });
      }
    }
    return out.length ? answer(out, additionals) : { kind: 'nodata' };
  }

  private reverse(name: string, q: string, type: string): LookupResult {
    const ip = ipFromReverseName(q);
    if (!ip) return { kind: 'forward' };
    const targets = new Set<string>();
    for (const l of this.ptr.get(ip)?.values() ?? []) for (const t of l) targets.add(t);
    if (!targets.size) {
      // A pod behind no Service: its own pod name (one per namespace it is known in).
      for (const key of this.podIPs.get(ip) ?? []) targets.add(`${dashedIP(ip)}.${this.podsByKey.get(key)!.namespace}.pod.${this.domain}`);
    }
    // Addresses the cluster does not know go upstream, as CoreDNS's fallthrough for the reverse zones.
    if (!targets.size) return { kind: 'forward' };
    if (type !== 'PTR' && type !== 'ANY') return { kind: 'nodata' };
    return answer([...targets].sort().map((t) => ({ type: 'PTR' as const, name, ttl: this.ttl, data: t })));
  }
}

function answer(answers: ZoneRecord[], additionals: ZoneRecord[] = []): LookupResult {
  return { kind: 'answer', answers, additionals };
}

function dedupeSrv(l: Srv[]): Srv[] {
  const seen = new Set<string>();
  return l.filter((s) => {
    const k = `${s.target}:${s.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
