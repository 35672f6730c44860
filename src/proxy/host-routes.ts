// A /32 route to the pod bridge for every programmed cluster IP. The node has an `unreachable`
// route for the whole service CIDR (so unprogrammed cluster IPs never leave the machine), and for a
// process on the node the kernel looks that route up before iptables' OUTPUT chain can DNAT; the
// more specific /32 makes the lookup succeed and the nat rules then rewrite the destination. A
// cluster IP without rules has no /32, so it stays unreachable. Ours carry routing protocol 201
// (found again after a restart; removed by cleanup); all changes go through one `ip -batch`.

import type { Exec } from './iptables/exec.ts';
import { cidrContains } from './rules/cidr-set.ts';

export const ROUTE_PROTO = '201';

export class HostRoutes {
  private known?: Set<string>;

  constructor(
    private readonly exec: Exec,
    private readonly bridge: string,
    private readonly serviceCIDR: string,
  ) {}

  async list(): Promise<Set<string>> {
    const { stdout } = await this.exec(['ip', '-j', '-4', 'route', 'show', 'table', 'main', 'proto', ROUTE_PROTO]);
    const out = new Set<string>();
    for (const r of JSON.parse(stdout || '[]') as { dst: string }[]) {
      const ip = r.dst.replace(/\/32$/, '');
      if (!ip.includes('/') && cidrContains(this.serviceCIDR, ip)) out.add(ip);
    }
    return out;
  }

  async reconcile(want: Set<string>): Promise<void> {
    const have = (this.known ??= await this.list());
    const cmds: string[] = [];
    for (const ip of want) if (!have.has(ip) && cidrContains(this.serviceCIDR, ip)) cmds.push(`route replace ${ip}/32 dev ${this.bridge} proto ${ROUTE_PROTO}`);
    for (const ip of have) if (!want.has(ip)) cmds.push(`route del ${ip}/32 proto ${ROUTE_PROTO}`);
    if (cmds.length === 0) return;
    try {
      await this.exec(['ip', '-force', '-batch', '-'], cmds.join('\n') + '\n');
    } finally {
      // -force goes on after a failed line; read back what is really there.
      this.known = await this.list();
    }
    const now = this.known;
    const missing = [...want].filter((ip) => cidrContains(this.serviceCIDR, ip) && !now.has(ip));
    if (missing.length) throw new Error(`could not add host routes for ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''} via ${this.bridge}`);
  }

  async removeAll(): Promise<number> {
    const have = await this.list();
    if (have.size) await this.exec(['ip', '-force', '-batch', '-'], [...have].map((ip) => `route del ${ip}/32 proto ${ROUTE_PROTO}`).join('\n') + '\n').catch(() => {});
    this.known = undefined;
    return have.size;
  }
}
