// The pod's DNS settings and hostname for its sandbox (upstream pkg/kubelet/network/dns and
// GeneratePodHostNameAndDomain). The kubelet only computes them: containerd writes the sandbox's
// resolv.conf from PodSandboxConfig.dnsConfig (or copies the host's when it is empty) and its
// /etc/hostname from PodSandboxConfig.hostname; /etc/hosts is the kubelet's (see volumes/etc-hosts.ts).

import { readFileSync } from 'node:fs';
import { isDNS1123Label, isDNS1123Subdomain } from '../../api/validation.ts';
import type { Pod } from './api-types.ts';
import type { DNSConfig } from './cri-types.ts';
import { formatPod } from './format.ts';

export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
const DNS1123_SUBDOMAIN_MAX = 253;
const DEFAULT_DNS_OPTIONS = ['ndots:5'];

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

function optionName(o: string): string {
  return o.split(':')[0];
}

/** Later options replace earlier ones of the same name. */
function appendOptions(options: string[], more: string[]): string[] {
  const m = new Map<string, string>();
  for (const o of [...options, ...more]) m.set(optionName(o), o);
  return [...m.values()];
}

/** nameserver lines accumulate, the last search line wins (trailing dots dropped, "." skipped), options merge. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    const f = line.split(/\s+/).filter(Boolean);
    if (!f.length) continue;
    if (f[0] === 'nameserver' && f.length >= 2) out.nameservers.push(f[1]);
    if (f[0] === 'search') out.searches = f.slice(1).filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    if (f[0] === 'options') out.options = appendOptions(out.options, f.slice(1));
  }
  return out;
}

function omitDuplicates(list: string[]): string[] {
  return [...new Set(list)];
}

/** Options from dnsConfig replace same-named ones; `name` or `name:value`. */
function mergeDNSOptions(existing: string[], extra: { name: string; value?: string }[]): string[] {
  const m = new Map<string, string>();
  for (const o of existing) {
    const i = o.indexOf(':');
    if (i >= 0) m.set(o.slice(0, i), o.slice(i + 1));
    else m.set(o, '');
  }
  for (const o of extra) m.set(o.name, o.value ?? '');
  return [...m].map(([k, v]) => (v !== '' ? `${k}:${v}` : k));
}

export interface DNSOptions {
  /** The cluster DNS server IPs (the kubelet's --cluster-dns). */
  clusterDNS: string[];
  /** The kubelet's --cluster-domain, e.g. cluster.local. */
  clusterDomain: string;
  /** The host's resolv.conf (path, default /etc/resolv.conf), or '' for none (localhost resolver). */
  resolvConfPath?: string;
  /** Or its content directly (tests). */
  resolvConfText?: string;
  /**
   * Where to look for the real resolvers when the host's resolv.conf names only loopback ones
   * (systemd-resolved's stub 127.0.0.53, a local dnsmasq), which a pod in its own network
   * namespace cannot reach (default /run/systemd/resolve/resolv.conf, as k3s does).
   */
  loopbackFallbackPath?: string;
  /** Node IPs, for the `--resolv-conf=""` case. */
  nodeIPs?: string[];
  recordEvent?: (type: 'Warning', reason: string, message: string) => void;
}

type DNSType = 'None' | 'Cluster' | 'Host';

function podDNSType(pod: Pod): DNSType {
  switch (pod.spec.dnsPolicy ?? 'ClusterFirst') {
    case 'None':
      return 'None';
    case 'ClusterFirstWithHostNet':
      return 'Cluster';
    case 'ClusterFirst':
      return pod.spec.hostNetwork ? 'Host' : 'Cluster';
    case 'Default':
      return 'Host';
    default:
      return 'Cluster';
  }
}

function hostResolvConf(opts: DNSOptions): ResolvConf {
  if (opts.resolvConfText !== undefined) return parseResolvConf(opts.resolvConfText);
  const path = opts.resolvConfPath ?? '/etc/resolv.conf';
  if (path === '') return { nameservers: [], searches: [], options: [] };
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return { nameservers: [], searches: [], options: [] };
  }
}

