// Parsing `--dns-upstream` values, apart from the DNS server so that the commands' flag parsing
// does not load it (and dns-packet) in processes that run no DNS server.

import { isIP } from 'node:net';
import type { Upstream } from './forwarder.ts';

/** `1.2.3.4`, `1.2.3.4:5353`, `[fd00::1]:53` or `fd00::1`. */
export function parseUpstream(s: string): Upstream {
  const t = s.trim();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6 && isIP(v6[1]) === 6) return { address: v6[1], port: v6[2] ? Number(v6[2]) : 53 };
  if (isIP(t)) return { address: t, port: 53 };
  const m = /^([^:]+):(\d+)$/.exec(t);
  if (m && isIP(m[1]) === 4 && Number(m[2]) > 0 && Number(m[2]) < 65536) return { address: m[1], port: Number(m[2]) };
  throw new Error(`invalid DNS upstream "${s}": expected IP or IP:port`);
}
