// IPv4 CIDR arithmetic for ipBlock peers: `cidr` minus its `except` list as plain CIDRs, so a
// policy rule becomes a few `-s <cidr>` matches instead of a sub-chain with RETURNs and marks.

import { formatIPv4, parseIPv4 } from '../../machinery/ipv4.ts';

interface Block {
  first: number;
  prefix: number;
}

export function parseIPv4Cidr(s: string): Block | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(s.trim());
  if (!m) return undefined;
  const ip = parseIPv4(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { first: Math.floor(ip / size) * size, prefix };
}

const size = (b: Block) => 2 ** (32 - b.prefix);
const last = (b: Block) => b.first + size(b) - 1;
const fmt = (b: Block) => `${formatIPv4(b.first)}/${b.prefix}`;

/** `cidr` without the `except` blocks, as the fewest CIDRs that cover the rest, in address order. */
export function subtractCidrs(cidr: string, except: string[]): string[] {
  const outer = parseIPv4Cidr(cidr);
  if (!outer) return [];
  const holes = except.map(parseIPv4Cidr).filter((b): b is Block => !!b);
  const out: string[] = [];
  const walk = (b: Block) => {
    const touching = holes.filter((h) => h.first <= last(b) && b.first <= last(h));
    if (touching.length === 0) return void out.push(fmt(b));
    if (touching.some((h) => h.first <= b.first && last(h) >= last(b))) return; // wholly excepted
    const half = size(b) / 2;
    walk({ first: b.first, prefix: b.prefix + 1 });
    walk({ first: b.first + half, prefix: b.prefix + 1 });
  };
  walk(outer);
  return out;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const b = parseIPv4Cidr(cidr);
  const n = parseIPv4(ip);
  return !!b && n !== undefined && n >= b.first && n <= last(b);
}
