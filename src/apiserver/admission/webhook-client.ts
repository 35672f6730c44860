// Calling an admission webhook through the shared webhook POST (src/apiserver/webhook-post.ts):
// clientConfig.url or a Service reference, caBundle, the webhook's timeout, answers up to 3 MB.
// This file keeps admission's own wording of failures (upstream's `failed to call webhook` causes).

import { postWebhook, resolveWebhook, WebhookPostError, type ServiceLookup, type Unresolved, type WebhookClientConfig } from '../webhook-post.ts';

export type ClientConfig = WebhookClientConfig;
export type Services = ServiceLookup;

/** A call that did not produce an answer: the text is the `failed to call webhook` cause. */
export class WebhookCallError extends Error {}

const MAX_ANSWER = 3 * 1024 * 1024;

function unresolved(u: Unresolved): string {
  switch (u.reason) {
    case 'no-target':
      return 'no url or service in clientConfig';
    case 'no-service':
      return `service "${u.name}" not found`;
    case 'no-port':
      return `service "${u.namespace}/${u.name}" has no port ${u.port}`;
    case 'no-local-endpoint':
      return `service "${u.namespace}/${u.name}" has no endpoint on this host (Mizzen calls a service reference only at its endpoints on 127.0.0.0/8 or ::1)`;
  }
}

/** POSTs `body`; resolves the answer's text (2xx only), rejects with a WebhookCallError. */
export async function callWebhook(cc: ClientConfig, services: Services, body: string, timeoutMs: number): Promise<string> {
  let target;
  try {
    target = resolveWebhook(cc, services);
  } catch (e) {
    throw new WebhookCallError((e as Error).message);
  }
  if ('reason' in target) throw new WebhookCallError(unresolved(target));
  try {
    return await postWebhook(target, body, {
      caBundle: cc.caBundle,
      timeoutMs,
      maxBytes: MAX_ANSWER,
      tooLargeText: 'response body too large',
      statusText: (code, text) => `the server responded with status code ${code}: ${text.slice(0, 200)}`,
    });
  } catch (e) {
    if (!(e instanceof WebhookPostError)) throw new WebhookCallError((e as Error).message);
    // A refusing answer is worded without the request line, as upstream's.
    throw new WebhookCallError(e.status !== undefined ? e.why : e.message);
  }
}
