// Service rules in the shape of kube-proxy's iptables mode (read for its design, written anew):
//
//   nat  PREROUTING/OUTPUT → MZ-SERVICES: per service port `-d <clusterIP> --dport <port>` → MZ-SVC-x
//        (or MZ-SVL-x, the local endpoints, for internalTrafficPolicy Local); external IPs and, last,
//        node-local destinations → MZ-NODEPORTS → MZ-EXT-x (masquerade, then MZ-SVC-x or, for
//        externalTrafficPolicy Local, MZ-SVL-x).
//   MZ-SVC-x: mark off-cluster clients for masquerade; mark hairpin (an endpoint as client); then one
//        DNAT per endpoint picked by `statistic --mode random` with probability 1/(n-i), so each of n
//        endpoints gets 1/n; ClientIP affinity adds an xt_recent check per endpoint before them and
//        records the client with the DNAT that picked it.
//   filter MZ-SERVICES / MZ-EXTERNAL-SERVICES (NEW connections): REJECT for a port without usable
//        endpoints (the client gets "connection refused" at once), DROP when only the Local policy
//        leaves none; a packet that a nat rule DNATed no longer matches these.
//
// Unlike upstream there is no KUBE-SEP-x chain per endpoint: its two rules (hairpin mark, DNAT)
// live in the service chain, which is what keeps 1,000 × 10 endpoints at ~1,000 chains (nft-based
// iptables restores time grows with the number of chains). The one visible difference: traffic
// from any endpoint of a Service to that Service is masqueraded, not only hairpin traffic.

import type { EndpointInfo, ServicePortInfo } from '../model.ts';
import { usableEndpoints } from '../model.ts';
import { FILTER, MASQ_MARK, NAT, affinityName, comment, extChain, lowerProto, svcChain, svlChain, type BuiltinJump, type Chains } from './chains.ts';

export interface ServiceRulesConfig {
  /** Pod addresses: traffic from elsewhere to a cluster IP is masqueraded (upstream's --cluster-cidr). */
  clusterCIDR?: string;
  /** Addresses where NodePorts answer besides 127.0.0.0/8; empty = every local address. */
  nodePortAddresses?: string[];
}

/** What one service port contributes to the tables. */
export interface ServicePortRules {
  /** Its own nat chains (MZ-SVC/SVL/EXT-x). */
  natChains: [string, string[]][];
  natServices: string[];
  natNodePorts: string[];
  filterServices: string[];
  filterExternal: string[];
}

function protoMatch(p: string, port: number): string {
  const l = lowerProto(p);
  return `-p ${l} -m ${l} --dport ${port}`;
}

function probability(n: number): string {
  return (1 / n).toFixed(10);
}

function endpointRules(sp: ServicePortInfo, eps: EndpointInfo[]): string[] {
  const rules: string[] = [];
  const l = lowerProto(sp.protocol);
  for (const ep of eps) rules.push(`-s ${ep.ip}/32 ${comment(`${sp.key} hairpin ${ep.ip}`)} -j ${NAT.markMasq}`);
  const dest = (ep: EndpointInfo) => `-j DNAT --to-destination ${ep.ip}:${ep.port}`;
  if (sp.affinitySeconds > 0)
    for (const ep of eps)
      rules.push(
        `-p ${l} ${comment(`${sp.key} -> ${ep.ip}:${ep.port}`)} -m recent --name ${affinityName(sp.key, sp.protocol, `${ep.ip}:${ep.port}`)} --rcheck --seconds ${sp.affinitySeconds} --reap ${dest(ep)}`,
      );
  eps.forEach((ep, i) => {
    const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : '';
    const remember = sp.affinitySeconds > 0 ? ` -m recent --name ${affinityName(sp.key, sp.protocol, `${ep.ip}:${ep.port}`)} --set` : '';
    rules.push(`-p ${l} ${comment(`${sp.key} -> ${ep.ip}:${ep.port}`)}${stat}${remember} ${dest(ep)}`);
  });
  return rules;
}

/** Match lines for "addressed to this node" (one rule is made per entry). */
export function nodeAddressMatches(cfg: ServiceRulesConfig): string[] {
  if (!cfg.nodePortAddresses?.length) return ['-m addrtype --dst-type LOCAL'];
  return [...cfg.nodePortAddresses.map((ip) => `-d ${ip}/32`), '-d 127.0.0.0/8'];
}

