// CIDR parsing for NetworkPolicy ipBlocks: upstream checks the CIDR parses (Go's ParseCIDR, which
// accepts host bits) and that each `except` lies strictly inside it.

import { isIP } from 'node:net';

export interface ParsedCIDR {
  family: 4 | 6;
  /** The network address with host bits cleared. */
  base: bigint;
  bits: number;
}

function ipToBigInt(ip: string, family: 4 | 6): bigint {
  if (family === 4) return ip.split('.').reduce((n, part) => (n << 8n) + BigInt(Number(part)), 0n);
  // Expand `::` and an embedded IPv4 tail, then read eight 16-bit groups.
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = ipToBigInt(v4[1], 4);
    s = s.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

/** undefined when `cidr` is not `address/prefix` in either family. */
export function parseCIDR(cidr: unknown): ParsedCIDR | undefined {
  if (typeof cidr !== 'string') return undefined;
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const ip = cidr.slice(0, slash);
  const prefix = cidr.slice(slash + 1);
  const family = isIP(ip);
  if (family !== 4 && family !== 6) return undefined;
  if (!/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = Number(prefix);
  const width = family === 4 ? 32 : 128;
  if (bits > width) return undefined;
  const value = ipToBigInt(ip, family);
  const hostBits = BigInt(width - bits);
  return { family, base: (value >> hostBits) << hostBits, bits };
}

/** `inner` lies inside `outer` and is smaller than it. */
export function strictSubset(inner: ParsedCIDR, outer: ParsedCIDR): boolean {
  if (inner.family !== outer.family || inner.bits <= outer.bits) return false;
  const width = BigInt(outer.family === 4 ? 32 : 128);
  const shift = width - BigInt(outer.bits);
  return inner.base >> shift === outer.base >> shift;
}
