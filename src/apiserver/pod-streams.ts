// The subresources the API server hands to a node's kubelet, as upstream does:
//   pods/log                      GET, streamed from the kubelet's /containerLogs
//   pods/exec, attach, portforward GET or POST with a connection upgrade (WebSocket or SPDY),
//                                 relayed byte for byte to the kubelet's /exec, /attach, /portForward
//   nodes/proxy                   any method and path, to the kubelet itself
// The kubelet speaks the client's protocol (it translates WebSocket v5 for the container runtime), so
// the API server only checks the request, finds the kubelet, and pipes.

import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KObject } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import { proxyUpgrade } from '../machinery/http-upgrade.ts';
import { kubeletLogQuery, kubeletStreamQuery, parsePodLogOptions, parsePodStreamOptions, parsePortForwardPorts, validatePodLogOptions } from '../api/core/pod-stream-options.ts';
import type { RequestInfo } from './request-info.ts';
import type { ResourceStore } from './registry/resource-store.ts';
import { kubeletError, kubeletLocation, kubeletRequest, kubeletTls, readSmallBody, unreachable, type KubeletClientConfig, type KubeletLocation } from './kubelet-client.ts';

export interface PodStreamDeps {
  pods: ResourceStore;
  nodes: ResourceStore;
  /** Credentials for kubelets; without them these subresources answer 503. */
  kubelet?: KubeletClientConfig;
}

/** What a request addresses among these subresources, if anything. */
export function podStreamKind(info: RequestInfo): 'log' | 'exec' | 'attach' | 'portforward' | 'nodeproxy' | undefined {
  if (!info.isResourceRequest || info.prefix !== 'api' || info.version !== 'v1' || !info.name) return undefined;
  if (info.resource === 'pods' && info.namespace) {
    const s = info.subresource;
    if (s === 'log' || s === 'exec' || s === 'attach' || s === 'portforward') return s;
  }
  if (info.resource === 'nodes' && !info.namespace && (info.subresource === 'proxy' || info.subresource?.startsWith('proxy/'))) return 'nodeproxy';
  return undefined;
}

function config(deps: PodStreamDeps): KubeletClientConfig {
  if (!deps.kubelet) throw errors.serviceUnavailable('the API server has no client credentials for kubelets');
  return deps.kubelet;
}

const nodesGR = { group: '', resource: 'nodes' };

function nodeOf(deps: PodStreamDeps, name: string): KObject {
  const n = deps.nodes.tryGet(undefined, name)?.obj;
  if (!n) throw errors.notFound(nodesGR, name);
  return n;
}

/** The container a request is about: the named one, or the only one (upstream's validateContainer). */
export function chooseContainer(pod: KObject, requested: string | undefined): string {
  const name = pod.metadata.name;
  const spec = pod.spec ?? {};
  if (!requested) {
    const cs: any[] = spec.containers ?? [];
    if (cs.length === 1) return cs[0].name;
    if (cs.length === 0) throw errors.badRequest(`a container name must be specified for pod ${name}`);
    const all = [...(spec.initContainers ?? []), ...cs, ...(spec.ephemeralContainers ?? [])].map((c: any) => c.name);
    throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
  }
  const known = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].some((c: any) => c?.name === requested);
  if (!known) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

const enc = encodeURIComponent;

/** GET pods/{name}/log */
export async function servePodLog(req: IncomingMessage, res: ServerResponse, info: RequestInfo, q: URLSearchParams, deps: PodStreamDeps): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw errors.methodNotAllowed(`${req.method} is not supported on pods/log`);
  const ns = info.namespace!;
  const name = info.name!;
  const o = parsePodLogOptions(q);
  const invalid = validatePodLogOptions(o);
  if (invalid.length) throw errors.invalid('PodLogOptions', '', name, invalid);
  const pod = deps.pods.get(ns, name).obj;
  const container = chooseContainer(pod, o.container);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) {
    // A pod not yet scheduled has no log: an empty answer, as upstream gives.
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end();
    return;
  }
  const cfg = config(deps);
  const loc = kubeletLocation(nodeOf(deps, nodeName), cfg);
  const query = kubeletLogQuery(o).toString();
  const kres = await kubeletRequest(cfg, loc, `/containerLogs/${enc(ns)}/${enc(name)}/${enc(container)}${query ? `?${query}` : ''}`, { insecure: o.insecureSkipTLSVerifyBackend });
  const status = kres.statusCode ?? 500;
  if (status < 200 || status > 206) throw kubeletError(status, await readSmallBody(kres), { resource: 'pods/log', name });
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  res.on('close', () => kres.destroy());
  // A kubelet that goes away mid-stream cuts the answer (the client sees it end early).
  kres.on('error', () => res.destroy());
  kres.pipe(res);
}

