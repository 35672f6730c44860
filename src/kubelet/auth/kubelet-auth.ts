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
// Answers are cached as upstream's defaults: authenticated tokens 2 minutes, allowed 5 minutes,
// denied 30 seconds. The API server reaches kubelets with its kubelet-client certificate
// (system:masters), which every SubjectAccessReview allows.
//
// The kubelet's HTTPS server (src/kubelet/server) calls `authenticate(req)` then `authorize(user,
// method, path)` before routing, and answers `unauthorized()` / `forbidden(...)` itself.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ApiClient } from '../../client/api-client.ts';

export interface KubeletUser {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

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

interface Cached<T> {
  value: T;
  until: number;
}

function userKey(u: KubeletUser): string {
  return JSON.stringify([u.name, u.uid ?? '', u.groups, u.extra ?? {}]);
}

export class KubeletAuth {
  private tokens = new Map<string, Cached<KubeletUser | null>>();
  private decisions = new Map<string, Cached<{ allowed: boolean; reason: string }>>();
  private readonly now: () => number;

  constructor(private readonly o: KubeletAuthOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The caller, or undefined when it presented nothing valid (answer 401). */
  async authenticate(req: IncomingMessage): Promise<KubeletUser | undefined> {
    const socket = req.socket as TLSSocket;
    if (socket.authorized) {
      const cert = socket.getPeerCertificate?.();
      const cn = cert?.subject?.CN;
      const name = Array.isArray(cn) ? cn[0] : cn;
      if (name) {
        const o = cert.subject.O;
        return { name, groups: [...(o === undefined ? [] : Array.isArray(o) ? o : [o]), 'system:authenticated'] };
      }
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    return this.reviewToken(m[1]!);
  }

  /** TokenReview, cached (2 minutes for answers, as upstream's --authentication-token-webhook-cache-ttl). */
  async reviewToken(token: string): Promise<KubeletUser | undefined> {
    const now = this.now();
    const hit = this.tokens.get(token);
    if (hit && hit.until > now) return hit.value ?? undefined;
    let user: KubeletUser | null = null;
    try {
      const r = await this.o.client.create<any>(
        { group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews' },
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: this.o.audiences } },
      );
      const s = r.status ?? {};
      if (s.authenticated) user = { name: s.user.username, uid: s.user.uid, groups: s.user.groups ?? [], extra: s.user.extra };
    } catch {
      // The API server could not be asked: refuse, and do not remember it.
      return undefined;
    }
    if (this.tokens.size > 10_000) this.tokens.clear();
    this.tokens.set(token, { value: user, until: now + (this.o.authnCacheTTLMs ?? 120_000) });
    return user ?? undefined;
  }

  /** May this user make this request of the kubelet? A SubjectAccessReview, cached. */
  async authorize(user: KubeletUser, method: string, path: string): Promise<{ allowed: boolean; reason: string; attributes: KubeletRequestAttributes }> {
    const a = kubeletRequestAttributes(this.o.nodeName, method, path);
    const key = `${userKey(user)}\u0000${a.verb}\u0000${a.subresource}`;
    const now = this.now();
    const hit = this.decisions.get(key);
    if (hit && hit.until > now) return { ...hit.value, attributes: a };
    let decision = { allowed: false, reason: '' };
    try {
      const r = await this.o.client.create<any>(
        { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews' },
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.name,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            resourceAttributes: { verb: a.verb, group: a.group, version: a.version, resource: a.resource, subresource: a.subresource, name: a.name },
          },
        },
      );
      decision = { allowed: r.status?.allowed === true, reason: r.status?.reason ?? '' };
    } catch (e) {
      return { allowed: false, reason: `authorization failed: ${(e as Error).message}`, attributes: a };
    }
    if (this.decisions.size > 10_000) this.decisions.clear();
    const ttl = decision.allowed ? (this.o.authzAllowedTTLMs ?? 300_000) : (this.o.authzDeniedTTLMs ?? 30_000);
    this.decisions.set(key, { value: decision, until: now + ttl });
    return { ...decision, attributes: a };
  }
}
