// Converting custom resources between the versions of their CRD: strategy None rewrites
// apiVersion; strategy Webhook sends a ConversionReview (apiextensions.k8s.io/v1, or v1beta1 when
// that is the only version the webhook accepts) over HTTPS, trusting the CRD's caBundle, and checks
// the answer as upstream does (same count, desired apiVersion, same kind, name, namespace and uid;
// only labels and annotations of metadata may change).
//
// A clientConfig.url is dialled as given. A clientConfig.service is resolved through the
// Service's Endpoints, and only addresses on this host (127.0.0.0/8, ::1) are dialled: upstream
// dials the Service itself, but a Service's ClusterIP, and pods on simulated nodes, have no network
// behind them here.

import https from 'node:https';
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';
import type { KObject } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import type { WebhookClientConfig } from './crd-model.ts';

export interface Converter {
  /** The objects in `apiVersion` (group/version); objects already there are returned as they are. */
  convert(objs: KObject[], apiVersion: string): Promise<KObject[]>;
}

export const noneConverter: Converter = {
  async convert(objs, apiVersion) {
    return objs.map((o) => (o.apiVersion === apiVersion ? o : { ...o, apiVersion }));
  },
};

/** Reads a Service and its Endpoints (from the watch caches) to resolve a service reference. */
export interface ServiceResolver {
  service(namespace: string, name: string): KObject | undefined;
  endpoints(namespace: string, name: string): KObject | undefined;
}

export interface WebhookConverterOptions {
  /** `group/version, Kind=Kind` of the storage version, for messages as upstream words them. */
  gvkText: string;
  clientConfig: WebhookClientConfig;
  reviewVersions: string[];
  services: ServiceResolver;
  timeoutMs?: number;
}

const loopback = (ip: string) => /^127\.\d+\.\d+\.\d+$/.test(ip) || ip === '::1';

export class WebhookConverter implements Converter {
  private readonly ca?: Buffer;
  private readonly reviewVersion: 'v1' | 'v1beta1';

  constructor(private opts: WebhookConverterOptions) {
    const bundle = opts.clientConfig.caBundle;
    if (bundle) this.ca = Buffer.from(bundle, 'base64');
    this.reviewVersion = opts.reviewVersions.includes('v1') ? 'v1' : 'v1beta1';
  }

  async convert(objs: KObject[], apiVersion: string): Promise<KObject[]> {
    const todo = objs.map((o, i) => ({ o, i })).filter((x) => x.o.apiVersion !== apiVersion);
    if (todo.length === 0) return objs;
    const converted = await this.review(
      todo.map((x) => x.o),
      apiVersion,
    );
    const out = [...objs];
    todo.forEach((x, k) => (out[x.i] = converted[k]));
    return out;
  }

  private fail(message: string): never {
    throw errors.internal(`conversion webhook for ${this.opts.gvkText} failed: ${message}`);
  }