/** pods/{name}/exec, attach and portforward with a connection upgrade. */
export async function servePodStreamUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, info: RequestInfo, q: URLSearchParams, deps: PodStreamDeps): Promise<void> {
  const kind = info.subresource as 'exec' | 'attach' | 'portforward';
  if (req.method !== 'GET' && req.method !== 'POST') throw errors.methodNotAllowed(`${req.method} is not supported on pods/${kind}`);
  const ns = info.namespace!;
  const name = info.name!;
  let path: string;
  const pod = deps.pods.get(ns, name).obj;
  if (kind === 'portforward') {
    const ports = parsePortForwardPorts(q);
    path = `/portForward/${enc(ns)}/${enc(name)}${ports.length ? `?${ports.map((p) => `port=${p}`).join('&')}` : ''}`;
  } else {
    const o = parsePodStreamOptions(q);
    const container = chooseContainer(pod, o.container);
    path = `/${kind}/${enc(ns)}/${enc(name)}/${enc(container)}?${kubeletStreamQuery(o)}`;
  }
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  const cfg = config(deps);
  const loc = kubeletLocation(nodeOf(deps, nodeName), cfg);
  await relayUpgrade(req, socket, head, cfg, loc, path);
}

async function relayUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cfg: KubeletClientConfig, loc: KubeletLocation, path: string): Promise<void> {
  try {
    await proxyUpgrade(req, socket, head, `${loc.baseUrl}${path}`, { connectHost: loc.connectHost, tls: kubeletTls(cfg, loc), timeoutMs: cfg.timeoutMs ?? 30_000 });
  } catch (e) {
    throw unreachable(loc, e);
  }
}

/** The node, an optional port (`name:port`) and the kubelet path of a nodes/{name}/proxy/... request. */
function nodeProxyTarget(req: IncomingMessage, info: RequestInfo): { node: string; port?: number; path: string } {
  const [node, portText, ...rest] = info.name!.split(':');
  if (rest.length || (portText !== undefined && !/^\d{1,5}$/.test(portText))) throw errors.badRequest(`invalid node name ${JSON.stringify(info.name)}: expected NAME or NAME:PORT`);
  // The path after .../proxy, kept as the client encoded it, with the query.
  const raw = req.url ?? '';
  const qi = raw.indexOf('?');
  const rawPath = qi >= 0 ? raw.slice(0, qi) : raw;
  const at = rawPath.search(/\/proxy(\/|$)/);
  const tail = at >= 0 ? rawPath.slice(at + '/proxy'.length) : '';
  return { node, port: portText ? Number(portText) : undefined, path: `${tail || '/'}${qi >= 0 ? raw.slice(qi) : ''}` };
}

/** Request headers not passed to the kubelet: the client's credentials and hop-by-hop headers. */
const DROPPED_REQUEST = new Set(['authorization', 'host', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'impersonate-user', 'impersonate-group']);
const DROPPED_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'trailer']);

/** nodes/{name}/proxy/{path}: any method, to the kubelet. */
export async function serveNodeProxy(req: IncomingMessage, res: ServerResponse, info: RequestInfo, deps: PodStreamDeps): Promise<void> {
  const t = nodeProxyTarget(req, info);
  const cfg = config(deps);
  const loc = kubeletLocation(nodeOf(deps, t.node), cfg, t.port);
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (!DROPPED_REQUEST.has(k) && v !== undefined) headers[k] = v;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
  const kres = await kubeletRequest(cfg, loc, t.path, { method: req.method, headers, body: hasBody ? req : undefined });
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(kres.headers)) if (!DROPPED_RESPONSE.has(k) && v !== undefined) out[k] = v;
  res.writeHead(kres.statusCode ?? 502, out);
  res.on('close', () => kres.destroy());
  kres.on('error', () => res.destroy());
  kres.pipe(res);
}

/** nodes/{name}/proxy/{path} with a connection upgrade. */
export async function serveNodeProxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, info: RequestInfo, deps: PodStreamDeps): Promise<void> {
  const t = nodeProxyTarget(req, info);
  const cfg = config(deps);
  const loc = kubeletLocation(nodeOf(deps, t.node), cfg, t.port);
  await relayUpgrade(req, socket, head, cfg, loc, t.path);
}
