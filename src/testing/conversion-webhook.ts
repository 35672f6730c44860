// A conversion webhook for tests: an HTTPS server on 127.0.0.1 with a certificate from its own
// test CA, converting ConversionReviews between v1 (spec.hostPort "host:port") and v2
// (spec.host, spec.port), as upstream's e2e conversion webhook does. It counts the reviews it
// answers.

import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki } from '../apiserver/pki.ts';

export interface ConversionWebhook {
  url: string;
  /** base64 PEM of the test CA, for clientConfig.caBundle. */
  caBundle: string;
  reviews: number;
  close(): Promise<void>;
}

function convert(obj: any, apiVersion: string): any {
  const out = { ...obj, apiVersion, spec: { ...(obj.spec ?? {}) } };
  const to = apiVersion.split('/')[1];
  if (to === 'v2' && 'hostPort' in out.spec) {
    const [host, port] = String(out.spec.hostPort).split(':');
    delete out.spec.hostPort;
    out.spec.host = host;
    out.spec.port = port ?? '';
  } else if (to === 'v1' && ('host' in out.spec || 'port' in out.spec)) {
    out.spec.hostPort = `${out.spec.host ?? ''}:${out.spec.port ?? ''}`;
    delete out.spec.host;
    delete out.spec.port;
  }
  return out;
}

/** `hosts`: extra names the serving certificate covers (e.g. `<service>.<namespace>.svc`). */
export async function startConversionWebhook(hosts: string[] = []): Promise<ConversionWebhook & { port: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-webhook-ca-'));
  const pki = await ensurePki(dir, hosts);
  const state = { reviews: 0 };
  const server = https.createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let review: any;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end('bad json');
        return;
      }
      state.reviews++;
      const r = review.request;
      const body = {
        apiVersion: review.apiVersion,
        kind: 'ConversionReview',
        response: { uid: r.uid, convertedObjects: r.objects.map((o: any) => convert(o, r.desiredAPIVersion)), result: { status: 'Success' } },
      };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `https://127.0.0.1:${port}/convert`,
    caBundle: Buffer.from(pki.caCertPem).toString('base64'),
    get reviews() {
      return state.reviews;
    },
    set reviews(n: number) {
      state.reviews = n;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A two-version CRD (v1 storage, v2 served) converted by the webhook at `url`. */
export function conversionCRD(url: string, caBundle: string): any {
  const schema = (props: Record<string, unknown>) => ({
    openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: props } } },
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'endpoints.conversion.example.com' },
    spec: {
      group: 'conversion.example.com',
      scope: 'Namespaced',
      names: { plural: 'endpoints', singular: 'endpoint', kind: 'Endpoint' },
      versions: [
        { name: 'v1', served: true, storage: true, schema: schema({ hostPort: { type: 'string' } }) },
        { name: 'v2', served: true, storage: false, schema: schema({ host: { type: 'string' }, port: { type: 'string' } }) },
      ],
      conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1', 'v1beta1'], clientConfig: { url, caBundle } } },
    },
  };
}
