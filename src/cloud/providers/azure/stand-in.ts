// Test-only: a local stand-in for Azure Resource Manager on 127.0.0.1, over TLS with a test CA
// (the Azure SDK sends bearer tokens only over https). It speaks ARM's JSON (resources with a
// nested `properties`), answers PUT and DELETE as long-running operations (201/202 with an
// Azure-AsyncOperation URL that reports InProgress, then Succeeded), sends errors in ARM's shape,
// records every request, and injects faults (429 throttling, 404). Route tables keep their routes
// inline, as ARM returns them, and routes are also addressed as child resources.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki } from '../../../apiserver/pki.ts';
import { jsonRequest, serveStandIn, type JSONRequest, type StandInServer } from '../../testing/stand-in-server.ts';

export type ArmRequest = JSONRequest;

interface Fault {
  method: string;
  pathIncludes: string;
  status: number;
  code: string;
  message: string;
  times: number;
}

export class AzureStandIn {
  readonly requests: ArmRequest[] = [];
  /** ARM resources by lower-cased resource ID, in wire form. */
  readonly resources = new Map<string, any>();
  /** Polls an operation answers InProgress before Succeeded. */
  operationPolls = 1;
  private readonly operations = new Map<string, { pollsLeft: number; then: () => void }>();
  private readonly faults: Fault[] = [];
  private server?: StandInServer;
  private dir = '';
  private seq = 0;
  private nextIP = 20;
  url = '';
  caPem = '';

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'mizzen-azure-standin-'));
    const pki = await ensurePki(this.dir);
    this.caPem = pki.caCertPem;
    this.server = await serveStandIn((req, body, res) => this.handle(req, body, res), { cert: pki.serverCertPem, key: pki.serverKeyPem });
    this.url = this.server.url;
  }

  async close(): Promise<void> {
    await this.server?.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  fail(method: string, pathIncludes: string, status: number, code: string, message: string, times = 1): void {
    this.faults.push({ method, pathIncludes, status, code, message, times });
  }

  /** Add a resource in wire form (VMs and NICs the tests start with). */
  put(id: string, obj: any): void {
    this.resources.set(id.toLowerCase(), { id, ...obj });
  }

  get(id: string): any {
    return this.resources.get(id.toLowerCase());
  }

  /** "PUT loadBalancers/x" style summary, operation polls left out. */
  calls(): string[] {
    return this.requests.filter((r) => !r.path.includes('/operations/')).map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`);
  }

  private handle(req: import('node:http').IncomingMessage, body: string, res: import('node:http').ServerResponse): void {
    const u = new URL(req.url ?? '/', this.url);
    const request = jsonRequest(req, body);
    this.requests.push(request);
    const { method, body: parsed } = request;
    const send = (status: number, obj: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': `req-${++this.seq}`, ...headers });
      res.end(obj === undefined ? '' : JSON.stringify(obj));
    };
    const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) => send(status, { error: { code, message } }, headers);
    const fault = this.faults.find((f) => f.times > 0 && f.method === method && u.pathname.includes(f.pathIncludes));
    if (fault) {
      fault.times--;
      return error(fault.status, fault.code, fault.message, fault.status === 429 ? { 'retry-after': '0' } : {});
    }
    if (!u.searchParams.get('api-version')) return error(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");

    const asyncOpFor = (then: () => void, location: string) => {
      const opId = `op-${++this.seq}`;
      this.operations.set(opId, { pollsLeft: this.operationPolls, then });
      return { 'azure-asyncoperation': `${this.url}/subscriptions/x/providers/Microsoft.Network/locations/${location}/operations/${opId}?api-version=2024-05-01`, 'retry-after': '0' };
    };
    const op = /\/operations\/([^/]+)$/.exec(u.pathname);
    if (op && method === 'GET') {
      const o = this.operations.get(op[1]!);
      if (!o) return error(404, 'NotFound', 'operation not found');
      if (o.pollsLeft > 0) {
        o.pollsLeft--;
        return send(200, { status: 'InProgress' }, { 'retry-after': '0' });
      }
      o.then();
      return send(200, { status: 'Succeeded' });
    }

    const id = u.pathname;
    const child = /^(.*\/providers\/Microsoft\.Network\/routeTables\/[^/]+)\/routes\/([^/]+)$/i.exec(id);
    if (child) return this.routeChild(method, child[1]!, child[2]!, parsed, send, error, asyncOpFor);
    const m = /\/providers\/(Microsoft\.[A-Za-z]+)\/([A-Za-z]+)\/([^/]+)$/.exec(id);
    if (!m) return error(404, 'InvalidResourceType', `no such resource type at ${id}`);
    const [, , type, name] = m as unknown as [string, string, string, string];
    const existing = this.get(id);
    const notFound = () => error(404, 'ResourceNotFound', `The Resource '${m[1]}/${type}/${name}' under resource group '${/resourceGroups\/([^/]+)/.exec(id)?.[1]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    const asyncOp = asyncOpFor;
    switch (method) {
      case 'GET':
        if (!existing) return notFound();
        return send(200, existing);
      case 'PUT': {
        if (type !== 'loadBalancers' && type !== 'publicIPAddresses' && type !== 'routeTables') return error(405, 'MethodNotAllowed', `PUT ${type} is not supported here`);
        const obj = this.materialise(id, type, name, parsed, existing);
        const created = !existing;
        // The resource is visible at once (Updating), Succeeded when the operation finishes.
        this.resources.set(id.toLowerCase(), { ...obj, properties: { ...obj.properties, provisioningState: 'Updating' } });
        const headers = asyncOp(() => this.resources.set(id.toLowerCase(), obj), parsed?.location ?? 'westeurope');
        return send(created ? 201 : 200, { ...obj, properties: { ...obj.properties, provisioningState: 'Updating' } }, headers);
      }
      case 'DELETE': {
        if (!existing) return send(204, undefined);
        if (type === 'publicIPAddresses') {
          const inUse = [...this.resources.values()].some((r) => JSON.stringify(r.properties?.frontendIPConfigurations ?? []).toLowerCase().includes(id.toLowerCase()));
          if (inUse) return error(400, 'PublicIPAddressInUse', `Public IP address ${id} can not be deleted since it is still allocated to resource.`);
        }
        const headers = asyncOp(() => this.resources.delete(id.toLowerCase()), existing.location ?? 'westeurope');
        return send(202, undefined, { ...headers, location: headers['azure-asyncoperation']! });
      }
    }
    return error(405, 'MethodNotAllowed', `${method} is not supported`);
  }

  /** What ARM stores for a PUT: ids on every child, an address for a new public IP. */
  private materialise(id: string, type: string, name: string, body: any, existing: any): any {
    const obj = { ...structuredClone(body ?? {}), id, name, type: `Microsoft.Network/${type}`, etag: `W/"${++this.seq}"` };
    obj.properties = { ...(obj.properties ?? {}), provisioningState: 'Succeeded' };
    if (type === 'publicIPAddresses') obj.properties.ipAddress = existing?.properties?.ipAddress ?? `198.51.100.${this.nextIP++}`;
    if (type === 'routeTables') {
      obj.properties.routes = ((obj.properties.routes ?? []) as any[]).map((r) => ({ ...r, id: `${id}/routes/${r.name}`, type: 'Microsoft.Network/routeTables/routes', properties: { ...r.properties, provisioningState: 'Succeeded' } }));
      obj.properties.resourceGuid ??= existing?.properties?.resourceGuid ?? `guid-${this.seq}`;
    }
    if (type === 'loadBalancers') {
      for (const child of ['frontendIPConfigurations', 'backendAddressPools', 'probes', 'loadBalancingRules']) {
        for (const c of (obj.properties[child] ?? []) as any[]) c.id = `${id}/${child}/${c.name}`;
      }
    }
    return obj;
  }

  /** A route of a route table: PUT, GET, DELETE as ARM answers them, stored inline in the table. */
  private routeChild(
    method: string,
    tableId: string,
    name: string,
    body: any,
    send: (status: number, obj: unknown, headers?: Record<string, string>) => void,
    error: (status: number, code: string, message: string) => void,
    asyncOp: (then: () => void, location: string) => Record<string, string>,
  ): void {
    const table = this.get(tableId);
    const tableName = tableId.split('/').pop();
    const rg = /resourceGroups\/([^/]+)/.exec(tableId)?.[1];
    if (!table) return error(404, 'ResourceNotFound', `The Resource 'Microsoft.Network/routeTables/${tableName}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    const routes = (table.properties.routes ??= []) as any[];
    const at = routes.findIndex((r) => r.name.toLowerCase() === name.toLowerCase());
    const id = `${tableId}/routes/${name}`;
    switch (method) {
      case 'GET':
        if (at < 0) return error(404, 'NotFound', `Resource ${id} not found.`);
        return send(200, routes[at]);
      case 'PUT': {
        const p = body?.properties ?? {};
        if (!/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$/.test(name)) return error(400, 'InvalidResourceName', `Resource name ${name} is invalid. The name can be up to 80 characters long. It must begin with a word character, and it must end with a word character or with '_'. The name may contain word characters or '.', '-'.`);
        if (p.nextHopType === 'VirtualAppliance' && !p.nextHopIpAddress) return error(400, 'InvalidRoute', `Route ${name} has nextHopType VirtualAppliance but no nextHopIpAddress.`);
        if (!p.addressPrefix) return error(400, 'InvalidRoute', `Route ${name} has no addressPrefix.`);
        const route = { name, id, etag: `W/"${++this.seq}"`, type: 'Microsoft.Network/routeTables/routes', properties: { ...p, provisioningState: 'Succeeded', hasBgpOverride: false } };
        const created = at < 0;
        if (created) routes.push({ ...route, properties: { ...route.properties, provisioningState: 'Updating' } });
        const headers = asyncOp(() => {
          const i = routes.findIndex((r) => r.name.toLowerCase() === name.toLowerCase());
          if (i < 0) routes.push(route);
          else routes[i] = route;
        }, table.location ?? 'westeurope');
        return send(created ? 201 : 200, { ...route, properties: { ...route.properties, provisioningState: 'Updating' } }, headers);
      }
      case 'DELETE': {
        if (at < 0) return send(204, undefined);
        const headers = asyncOp(() => {
          const i = routes.findIndex((r) => r.name.toLowerCase() === name.toLowerCase());
          if (i >= 0) routes.splice(i, 1);
        }, table.location ?? 'westeurope');
        return send(202, undefined, { ...headers, location: headers['azure-asyncoperation']! });
      }
    }
    return error(405, 'MethodNotAllowed', `${method} is not supported`);
  }
}
