// What "this machine" means to the local provider: which Nodes run here, and which endpoint
// addresses this machine can reach without sending a packet off it.
//
// - A simulated node (label mizzen.dev/simulated=true) is played by this machine, but its pods'
//   IPs are only data: nothing listens there, and they are never connected to.
// - A real node is local when its name (or kubernetes.io/hostname label) is this host's name, is
//   listed in the config's instances.nodeNames, or one of its addresses (or the kubelet's
//   --node-ip annotation) is assigned to an interface here.
// - An endpoint address is routable when it is loopback, or lies in the podCIDR of a real
//   (not simulated) node for which an interface here holds an address in that podCIDR: the
//   kubelet's bridge (its gateway, e.g. 10.42.0.1/24). Anything else is skipped.

import os from 'node:os';
import type { KObject } from '../../../api/types.ts';
import { ANNOTATION_PROVIDED_NODE_IP, SIMULATED_LABEL } from '../../labels.ts';
import { parseCIDR, rangeContainsIP, type IPv4Range } from '../../cidr.ts';
import { parseIPv4 } from '../../../machinery/ipv4.ts';

export interface InterfaceAddress {
  address: string;
  family: 'IPv4' | 'IPv6';
  internal: boolean;
}

export interface MachineFacts {
  hostname(): string;
  /** Every address assigned to an interface here (loopback included). */
  interfaceAddresses(): InterfaceAddress[];
}

/** The real machine, with interface addresses re-read at most every 2 s. */
export function realMachine(): MachineFacts {
  let cached: InterfaceAddress[] = [];
  let readAt = 0;
  return {
    hostname: () => os.hostname(),
    interfaceAddresses() {
      const now = Date.now();
      if (now - readAt > 2000) {
        cached = Object.values(os.networkInterfaces())
          .flat()
          .filter((a): a is os.NetworkInterfaceInfo => !!a)
          .map((a) => ({ address: a.address, family: a.family === 'IPv4' ? 'IPv4' : 'IPv6', internal: a.internal }));
        readAt = now;
      }
      return cached;
    },
  };
}

export function isLoopback(ip: string): boolean {
  if (ip === '::1') return true;
  const n = parseIPv4(ip);
  return n !== undefined && n >>> 24 === 127;
}

export function isSimulated(node: KObject | undefined): boolean {
  return node?.metadata?.labels?.[SIMULATED_LABEL] === 'true';
}

export function podCIDRsOf(node: KObject): string[] {
  const list: string[] = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
  return list.filter(Boolean);
}

export type NodeKind = 'simulated' | 'local';

export class LocalMachine {
  constructor(
    private readonly facts: MachineFacts = realMachine(),
    /** More names this machine's nodes go by (cloud-config instances.nodeNames). */
    private readonly extraNames: string[] = [],
  ) {}

  hostname(): string {
    return this.facts.hostname();
  }

  /** Whether some interface here holds this address. */
  hasAddress(ip: string): boolean {
    return isLoopback(ip) || this.facts.interfaceAddresses().some((a) => a.address === ip);
  }

  /** An address other machines could use for this one: the first non-internal IPv4, else 127.0.0.1. */
  primaryIPv4(): string {
    return this.facts.interfaceAddresses().find((a) => a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
  }

  /** 'simulated', 'local', or undefined for a node that does not run here. */
  kindOf(node: KObject): NodeKind | undefined {
    if (isSimulated(node)) return 'simulated';
    const host = this.hostname().toLowerCase();
    const name = String(node.metadata.name ?? '').toLowerCase();
    const hostLabel = String(node.metadata.labels?.['kubernetes.io/hostname'] ?? '').toLowerCase();
    if (name === host || hostLabel === host || this.extraNames.some((n) => n.toLowerCase() === name)) return 'local';
    const provided = node.metadata.annotations?.[ANNOTATION_PROVIDED_NODE_IP];
    if (provided && this.hasAddress(provided)) return 'local';
    for (const a of (node.status?.addresses ?? []) as Array<{ type: string; address: string }>) {
      if ((a?.type === 'InternalIP' || a?.type === 'ExternalIP') && this.hasAddress(a.address)) return 'local';
    }
    return undefined;
  }

  /** The ranges of real nodes' podCIDRs that a local interface (the node's bridge) serves. */
  bridgedPodRanges(nodes: Iterable<KObject>): IPv4Range[] {
    const local = this.facts.interfaceAddresses().filter((a) => a.family === 'IPv4' && !a.internal);
    const out: IPv4Range[] = [];
    for (const node of nodes) {
      if (isSimulated(node)) continue;
      for (const cidr of podCIDRsOf(node)) {
        const r = parseCIDR(cidr);
        if (r && local.some((a) => rangeContainsIP(r, a.address))) out.push(r);
      }
    }
    return out;
  }
}

/**
 * Decides per endpoint whether the proxy may connect to it (see the top of this file), given the
 * nodes as the informer has them and the bridged pod ranges computed once per refresh.
 */
export function endpointRoutable(address: string, nodeName: string | undefined, nodes: (name: string) => KObject | undefined, bridged: IPv4Range[]): boolean {
  if (nodeName && isSimulated(nodes(nodeName))) return false;
  if (isLoopback(address)) return true;
  return bridged.some((r) => rangeContainsIP(r, address));
}
