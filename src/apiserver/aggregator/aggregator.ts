// The aggregation layer (upstream kube-aggregator, inside the API server): APIService objects
// name who serves each group/version. Local ones (this server's own groups) are created at start;
// for the others, requests under /apis/<group>/<version> are proxied to the Service's endpoints, an
// availability check keeps their Available condition and discovery current, and their groups join
// this server's discovery (legacy and aggregated).

import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject } from '../../api/types.ts';
import { apiServiceName } from '../../api/apiregistration/api-service.ts';
import { errors, StatusError } from '../../machinery/errors.ts';
import { nowRFC3339 } from '../../machinery/time.ts';
import type { RemoteGroupVersion } from '../discovery.ts';
import { sendStatusError } from '../http-util.ts';
import type { ResourceStore } from '../registry/resource-store.ts';
import type { RequestInfo } from '../request-info.ts';
import type { UserInfo } from '../authn.ts';
import { backendGet, tlsOptions } from './backend-request.ts';
import { localPriority } from './priorities.ts';
import { isResolved, resolveService, type ResolverLookups } from './resolve.ts';
import { authenticationConfigMap, ensureFrontProxy, publishAuthenticationConfigMap, type FrontProxy } from './front-proxy.ts';

type Lookup = (group: string, plural: string) => ResourceStore | undefined;

export const AUTOMANAGED_LABEL = 'kube-aggregator.kubernetes.io/automanaged';
const LOCAL_MESSAGE = 'Local APIServices are always available';
/** How often a backend is checked again when nothing it depends on changed (upstream resyncs at 30 s). */
const RECHECK_MS = 30_000;
const CHECK_TIMEOUT_MS = 5_000;
/** Hop-by-hop headers never forwarded (RFC 7230 6.1). */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

export interface AggregatorOptions {
  lookup: Lookup;
  log: (msg: string) => void;
  /** Where the front-proxy CA and client certificate live (`DATA_DIR/pki`). */
  pkiDir: string;
  /** The CA of the API server's client certificates, published for aggregated servers. */
  clientCA: string;
  /** How often the availability loop looks for changes (ms). */
  tickMs?: number;
}

interface Check {
  fingerprint: string;
  at: number;
  running?: Promise<void>;
}

export class Aggregator {
  private readonly lookup: Lookup;
  private readonly log: (m: string) => void;
  private timer?: NodeJS.Timeout;
  private readonly checks = new Map<string, Check>();
  /** APIResourceList `resources` per APIService name, from its last successful check. */
  private readonly discovered = new Map<string, Array<Record<string, unknown>>>();
  private remote: RemoteGroupVersion[] = [];
  private remoteKey = '';
  private stopped = false;
  private frontProxy?: FrontProxy;

  constructor(private readonly opts: AggregatorOptions) {
    this.lookup = opts.lookup;
    this.log = opts.log;
  }

  private get apiServices(): ResourceStore | undefined {
    return this.lookup('apiregistration.k8s.io', 'apiservices');
  }

  private list(): KObject[] {
    const rs = this.apiServices;
    return rs ? rs.cache.list(rs.listPrefix()).items.map((c) => c.obj) : [];
  }