export function servicePortRules(sp: ServicePortInfo, endpoints: EndpointInfo[], cfg: ServiceRulesConfig): ServicePortRules {
  const out: ServicePortRules = { natChains: [], natServices: [], natNodePorts: [], filterServices: [], filterExternal: [] };
  if (!sp.clusterIP) return out; // headless: DNS only
  const { cluster, local } = usableEndpoints(sp, endpoints);
  const svc = svcChain(sp.key, sp.protocol);
  const svl = svlChain(sp.key, sp.protocol);
  const ext = extChain(sp.key, sp.protocol);
  const pm = protoMatch(sp.protocol, sp.port);
  const hasExternal = sp.nodePort > 0 || sp.externalIPs.length > 0;
  const usesLocal = sp.internalLocal || sp.externalLocal;

  // The cluster-wide chain, unless only the local one is ever used (internal Local, no external access).
  if (cluster.length > 0 && (!sp.internalLocal || hasExternal)) {
    const rules: string[] = [];
    if (cfg.clusterCIDR) rules.push(`! -s ${cfg.clusterCIDR} -d ${sp.clusterIP}/32 ${pm} ${comment(`${sp.key} cluster IP`)} -j ${NAT.markMasq}`);
    rules.push(...endpointRules(sp, cluster));
    out.natChains.push([svc, rules]);
  }
  if (usesLocal && local.length > 0) out.natChains.push([svl, endpointRules(sp, local)]);

  // Traffic to the cluster IP.
  // TCP gets a reset, not the default ICMP port-unreachable: the kernel sends at most about one
  // ICMP error per second to a host (measured: a pod retrying at once timed out), a RST always goes.
  const reject = sp.protocol === 'TCP' ? 'REJECT --reject-with tcp-reset' : 'REJECT';
  const noEndpoints = `${comment(`${sp.key} has no endpoints`)} -j ${reject}`;
  const noLocal = `${comment(`${sp.key} has no local endpoints`)} -j DROP`;
  const ipMatch = `-d ${sp.clusterIP}/32 ${pm}`;
  if (sp.internalLocal) {
    if (local.length > 0) out.natServices.push(`${ipMatch} ${comment(`${sp.key} cluster IP`)} -j ${svl}`);
    else out.filterServices.push(`${ipMatch} ${cluster.length > 0 ? noLocal : noEndpoints}`);
  } else if (cluster.length > 0) out.natServices.push(`${ipMatch} ${comment(`${sp.key} cluster IP`)} -j ${svc}`);
  else out.filterServices.push(`${ipMatch} ${noEndpoints}`);

  if (!hasExternal) return out;
  // Traffic from outside: node ports, external IPs, load-balancer IPs.
  if (cluster.length > 0) {
    const rules: string[] = [];
    if (!sp.externalLocal) {
      rules.push(`${comment(`masquerade traffic for ${sp.key} external destinations`)} -j ${NAT.markMasq}`);
      rules.push(`-j ${svc}`);
    } else {
      // Pods and the node itself may use any endpoint; only outside clients keep their address.
      if (cfg.clusterCIDR) rules.push(`-s ${cfg.clusterCIDR} ${comment(`pod traffic for ${sp.key} external destinations`)} -j ${svc}`);
      rules.push(`-m addrtype --src-type LOCAL ${comment(`masquerade LOCAL traffic for ${sp.key} external destinations`)} -j ${NAT.markMasq}`);
      rules.push(`-m addrtype --src-type LOCAL ${comment(`route LOCAL traffic for ${sp.key} external destinations`)} -j ${svc}`);
      if (local.length > 0) rules.push(`-j ${svl}`);
    }
    out.natChains.push([ext, rules]);
    for (const ip of sp.externalIPs) out.natServices.push(`-d ${ip}/32 ${pm} ${comment(`${sp.key} external IP`)} -j ${ext}`);
    if (sp.nodePort > 0) out.natNodePorts.push(`${protoMatch(sp.protocol, sp.nodePort)} ${comment(sp.key)} -j ${ext}`);
  }
  const externalFilter = cluster.length === 0 ? noEndpoints : sp.externalLocal && local.length === 0 ? noLocal : '';
  if (externalFilter) {
    for (const ip of sp.externalIPs) out.filterExternal.push(`-d ${ip}/32 ${pm} ${externalFilter}`);
    if (sp.nodePort > 0) for (const m of nodeAddressMatches(cfg)) out.filterExternal.push(`${m} ${protoMatch(sp.protocol, sp.nodePort)} ${externalFilter}`);
  }
  return out;
}

