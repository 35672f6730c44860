// Authentication and authorization for the kubelet's own HTTPS API (port 10250), as upstream's
// kubelet does with `--authentication-token-webhook` and `--authorization-mode=Webhook`:
//
//   who:  a client certificate from the cluster CA (CN user, O groups), else a bearer token the
//         API server vouches for (TokenReview); anonymous requests are refused (kubeadm's and
//         k3s's setting);
//   what: a SubjectAccessReview for the node object: `nodes/proxy` by default, `nodes/stats`,
//         `nodes/metrics`, `nodes/log`, `nodes/spec` for those paths, the verb from the method
//         (GET get, POST create, PUT update, PATCH patch, DELETE delete).
//
// The checks are src/client/delegated-auth.ts, shared with the control plane's secure ports; the
// kubelet's choices: a failed review refuses (401/403), and answers are cached as upstream's
// defaults: authenticated tokens 2 minutes, allowed 5 minutes, denied 30 seconds. The API server reaches kubelets with its kubelet-client certificate
// (system:masters), which every SubjectAccessReview allows.
//
// The kubelet's HTTPS server (src/kubelet/server) calls `authenticate(req)` then `authorize(user,
// method, path)` before routing, and answers `unauthorized()` / `forbidden(...)` itself.

import type { IncomingMessage } from 'node:http';
import type { ApiClient } from '../../client/api-client.ts';
import { DelegatedAuth, type DelegatedUser } from '../../client/delegated-auth.ts';

export type KubeletUser = DelegatedUser;

export interface KubeletRequestAttributes {
  verb: string;
  namespace: '';
  group: '';
  version: 'v1';
  resource: 'nodes';
  subresource: string;
  name: string;
  path: string;
}

export interface KubeletAuthOptions {
  /** The node's own client (system:node:<name>): nodes may create TokenReviews and SubjectAccessReviews. */
  client: ApiClient;
  nodeName: string;
  /** Audiences a token must be for (default: the API server's). */
  audiences?: string[];
  authnCacheTTLMs?: number;
  authzAllowedTTLMs?: number;
  authzDeniedTTLMs?: number;
  now?: () => number;
}

const SUBRESOURCE_PATHS: [string, string][] = [
  ['/stats', 'stats'],
  ['/metrics', 'metrics'],
  ['/logs', 'log'],
  ['/spec', 'spec'],
];

function isSubpath(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Upstream's GetRequestAttributes: what a request to the kubelet asks of the node object. */
export function kubeletRequestAttributes(nodeName: string, method: string, path: string): KubeletRequestAttributes {
  const verbs: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  let subresource = 'proxy';
  for (const [prefix, sub] of SUBRESOURCE_PATHS) if (isSubpath(path, prefix)) subresource = sub;
  return { verb: verbs[method.toUpperCase()] ?? '', namespace: '', group: '', version: 'v1', resource: 'nodes', subresource, name: nodeName, path };
}

/** The kubelet's 403 text (upstream: `Forbidden (user=..., verb=..., resource=..., subresource=...)`). */
export function forbiddenText(user: KubeletUser, a: KubeletRequestAttributes): string {
  return `Forbidden (user=${user.name}, verb=${a.verb}, resource=${a.resource}, subresource=${a.subresource})`;
}

export class KubeletAuth {
  private readonly delegated: DelegatedAuth;

  constructor(private readonly o: KubeletAuthOptions) {
    // A kubelet that cannot reach its API server lets nobody in (401/403), and remembers answers.
    this.delegated = new DelegatedAuth({
      client: o.client,
      audiences: o.audiences,
      whenUnreachable: 'refuse',
      authnCacheTTLMs: o.authnCacheTTLMs ?? 120_000,
      authzAllowedTTLMs: o.authzAllowedTTLMs ?? 300_000,
      authzDeniedTTLMs: o.authzDeniedTTLMs ?? 30_000,
      now: o.now,
    });
  }

  /** The caller, or undefined when it presented nothing valid (answer 401). */
  authenticate(req: IncomingMessage): Promise<KubeletUser | undefined> {
    return this.delegated.authenticate(req);
  }

  /** TokenReview, cached (2 minutes for answers, as upstream's --authentication-token-webhook-cache-ttl). */
  reviewToken(token: string): Promise<KubeletUser | undefined> {
    return this.delegated.reviewToken(token);
  }

  /** May this user make this request of the kubelet? A SubjectAccessReview, cached. */
  async authorize(user: KubeletUser, method: string, path: string): Promise<{ allowed: boolean; reason: string; attributes: KubeletRequestAttributes }> {
    const a = kubeletRequestAttributes(this.o.nodeName, method, path);
    const { verb, group, version, resource, subresource, name } = a;
    const decision = await this.delegated.authorize(user, { verb, group, version, resource, subresource, name });
    return { ...decision, attributes: a };
  }
}
