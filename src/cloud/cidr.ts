// IPv4 CIDR arithmetic for the cloud code: containment of addresses and ranges.

import { parseIPv4 } from '../machinery/ipv4.ts';

export interface IPv4Range {
  /** First address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
  size: number;
}

/** `10.42.0.0/16` as a range, or undefined when it is not an IPv4 CIDR. */
export function parseCIDR(cidr: string): IPv4Range | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const ip = parseIPv4(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix, size };
}

export function rangeContainsIP(r: IPv4Range, ip: string): boolean {
  const n = parseIPv4(ip);
  return n !== undefined && n >= r.base && n < r.base + r.size;
}

export function cidrContainsIP(cidr: string, ip: string): boolean {
  const r = parseCIDR(cidr);
  return !!r && rangeContainsIP(r, ip);
}

/** Whether the range `inner` lies inside `outer`. */
export function cidrContainsCIDR(outer: string, inner: string): boolean {
  const o = parseCIDR(outer);
  const i = parseCIDR(inner);
  return !!o && !!i && i.base >= o.base && i.base + i.size <= o.base + o.size;
}