/** The fixed chains, filled with every service port's rules. Ports are taken in the given order. */
export function assembleServiceTables(ports: ServicePortRules[], cfg: ServiceRulesConfig): { nat: Chains; filter: Chains } {
  const nat: Chains = new Map();
  const filter: Chains = new Map();
  const services: string[] = [];
  const nodePorts: string[] = [];
  const fServices: string[] = [];
  const fExternal: string[] = [];
  nat.set(NAT.services, services);
  nat.set(NAT.nodePorts, nodePorts);
  nat.set(NAT.markMasq, [`-j MARK --or-mark ${MASQ_MARK}`]);
  nat.set(NAT.postrouting, [
    `-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    // Clear the bit so a packet that goes round again (e.g. through a tunnel) is not masqueraded twice.
    `-j MARK --xor-mark ${MASQ_MARK}`,
    `${comment('mizzen service traffic requiring SNAT')} -j MASQUERADE --random-fully`,
  ]);
  for (const p of ports) {
    for (const [name, rules] of p.natChains) nat.set(name, rules);
    services.push(...p.natServices);
    nodePorts.push(...p.natNodePorts);
    fServices.push(...p.filterServices);
    fExternal.push(...p.filterExternal);
  }
  // Last: anything addressed to the node itself may be a NodePort.
  for (const m of nodeAddressMatches(cfg)) services.push(`${m} ${comment('mizzen service nodeports; NOTE: this must be the last rule in this chain')} -j ${NAT.nodePorts}`);
  filter.set(FILTER.services, fServices);
  filter.set(FILTER.externalServices, fExternal);
  filter.set(FILTER.forward, [
    `-m conntrack --ctstate INVALID -j DROP`,
    `${comment('mizzen forwarding rules')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
    `${comment('mizzen forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  ]);
  // route_localnet lets 127.0.0.1 NodePorts be DNATed; never let outside packets use it.
  filter.set(FILTER.firewall, [`! -s 127.0.0.0/8 -d 127.0.0.0/8 ${comment('block incoming localnet connections')} -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`]);
  return { nat, filter };
}

/** Jumps from the built-in chains, in the order they must appear at the top of each. */
export const BUILTIN_JUMPS: BuiltinJump[] = [
  { table: 'nat', chain: 'PREROUTING', rule: `${comment('mizzen service portals')} -j ${NAT.services}` },
  { table: 'nat', chain: 'OUTPUT', rule: `${comment('mizzen service portals')} -j ${NAT.services}` },
  { table: 'nat', chain: 'POSTROUTING', rule: `${comment('mizzen postrouting rules')} -j ${NAT.postrouting}` },
  { table: 'filter', chain: 'INPUT', rule: `-m conntrack --ctstate NEW ${comment('mizzen externally-visible service portals')} -j ${FILTER.externalServices}` },
  { table: 'filter', chain: 'INPUT', rule: `-j ${FILTER.firewall}` },
  { table: 'filter', chain: 'FORWARD', rule: `${comment('mizzen network policy')} -j ${FILTER.policy}` },
  { table: 'filter', chain: 'FORWARD', rule: `${comment('mizzen forwarding rules')} -j ${FILTER.forward}` },
  { table: 'filter', chain: 'FORWARD', rule: `-m conntrack --ctstate NEW ${comment('mizzen service portals')} -j ${FILTER.services}` },
  { table: 'filter', chain: 'FORWARD', rule: `-m conntrack --ctstate NEW ${comment('mizzen externally-visible service portals')} -j ${FILTER.externalServices}` },
  { table: 'filter', chain: 'OUTPUT', rule: `-m conntrack --ctstate NEW ${comment('mizzen service portals')} -j ${FILTER.services}` },
  { table: 'filter', chain: 'OUTPUT', rule: `-j ${FILTER.firewall}` },
];
