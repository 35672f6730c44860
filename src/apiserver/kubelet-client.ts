// How the API server reaches a node's kubelet (upstream's KubeletConnectionInfo): its HTTPS port from
// status.daemonEndpoints, an address picked by preferred type (InternalIP first, as k3s runs
// --kubelet-preferred-address-types), the API server's kubelet-client certificate, and the kubelet's
// serving certificate checked against the cluster CA for that address.
//
// A node whose address belongs to this machine is dialled on 127.0.0.1 instead (its kubelet listens on
// every address): the same kubelet, and traffic that never leaves loopback. The certificate is still
// checked for the node's own address.

import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { KObject } from '../api/types.ts';
import { errors, StatusError } from '../machinery/errors.ts';
import { SIMULATED_LABEL } from '../kubelet/simulated/node-object.ts';

export interface KubeletClientConfig {
  /** The API server's client certificate and key for kubelets (PEM). */
  cert: string;
  key: string;
  /** The CA kubelet serving certificates are checked against (PEM). */
  ca: string;
  /** Connecting and the kubelet's answer (not a streamed body) must take less than this; default 30 s. */
  timeoutMs?: number;
  /** Address types in order of preference. */
  preferredAddressTypes?: string[];
}

export const DEFAULT_PREFERRED_ADDRESS_TYPES = ['InternalIP', 'ExternalIP', 'Hostname', 'InternalDNS', 'ExternalDNS'];
const DEFAULT_KUBELET_PORT = 10250;

export interface KubeletLocation {
  nodeName: string;
  /** The node's address the kubelet is reached at (and its certificate is checked for). */
  address: string;
  port: number;
  /** Where to actually connect: 127.0.0.1 for this machine's own addresses. */
  connectHost: string;
  /** https://<address>:<port> */
  baseUrl: string;
}

/** True for nodes played by the simulator, which run no kubelet server and no containers. */
export function isSimulatedNode(node: KObject): boolean {
  return node.metadata.labels?.[SIMULATED_LABEL] === 'true' || String(node.status?.nodeInfo?.containerRuntimeVersion ?? '').startsWith('simulated://');
}

/** This machine's addresses and names, to recognise a node that is this machine. */
export function localAddresses(): Set<string> {
  const out = new Set<string>(['127.0.0.1', '::1', 'localhost', hostname()]);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

let cachedLocal: { at: number; set: Set<string> } | undefined;
function local(): Set<string> {
  // Interfaces rarely change; looking them up costs a system call per request otherwise.
  if (!cachedLocal || Date.now() - cachedLocal.at > 10_000) cachedLocal = { at: Date.now(), set: localAddresses() };
  return cachedLocal.set;
}

/** Where a node's kubelet is. Throws a Status for simulated nodes and nodes without an address. */
export function kubeletLocation(node: KObject, cfg: Pick<KubeletClientConfig, 'preferredAddressTypes'>, portOverride?: number): KubeletLocation {
  const name = node.metadata.name!;
  if (isSimulatedNode(node)) throw errors.badRequest(`node ${name} is simulated and runs no containers`);
  const addrs: Array<{ type: string; address: string }> = node.status?.addresses ?? [];
  const prefs = cfg.preferredAddressTypes ?? DEFAULT_PREFERRED_ADDRESS_TYPES;
  let address: string | undefined;
  for (const t of prefs) {
    address = addrs.find((a) => a?.type === t && a.address)?.address;
    if (address) break;
  }
  if (!address) {
    throw errors.serviceUnavailable(`no address to reach the kubelet of node ${JSON.stringify(name)}: no preferred addresses found; known addresses: [${addrs.map((a) => `${a.type} ${a.address}`).join(', ')}]`);
  }
  const declared = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0);
  const port = portOverride ?? (declared > 0 ? declared : DEFAULT_KUBELET_PORT);
  const connectHost = local().has(address) ? (isIP(address) === 6 ? '::1' : '127.0.0.1') : address;
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return { nodeName: name, address, port, connectHost, baseUrl: `https://${host}:${port}` };
}

/** TLS options for a connection to a kubelet. */
export function kubeletTls(cfg: KubeletClientConfig, loc: KubeletLocation, insecure = false) {
  return {
    ca: cfg.ca,
    cert: cfg.cert,
    key: cfg.key,
    rejectUnauthorized: !insecure,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => (insecure ? undefined : checkServerIdentity(loc.address, cert)),
  };
}

/** A kubelet that could not be reached, named with its node and address. */
export function unreachable(loc: KubeletLocation, e: unknown): StatusError {
  if (e instanceof StatusError) return e;
  const via = loc.connectHost !== loc.address ? ` (dialled at ${loc.connectHost})` : '';
  return errors.serviceUnavailable(`error dialing backend: the kubelet of node ${JSON.stringify(loc.nodeName)} at ${loc.address}:${loc.port}${via} cannot be reached: ${(e as Error).message}`);
}

/**
 * A request to a kubelet; resolves with its response once the headers arrive (the body is left to
 * stream). Rejects with a 503 naming the node when it cannot be reached in time.
 */
export function kubeletRequest(cfg: KubeletClientConfig, loc: KubeletLocation, path: string, opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: NodeJS.ReadableStream; insecure?: boolean } = {}): Promise<IncomingMessage> {
  const timeoutMs = cfg.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = https.request({
      method: opts.method ?? 'GET',
      host: loc.connectHost,
      port: loc.port,
      path,
      headers: { Host: `${loc.address.includes(':') ? `[${loc.address}]` : loc.address}:${loc.port}`, ...(opts.headers ?? {}) },
      agent: false,
      ...kubeletTls(cfg, loc, opts.insecure),
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`)), timeoutMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(unreachable(loc, e));
    });
    if (opts.body) opts.body.pipe(req);
    else req.end();
  });
}

/** Read a (small) body whole; bounded so that a misbehaving kubelet cannot fill memory. */
export function readSmallBody(res: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/**
 * A kubelet's error answer as the API server passes it on: its Status when it sent one, otherwise
 * the text mapped as upstream's GenericHttpResponseChecker does (400 → BadRequest, 404 → NotFound,
 * 500 → InternalError).
 */
export function kubeletError(status: number, body: Buffer, what: { resource: string; name: string }): StatusError {
  const text = body.toString('utf8').trim();
  try {
    const s = JSON.parse(text);
    if (s?.kind === 'Status' && typeof s.message === 'string') return new StatusError(s.code || status, s.reason || 'InternalError', s.message, s.details);
  } catch {
    // plain text
  }
  if (status === 400) return errors.badRequest(text);
  if (status === 404) return new StatusError(404, 'NotFound', text || `the server could not find the requested resource (get ${what.resource} ${what.name})`);
  if (status === 403) return new StatusError(403, 'Forbidden', text);
  if (status === 401) return new StatusError(401, 'Unauthorized', text);
  return errors.internal(text || `the kubelet answered ${status}`);
}
