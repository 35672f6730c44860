// Test-only: a local stand-in for EC2 and Elastic Load Balancing v2 on 127.0.0.1, speaking their
// wire format (the AWS Query protocol: form-encoded POSTs with Action and Version; XML answers
// and XML errors as the services send them). It keeps instances, VPC route tables, balancers,
// target groups and listeners in memory, records every request, and injects faults (throttling, not found).

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { serveStandIn, type StandInServer } from '../../testing/stand-in-server.ts';

const ELB_NS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export interface AwsRequest {
  service: 'ec2' | 'elbv2';
  action: string;
  params: Record<string, string>;
  authorization: string;
}

export interface StandInInstance {
  id: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'terminated';
  type: string;
  zone: string;
  privateIp: string;
  publicIp?: string;
  privateDns: string;
  publicDns?: string;
  /** EC2's default is true; routing pod traffic through an instance needs it off. */
  sourceDestCheck?: boolean;
}

export interface StandInRoute {
  destinationCidrBlock: string;
  gatewayId?: string;
  instanceId?: string;
  state: 'active' | 'blackhole';
  origin: 'CreateRouteTable' | 'CreateRoute';
}

export interface StandInRouteTable {
  id: string;
  vpcId: string;
  tags: Record<string, string>;
  routes: StandInRoute[];
}

interface Lb {
  arn: string;
  name: string;
  dns: string;
  scheme: string;
  subnets: string[];
  tags: Record<string, string>;
}
interface Tg {
  arn: string;
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  targets: Map<string, number>;
}
interface Listener {
  arn: string;
  lbArn: string;
  port: number;
  protocol: string;
  tgArn: string;
}

interface Fault {
  action: string;
  code: string;
  status: number;
  message: string;
  times: number;
}

const esc = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const tag = (name: string, v: unknown) => (v === undefined || v === null ? '' : `<${name}>${esc(v)}</${name}>`);

/** Values of a Query list: Names.member.1, Names.member.2, ... in order. */
export function queryList(params: Record<string, string>, prefix: string): string[] {
  return Object.keys(params)
    .filter((k) => k.startsWith(prefix) && /^\d+$/.test(k.slice(prefix.length)))
    .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)))
    .map((k) => params[k]!);
}

