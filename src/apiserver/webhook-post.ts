// One webhook POST for every caller (admission webhooks, CRD conversion webhooks): where a
// clientConfig points — its url, or a Service reference resolved through the Service's Endpoints,
// dialled only at addresses on this host (127.0.0.0/8, ::1; a ClusterIP or a simulated pod has no
// network behind it here) and verified as `<name>.<namespace>.svc` — and the POST itself: JSON
// over HTTPS trusting caBundle, `?timeout=Ns` as upstream sends it, one deadline for the whole
// call, a cap on the answer's size. Callers word failures their own way; network failures are
// worded as Go's net/http words them, since upstream's messages carry those.

import https from 'node:https';
import tls from 'node:tls';
import type { KObject } from '../api/types.ts';

export interface WebhookClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path?: string; port?: number };
  caBundle?: string;
}

/** Reads a Service and its Endpoints (from the watch caches) to resolve a service reference. */
export interface ServiceLookup {
  service(namespace: string, name: string): KObject | undefined;
  endpoints(namespace: string, name: string): KObject | undefined;
}

export interface WebhookTarget {
  url: URL;
  /** For a service reference: the name its certificate must carry. */
  servername?: string;
}

/** Why a clientConfig has no target; callers turn it into their own words. */
export type Unresolved =
  | { reason: 'no-target' }
  | { reason: 'no-service'; namespace: string; name: string }
  | { reason: 'no-port'; namespace: string; name: string; port: number }
  | { reason: 'no-local-endpoint'; namespace: string; name: string };

const loopback = (ip: string) => /^127\.\d+\.\d+\.\d+$/.test(ip) || ip === '::1';

export function resolveWebhook(cc: WebhookClientConfig, services: ServiceLookup): WebhookTarget | Unresolved {
  if (cc.url) return { url: new URL(cc.url) };
  const ref = cc.service;
  if (!ref) return { reason: 'no-target' };
  const { namespace, name } = ref;
  const port = ref.port ?? 443;
  const svc = services.service(namespace, name);
  if (!svc) return { reason: 'no-service', namespace, name };
  const svcPort = (svc.spec?.ports ?? []).find((p: any) => p.port === port);
  if (!svcPort) return { reason: 'no-port', namespace, name, port };
  for (const subset of services.endpoints(namespace, name)?.subsets ?? []) {
    const epPort = (subset.ports ?? []).find((p: any) => (p.name ?? '') === (svcPort.name ?? '')) ?? (subset.ports?.length === 1 ? subset.ports[0] : undefined);
    if (!epPort) continue;
    for (const a of subset.addresses ?? []) {
      if (!loopback(a.ip)) continue;
      const h = a.ip.includes(':') ? `[${a.ip}]` : a.ip;
      return { url: new URL(`https://${h}:${epPort.port}${ref.path ?? '/'}`), servername: `${name}.${namespace}.svc` };
    }
  }
  return { reason: 'no-local-endpoint', namespace, name };
}

export interface PostOptions {
  caBundle?: string;
  timeoutMs: number;
  /** Largest answer read; a larger one fails with `tooLargeText`. */
  maxBytes: number;
  tooLargeText: string;
  /** The failure text of a non-2xx answer. */
  statusText(code: number, body: string): string;
}

/** A POST that produced no usable answer: `Post "<url>": <why>`, with both parts kept. */
export class WebhookPostError extends Error {
  constructor(
    readonly url: string,
    readonly why: string,
    /** Set when the webhook answered with a non-2xx code. */
    readonly status?: number,
  ) {
    super(`Post "${url}": ${why}`);
  }
}

/** Network errors as Go's net/http words them. */
export function goNetError(e: Error, addr: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return `dial tcp ${addr}: connect: connection refused`;
  if (code === 'ECONNRESET') return `read tcp ${addr}: read: connection reset by peer`;
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'SELF_SIGNED_CERT_IN_CHAIN' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY')
    return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  return e.message;
}

/** POSTs JSON `body` to the target; resolves the answer's text (2xx only), rejects with a WebhookPostError. */
export function postWebhook(target: WebhookTarget, body: string, o: PostOptions): Promise<string> {
  const { url, servername } = target;
  const seconds = Math.max(1, Math.round(o.timeoutMs / 1000));
  const path = `${url.pathname}${url.search}${url.search ? '&' : '?'}timeout=${seconds}s`;
  const shown = new URL(path, url).toString();
  const addr = `${url.hostname}:${url.port || 443}`;
  const ca = o.caBundle ? Buffer.from(o.caBundle, 'base64') : undefined;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string, status?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new WebhookPostError(shown, why, status));
    };
    const req = https.request(
      {
        protocol: 'https:',
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || 443,
        path,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) },
        ...(ca ? { ca } : {}),
        // A service reference is dialled at an endpoint address but verified as <name>.<namespace>.svc.
        ...(servername ? { servername, checkServerIdentity: (_h: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(servername, cert) } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= o.maxBytes) return void chunks.push(c);
          // Too large: fail now (a destroyed response may still end, empty) and stop reading.
          fail(o.tooLargeText);
          req.destroy();
        });
        res.on('end', () => {
          if (settled) return;
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code < 200 || code >= 300) return fail(o.statusText(code, text), code);
          settled = true;
          clearTimeout(timer);
          resolve(text);
        });
        res.on('error', (e) => fail(goNetError(e, addr)));
      },
    );
    // One deadline for the whole call (connect, TLS, answer), as upstream's request context.
    const timer = setTimeout(() => req.destroy(new Error('context deadline exceeded')), o.timeoutMs);
    req.on('error', (e) => fail(goNetError(e, addr)));
    req.end(body);
  });
}
