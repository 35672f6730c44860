// `unreachable` routes for the cluster CIDR and the service CIDR, so that cluster traffic never
// leaves the machine: a packet for a simulated pod's IP (inside the cluster CIDR, on no real node)
// or for a ClusterIP that no proxy rule rewrote is refused at once (EHOSTUNREACH) instead of going
// to the default gateway. The node's own podCIDR route on its bridge is more specific and wins.
//
// Caveat (measured): for connections made on the node itself, the kernel looks up the route
// before iptables' OUTPUT chain can DNAT, so with an unreachable service CIDR a host process
// cannot reach even a programmed ClusterIP; pods can (their packets are DNATed in PREROUTING,
// before routing). A service proxy that wants host → ClusterIP to work adds a more specific
// route per programmed ClusterIP (e.g. `ip route add <ip>/32 dev <bridge>`).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cidrsOverlap, parseCidr } from './cidr.ts';

const run = promisify(execFile);

export interface RouteInfo {
  /** 'default' or a CIDR ('10.42.0.0/16'; a host route is given as '/32') */
  dst: string;
  /** 'unicast' unless 'unreachable', 'blackhole', 'local', ... */
  type: string;
  dev?: string;
  gateway?: string;
}

/** The IPv4 routes of the main table. */
export async function listRoutes(): Promise<RouteInfo[]> {
  const { stdout } = await run('ip', ['-j', '-4', 'route', 'show', 'table', 'main']);
  const raw = JSON.parse(stdout || '[]') as { dst: string; type?: string; dev?: string; gateway?: string }[];
  return raw.map((r) => ({
    dst: r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}/32`,
    type: r.type ?? 'unicast',
    dev: r.dev,
    gateway: r.gateway,
  }));
}

/** Routes (other than the default route) whose destination overlaps `cidr`. */
export async function overlappingRoutes(cidr: string): Promise<RouteInfo[]> {
  return (await listRoutes()).filter((r) => r.dst !== 'default' && cidrsOverlap(r.dst, cidr));
}

function canonical(cidr: string): string {
  const c = parseCidr(cidr);
  return `${c.base}/${c.prefix}`;
}

/**
 * Adds an unreachable route for each CIDR unless it is there already. A different route for
 * exactly that prefix (someone else's) is left alone and reported in `conflicts`.
 */
export async function ensureUnreachableRoutes(cidrs: string[]): Promise<{ added: string[]; present: string[]; conflicts: RouteInfo[] }> {
  const result = { added: [] as string[], present: [] as string[], conflicts: [] as RouteInfo[] };
  const routes = await listRoutes();
  for (const cidr of new Set(cidrs.map(canonical))) {
    const same = routes.find((r) => r.dst === cidr);
    if (same?.type === 'unreachable') result.present.push(cidr);
    else if (same) result.conflicts.push(same);
    else {
      try {
        await run('ip', ['-4', 'route', 'add', 'unreachable', cidr]);
        result.added.push(cidr);
      } catch (e) {
        // Added meanwhile by another node process on this machine: fine if it is unreachable.
        const now = (await listRoutes()).find((r) => r.dst === cidr);
        if (now?.type === 'unreachable') result.present.push(cidr);
        else throw new Error(`cannot add unreachable route ${cidr}: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
      }
    }
  }
  return result;
}

/** Removes the unreachable routes for these CIDRs (others for the same prefix are left alone). */
export async function removeUnreachableRoutes(cidrs: string[]): Promise<void> {
  for (const cidr of new Set(cidrs.map(canonical))) {
    try {
      await run('ip', ['-4', 'route', 'del', 'unreachable', cidr]);
    } catch {
      /* not there */
    }
  }
}

/** What the kernel would do with a packet to `ip`, without sending one ('unreachable', 'unicast', ...). */
export async function routeTypeFor(ip: string): Promise<{ type: string; dev?: string }> {
  try {
    const { stdout } = await run('ip', ['-j', '-4', 'route', 'get', ip]);
    const r = (JSON.parse(stdout) as { type?: string; dev?: string }[])[0] ?? {};
    return { type: r.type ?? 'unicast', dev: r.dev };
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr ?? '';
    if (/unreachable|No route to host/i.test(msg)) return { type: 'unreachable' };
    throw e;
  }
}
