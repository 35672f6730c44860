// NetworkPolicy for the pods on this node, as plain iptables rules in the filter table:
//
//   FORWARD → MZ-POLICY: replies of allowed connections (ESTABLISHED/RELATED) return at once; then
//     `-s <pod>` → MZ-PE-x for each local pod some policy selects for Egress, and
//     `-d <pod>` → MZ-PI-x for each one selected for Ingress.
//   MZ-PI-x / MZ-PE-x: one RETURN per allowed (peer, port) of every policy that selects the pod,
//     then DROP: once selected for a direction, everything not allowed is denied.
//
// Peers are expanded here to addresses: a podSelector/namespaceSelector to the /32 of each matching
// pod, an ipBlock to its CIDR minus the `except` blocks. Named ports are resolved per pod: for
// ingress in the pod the chain protects, for egress in each destination pod. Pods on other nodes
// count as peers too (their IPs come from the Pod objects). Why not ipset: see docs/proxy.md.

import type { KObject } from '../../api/types.ts';
import { labelSelectorFromObject, type LabelSelector } from '../../machinery/labels.ts';
import { isIPv4 } from '../model.ts';
import { cidrContains, parseIPv4Cidr, subtractCidrs } from './cidr-set.ts';
import { FILTER, comment, lowerProto, podEgressChain, podIngressChain, type Chains } from './chains.ts';

export interface PolicyPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ip: string;
  /** Named container ports: `name/PROTOCOL` → port number. */
  namedPorts: Map<string, number>;
  local: boolean;
}

export interface PolicyInput {
  policies: KObject[];
  /** Every pod with an IPv4 pod IP that is not on the host network and has not finished. */
  pods: PolicyPod[];
  namespaceLabels: Map<string, Record<string, string>>;
}

export interface PolicyRules {
  filter: Chains;
  /** Per policy (`namespace/name`): what could not be expressed (those peers/ports are left out: the policy then allows less, never more). */
  problems: Map<string, string[]>;
}

type Direction = 'ingress' | 'egress';

interface Peers {
  all: boolean;
  /** Peer pods (their IPs), for podSelector/namespaceSelector peers. */
  pods: PolicyPod[];
  /** CIDRs from ipBlocks, excepts removed. */
  cidrs: string[];
  /** The ipBlock sources as given, for resolving named ports of pods inside them. */
  blocks: { cidr: string; except: string[] }[];
}

interface PortSpec {
  protocol: string;
  /** number, 'a:b' range, a port name, or undefined for every port */
  port?: number | string;
  endPort?: number;
}

export function podFromObject(pod: KObject, nodeName: string): PolicyPod | undefined {
  const ip = pod.status?.podIP;
  if (!isIPv4(ip) || pod.spec?.hostNetwork) return undefined;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  const namedPorts = new Map<string, number>();
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])])
    for (const p of c?.ports ?? []) if (p?.name && Number.isInteger(p.containerPort)) namedPorts.set(`${p.name}/${p.protocol ?? 'TCP'}`, p.containerPort);
  return {
    namespace: pod.metadata.namespace ?? '',
    name: pod.metadata.name ?? '',
    labels: pod.metadata.labels ?? {},
    ip,
    namedPorts,
    local: !!nodeName && pod.spec?.nodeName === nodeName,
  };
}

function selector(sel: unknown, problems: string[]): LabelSelector | undefined {
  try {
    return labelSelectorFromObject(sel as any);
  } catch (e) {
    problems.push(`invalid selector: ${(e as Error).message}`);
    return undefined;
  }
}

function resolvePeers(policy: KObject, list: unknown, input: PolicyInput, problems: string[]): Peers {
  const peers: Peers = { all: false, pods: [], cidrs: [], blocks: [] };
  if (!Array.isArray(list) || list.length === 0) return { ...peers, all: true };
  const ns = policy.metadata.namespace ?? '';
  const seen = new Set<string>();
  const addPod = (p: PolicyPod) => {
    if (!seen.has(p.ip)) {
      seen.add(p.ip);
      peers.pods.push(p);
    }
  };
  for (const peer of list as any[]) {
    if (peer?.ipBlock) {
      const { cidr, except } = peer.ipBlock;
      const ex: string[] = Array.isArray(except) ? except : [];
      if (!parseIPv4Cidr(String(cidr)) || ex.some((e) => !parseIPv4Cidr(String(e)))) {
        problems.push(`ipBlock ${String(cidr)} is not IPv4; this node programs IPv4 only (peer left out)`);
        continue;
      }
      peers.cidrs.push(...subtractCidrs(cidr, ex));
      peers.blocks.push({ cidr, except: ex });
      continue;
    }
    const podSel = peer?.podSelector ? selector(peer.podSelector, problems) : undefined;
    const nsSel = peer?.namespaceSelector ? selector(peer.namespaceSelector, problems) : undefined;
    if ((peer?.podSelector && !podSel) || (peer?.namespaceSelector && !nsSel)) continue;
    for (const p of input.pods) {
      if (nsSel) {
        if (!nsSel.matches(input.namespaceLabels.get(p.namespace) ?? {})) continue;
      } else if (p.namespace !== ns) continue;
      if (podSel && !podSel.matches(p.labels)) continue;
      addPod(p);
    }
  }
  return peers;
}

function portSpecs(list: unknown): PortSpec[] {
  if (!Array.isArray(list) || list.length === 0) return [{ protocol: 'any' }];
  return (list as any[]).map((p) => ({ protocol: p?.protocol ?? 'TCP', port: p?.port, endPort: p?.endPort }));
}

function portMatch(protocol: string, port: number | string | undefined): string {
  if (protocol === 'any') return '';
  const l = lowerProto(protocol);
  return port === undefined ? `-p ${l}` : `-p ${l} -m ${l} --dport ${port}`;
}

