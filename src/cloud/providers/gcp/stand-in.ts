// Test-only: a local stand-in for the Compute Engine REST API on 127.0.0.1 (JSON over HTTP, the
// paths and bodies @google-cloud/compute's REST transport sends): instances, regional target
// pools and forwarding rules, global VPC routes (listed through the API's filter expressions, in
// pages) kept in memory, mutations answered with Operations that finish on a
// later `wait`, errors in Google's JSON error shape, and injected faults.

import http from 'node:http';
import { jsonRequest, serveStandIn, type JSONRequest, type StandInServer } from '../../testing/stand-in-server.ts';

const SELF = 'https://www.googleapis.com/compute/v1';

export type GcpRequest = JSONRequest;

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
  /** Global routes by name (the VPC's routing table across networks). */
  readonly routes = new Map<string, any>();
  /** Items per page of a routes list (Compute Engine's default and maximum is 500). */
  routesPageSize = 500;
  readonly operations = new Map<string, { op: any; waitsLeft: number }>();
  /** How many `wait` calls a new operation answers RUNNING before DONE. */
  operationWaits = 0;
  private readonly faults: Fault[] = [];
  private server?: StandInServer;
  private seq = 0;
  private nextIP = 10;
  url = '';

  async start(): Promise<void> {
    this.server = await serveStandIn((req, body, res) => this.handle(req, body, res));
    this.url = this.server.url;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  fail(method: string, pathIncludes: string, status: number, reason: string, message: string, times = 1): void {
    this.faults.push({ method, pathIncludes, status, reason, message, times });
  }

  /** "POST targetPools", "GET forwardingRules/x" style summary of the requests. */
  calls(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path.replace(/^\/compute\/v1\/projects\/[^/]+\/((regions|zones)\/[^/]+|global)\//, '')}`);
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const request = jsonRequest(req, body);
    this.requests.push(request);
    const { method, path, body: parsed } = request;
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
      send(200, this.route(method, path, parsed, new URLSearchParams(request.query)));
    } catch (e) {
      if (e instanceof GceError) return sendError(e);
      send(500, { error: { code: 500, message: (e as Error).message, errors: [{ reason: 'backendError' }] } });
    }
  }

  private notFound(path: string): GceError {
    return new GceError(404, 'notFound', `The resource '${path.replace('/compute/v1/', '')}' was not found`);
  }

  private operation(project: string, region: string | undefined, type: string, target: string): any {
    const name = `operation-${Date.now()}-${++this.seq}`;
    const scope = region ? `${SELF}/projects/${project}/regions/${region}` : `${SELF}/projects/${project}/global`;
    const op = {
      kind: 'compute#operation',
      id: String(1000 + this.seq),
      name,
      operationType: type,
      targetLink: target,
      status: 'RUNNING',
      progress: 0,
      insertTime: new Date().toISOString(),
      ...(region ? { region: scope } : {}),
      selfLink: `${scope}/operations/${name}`,
    };
    this.operations.set(name, { op, waitsLeft: this.operationWaits });
    return op;
  }

  private route(method: string, path: string, body: any, query: URLSearchParams): any {
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
    m = /^\/compute\/v1\/projects\/([^/]+)\/global\/(routes|operations)(?:\/([^/]+))?(?:\/(wait))?$/.exec(path);
    if (m) return this.global(method, path, m[1]!, m[2]!, m[3], body, query);
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

  private waitOperation(path: string, name: string | undefined): any {
    const o = this.operations.get(name ?? '');
    if (!o) throw this.notFound(path);
    if (o.waitsLeft > 0) o.waitsLeft--;
    else Object.assign(o.op, { status: 'DONE', progress: 100, endTime: new Date().toISOString() });
    return o.op;
  }

  /** Global routes and operations: insert, get, delete, and list with `filter`, `maxResults`, `pageToken`. */
  private global(method: string, path: string, project: string, kind: string, name: string | undefined, body: any, query: URLSearchParams): any {
    const base = `${SELF}/projects/${project}/global`;
    if (kind === 'operations') return this.waitOperation(path, name);
    if (!name && method === 'GET') {
      const matches = compileFilter(query.get('filter') ?? '');
      const all = [...this.routes.values()].filter(matches).sort((a, b) => a.name.localeCompare(b.name));
      const size = Math.min(Number(query.get('maxResults') ?? this.routesPageSize) || this.routesPageSize, this.routesPageSize);
      const start = Number(query.get('pageToken') ?? 0);
      const page = all.slice(start, start + size);
      return { kind: 'compute#routeList', id: `projects/${project}/global/routes`, items: page, selfLink: `${base}/routes`, ...(start + size < all.length ? { nextPageToken: String(start + size) } : {}) };
    }
    if (!name && method === 'POST') {
      if (this.routes.has(body.name)) throw new GceError(409, 'alreadyExists', `The resource 'projects/${project}/global/routes/${body.name}' already exists`);
      if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(String(body.name))) throw new GceError(400, 'invalid', `Invalid value for field 'resource.name': '${body.name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`);
      const hop = /zones\/([^/]+)\/instances\/([^/]+)$/.exec(String(body.nextHopInstance ?? ''));
      if (!hop || !this.instances.has(`${hop[1]}/${hop[2]}`)) throw new GceError(400, 'invalid', `Invalid value for field 'resource.nextHopInstance': '${body.nextHopInstance}'. The resource was not found.`);
      const obj = { kind: 'compute#route', id: String(3000 + ++this.seq), creationTimestamp: new Date().toISOString(), ...body, nextHopInstance: `${SELF}/projects/${project}/zones/${hop[1]}/instances/${hop[2]}`, selfLink: `${base}/routes/${body.name}` };
      this.routes.set(body.name, obj);
      return this.operation(project, undefined, 'insert', obj.selfLink);
    }
    const obj = this.routes.get(name ?? '');
    if (!obj) throw this.notFound(path);
    if (method === 'GET') return obj;
    if (method === 'DELETE') {
      this.routes.delete(name!);
      return this.operation(project, undefined, 'delete', obj.selfLink);
    }
    throw new GceError(400, 'badRequest', `unsupported ${method} ${path}`);
  }
}

/**
 * Compute Engine's list filter as the routes list uses it: `(field eq "RE2")` terms joined by
 * spaces (AND), each expression matching the whole field value.
 */
export function compileFilter(filter: string): (obj: any) => boolean {
  const terms: Array<{ field: string; op: string; re: RegExp }> = [];
  const rest = filter.replace(/\(\s*([a-zA-Z.]+)\s+(eq|ne)\s+"((?:[^"\\]|\\.)*)"\s*\)/g, (_m, field: string, op: string, v: string) => {
    terms.push({ field, op, re: new RegExp(`^(?:${v})$`) });
    return '';
  });
  if (rest.trim() !== '') throw new GceError(400, 'invalid', `Invalid list filter expression '${filter}'.`);
  return (obj) => terms.every((t) => t.re.test(String(obj[t.field] ?? '')) === (t.op === 'eq'));
}
