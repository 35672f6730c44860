// Converting custom resources between the versions of their CRD: strategy None rewrites
// apiVersion; strategy Webhook sends a ConversionReview (apiextensions.k8s.io/v1, or v1beta1 when
// that is the only version the webhook accepts) over HTTPS, trusting the CRD's caBundle, and checks
// the answer as upstream does (same count, desired apiVersion, same kind, name, namespace and uid;
// only labels and annotations of metadata may change).
//
// The POST goes through the shared webhook POST (src/apiserver/webhook-post.ts): clientConfig.url
// as given, or a Service reference dialled only at its endpoints on this host (127.0.0.0/8, ::1),
// answers up to 64 MB; failures are worded here as upstream's conversion errors.

import { randomUUID } from 'node:crypto';
import type { KObject } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import type { WebhookClientConfig } from './crd-model.ts';
import { postWebhook, resolveWebhook, WebhookPostError, type ServiceLookup, type WebhookTarget } from '../apiserver/webhook-post.ts';

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
export type ServiceResolver = ServiceLookup;

const MAX_ANSWER = 64 * 1024 * 1024;

export interface WebhookConverterOptions {
  /** `group/version, Kind=Kind` of the storage version, for messages as upstream words them. */
  gvkText: string;
  clientConfig: WebhookClientConfig;
  reviewVersions: string[];
  services: ServiceResolver;
  timeoutMs?: number;
}

export class WebhookConverter implements Converter {
  private readonly reviewVersion: 'v1' | 'v1beta1';

  constructor(private opts: WebhookConverterOptions) {
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

  private target(): WebhookTarget {
    const t = resolveWebhook(this.opts.clientConfig, this.opts.services);
    if (!('reason' in t)) return t;
    switch (t.reason) {
      case 'no-target':
        return this.fail('no url or service in clientConfig');
      case 'no-service':
        return this.fail(`service "${t.namespace}/${t.name}" not found`);
      case 'no-port':
        return this.fail(`service "${t.namespace}/${t.name}" has no port ${t.port}`);
      case 'no-local-endpoint':
        return this.fail(
          `service "${t.namespace}/${t.name}" has no endpoint on this host: Mizzen sends webhook calls for a service reference only to the Service's endpoints on 127.0.0.0/8 or ::1 (use clientConfig.url, or Endpoints on this host)`,
        );
    }
  }

  private async post(target: WebhookTarget, body: string): Promise<string> {
    try {
      return await postWebhook(target, body, {
        caBundle: this.opts.clientConfig.caBundle,
        timeoutMs: this.opts.timeoutMs ?? 30_000,
        maxBytes: MAX_ANSWER,
        tooLargeText: 'response too large',
        statusText: (code, text) => `the server responded with status ${code}: ${text.slice(0, 200)}`,
      });
    } catch (e) {
      if (e instanceof WebhookPostError) return this.fail(e.message);
      throw e;
    }
  }
}