function numericPort(ps: PortSpec): number | string | undefined {
  if (ps.port === undefined || ps.port === null) return undefined;
  if (typeof ps.port === 'number') return ps.endPort && ps.endPort > ps.port ? `${ps.port}:${ps.endPort}` : ps.port;
  return /^\d+$/.test(ps.port) ? Number(ps.port) : undefined;
}

/** The RETURN rules of one policy rule (peers × ports) for `target`, the local pod. */
function ruleLines(dir: Direction, target: PolicyPod, peers: Peers, ports: PortSpec[], input: PolicyInput, note: string): string[] {
  const lines: string[] = [];
  const flag = dir === 'ingress' ? '-s' : '-d';
  const c = comment(note);
  const peerMatches = peers.all ? [''] : [...peers.pods.map((p) => `${flag} ${p.ip}/32`), ...peers.cidrs.map((x) => `${flag} ${x}`)];
  for (const ps of ports) {
    const named = typeof ps.port === 'string' && !/^\d+$/.test(ps.port);
    if (!named) {
      const pm = portMatch(ps.protocol, numericPort(ps));
      for (const m of peerMatches) lines.push(join(m, pm, c, '-j RETURN'));
      continue;
    }
    const key = `${ps.port}/${ps.protocol}`;
    if (dir === 'ingress') {
      // The name is the protected pod's own container port.
      const n = target.namedPorts.get(key);
      if (n === undefined) continue;
      for (const m of peerMatches) lines.push(join(m, portMatch(ps.protocol, n), c, '-j RETURN'));
      continue;
    }
    // Egress: the name is each destination pod's port; only pods can be matched that way.
    const dests = peers.all
      ? input.pods
      : [...peers.pods, ...input.pods.filter((p) => peers.blocks.some((b) => cidrContains(b.cidr, p.ip) && !b.except.some((e) => cidrContains(e, p.ip))))];
    const done = new Set<string>();
    for (const d of dests) {
      const n = d.namedPorts.get(key);
      if (n === undefined || done.has(`${d.ip}:${n}`)) continue;
      done.add(`${d.ip}:${n}`);
      lines.push(join(`-d ${d.ip}/32`, portMatch(ps.protocol, n), c, '-j RETURN'));
    }
  }
  return lines;
}

function join(...parts: string[]): string {
  return parts.filter(Boolean).join(' ');
}

function policyTypes(p: KObject): Set<Direction> {
  const types: unknown = p.spec?.policyTypes;
  const out = new Set<Direction>();
  if (Array.isArray(types) && types.length > 0) {
    if (types.includes('Ingress')) out.add('ingress');
    if (types.includes('Egress')) out.add('egress');
  } else {
    out.add('ingress');
    if (Array.isArray(p.spec?.egress) && p.spec.egress.length > 0) out.add('egress');
  }
  return out;
}

export function buildPolicyRules(input: PolicyInput): PolicyRules {
  const problems = new Map<string, string[]>();
  const filter: Chains = new Map();
  const top: string[] = [`${comment('replies of allowed connections')} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`];
  filter.set(FILTER.policy, top);

  // Which policies select each local pod, per direction (policies sorted by key: stable output).
  const policies = [...input.policies].sort((a, b) => key(a).localeCompare(key(b)));
  const selectors = policies.map((p) => {
    const probs: string[] = [];
    const sel = selector(p.spec?.podSelector ?? {}, probs);
    if (probs.length) problems.set(key(p), probs);
    return sel;
  });
  const locals = input.pods.filter((p) => p.local).sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  // Peers of a policy rule do not depend on the target pod: resolve once per policy.
  const peerCache = new Map<string, Peers>();
  const peersOf = (p: KObject, dir: Direction, i: number, list: unknown) => {
    const k = `${key(p)}|${dir}|${i}`;
    let v = peerCache.get(k);
    if (!v) {
      const probs = problems.get(key(p)) ?? [];
      v = resolvePeers(p, list, input, probs);
      if (probs.length) problems.set(key(p), [...new Set(probs)]);
      peerCache.set(k, v);
    }
    return v;
  };

  const egressJumps: string[] = [];
  const ingressJumps: string[] = [];
  for (const pod of locals) {
    const podKey = `${pod.namespace}/${pod.name}`;
    for (const dir of ['egress', 'ingress'] as Direction[]) {
      const lines: string[] = [];
      let selected = false;
      policies.forEach((p, idx) => {
        const sel = selectors[idx];
        if (!sel || p.metadata.namespace !== pod.namespace || !sel.matches(pod.labels) || !policyTypes(p).has(dir)) return;
        selected = true;
        const rules: any[] = Array.isArray(p.spec?.[dir]) ? p.spec[dir] : [];
        rules.forEach((r, i) => {
          const peers = peersOf(p, dir, i, dir === 'ingress' ? r?.from : r?.to);
          lines.push(...ruleLines(dir, pod, peers, portSpecs(r?.ports), input, `${key(p)} ${dir} rule ${i}`));
        });
      });
      if (!selected) continue;
      const chain = dir === 'ingress' ? podIngressChain(podKey) : podEgressChain(podKey);
      lines.push(`${comment(`${podKey} default deny ${dir}`)} -j DROP`);
      filter.set(chain, lines);
      if (dir === 'ingress') ingressJumps.push(`-d ${pod.ip}/32 ${comment(`${podKey} ingress`)} -j ${chain}`);
      else egressJumps.push(`-s ${pod.ip}/32 ${comment(`${podKey} egress`)} -j ${chain}`);
    }
  }
  // Egress of the sender is checked before ingress of the receiver; both must allow.
  top.push(...egressJumps, ...ingressJumps);
  return { filter, problems };
}

function key(p: KObject): string {
  return `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
}
