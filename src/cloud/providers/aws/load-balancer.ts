// Network Load Balancers for the aws provider. Per Service: one NLB named by
// defaultLoadBalancerName (tagged with the Service and the cluster), and per Service port one
// target group (protocol, the node port, instance targets = the nodes' instances, TCP health
// check) behind one listener on the Service port. Ensure converges whatever exists; delete goes
// listeners → target groups → balancer, so an interrupted delete is finished by the next try.

import { createHash } from 'node:crypto';
import type { KObject } from '../../../api/types.ts';
import { defaultLoadBalancerName, objectKey, type LoadBalancer, type LoadBalancerStatus } from '../../provider.ts';
import { instanceIdFromProviderID, isAwsNotFound, type AwsConfig } from './index.ts';
import type { AwsInstances } from './instances.ts';

type ElbModule = typeof import('@aws-sdk/client-elastic-load-balancing-v2');
type ElbClient = InstanceType<ElbModule['ElasticLoadBalancingV2Client']>;
type Nlb = import('@aws-sdk/client-elastic-load-balancing-v2').LoadBalancer;
type TargetGroup = import('@aws-sdk/client-elastic-load-balancing-v2').TargetGroup;

export const TAG_SERVICE = 'kubernetes.io/service-name';
export const clusterTag = (cluster: string) => `kubernetes.io/cluster/${cluster}`;

interface WantedPort {
  port: number;
  protocol: 'TCP' | 'UDP';
  nodePort: number;
  targetGroupName: string;
}

/** A target group name (at most 32 characters) that is stable for this balancer and port. */
export function targetGroupName(lbName: string, p: { port: number; protocol: string; nodePort: number }): string {
  const h = createHash('sha256').update(`${lbName}/${p.protocol}/${p.port}/${p.nodePort}`).digest('hex');
  return `k8s-${h.slice(0, 28)}`;
}

export class AwsLoadBalancer implements LoadBalancer {
  constructor(
    private readonly config: AwsConfig,
    private readonly sdk: ElbModule,
    private readonly client: ElbClient,
    private readonly instances: AwsInstances,
  ) {}

  getLoadBalancerName(_cluster: string, svc: KObject): string {
    return defaultLoadBalancerName(svc);
  }

  private async describe(name: string): Promise<Nlb | undefined> {
    try {
      const out = await this.client.send(new this.sdk.DescribeLoadBalancersCommand({ Names: [name] }));
      return out.LoadBalancers?.[0];
    } catch (e) {
      if (isAwsNotFound(e, 'LoadBalancerNotFound')) return undefined;
      throw e;
    }
  }

  async getLoadBalancer(cluster: string, svc: KObject): Promise<{ status?: LoadBalancerStatus; exists: boolean }> {
    const lb = await this.describe(this.getLoadBalancerName(cluster, svc));
    return lb ? { exists: true, status: { ingress: [{ hostname: lb.DNSName }] } } : { exists: false };
  }

  private wantedPorts(svc: KObject, lbName: string): WantedPort[] {
    const out: WantedPort[] = [];
    for (const sp of (svc.spec?.ports ?? []) as any[]) {
      const protocol = sp.protocol ?? 'TCP';
      if (protocol !== 'TCP' && protocol !== 'UDP') throw new Error(`protocol ${protocol} is not supported by a Network Load Balancer here (port ${sp.port})`);
      if (!sp.nodePort) throw new Error(`port ${sp.port}/${protocol} has no nodePort (spec.allocateLoadBalancerNodePorts is false?): instance targets need one`);
      out.push({ port: sp.port, protocol, nodePort: sp.nodePort, targetGroupName: targetGroupName(lbName, { port: sp.port, protocol, nodePort: sp.nodePort }) });
    }
    return out;
  }

  /** The instance IDs of the nodes (from their providerIDs, else looked up in EC2). */
  private async instanceIds(nodes: KObject[]): Promise<string[]> {
    const ids: string[] = [];
    for (const n of nodes) {
      const id = instanceIdFromProviderID(n.spec?.providerID) ?? (await this.instances.find(n))?.InstanceId;
      if (id) ids.push(id);
    }
    return [...new Set(ids)].sort();
  }

