// IPv4 CIDR arithmetic for the node's routes and pod network.

import { formatIPv4, parseIPv4 } from '../../machinery/ipv4.ts';

export interface Cidr {
  /** network address, e.g. '10.42.0.0' */
  base: string;
  prefix: number;
  /** first and last address as unsigned 32-bit numbers */
  first: number;
  last: number;
}

export function parseCidr(cidr: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr.trim());
  const ip = m ? parseIPv4(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw new Error(`invalid IPv4 CIDR "${cidr}"`);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(ip / size) * size;
  return { base: formatIPv4(first), prefix, first, last: first + size - 1 };
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.first <= y.last && y.first <= x.last;
}

/** The n-th address of a CIDR (0 is the network address). */
export function nthAddress(cidr: string, n: number): string {
  const c = parseCidr(cidr);
  if (n < 0 || c.first + n > c.last) throw new Error(`${cidr} has no address number ${n}`);
  return formatIPv4(c.first + n);
}
