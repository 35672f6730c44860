// Target pool + forwarding rule balancers for the gcp provider (as the in-tree GCE external load
// balancer): a regional target pool named by defaultLoadBalancerName holding the nodes' instances,
// and a forwarding rule of the same name for the Service's protocol and port range pointing at it.
// A rule whose protocol, ports, address or target no longer match is replaced. One protocol per
// Service, as on GCE.

import type { KObject } from '../../../api/types.ts';
import { defaultLoadBalancerName, objectKey, type LoadBalancer, type LoadBalancerStatus } from '../../provider.ts';
import { isGcpNotFound, parseGceProviderID, waitRegionOperation, type GcpClients, type GcpConfig, type GcpInstances } from './index.ts';

const COMPUTE_URL = 'https://www.googleapis.com/compute/v1';

export class GcpLoadBalancer implements LoadBalancer {
  constructor(
    private readonly config: GcpConfig,
    private readonly c: GcpClients,
    private readonly instances: GcpInstances,
  ) {}

  getLoadBalancerName(_cluster: string, svc: KObject): string {
    return defaultLoadBalancerName(svc);
  }

  private region() {
    return { project: this.config.projectId, region: this.config.region };
  }

  private async getRule(name: string): Promise<any | undefined> {
    try {
      return (await this.c.forwardingRules.get({ ...this.region(), forwardingRule: name }))[0];
    } catch (e) {
      if (isGcpNotFound(e)) return undefined;
      throw e;
    }
  }

  private async getPool(name: string): Promise<any | undefined> {
    try {
      return (await this.c.targetPools.get({ ...this.region(), targetPool: name }))[0];
    } catch (e) {
      if (isGcpNotFound(e)) return undefined;
      throw e;
    }
  }

  async getLoadBalancer(cluster: string, svc: KObject): Promise<{ status?: LoadBalancerStatus; exists: boolean }> {
    const rule = await this.getRule(this.getLoadBalancerName(cluster, svc));
    return rule ? { exists: true, status: { ingress: [{ ip: rule.IPAddress }] } } : { exists: false };
  }

  /** Instance URLs of the nodes, from their providerIDs or looked up in the configured zones. */
  private async instanceURLs(nodes: KObject[]): Promise<string[]> {
    const urls: string[] = [];
    for (const n of nodes) {
      let id = parseGceProviderID(n.spec?.providerID);
      if (!id) {
        const f = await this.instances.find(n);
        if (f) id = { project: f.project, zone: f.zone, name: String(f.instance.name) };
      }
      if (id) urls.push(`${COMPUTE_URL}/projects/${id.project}/zones/${id.zone}/instances/${id.name}`);
    }
    return [...new Set(urls)].sort();
  }

  private ruleSpec(svc: KObject): { protocol: string; portRange: string } {
    const ports = (svc.spec?.ports ?? []) as any[];
    const protocols = new Set(ports.map((p) => p.protocol ?? 'TCP'));
    if (protocols.size !== 1) throw new Error(`mixed protocol is not supported for LoadBalancer: ${[...protocols].join(', ')}`);
    const protocol = [...protocols][0] as string;
    if (protocol !== 'TCP' && protocol !== 'UDP') throw new Error(`protocol ${protocol} is not supported by a target pool load balancer`);
    const nums = ports.map((p) => Number(p.port));
    return { protocol, portRange: `${Math.min(...nums)}-${Math.max(...nums)}` };
  }

  async ensureLoadBalancer(cluster: string, svc: KObject, nodes: KObject[]): Promise<LoadBalancerStatus> {
    const name = this.getLoadBalancerName(cluster, svc);
    const { protocol, portRange } = this.ruleSpec(svc);
    const description = JSON.stringify({ 'kubernetes.io/service-name': objectKey(svc), 'kubernetes.io/cluster': cluster });
    const urls = await this.instanceURLs(nodes);

    let pool = await this.getPool(name);
    if (!pool) {
      const [op] = await this.c.targetPools.insert({ ...this.region(), targetPoolResource: { name, description, instances: urls, sessionAffinity: 'NONE' } });
      await waitRegionOperation(this.c, this.config, op.latestResponse, `create target pool ${name}`);
      pool = await this.getPool(name);
      if (!pool) throw new Error(`target pool ${name} not found after it was created`);
    } else {
      await this.syncPool(name, pool, urls);
    }

    const ip: string | undefined = svc.spec?.loadBalancerIP || undefined;
    let rule = await this.getRule(name);
    if (rule && (rule.IPProtocol !== protocol || rule.portRange !== portRange || rule.target !== pool.selfLink || (ip && rule.IPAddress !== ip))) {
      const [op] = await this.c.forwardingRules.delete({ ...this.region(), forwardingRule: name });
      await waitRegionOperation(this.c, this.config, op.latestResponse, `delete forwarding rule ${name}`);
      rule = undefined;
    }
    if (!rule) {
      const resource: Record<string, unknown> = { name, description, IPProtocol: protocol, portRange, target: pool.selfLink, loadBalancingScheme: 'EXTERNAL' };
      if (ip) resource.IPAddress = ip;
      const [op] = await this.c.forwardingRules.insert({ ...this.region(), forwardingRuleResource: resource });
      await waitRegionOperation(this.c, this.config, op.latestResponse, `create forwarding rule ${name}`);
      rule = await this.getRule(name);
      if (!rule) throw new Error(`forwarding rule ${name} not found after it was created`);
    }
    return { ingress: [{ ip: rule.IPAddress }] };
  }

  private async syncPool(name: string, pool: any, urls: string[]): Promise<void> {
    const have = new Set<string>((pool.instances ?? []) as string[]);
    const add = urls.filter((u) => !have.has(u));
    const remove = [...have].filter((u) => !urls.includes(u));
    if (add.length) {
      const [op] = await this.c.targetPools.addInstance({ ...this.region(), targetPool: name, targetPoolsAddInstanceRequestResource: { instances: add.map((instance) => ({ instance })) } });
      await waitRegionOperation(this.c, this.config, op.latestResponse, `add instances to target pool ${name}`);
    }
    if (remove.length) {
      const [op] = await this.c.targetPools.removeInstance({ ...this.region(), targetPool: name, targetPoolsRemoveInstanceRequestResource: { instances: remove.map((instance) => ({ instance })) } });
      await waitRegionOperation(this.c, this.config, op.latestResponse, `remove instances from target pool ${name}`);
    }
  }

  async updateLoadBalancer(cluster: string, svc: KObject, nodes: KObject[]): Promise<void> {
    const name = this.getLoadBalancerName(cluster, svc);
    const pool = await this.getPool(name);
    if (!pool) throw new Error(`target pool ${name} not found`);
    await this.syncPool(name, pool, await this.instanceURLs(nodes));
  }

  async ensureLoadBalancerDeleted(cluster: string, svc: KObject): Promise<void> {
    const name = this.getLoadBalancerName(cluster, svc);
    for (const [what, del] of [
      ['forwarding rule', () => this.c.forwardingRules.delete({ ...this.region(), forwardingRule: name })],
      ['target pool', () => this.c.targetPools.delete({ ...this.region(), targetPool: name })],
    ] as const) {
      let op;
      try {
        [op] = await del();
      } catch (e) {
        if (isGcpNotFound(e)) continue;
        throw e;
      }
      await waitRegionOperation(this.c, this.config, op.latestResponse, `delete ${what} ${name}`);
    }
  }
}