  async start(localGroupVersions: Array<{ group: string; version: string; custom?: boolean }>): Promise<void> {
    this.frontProxy = await ensureFrontProxy(this.opts.pkiDir);
    const configMaps = this.lookup('', 'configmaps');
    if (configMaps) await publishAuthenticationConfigMap(configMaps, authenticationConfigMap(this.opts.clientCA, this.frontProxy));
    await this.syncLocal(localGroupVersions);
    this.refreshRemote();
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.checks.values()].map((c) => c.running));
  }

  /**
   * One Local APIService per group/version this server serves (upstream's autoregister), created
   * or corrected; automanaged ones for group/versions no longer served are removed. Built-in ones
   * are labelled automanaged `onstart`, those of CustomResourceDefinitions `true` (`custom`), as
   * upstream's crdregistration controller labels them.
   */
  async syncLocal(gvs: Array<{ group: string; version: string; custom?: boolean }>): Promise<void> {
    const rs = this.apiServices;
    if (!rs || this.stopped) return;
    const wanted = new Set<string>();
    const writes: Promise<void>[] = [];
    for (const { group, version, custom } of gvs) {
      const name = apiServiceName(group, version);
      if (wanted.has(name)) continue;
      wanted.add(name);
      const p = localPriority(group, version);
      const spec = { group, version, groupPriorityMinimum: p.group, versionPriority: p.version };
      const existing = rs.tryGet(undefined, name)?.obj;
      // Concurrent writes share commits (the store batches them): a first start stays quick.
      writes.push(
        (async () => {
          try {
            if (!existing) await rs.create(undefined, { metadata: { name, labels: { [AUTOMANAGED_LABEL]: custom ? 'true' : 'onstart' } }, spec });
            else if (existing.metadata.labels?.[AUTOMANAGED_LABEL] && (existing.spec?.service || existing.spec.groupPriorityMinimum !== p.group || existing.spec.versionPriority !== p.version))
              await rs.update(undefined, name, (o) => ({ ...o, spec }));
            await this.setAvailable(name, 'True', 'Local', LOCAL_MESSAGE);
          } catch (e) {
            if (!(e instanceof StatusError && e.code === 409)) throw e;
          }
        })(),
      );
    }
    await Promise.all(writes);
    for (const o of this.list()) {
      if (o.metadata.labels?.[AUTOMANAGED_LABEL] && !o.spec?.service && !wanted.has(o.metadata.name!)) {
        await rs.delete(undefined, o.metadata.name!).catch(() => {});
      }
    }
  }

  /** The group/versions served through this server by others, for discovery (a new array on change). */
  remoteGroupVersions(): RemoteGroupVersion[] {
    return this.remote;
  }

  private refreshRemote(): void {
    const list: RemoteGroupVersion[] = [];
    for (const o of this.list()) {
      if (!o.spec?.service) continue;
      const resources = this.discovered.get(o.metadata.name!);
      list.push({
        group: o.spec.group ?? '',
        version: o.spec.version ?? '',
        priority: { group: o.spec.groupPriorityMinimum ?? 0, version: o.spec.versionPriority ?? 0 },
        resources,
        fresh: isAvailable(o),
      });
    }
    const key = JSON.stringify(list);
    if (key !== this.remoteKey) {
      this.remoteKey = key;
      this.remote = list;
    }
  }

  private lookups(): ResolverLookups {
    const get = (group: string, plural: string, ns: string | undefined, name: string) => this.lookup(group, plural)?.tryGet(ns, name)?.obj;
    return {
      service: (ns, name) => get('', 'services', ns, name),
      endpoints: (ns, name) => get('', 'endpoints', ns, name),
      endpointSlices: (ns, svc) => {
        const rs = this.lookup('discovery.k8s.io', 'endpointslices');
        if (!rs) return [];
        return rs.cache
          .list(rs.listPrefix(ns))
          .items.map((c) => c.obj)
          .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc);
      },
      pod: (ns, name) => get('', 'pods', ns, name),
      node: (name) => get('', 'nodes', undefined, name),
    };
  }

  // ---- availability ----------------------------------------------------------------------------

  private tick(): void {
    if (this.stopped) return;
    const now = Date.now();
    const seen = new Set<string>();
    for (const o of this.list()) {
      if (!o.spec?.service) continue;
      const name = o.metadata.name!;
      seen.add(name);
      const fp = this.fingerprint(o);
      const c = this.checks.get(name);
      if (c?.running || (c && c.fingerprint === fp && now - c.at < RECHECK_MS)) continue;
      const check: Check = { fingerprint: fp, at: now };
      check.running = this.check(o)
        .catch((e) => this.log(`aggregator: checking ${name}: ${(e as Error).message}`))
        .finally(() => {
          check.running = undefined;
          this.refreshRemote();
        });
      this.checks.set(name, check);
    }
    for (const name of [...this.checks.keys()]) if (!seen.has(name)) this.checks.delete(name);
    for (const name of [...this.discovered.keys()]) if (!seen.has(name)) this.discovered.delete(name);
    this.refreshRemote();
  }

  /** Everything the check depends on; a change means checking again now. */
  private fingerprint(o: KObject): string {
    const l = this.lookups();
    const s = o.spec.service;
    const rv = (x: KObject | undefined) => x?.metadata.resourceVersion ?? '-';
    return [
      o.metadata.resourceVersion,
      rv(l.service(s.namespace, s.name)),
      rv(l.endpoints(s.namespace, s.name)),
      ...l.endpointSlices(s.namespace, s.name).map(rv),
    ].join('/');
  }

  private async check(o: KObject): Promise<void> {
    const name = o.metadata.name!;
    const target = resolveService(o.spec.service, this.lookups());
    if (!isResolved(target)) {
      this.discovered.delete(name);
      await this.setAvailable(name, 'False', target.reason, target.message);
      return;
    }
    const path = `/apis/${o.spec.group}/${o.spec.version}`;
    const url = `https://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}${path}`;
    try {
      const res = await backendGet(o, target, path, CHECK_TIMEOUT_MS);
      if (res.status < 200 || res.status >= 300) throw new Error(`bad status from ${url}: ${res.status}`);
      const list = JSON.parse(res.body);
      this.discovered.set(name, Array.isArray(list?.resources) ? list.resources : []);
      await this.setAvailable(name, 'True', 'Passed', 'all checks passed');
    } catch (e) {
      await this.setAvailable(name, 'False', 'FailedDiscoveryCheck', `failing or missing response from ${url}: ${(e as Error).message}`);
    }
  }

  private async setAvailable(name: string, status: string, reason: string, message: string): Promise<void> {
    const rs = this.apiServices;
    const cur = rs?.tryGet(undefined, name)?.obj;
    if (!rs || !cur) return;
    const old = (cur.status?.conditions ?? []).find((c: any) => c.type === 'Available');
    if (old && old.status === status && old.reason === reason && old.message === message) return;
    const cond = { type: 'Available', status, lastTransitionTime: old?.status === status ? old.lastTransitionTime : nowRFC3339(), reason, message };
    await rs.update(
      undefined,
      name,
      (obj) => {
        const others = (obj.status?.conditions ?? []).filter((c: any) => c.type !== 'Available');
        obj.status = { ...(obj.status ?? {}), conditions: [...others, cond] };
        return obj;
      },
      { subresource: 'status' },
    );
  }

  // ---- proxy -----------------------------------------------------------------------------------

  /** Proxies a request for an aggregated group/version; false when this server serves it. */
  async maybeProxy(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo): Promise<boolean> {
    if (info.prefix !== 'apis' || !info.group || !info.version) return false;
    const o = this.apiServices?.tryGet(undefined, apiServiceName(info.group, info.version))?.obj;
    if (!o?.spec?.service) return false;
    if (!isAvailable(o)) {
      const c = (o.status?.conditions ?? []).find((x: any) => x.type === 'Available');
      throw errors.serviceUnavailable(`service unavailable: APIService ${o.metadata.name} is not available${c?.message ? `: ${c.message}` : ''}`);
    }
    const target = resolveService(o.spec.service, this.lookups());
    if (!isResolved(target)) throw errors.serviceUnavailable(target.message);
    await new Promise<void>((resolve) => {
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        const lk = k.toLowerCase();
        // The caller's own credentials stay here; the backend learns who asked from the
        // request headers below (upstream's requestheader authentication).
        if (v === undefined || hopByHop.has(lk) || lk === 'authorization' || lk.startsWith('x-remote-') || lk === 'impersonate-user' || lk.startsWith('impersonate-')) continue;
        headers[k] = v;
      }
      headers['X-Remote-User'] = user.name;
      if (user.groups.length) headers['X-Remote-Group'] = user.groups;
      const identity = this.frontProxy ? { cert: this.frontProxy.certPem, key: this.frontProxy.keyPem } : {};
      const upstream = https.request({ ...tlsOptions(o, target), ...identity, method: req.method, path: req.url, headers }, (ures) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(ures.headers)) if (v !== undefined && !hopByHop.has(k.toLowerCase())) out[k] = v;
        res.writeHead(ures.statusCode ?? 502, out);
        ures.pipe(res);
        ures.on('end', resolve);
        ures.on('error', () => {
          res.destroy();
          resolve();
        });
      });
      upstream.on('error', (e) => {
        if (!res.headersSent) sendStatusError(res, errors.serviceUnavailable(`error trying to reach service: ${e.message}`));
        else res.destroy();
        resolve();
      });
      // A client that goes away (a watch it stops) ends the backend request too.
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
        resolve();
      });
      req.pipe(upstream);
    });
    return true;
  }
}

export function isAvailable(o: KObject): boolean {
  return (o.status?.conditions ?? []).some((c: any) => c.type === 'Available' && c.status === 'True');
}
