// Addresses for simulated nodes and their pods. All of them are data written into Node and Pod
// objects: nothing ever listens on or sends traffic to them.

import { formatIPv4, parseIPv4 as parseIPv4OrUndefined } from '../../machinery/ipv4.ts';

/** Pod ranges are carved from here when the cluster did not assign node.spec.podCIDR. */
export const DEFAULT_POD_CIDR_BASE = '10.244.0.0/16';
/** Prefix length of each node's derived pod range (a /24 holds the default 110 pods easily). */
export const NODE_POD_CIDR_PREFIX = 24;

/** parseIPv4 that throws on a bad address (the simulator's inputs are flags and node specs). */
export function parseIPv4(ip: string): number {
  const n = parseIPv4OrUndefined(ip);
  if (n === undefined) throw new Error(`invalid IPv4 address "${ip}"`);
  return n;
}

export { formatIPv4 };

export interface CIDR {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
  size: number;
}

export function parseCIDR(cidr: string): CIDR {
  const slash = cidr.indexOf('/');
  if (slash < 0) throw new Error(`invalid CIDR "${cidr}": missing /prefix`);
  const ip = parseIPv4(cidr.slice(0, slash));
  const prefixText = cidr.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,2}$/.test(prefixText) || prefix > 32) throw new Error(`invalid CIDR "${cidr}": bad prefix length`);
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix, size };
}

export function formatCIDR(c: CIDR): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/**
 * The pod range of the node with this index when the controller manager assigned none: consecutive
 * /24 blocks from base. Past the end of base the blocks simply continue (it is only data).
 */
export function derivedPodCIDR(index: number, base = DEFAULT_POD_CIDR_BASE): string {
  const b = parseCIDR(base);
  const block = 2 ** (32 - NODE_POD_CIDR_PREFIX);
  const start = (b.base - (b.base % block) + index * block) % 2 ** 32;
  return formatCIDR({ base: start, prefix: NODE_POD_CIDR_PREFIX, size: block });
}

/**
 * The InternalIP recorded for node `index`: from 172.31.0.0 onwards, skipping the .0 and .255 of each
 * /24 so the addresses look like ordinary hosts, and staying inside 172.16.0.0/12.
 */
export function nodeInternalIP(index: number): string {
  const perBlock = 254;
  const block = Math.floor(index / perBlock);
  const host = (index % perBlock) + 1;
  const start = parseIPv4('172.31.0.0');
  const span = 2 ** 20; // 172.16.0.0/12
  const twelve = parseIPv4('172.16.0.0');
  const offset = (start - twelve + block * 256 + host) % span;
  return formatIPv4(twelve + offset);
}

/**
 * Hands out pod IPs from one node's range the way host-local IPAM does: the network address, the
 * gateway (.1) and the broadcast address are never used; allocation moves forward round-robin so a
 * just-released address is not reused at once.
 */
export class PodIPAllocator {
  readonly cidr: string;
  private readonly range: CIDR;
  private readonly used = new Set<number>();
  private next: number;

  constructor(cidr: string) {
    this.range = parseCIDR(cidr);
    if (this.range.size < 4) throw new Error(`pod CIDR "${cidr}" is too small`);
    this.cidr = formatCIDR(this.range);
    this.next = 2;
  }

  /** Usable addresses in the range. */
  capacity(): number {
    return this.range.size - 3;
  }

  inUse(): number {
    return this.used.size;
  }

  contains(ip: string): boolean {
    let n: number;
    try {
      n = parseIPv4(ip);
    } catch {
      return false;
    }
    return n >= this.range.base && n < this.range.base + this.range.size;
  }

  /** A free address, or throws when the range is exhausted. */
  allocate(): string {
    const usable = this.range.size - 3;
    if (this.used.size >= usable) throw new Error(`no free pod IPs left in ${this.cidr}`);
    for (;;) {
      const off = this.next;
      this.next = off + 1 >= this.range.size - 1 ? 2 : off + 1;
      if (!this.used.has(off)) {
        this.used.add(off);
        return formatIPv4(this.range.base + off);
      }
    }
  }

  /** Mark an address taken (a pod adopted after a restart); false if outside the range. */
  reserve(ip: string): boolean {
    if (!this.contains(ip)) return false;
    this.used.add(parseIPv4(ip) - this.range.base);
    return true;
  }

  release(ip: string): void {
    if (this.contains(ip)) this.used.delete(parseIPv4(ip) - this.range.base);
  }
}