  private async review(objs: KObject[], apiVersion: string): Promise<KObject[]> {
    const uid = randomUUID();
    const review = {
      kind: 'ConversionReview',
      apiVersion: `apiextensions.k8s.io/${this.reviewVersion}`,
      request: { uid, desiredAPIVersion: apiVersion, objects: objs },
    };
    const target = this.target();
    const body = await this.post(target, JSON.stringify(review));
    let parsed: any;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      this.fail(`unmarshal response: ${(e as Error).message}`);
    }
    const resp = parsed?.response;
    if (!resp) this.fail('no response provided');
    if (resp.uid !== uid) this.fail(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(resp.uid ?? '')}`);
    if (resp.result?.status !== 'Success') this.fail(resp.result?.message ? resp.result.message : 'conversion failed without a message');
    const got: KObject[] = Array.isArray(resp.convertedObjects) ? resp.convertedObjects : [];
    if (got.length !== objs.length) this.fail(`expected ${objs.length} converted objects, got ${got.length}`);
    return got.map((c, i) => this.checked(objs[i], c, apiVersion));
  }

  /** Upstream's checks on one converted object, and its metadata restored but for labels/annotations. */
  private checked(orig: KObject, c: KObject, apiVersion: string): KObject {
    if (!c || typeof c !== 'object') this.fail('invalid converted object: not an object');
    if (c.apiVersion !== apiVersion) this.fail(`invalid converted object: expected apiVersion ${JSON.stringify(apiVersion)}, got ${JSON.stringify(c.apiVersion)}`);
    if (c.kind !== orig.kind) this.fail(`invalid converted object: expected kind ${JSON.stringify(orig.kind)}, got ${JSON.stringify(c.kind)}`);
    const m = c.metadata ?? {};
    const om = orig.metadata;
    for (const f of ['name', 'namespace', 'uid'] as const)
      if ((m[f] ?? '') !== (om[f] ?? '')) this.fail(`invalid converted object: must not change metadata.${f} from ${JSON.stringify(om[f] ?? '')} to ${JSON.stringify(m[f] ?? '')}`);
    const metadata = { ...om };
    if (m.labels !== undefined) metadata.labels = m.labels;
    else delete metadata.labels;
    if (m.annotations !== undefined) metadata.annotations = m.annotations;
    else delete metadata.annotations;
    return { ...c, metadata };
  }

  private target(): { url: URL; servername?: string } {
    const cc = this.opts.clientConfig;
    if (cc.url) return { url: new URL(cc.url) };
    const ref = cc.service;
    if (!ref) this.fail('no url or service in clientConfig');
    const port = ref.port ?? 443;
    const host = `${ref.name}.${ref.namespace}.svc`;
    const svc = this.opts.services.service(ref.namespace, ref.name);
    if (!svc) this.fail(`service "${ref.namespace}/${ref.name}" not found`);
    const svcPort = (svc.spec?.ports ?? []).find((p: any) => p.port === port);
    if (!svcPort) this.fail(`service "${ref.namespace}/${ref.name}" has no port ${port}`);
    const ep = this.opts.services.endpoints(ref.namespace, ref.name);
    for (const subset of ep?.subsets ?? []) {
      const epPort = (subset.ports ?? []).find((p: any) => (p.name ?? '') === (svcPort.name ?? '')) ?? (subset.ports?.length === 1 ? subset.ports[0] : undefined);
      if (!epPort) continue;
      for (const a of subset.addresses ?? []) {
        if (!loopback(a.ip)) continue;
        const h = a.ip.includes(':') ? `[${a.ip}]` : a.ip;
        return { url: new URL(`https://${h}:${epPort.port}${ref.path ?? '/'}`), servername: host };
      }
    }
    this.fail(
      `service "${ref.namespace}/${ref.name}" has no endpoint on this host: Mizzen sends webhook calls for a service reference only to the Service's endpoints on 127.0.0.0/8 or ::1 (use clientConfig.url, or Endpoints on this host)`,
    );
  }

  private post(target: { url: URL; servername?: string }, body: string): Promise<string> {
    const { url, servername } = target;
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    const path = `${url.pathname}${url.search}${url.search ? '&' : '?'}timeout=${Math.round(timeoutMs / 1000)}s`;
    const shown = new URL(path, url);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          protocol: 'https:',
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || 443,
          path,
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) },
          ...(this.ca ? { ca: this.ca } : {}),
          // A service reference is dialled at an endpoint address but verified as <name>.<namespace>.svc.
          ...(servername ? { servername, checkServerIdentity: (_h: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(servername, cert) } : {}),
          timeout: timeoutMs,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > 64 * 1024 * 1024) req.destroy(new Error('response too large'));
            else chunks.push(c);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) reject(this.error(shown, `the server responded with status ${res.statusCode}: ${text.slice(0, 200)}`));
            else resolve(text);
          });
          res.on('error', (e) => reject(this.error(shown, e)));
        },
      );
      req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
      req.on('error', (e) => reject(this.error(shown, e)));
      req.end(body);
    });
  }

  private error(url: URL, why: string | Error): Error {
    return errors.internal(`conversion webhook for ${this.opts.gvkText} failed: Post "${url.toString()}": ${typeof why === 'string' ? why : goNetError(why, url)}`);
  }
}

/** Network errors as Go's net/http words them (what upstream's messages show). */
function goNetError(e: Error, url: URL): string {
  const code = (e as NodeJS.ErrnoException).code;
  const addr = `${url.hostname}:${url.port || 443}`;
  if (code === 'ECONNREFUSED') return `dial tcp ${addr}: connect: connection refused`;
  if (code === 'ECONNRESET') return `read tcp ${addr}: read: connection reset by peer`;
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'SELF_SIGNED_CERT_IN_CHAIN')
    return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  return e.message;
}