  async ensureLoadBalancer(cluster: string, svc: KObject, nodes: KObject[]): Promise<LoadBalancerStatus> {
    if (!this.config.vpcId) throw new Error('cloud-config for provider "aws": vpcId: is required for load balancers');
    if (this.config.subnetIds.length === 0) throw new Error('cloud-config for provider "aws": subnetIds: is required for load balancers');
    const name = this.getLoadBalancerName(cluster, svc);
    const wanted = this.wantedPorts(svc, name);
    const tags = [
      { Key: TAG_SERVICE, Value: objectKey(svc) },
      { Key: clusterTag(cluster), Value: 'owned' },
    ];
    let lb = await this.describe(name);
    if (!lb) {
      const out = await this.client.send(
        new this.sdk.CreateLoadBalancerCommand({ Name: name, Type: 'network', Scheme: this.config.scheme, Subnets: this.config.subnetIds, Tags: tags }),
      );
      lb = out.LoadBalancers?.[0];
      if (!lb?.LoadBalancerArn) throw new Error(`CreateLoadBalancer ${name} returned no balancer`);
    }
    const lbArn = lb.LoadBalancerArn!;
    const targets = await this.instanceIds(nodes);

    // Target groups: one per wanted port, found by name, created if missing, targets synced.
    const groups = new Map<string, TargetGroup>();
    for (const w of wanted) {
      let tg = await this.describeTargetGroup(w.targetGroupName);
      if (!tg) {
        const out = await this.client.send(
          new this.sdk.CreateTargetGroupCommand({
            Name: w.targetGroupName,
            Protocol: w.protocol,
            Port: w.nodePort,
            VpcId: this.config.vpcId,
            TargetType: 'instance',
            HealthCheckProtocol: 'TCP',
            Tags: tags,
          }),
        );
        tg = out.TargetGroups?.[0];
        if (!tg?.TargetGroupArn) throw new Error(`CreateTargetGroup ${w.targetGroupName} returned no target group`);
      }
      await this.syncTargets(tg.TargetGroupArn!, w.nodePort, targets);
      groups.set(`${w.protocol}/${w.port}`, tg);
    }

    // Listeners: one per wanted port forwarding to its group; others removed.
    const listeners = (await this.client.send(new this.sdk.DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
    const oldGroupArns = new Set<string>();
    for (const l of listeners) {
      const key = `${l.Protocol}/${l.Port}`;
      const current = l.DefaultActions?.[0]?.TargetGroupArn;
      if (current) oldGroupArns.add(current);
      const tg = groups.get(key);
      if (!tg) {
        await this.client.send(new this.sdk.DeleteListenerCommand({ ListenerArn: l.ListenerArn }));
      } else if (current !== tg.TargetGroupArn) {
        await this.client.send(new this.sdk.ModifyListenerCommand({ ListenerArn: l.ListenerArn, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }));
      }
    }
    for (const w of wanted) {
      if (listeners.some((l) => l.Protocol === w.protocol && l.Port === w.port)) continue;
      await this.client.send(
        new this.sdk.CreateListenerCommand({
          LoadBalancerArn: lbArn,
          Protocol: w.protocol,
          Port: w.port,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: groups.get(`${w.protocol}/${w.port}`)!.TargetGroupArn }],
        }),
      );
    }
    // Groups the listeners no longer use (a port or node port changed) go.
    const inUse = new Set([...groups.values()].map((g) => g.TargetGroupArn));
    for (const arn of oldGroupArns) if (!inUse.has(arn)) await this.deleteTargetGroup(arn);
    return { ingress: [{ hostname: lb.DNSName }] };
  }

  private async describeTargetGroup(name: string): Promise<TargetGroup | undefined> {
    try {
      return (await this.client.send(new this.sdk.DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups?.[0];
    } catch (e) {
      if (isAwsNotFound(e, 'TargetGroupNotFound')) return undefined;
      throw e;
    }
  }

  private async deleteTargetGroup(arn: string): Promise<void> {
    try {
      await this.client.send(new this.sdk.DeleteTargetGroupCommand({ TargetGroupArn: arn }));
    } catch (e) {
      if (!isAwsNotFound(e, 'TargetGroupNotFound')) throw e;
    }
  }

  private async syncTargets(arn: string, port: number, want: string[]): Promise<void> {
    const health = (await this.client.send(new this.sdk.DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? [];
    const have = new Set(health.map((h) => h.Target?.Id).filter((x): x is string => !!x));
    const add = want.filter((id) => !have.has(id));
    const remove = [...have].filter((id) => !want.includes(id));
    if (add.length) await this.client.send(new this.sdk.RegisterTargetsCommand({ TargetGroupArn: arn, Targets: add.map((Id) => ({ Id, Port: port })) }));
    if (remove.length) await this.client.send(new this.sdk.DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: remove.map((Id) => ({ Id, Port: port })) }));
  }

  async updateLoadBalancer(cluster: string, svc: KObject, nodes: KObject[]): Promise<void> {
    const name = this.getLoadBalancerName(cluster, svc);
    const targets = await this.instanceIds(nodes);
    for (const w of this.wantedPorts(svc, name)) {
      const tg = await this.describeTargetGroup(w.targetGroupName);
      if (!tg) throw new Error(`target group ${w.targetGroupName} of load balancer ${name} not found`);
      await this.syncTargets(tg.TargetGroupArn!, w.nodePort, targets);
    }
  }

  async ensureLoadBalancerDeleted(cluster: string, svc: KObject): Promise<void> {
    const lb = await this.describe(this.getLoadBalancerName(cluster, svc));
    if (!lb) return;
    const listeners = (await this.client.send(new this.sdk.DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ?? [];
    const groups = new Set<string>();
    for (const l of listeners) {
      for (const a of l.DefaultActions ?? []) if (a.TargetGroupArn) groups.add(a.TargetGroupArn);
      await this.client.send(new this.sdk.DeleteListenerCommand({ ListenerArn: l.ListenerArn }));
    }
    for (const arn of groups) await this.deleteTargetGroup(arn);
    // Groups created for the Service's ports whose listener never came to be.
    let ports: WantedPort[] = [];
    try {
      ports = this.wantedPorts(svc, lb.LoadBalancerName!);
    } catch {
      // a port this provider cannot serve has no group
    }
    for (const w of ports) {
      const tg = await this.describeTargetGroup(w.targetGroupName);
      if (tg?.TargetGroupArn && !groups.has(tg.TargetGroupArn)) await this.deleteTargetGroup(tg.TargetGroupArn);
    }
    await this.client.send(new this.sdk.DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
  }
}
