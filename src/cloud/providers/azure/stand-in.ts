// Test-only: a local stand-in for Azure Resource Manager on 127.0.0.1, over TLS with a test CA
// (the Azure SDK sends bearer tokens only over https). It speaks ARM's JSON (resources with a
// nested `properties`), answers PUT and DELETE as long-running operations (201/202 with an
// Azure-AsyncOperation URL that reports InProgress, then Succeeded), sends errors in ARM's shape,
// records every request, and injects faults (429 throttling, 404).

import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ensurePki } from '../../../apiserver/pki.ts';

export interface ArmRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: Record<string, string>;
  body: any;
  authorization: string;
}

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
  private server?: https.Server;
  private dir = '';
  private seq = 0;
  private nextIP = 20;
  url = '';
  caPem = '';

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'mizzen-azure-standin-'));
    const pki = await ensurePki(this.dir);
    this.caPem = pki.caCertPem;
    this.server = https.createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, (req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => this.handle(req, body, res));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
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
    const method = req.method ?? 'GET';
    let parsed: any;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch {
      parsed = body;
    }
    this.requests.push({ method, path: u.pathname, query: Object.fromEntries(u.searchParams), body: parsed, authorization: String(req.headers.authorization ?? '') });
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
    const m = /\/providers\/(Microsoft\.[A-Za-z]+)\/([A-Za-z]+)\/([^/]+)$/.exec(id);
    if (!m) return error(404, 'InvalidResourceType', `no such resource type at ${id}`);
    const [, , type, name] = m as unknown as [string, string, string, string];
    const existing = this.get(id);
    const notFound = () => error(404, 'ResourceNotFound', `The Resource '${m[1]}/${type}/${name}' under resource group '${/resourceGroups\/([^/]+)/.exec(id)?.[1]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    const asyncOp = (then: () => void, location: string) => {
      const opId = `op-${++this.seq}`;
      this.operations.set(opId, { pollsLeft: this.operationPolls, then });
      return { 'azure-asyncoperation': `${this.url}/subscriptions/x/providers/Microsoft.Network/locations/${location}/operations/${opId}?api-version=2024-05-01`, 'retry-after': '0' };
    };
    switch (method) {
      case 'GET':
        if (!existing) return notFound();
        return send(200, existing);
      case 'PUT': {
        if (type !== 'loadBalancers' && type !== 'publicIPAddresses') return error(405, 'MethodNotAllowed', `PUT ${type} is not supported here`);
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
    if (type === 'loadBalancers') {
      for (const child of ['frontendIPConfigurations', 'backendAddressPools', 'probes', 'loadBalancingRules']) {
        for (const c of (obj.properties[child] ?? []) as any[]) c.id = `${id}/${child}/${c.name}`;
      }
    }
    return obj;
  }
}
