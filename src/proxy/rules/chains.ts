// Chain names and the table model shared by the service and policy rule builders.
// All of Mizzen's chains start with `MZ-` (iptables allows 28 characters): fixed chains hooked
// from the built-in ones, and per-object chains named by a hash (as upstream's KUBE-SVC-<hash>),
// so a name never depends on the order objects were seen.

import { createHash } from 'node:crypto';

export const PREFIX = 'MZ-';

/** Masquerade mark bit (the same bit upstream's kube-proxy uses: 0x4000). */
export const MASQ_MARK = '0x4000';

export const NAT = {
  services: 'MZ-SERVICES',
  nodePorts: 'MZ-NODEPORTS',
  postrouting: 'MZ-POSTROUTING',
  markMasq: 'MZ-MARK-MASQ',
} as const;

export const FILTER = {
  services: 'MZ-SERVICES',
  externalServices: 'MZ-EXTERNAL-SERVICES',
  forward: 'MZ-FORWARD',
  firewall: 'MZ-FIREWALL',
  policy: 'MZ-POLICY',
} as const;

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

// Names are asked for again at every rebuild of a Service: remember them (bounded).
const memo = new Map<string, string>();

/** 16 base32 characters of sha256(s): 80 bits, enough that names never collide in practice. */
export function hash16(s: string): string {
  let v = memo.get(s);
  if (v === undefined) {
    if (memo.size > 100_000) memo.clear();
    memo.set(s, (v = computeHash16(s)));
  }
  return v;
}

function computeHash16(s: string): string {
  const h = createHash('sha256').update(s).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (let i = 0; out.length < 16; i++) {
    value = (value << 8) | h[i]!;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export const svcChain = (key: string, proto: string) => `MZ-SVC-${hash16(`${key}/${proto}`)}`;
export const svlChain = (key: string, proto: string) => `MZ-SVL-${hash16(`${key}/${proto}`)}`;
export const extChain = (key: string, proto: string) => `MZ-EXT-${hash16(`${key}/${proto}`)}`;
/** The xt_recent list remembering clients of one endpoint (session affinity). */
export const affinityName = (key: string, proto: string, ep: string) => `MZ-SEP-${hash16(`${key}/${proto}/${ep}`)}`;
export const podIngressChain = (podKey: string) => `MZ-PI-${hash16(podKey)}`;
export const podEgressChain = (podKey: string) => `MZ-PE-${hash16(podKey)}`;

/** One table's chains: name → rules (each the text after `-A <chain> `), in order. */
export type Chains = Map<string, string[]>;

export interface Ruleset {
  nat: Chains;
  filter: Chains;
}

/** A jump from a built-in chain into ours; kept at the top of the built-in chain, in this order. */
export interface BuiltinJump {
  table: 'nat' | 'filter';
  chain: string;
  rule: string;
}

/** A comment match; iptables-save quotes comments with spaces, so we always do. */
export function comment(text: string): string {
  return `-m comment --comment "${text.replace(/["\\]/g, '')}"`;
}

export function lowerProto(p: string): string {
  return p.toLowerCase();
}

/** The tables as iptables-restore input (every chain, sorted): golden tests and debugging. */
export function formatRuleset(r: Ruleset, only?: (chain: string) => boolean): string {
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const chains = [...r[table].keys()].filter((c) => !only || only(c)).sort();
    if (!chains.length) continue;
    out.push(`*${table}`, ...chains.map((c) => `:${c} - [0:0]`));
    for (const c of chains) for (const l of r[table].get(c)!) out.push(`-A ${c} ${l}`);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}
