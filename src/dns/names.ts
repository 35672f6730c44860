// Name arithmetic for cluster DNS: the dashed IP form of pod names (`10-42-0-7`, `fd00--7`) and
// the reverse-lookup names (`7.0.42.10.in-addr.arpa`, nibbles under ip6.arpa), both directions.

import { isIPv4, isIPv6 } from 'node:net';

/** Lower case, no trailing dot: the key every table is indexed by. */
export function canonicalName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** `10.42.0.7` → `10-42-0-7`; `fd00::7` → `fd00--7` (the label form of pod A records). */
export function dashedIP(ip: string): string {
  return ip.includes(':') ? ip.toLowerCase().replaceAll(':', '-') : ip.replaceAll('.', '-');
}

/** The inverse of dashedIP, or undefined when the label is no IP address. */
export function ipFromDashed(label: string): string | undefined {
  const v4 = label.replaceAll('-', '.');
  if (isIPv4(v4)) return v4;
  const v6 = label.replaceAll('-', ':');
  if (isIPv6(v6) && !v6.includes('.')) return normalizeIPv6(v6);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (which must be valid). */
function ipv6Groups(ip: string): number[] {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const parse = (s: string) => (s ? s.split(':').flatMap((g) => (g.includes('.') ? v4Groups(g) : [parseInt(g, 16)])) : []);
  const h = parse(head);
  if (tail === undefined) return h;
  const t = parse(tail);
  return [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

function v4Groups(v4: string): number[] {
  const o = v4.split('.').map(Number);
  return [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
}

/** RFC 5952 form (lower case, longest zero run compressed), so equal addresses have one spelling. */
export function normalizeIPv6(ip: string): string {
  const g = ipv6Groups(ip);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** One spelling per address (IPv4 as is, IPv6 normalised), or undefined for a non-address. */
export function normalizeIP(ip: string): string | undefined {
  if (isIPv4(ip)) return ip;
  if (isIPv6(ip)) return normalizeIPv6(ip);
  return undefined;
}

/** The PTR owner name of an address: `d.c.b.a.in-addr.arpa` or 32 nibbles under ip6.arpa. */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const nibbles = ipv6Groups(ip)
    .map((x) => x.toString(16).padStart(4, '0'))
    .join('')
    .split('');
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

/** The address a (canonical) PTR name stands for, or undefined if it names no full address. */
export function ipFromReverseName(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const labels = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4 || labels.some((l) => !/^\d{1,3}$/.test(l) || (l.length > 1 && l[0] === '0'))) return undefined;
    const ip = labels.reverse().join('.');
    return isIPv4(ip) ? ip : undefined;
  }
  if (name.endsWith('.ip6.arpa')) {
    const labels = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (labels.length !== 32 || labels.some((l) => !/^[0-9a-f]$/.test(l))) return undefined;
    const hex = labels.reverse().join('');
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4));
    return normalizeIPv6(groups.join(':'));
  }
  return undefined;
}

/** True for names under the reverse trees, which the cluster answers only for addresses it knows. */
export function isReverseName(name: string): boolean {
  return name === 'in-addr.arpa' || name === 'ip6.arpa' || name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa');
}