/** Structs of a Query list: Targets.member.1.Id, Targets.member.1.Port, ... */
function queryStructs(params: Record<string, string>, prefix: string): Record<string, string>[] {
  const out = new Map<number, Record<string, string>>();
  for (const [k, v] of Object.entries(params)) {
    if (!k.startsWith(prefix)) continue;
    const m = /^(\d+)\.(.+)$/.exec(k.slice(prefix.length));
    if (!m) continue;
    const i = Number(m[1]);
    if (!out.has(i)) out.set(i, {});
    out.get(i)![m[2]!] = v;
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class AwsStandIn {
  readonly requests: AwsRequest[] = [];
  readonly instances = new Map<string, StandInInstance>();
  readonly routeTables = new Map<string, StandInRouteTable>();
  /** Route tables per DescribeRouteTables page (MaxResults is honoured below it). */
  routeTablesPageSize = 100;
  readonly lbs = new Map<string, Lb>();
  readonly tgs = new Map<string, Tg>();
  readonly listeners = new Map<string, Listener>();
  private readonly faults: Fault[] = [];
  private server?: StandInServer;
  private seq = 0;
  url = '';

  async start(): Promise<void> {
    this.server = await serveStandIn((req, body, res) => this.handle(req, body, res));
    this.url = this.server.url;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  /** The next `times` calls of action fail with this code (400 unless status says otherwise). */
  fail(action: string, code: string, message: string, times = 1, status = 400): void {
    this.faults.push({ action, code, message, times, status });
  }

  actions(service?: 'ec2' | 'elbv2'): string[] {
    return this.requests.filter((r) => !service || r.service === service).map((r) => r.action);
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const params = Object.fromEntries(new URLSearchParams(body));
    const action = params.Action ?? '';
    const service = params.Version === '2016-11-15' ? 'ec2' : 'elbv2';
    delete params.Action;
    delete params.Version;
    this.requests.push({ service, action, params, authorization: String(req.headers.authorization ?? '') });
    const reqId = randomUUID();
    const send = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': reqId });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
    };
    const sendError = (e: AwsError) =>
      service === 'ec2'
        ? send(e.status, `<Response><Errors><Error><Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error></Errors><RequestID>${reqId}</RequestID></Response>`)
        : send(e.status, `<ErrorResponse xmlns="${ELB_NS}"><Error><Type>Sender</Type><Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${reqId}</RequestId></ErrorResponse>`);
    const fault = this.faults.find((f) => f.action === action && f.times > 0);
    if (fault) {
      fault.times--;
      return sendError(new AwsError(fault.code, fault.message, fault.status));
    }
    try {
      if (service === 'ec2') {
        return send(200, `<${action}Response xmlns="${EC2_NS}"><requestId>${reqId}</requestId>${this.ec2(action, params)}</${action}Response>`);
      }
      const result = this.elb(action, params);
      send(200, `<${action}Response xmlns="${ELB_NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${reqId}</RequestId></ResponseMetadata></${action}Response>`);
    } catch (e) {
      if (e instanceof AwsError) return sendError(e);
      send(500, `<ErrorResponse xmlns="${ELB_NS}"><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>${esc((e as Error).message)}</Message></Error><RequestId>${reqId}</RequestId></ErrorResponse>`);
    }
  }

  private ec2(action: string, p: Record<string, string>): string {
    switch (action) {
      case 'DescribeInstances':
        return this.describeInstances(p);
      case 'DescribeRouteTables':
        return this.describeRouteTables(p);
      case 'ModifyInstanceAttribute': {
        const i = this.instances.get(p.InstanceId ?? '');
        if (!i) throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${p.InstanceId}' does not exist`);
        if (p['SourceDestCheck.Value'] === undefined) throw new AwsError('InvalidParameterCombination', 'No attributes specified.');
        i.sourceDestCheck = p['SourceDestCheck.Value'] === 'true';
        return '<return>true</return>';
      }
      case 'CreateRoute': {
        const t = this.table(p.RouteTableId);
        const cidr = p.DestinationCidrBlock ?? '';
        if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr)) throw new AwsError('InvalidParameterValue', `Value (${cidr}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.`);
        if (t.routes.some((r) => r.destinationCidrBlock === cidr)) throw new AwsError('RouteAlreadyExists', `The route identified by ${cidr} already exists.`);
        const i = this.instances.get(p.InstanceId ?? '');
        if (!i) throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${p.InstanceId}' does not exist`);
        t.routes.push({ destinationCidrBlock: cidr, instanceId: i.id, state: 'active', origin: 'CreateRoute' });
        return '<return>true</return>';
      }
      case 'DeleteRoute': {
        const t = this.table(p.RouteTableId);
        const at = t.routes.findIndex((r) => r.destinationCidrBlock === p.DestinationCidrBlock);
        if (at < 0) throw new AwsError('InvalidRoute.NotFound', `no route with destination-cidr-block ${p.DestinationCidrBlock} in route table ${t.id}`);
        t.routes.splice(at, 1);
        return '<return>true</return>';
      }
    }
    throw new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
  }

  private table(id: string | undefined): StandInRouteTable {
    const t = this.routeTables.get(id ?? '');
    if (!t) throw new AwsError('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
    return t;
  }

  /** Filters route-table-id, vpc-id, tag-key and tag:<key>; pages by NextToken. */
  private describeRouteTables(params: Record<string, string>): string {
    let list = [...this.routeTables.values()];
    const ids = queryList(params, 'RouteTableId.');
    if (ids.length) {
      const missing = ids.filter((id) => !this.routeTables.has(id));
      if (missing.length) throw new AwsError('InvalidRouteTableID.NotFound', `The routeTable ID '${missing.join(', ')}' does not exist`);
      list = list.filter((t) => ids.includes(t.id));
    }
    for (const f of queryStructs(params, 'Filter.')) {
      const values = Object.entries(f)
        .filter(([k]) => k.startsWith('Value.'))
        .map(([, v]) => v);
      const name = f.Name ?? '';
      if (name === 'route-table-id') list = list.filter((t) => values.includes(t.id));
      else if (name === 'vpc-id') list = list.filter((t) => values.includes(t.vpcId));
      else if (name === 'tag-key') list = list.filter((t) => Object.keys(t.tags).some((k) => values.includes(k)));
      else if (name.startsWith('tag:')) list = list.filter((t) => values.includes(t.tags[name.slice(4)]!));
      else throw new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
    }
    const size = Math.min(Number(params.MaxResults ?? this.routeTablesPageSize), this.routeTablesPageSize);
    const start = Number(params.NextToken ?? 0);
    const page = list.slice(start, start + size);
    const routeXml = (r: StandInRoute) =>
      `<item>${tag('destinationCidrBlock', r.destinationCidrBlock)}${tag('gatewayId', r.gatewayId)}${tag('instanceId', r.instanceId)}${r.instanceId ? '<instanceOwnerId>123456789012</instanceOwnerId>' + tag('networkInterfaceId', `eni-${r.instanceId.slice(2)}`) : ''}${tag('state', r.state)}${tag('origin', r.origin)}</item>`;
    const items = page
      .map(
        (t) =>
          `<item>${tag('routeTableId', t.id)}${tag('vpcId', t.vpcId)}<ownerId>123456789012</ownerId><routeSet>${t.routes.map(routeXml).join('')}</routeSet><associationSet/><propagatingVgwSet/><tagSet>${Object.entries(t.tags)
            .map(([k, v]) => `<item>${tag('key', k)}${tag('value', v)}</item>`)
            .join('')}</tagSet></item>`,
      )
      .join('');
    return `<routeTableSet>${items}</routeTableSet>${start + size < list.length ? tag('nextToken', String(start + size)) : ''}`;
  }

  private describeInstances(params: Record<string, string>): string {
    const ids = queryList(params, 'InstanceId.');
    const filters = queryStructs(params, 'Filter.');
    let list = [...this.instances.values()];
    if (ids.length) {
      const missing = ids.filter((id) => !this.instances.has(id));
      if (missing.length) throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${missing.join(', ')}' does not exist`);
      list = list.filter((i) => ids.includes(i.id));
    }
    for (const f of filters) {
      const values = Object.entries(f)
        .filter(([k]) => k.startsWith('Value.'))
        .map(([, v]) => v);
      if (f.Name === 'private-dns-name') list = list.filter((i) => values.includes(i.privateDns));
      else if (f.Name === 'instance-id') list = list.filter((i) => values.includes(i.id));
      else throw new AwsError('InvalidParameterValue', `The filter '${f.Name}' is invalid`);
    }
    const codes = { pending: 0, running: 16, stopping: 64, stopped: 80, terminated: 48 };
    const items = list
      .map(
        (i) =>
          `<item><reservationId>r-${i.id.slice(2)}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet><item>${tag('instanceId', i.id)}<imageId>ami-0abcdef1234567890</imageId><instanceState><code>${codes[i.state]}</code><name>${i.state}</name></instanceState>${tag('privateDnsName', i.privateDns)}${tag('dnsName', i.publicDns ?? '')}${tag('instanceType', i.type)}<placement>${tag('availabilityZone', i.zone)}<tenancy>default</tenancy></placement>${tag('privateIpAddress', i.privateIp)}${tag('ipAddress', i.publicIp)}${tag('sourceDestCheck', i.sourceDestCheck ?? true)}</item></instancesSet></item>`,
      )
      .join('');
    return `<reservationSet>${items}</reservationSet>`;
  }

  private lbXml(lb: Lb): string {
    return `<member>${tag('LoadBalancerArn', lb.arn)}${tag('DNSName', lb.dns)}${tag('LoadBalancerName', lb.name)}${tag('Scheme', lb.scheme)}<VpcId>vpc-stand-in</VpcId><State><Code>active</Code></State><Type>network</Type><AvailabilityZones>${lb.subnets.map((s) => `<member>${tag('SubnetId', s)}<ZoneName>us-east-1a</ZoneName></member>`).join('')}</AvailabilityZones><IpAddressType>ipv4</IpAddressType></member>`;
  }

  private tgXml(tg: Tg): string {
    const lbArns = [...this.listeners.values()].filter((l) => l.tgArn === tg.arn).map((l) => `<member>${esc(l.lbArn)}</member>`);
    return `<member>${tag('TargetGroupArn', tg.arn)}${tag('TargetGroupName', tg.name)}${tag('Protocol', tg.protocol)}${tag('Port', tg.port)}${tag('VpcId', tg.vpcId)}<HealthCheckProtocol>TCP</HealthCheckProtocol><HealthCheckPort>traffic-port</HealthCheckPort><TargetType>instance</TargetType><LoadBalancerArns>${[...new Set(lbArns)].join('')}</LoadBalancerArns></member>`;
  }

  private listenerXml(l: Listener): string {
    return `<member>${tag('ListenerArn', l.arn)}${tag('LoadBalancerArn', l.lbArn)}${tag('Port', l.port)}${tag('Protocol', l.protocol)}<DefaultActions><member><Type>forward</Type>${tag('TargetGroupArn', l.tgArn)}</member></DefaultActions></member>`;
  }

  private tgByArn(arn: string | undefined): Tg {
    const tg = arn ? this.tgs.get(arn) : undefined;
    if (!tg) throw new AwsError('TargetGroupNotFound', `Target groups '${arn}' not found`);
    return tg;
  }

  private elb(action: string, p: Record<string, string>): string {
    const id = () => (++this.seq).toString(16).padStart(16, '0');
    switch (action) {
      case 'DescribeLoadBalancers': {
        const names = queryList(p, 'Names.member.');
        const found = [...this.lbs.values()].filter((lb) => names.length === 0 || names.includes(lb.name));
        if (names.length && found.length < names.length) throw new AwsError('LoadBalancerNotFound', `Load balancers '[${names.filter((n) => !this.lbs.has(n)).join(', ')}]' not found`);
        return `<LoadBalancers>${found.map((lb) => this.lbXml(lb)).join('')}</LoadBalancers>`;
      }
      case 'CreateLoadBalancer': {
        if (this.lbs.has(p.Name!)) throw new AwsError('DuplicateLoadBalancerName', 'A load balancer with the same name already exists');
        const tags = Object.fromEntries(queryStructs(p, 'Tags.member.').map((t) => [t.Key!, t.Value ?? '']));
        const lb: Lb = { arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/${p.Name}/${id()}`, name: p.Name!, dns: `${p.Name}-${this.seq}.elb.us-east-1.amazonaws.com`, scheme: p.Scheme ?? 'internet-facing', subnets: queryList(p, 'Subnets.member.'), tags };
        this.lbs.set(lb.name, lb);
        return `<LoadBalancers>${this.lbXml(lb)}</LoadBalancers>`;
      }
      case 'DeleteLoadBalancer': {
        const lb = [...this.lbs.values()].find((x) => x.arn === p.LoadBalancerArn);
        if (lb) {
          if ([...this.listeners.values()].some((l) => l.lbArn === lb.arn)) {
            for (const [k, l] of this.listeners) if (l.lbArn === lb.arn) this.listeners.delete(k);
          }
          this.lbs.delete(lb.name);
        }
        return '';
      }
      case 'DescribeTargetGroups': {
        const names = queryList(p, 'Names.member.');
        let found = [...this.tgs.values()];
        if (names.length) {
          found = found.filter((t) => names.includes(t.name));
          if (found.length < names.length) throw new AwsError('TargetGroupNotFound', `One or more target groups not found`);
        }
        if (p.LoadBalancerArn) found = found.filter((t) => [...this.listeners.values()].some((l) => l.lbArn === p.LoadBalancerArn && l.tgArn === t.arn));
        return `<TargetGroups>${found.map((t) => this.tgXml(t)).join('')}</TargetGroups>`;
      }
      case 'CreateTargetGroup': {
        if ([...this.tgs.values()].some((t) => t.name === p.Name)) throw new AwsError('DuplicateTargetGroupName', 'A target group with the same name exists');
        const tg: Tg = { arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${p.Name}/${id()}`, name: p.Name!, protocol: p.Protocol!, port: Number(p.Port), vpcId: p.VpcId!, targets: new Map() };
        this.tgs.set(tg.arn, tg);
        return `<TargetGroups>${this.tgXml(tg)}</TargetGroups>`;
      }
      case 'DeleteTargetGroup': {
        const tg = this.tgByArn(p.TargetGroupArn);
        if ([...this.listeners.values()].some((l) => l.tgArn === tg.arn)) throw new AwsError('ResourceInUse', `Target group '${tg.arn}' is currently in use by a listener or a rule`);
        this.tgs.delete(tg.arn);
        return '';
      }
      case 'DescribeTargetHealth': {
        const tg = this.tgByArn(p.TargetGroupArn);
        return `<TargetHealthDescriptions>${[...tg.targets].map(([tid, port]) => `<member><Target>${tag('Id', tid)}${tag('Port', port)}</Target><HealthCheckPort>${port}</HealthCheckPort><TargetHealth><State>healthy</State></TargetHealth></member>`).join('')}</TargetHealthDescriptions>`;
      }
      case 'RegisterTargets':
      case 'DeregisterTargets': {
        const tg = this.tgByArn(p.TargetGroupArn);
        for (const t of queryStructs(p, 'Targets.member.')) {
          if (action === 'RegisterTargets') {
            if (!this.instances.has(t.Id!)) throw new AwsError('InvalidTarget', `The following targets are not in a running state and cannot be registered: '${t.Id}'`);
            tg.targets.set(t.Id!, Number(t.Port ?? tg.port));
          } else tg.targets.delete(t.Id!);
        }
        return '';
      }
      case 'DescribeListeners': {
        const found = [...this.listeners.values()].filter((l) => l.lbArn === p.LoadBalancerArn);
        if (![...this.lbs.values()].some((lb) => lb.arn === p.LoadBalancerArn)) throw new AwsError('LoadBalancerNotFound', `Load balancer '${p.LoadBalancerArn}' not found`);
        return `<Listeners>${found.map((l) => this.listenerXml(l)).join('')}</Listeners>`;
      }
      case 'CreateListener': {
        const tgArn = queryStructs(p, 'DefaultActions.member.')[0]?.TargetGroupArn;
        this.tgByArn(tgArn);
        if ([...this.listeners.values()].some((l) => l.lbArn === p.LoadBalancerArn && l.port === Number(p.Port))) throw new AwsError('DuplicateListener', 'A listener already exists on this port for this load balancer');
        const l: Listener = { arn: `${p.LoadBalancerArn!.replace(':loadbalancer/', ':listener/')}/${id()}`, lbArn: p.LoadBalancerArn!, port: Number(p.Port), protocol: p.Protocol!, tgArn: tgArn! };
        this.listeners.set(l.arn, l);
        return `<Listeners>${this.listenerXml(l)}</Listeners>`;
      }
      case 'ModifyListener': {
        const l = this.listeners.get(p.ListenerArn!);
        if (!l) throw new AwsError('ListenerNotFound', `Listener '${p.ListenerArn}' not found`);
        l.tgArn = queryStructs(p, 'DefaultActions.member.')[0]?.TargetGroupArn ?? l.tgArn;
        return `<Listeners>${this.listenerXml(l)}</Listeners>`;
      }
      case 'DeleteListener': {
        if (!this.listeners.delete(p.ListenerArn!)) throw new AwsError('ListenerNotFound', `Listener '${p.ListenerArn}' not found`);
        return '';
      }
    }
    throw new AwsError('InvalidAction', `Could not find operation ${action} for version 2015-12-01`);
  }
}
