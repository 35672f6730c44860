// An IPv4 pod-range allocator: the cluster CIDR cut into equal blocks of one mask size, each block
// either free or taken. Allocation always hands out the lowest free block, so a restart that
// re-marks the blocks already on nodes hands out the same next block as before.

import { formatIPv4, parseIPv4 } from '../../machinery/ipv4.ts';

export interface ParsedCIDR {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

/** Parse `a.b.c.d/p`; the address is masked down to its network. Throws on bad input. */
export function parseIPv4CIDR(cidr: string): ParsedCIDR {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr.trim());
  const ip = m ? parseIPv4(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw new Error(`invalid CIDR address: ${cidr}`);
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

export class CIDRSet {
  readonly cluster: ParsedCIDR;
  readonly maskSize: number;
  private readonly blockSize: number;
  readonly capacity: number;
  private readonly used = new Set<number>();

  constructor(clusterCIDR: string, maskSize: number) {
    this.cluster = parseIPv4CIDR(clusterCIDR);
    if (!Number.isInteger(maskSize) || maskSize < this.cluster.prefix || maskSize > 32) {
      throw new Error(`node CIDR mask size ${maskSize} does not fit in cluster CIDR ${clusterCIDR}`);
    }
    // Upstream refuses more than 2^16 blocks per range; so do we, to keep the bitmap small.
    if (maskSize - this.cluster.prefix > 16) throw new Error(`cluster CIDR ${clusterCIDR} with mask size ${maskSize} makes too many blocks`);
    this.maskSize = maskSize;
    this.blockSize = 2 ** (32 - maskSize);
    this.capacity = 2 ** (maskSize - this.cluster.prefix);
  }

  /** The lowest free block, now taken; undefined when the range is exhausted. */
  allocateNext(): string | undefined {
    for (let i = 0; i < this.capacity; i++) {
      if (this.used.has(i)) continue;
      this.used.add(i);
      return this.blockString(i);
    }
    return undefined;
  }

  /** Mark a block as taken (a node already carries it). False if it is not one of our blocks. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.used.add(i);
    return true;
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.delete(i);
  }

  isUsed(cidr: string): boolean {
    const i = this.indexOf(cidr);
    return i !== undefined && this.used.has(i);
  }

  get usedCount(): number {
    return this.used.size;
  }

  private blockString(i: number): string {
    return `${formatIPv4(this.cluster.base + i * this.blockSize)}/${this.maskSize}`;
  }

  /** The block index of a CIDR of our mask size inside the cluster range. */
  private indexOf(cidr: string): number | undefined {
    let p: ParsedCIDR;
    try {
      p = parseIPv4CIDR(cidr);
    } catch {
      return undefined;
    }
    if (p.prefix !== this.maskSize) return undefined;
    const offset = p.base - this.cluster.base;
    if (offset < 0 || offset >= this.capacity * this.blockSize) return undefined;
    return offset / this.blockSize;
  }
}