/** The sandbox's DNSConfig for the pod's dnsPolicy and dnsConfig (upstream GetPodDNS). */
export function podDNSConfig(pod: Pod, opts: DNSOptions): DNSConfig {
  const host = hostResolvConf(opts);
  let cfg: Required<DNSConfig> = { servers: host.nameservers, searches: host.searches, options: host.options };
  let type = podDNSType(pod);
  if (type === 'Cluster' && opts.clusterDNS.length === 0) {
    const msg = `kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`;
    opts.recordEvent?.('Warning', 'MissingClusterDNS', `pod: "${formatPod(pod)}". ${msg}`);
    type = 'Host';
  }
  if (type === 'None') {
    cfg = { servers: [], searches: [], options: [] };
  } else if (type === 'Cluster') {
    let searches = host.searches;
    if (opts.clusterDomain) {
      const ns = pod.metadata.namespace ?? 'default';
      searches = omitDuplicates([`${ns}.svc.${opts.clusterDomain}`, `svc.${opts.clusterDomain}`, opts.clusterDomain, ...host.searches]);
    }
    cfg = { servers: [...opts.clusterDNS], searches, options: [...DEFAULT_DNS_OPTIONS] };
  } else if ((opts.resolvConfPath ?? '/etc/resolv.conf') === '' && opts.resolvConfText === undefined) {
    const servers = (opts.nodeIPs ?? []).map((ip) => (ip.includes(':') ? '::1' : '127.0.0.1'));
    cfg.servers = servers.length ? servers : ['127.0.0.1'];
    cfg.searches = ['.'];
  }
  const noResolvConf = (opts.resolvConfPath ?? '/etc/resolv.conf') === '' && opts.resolvConfText === undefined;
  // (Without a resolv.conf, upstream deliberately points pods at localhost: left as it is.)
  if (type === 'Host' && !pod.spec.hostNetwork && !noResolvConf) cfg = avoidLoopback(cfg, opts);
  const dc = pod.spec.dnsConfig;
  if (dc) {
    cfg = {
      servers: omitDuplicates([...cfg.servers, ...(dc.nameservers ?? [])]),
      searches: omitDuplicates([...cfg.searches, ...(dc.searches ?? [])]),
      options: mergeDNSOptions(cfg.options, dc.options ?? []),
    };
  }
  cfg.searches = fitSearches(cfg.searches, opts);
  if (cfg.servers.length > MAX_DNS_NAMESERVERS) {
    cfg.servers = cfg.servers.slice(0, MAX_DNS_NAMESERVERS);
    opts.recordEvent?.('Warning', 'DNSConfigForming', `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${cfg.servers.join(' ')}`);
  }
  return cfg;
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

/**
 * A pod with its own network namespace cannot reach the node's loopback resolvers: use the
 * fallback file's (systemd-resolved's upstream list) when it has other ones, else keep what there
 * is and say why the pod's lookups will fail.
 */
function avoidLoopback(cfg: Required<DNSConfig>, opts: DNSOptions): Required<DNSConfig> {
  if (!cfg.servers.some(isLoopback)) return cfg;
  const reachable = cfg.servers.filter((s) => !isLoopback(s));
  if (reachable.length) return { ...cfg, servers: reachable };
  let fallback: string[] = [];
  try {
    fallback = parseResolvConf(readFileSync(opts.loopbackFallbackPath ?? '/run/systemd/resolve/resolv.conf', 'utf8')).nameservers.filter((s) => !isLoopback(s));
  } catch {
    // no such file
  }
  if (fallback.length) return { ...cfg, servers: fallback };
  opts.recordEvent?.('Warning', 'DNSConfigForming', `the node's resolv.conf names only loopback nameservers (${cfg.servers.join(' ')}), which the pod cannot reach from its network namespace`);
  return cfg;
}

function fitSearches(searches: string[], opts: DNSOptions): string[] {
  let exceeded = false;
  let s = searches;
  if (s.length > MAX_DNS_SEARCH_PATHS) {
    s = s.slice(0, MAX_DNS_SEARCH_PATHS);
    exceeded = true;
  }
  const kept = s.filter((d) => d.length <= DNS1123_SUBDOMAIN_MAX);
  if (kept.length !== s.length) exceeded = true;
  s = kept;
  const lineLen = s.join(' ').length;
  if (lineLen > MAX_DNS_SEARCH_LIST_CHARS) {
    let cut = 0;
    let cutLen = 0;
    for (let i = s.length - 1; i >= 0; i--) {
      cutLen += s[i].length + 1;
      cut++;
      if (lineLen - cutLen <= MAX_DNS_SEARCH_LIST_CHARS) break;
    }
    s = s.slice(0, s.length - cut);
    exceeded = true;
  }
  if (exceeded) {
    opts.recordEvent?.('Warning', 'DNSConfigForming', `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${s.join(' ')}`);
  }
  return s;
}

/** resolv.conf text for a DNSConfig, as containerd writes it (for tests and host-side tools). */
export function resolvConfText(cfg: DNSConfig): string {
  let out = '';
  if (cfg.searches?.length) out += `search ${cfg.searches.join(' ')}\n`;
  for (const s of cfg.servers ?? []) out += `nameserver ${s}\n`;
  if (cfg.options?.length) out += `options ${cfg.options.join(' ')}\n`;
  return out;
}

/** Hostname (truncated to 63, no trailing '-' or '.') and domain `<subdomain>.<ns>.svc.<cluster domain>`. */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  let hostname = pod.metadata.name ?? '';
  if (pod.spec.hostname) {
    const errs = isDNS1123Label(pod.spec.hostname);
    if (errs.length) throw new Error(`pod Hostname "${pod.spec.hostname}" is not a valid DNS label: ${errs.join(';')}`);
    hostname = pod.spec.hostname;
  }
  if (hostname.length > 63) {
    hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
    if (!hostname) throw new Error(`hostname for pod "${pod.metadata.name}" was invalid: "${pod.spec.hostname ?? pod.metadata.name}"`);
  }
  let domain = '';
  if (pod.spec.subdomain) {
    const errs = isDNS1123Label(pod.spec.subdomain);
    if (errs.length) throw new Error(`pod Subdomain "${pod.spec.subdomain}" is not a valid DNS label: ${errs.join(';')}`);
    domain = `${pod.spec.subdomain}.${pod.metadata.namespace}.svc.${clusterDomain}`;
  }
  return { hostname, domain };
}

/** The sandbox hostname: the FQDN with setHostnameAsFQDN (at most 64 characters), else the short name. */
export function kernelHostname(hostname: string, domain: string, setHostnameAsFQDN?: boolean): string {
  if (!domain || !setHostnameAsFQDN) return hostname;
  const fqdn = `${hostname}.${domain}`;
  if (fqdn.length > 64) {
    throw new Error(`failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (64 characters is the max, ${fqdn.length} characters requested)`);
  }
  return fqdn;
}

/** Reject a cluster domain that could not form valid search paths (start-up check for the core). */
export function validateClusterDomain(domain: string): string[] {
  return domain ? isDNS1123Subdomain(domain) : [];
}
