// Test-only: a local stand-in for the Compute Engine REST API on 127.0.0.1 (JSON over HTTP, the
// paths and bodies @google-cloud/compute's REST transport sends): instances, regional target
// pools and forwarding rules kept in memory, mutations answered with Operations that finish on a
// later `wait`, errors in Google's JSON error shape, and injected faults.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

const SELF = 'https://www.googleapis.com/compute/v1';

export interface GcpRequest {
  method: string;
  path: string;
  body: any;
  authorization: string;
}

export interface StandInGceInstance {
  name: string;
  zone: string;
  status: string;
  machineType: string;
  networkIP: string;
  natIP?: string;
}

interface Fault {
  method: string;
  pathIncludes: string;
  status: number;
  reason: string;
  message: string;
  times: number;
}

class GceError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class GcpStandIn {
  readonly requests: GcpRequest[] = [];
  readonly instances = new Map<string, StandInGceInstance>();
  readonly targetPools = new Map<string, any>();
  readonly forwardingRules = new Map<string, any>();
  readonly operations = new Map<string, { op: any; waitsLeft: number }>();
  /** How many `wait` calls a new operation answers RUNNING before DONE. */
  operationWaits = 0;
  private readonly faults: Fault[] = [];
  private server?: http.Server;
  private seq = 0;
  private nextIP = 10;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => this.handle(req, body, res));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  fail(method: string, pathIncludes: string, status: number, reason: string, message: string, times = 1): void {
    this.faults.push({ method, pathIncludes, status, reason, message, times });
  }

  /** "POST targetPools", "GET forwardingRules/x" style summary of the requests. */
  calls(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path.replace(/^\/compute\/v1\/projects\/[^/]+\/(regions|zones)\/[^/]+\//, '')}`);
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    let parsed: any;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch {
      parsed = body;
    }
    this.requests.push({ method, path, body: parsed, authorization: String(req.headers.authorization ?? '') });
    const send = (status: number, obj: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(obj));
    };
    const sendError = (e: GceError) => send(e.status, { error: { code: e.status, message: e.message, errors: [{ message: e.message, domain: e.reason === 'rateLimitExceeded' ? 'usageLimits' : 'global', reason: e.reason }] } });
    const fault = this.faults.find((f) => f.times > 0 && f.method === method && path.includes(f.pathIncludes));
    if (fault) {
      fault.times--;
      return sendError(new GceError(fault.status, fault.reason, fault.message));
    }
    try {
      send(200, this.route(method, path, parsed));
    } catch (e) {
      if (e instanceof GceError) return sendError(e);
      send(500, { error: { code: 500, message: (e as Error).message, errors: [{ reason: 'backendError' }] } });
    }
  }

  private notFound(path: string): GceError {
    return new GceError(404, 'notFound', `The resource '${path.replace('/compute/v1/', '')}' was not found`);
  }

  private operation(project: string, region: string, type: string, target: string): any {
    const name = `operation-${Date.now()}-${++this.seq}`;
    const op = {
      kind: 'compute#operation',
      id: String(1000 + this.seq),
      name,
      operationType: type,
      targetLink: target,
      status: 'RUNNING',
      progress: 0,
      insertTime: new Date().toISOString(),
      region: `${SELF}/projects/${project}/regions/${region}`,
      selfLink: `${SELF}/projects/${project}/regions/${region}/operations/${name}`,
    };
    this.operations.set(name, { op, waitsLeft: this.operationWaits });
    return op;
  }

  private route(method: string, path: string, body: any): any {
    let m = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/.exec(path);
    if (m && method === 'GET') {
      const i = this.instances.get(`${m[2]}/${m[3]}`);
      if (!i) throw this.notFound(path);
      return {
        kind: 'compute#instance',
        id: '4567',
        name: i.name,
        status: i.status,
        zone: `${SELF}/projects/${m[1]}/zones/${i.zone}`,
        machineType: `${SELF}/projects/${m[1]}/zones/${i.zone}/machineTypes/${i.machineType}`,
        networkInterfaces: [{ name: 'nic0', network: `${SELF}/projects/${m[1]}/global/networks/default`, networkIP: i.networkIP, accessConfigs: i.natIP ? [{ type: 'ONE_TO_ONE_NAT', name: 'External NAT', natIP: i.natIP }] : [] }],
        selfLink: `${SELF}/projects/${m[1]}/zones/${i.zone}/instances/${i.name}`,
      };
    }
    m = /^\/compute\/v1\/projects\/([^/]+)\/regions\/([^/]+)\/(targetPools|forwardingRules|operations)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    if (!m) throw new GceError(404, 'notFound', `no such path ${path}`);
    const [, project, region, kind, name, verb] = m as unknown as [string, string, string, string, string | undefined, string | undefined];
    const base = `${SELF}/projects/${project}/regions/${region}`;
    if (kind === 'operations') {
      const o = this.operations.get(name ?? '');
      if (!o) throw this.notFound(path);
      if (verb === 'wait' || method === 'GET') {
        if (o.waitsLeft > 0) o.waitsLeft--;
        else Object.assign(o.op, { status: 'DONE', progress: 100, endTime: new Date().toISOString() });
      }
      return o.op;
    }
    const store = kind === 'targetPools' ? this.targetPools : this.forwardingRules;
    if (!name) {
      if (method !== 'POST') throw new GceError(405, 'badRequest', 'method not allowed');
      if (store.has(body.name)) throw new GceError(409, 'alreadyExists', `The resource '${path.slice(12)}/${body.name}' already exists`);
      const obj: any = { kind: `compute#${kind.slice(0, -1)}`, id: String(2000 + ++this.seq), creationTimestamp: new Date().toISOString(), ...body, region: base, selfLink: `${base}/${kind}/${body.name}` };
      if (kind === 'forwardingRules') {
        if (!this.targetPools.has(String(body.target).split('/').pop()!)) throw new GceError(400, 'invalid', `Invalid value for field 'resource.target': '${body.target}'. The resource was not found.`);
        obj.IPAddress ??= `203.0.113.${this.nextIP++}`;
        obj.networkTier = 'PREMIUM';
      } else obj.instances ??= [];
      store.set(body.name, obj);
      return this.operation(project, region, 'insert', obj.selfLink);
    }
    const obj = store.get(name);
    if (!obj) throw this.notFound(path);
    if (method === 'GET' && !verb) return obj;
    if (method === 'DELETE' && !verb) {
      if (kind === 'targetPools' && [...this.forwardingRules.values()].some((r) => r.target === obj.selfLink))
        throw new GceError(400, 'resourceInUseByAnotherResource', `The target_pool resource '${obj.selfLink}' is already being used by a forwarding rule`);
      store.delete(name);
      return this.operation(project, region, 'delete', obj.selfLink);
    }
    if (method === 'POST' && kind === 'targetPools' && (verb === 'addInstance' || verb === 'removeInstance')) {
      const urls = ((body.instances ?? []) as Array<{ instance: string }>).map((x) => x.instance);
      obj.instances = verb === 'addInstance' ? [...new Set([...obj.instances, ...urls])] : obj.instances.filter((u: string) => !urls.includes(u));
      return this.operation(project, region, verb, obj.selfLink);
    }
    throw new GceError(400, 'badRequest', `unsupported ${method} ${path}`);
  }
}
