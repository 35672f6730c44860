// Delegated authentication and authorization, as upstream's k8s.io/apiserver `delegating` options
// give a server that is not the API server (the kubelet's port 10250, a scheduler's or controller
// manager's secure port): the caller is who its client certificate says (when the TLS server
// trusted it), else who the API server says its bearer token is (TokenReview); what it may do is
// the API server's answer to a SubjectAccessReview.
//
// The two servers that use it choose differently, on purpose, through options:
// - `whenUnreachable`: the kubelet refuses (401 / 403: a kubelet that cannot reach its API server
//   lets nobody in), the component servers answer 503 (`throw`: the caller should retry);
// - cache TTLs: the kubelet remembers answers as upstream's kubelet flags default (tokens 2 min,
//   allowed 5 min, denied 30 s), the component servers ask every time (0).

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ApiClient } from './api-client.ts';

export interface DelegatedUser {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a SubjectAccessReview asks: resource attributes, or a non-resource path. */
export type AccessAttributes =
  | { verb: string; group: string; version?: string; resource: string; subresource?: string; namespace?: string; name?: string }
  | { verb: string; path: string };

export interface DelegatedAuthOptions {
  /** A client allowed to create TokenReviews and SubjectAccessReviews (system:auth-delegator, or a node). */
  client: ApiClient;
  /** Audiences a token must be for (default: the API server's). */
  audiences?: string[];
  /**
   * What a failed TokenReview or SubjectAccessReview means: `refuse` (the caller is not
   * authenticated / not allowed) or `throw` (the caller answers 503).
   */
  whenUnreachable: 'refuse' | 'throw';
  /** 0 (the default) asks the API server every time. */
  authnCacheTTLMs?: number;
  authzAllowedTTLMs?: number;
  authzDeniedTTLMs?: number;
  now?: () => number;
}

export interface AccessDecision {
  allowed: boolean;
  reason: string;
}

interface Cached<T> {
  value: T;
  until: number;
}

const MAX_CACHED = 10_000;

function remember<T>(map: Map<string, Cached<T>>, key: string, value: T, ttl: number, now: number): void {
  if (ttl <= 0) return;
  if (map.size >= MAX_CACHED) map.clear();
  map.set(key, { value, until: now + ttl });
}

/** The user a verified client certificate names (CN user, O groups), if the TLS server trusted it. */
export function certificateUser(req: IncomingMessage): DelegatedUser | undefined {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate?.();
  const cn = cert?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = cert.subject.O as string | string[] | undefined;
  return { name, groups: [...(o === undefined ? [] : [o].flat()), 'system:authenticated'] };
}

export class DelegatedAuth {
  private tokens = new Map<string, Cached<DelegatedUser | null>>();
  private decisions = new Map<string, Cached<AccessDecision>>();
  private readonly now: () => number;

  constructor(private readonly o: DelegatedAuthOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The caller, or undefined when it presented nothing valid (answer 401). */
  async authenticate(req: IncomingMessage): Promise<DelegatedUser | undefined> {
    const fromCert = certificateUser(req);
    if (fromCert) return fromCert;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    return this.reviewToken(m[1]!);
  }

  /** A TokenReview (remembered for authnCacheTTLMs). */
  async reviewToken(token: string): Promise<DelegatedUser | undefined> {
    const now = this.now();
    const hit = this.tokens.get(token);
    if (hit && hit.until > now) return hit.value ?? undefined;
    let user: DelegatedUser | null = null;
    try {
      const r = await this.o.client.create<any>(
        { group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews' },
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(this.o.audiences ? { audiences: this.o.audiences } : {}) } },
      );
      const s = r.status ?? {};
      if (s.authenticated && s.user?.username) user = { name: s.user.username, uid: s.user.uid, groups: s.user.groups ?? [], extra: s.user.extra };
    } catch (e) {
      // Not an answer about the token: never remembered.
      if (this.o.whenUnreachable === 'throw') throw e;
      return undefined;
    }
    remember(this.tokens, token, user, this.o.authnCacheTTLMs ?? 0, now);
    return user ?? undefined;
  }

  /** May this user do this? A SubjectAccessReview (allowed and denied answers remembered apart). */
  async authorize(user: DelegatedUser, a: AccessAttributes): Promise<AccessDecision> {
    const key = JSON.stringify([user.name, user.uid ?? '', user.groups, user.extra ?? {}, a]);
    const now = this.now();
    const hit = this.decisions.get(key);
    if (hit && hit.until > now) return hit.value;
    const spec: Record<string, unknown> = { user: user.name, uid: user.uid, groups: user.groups, extra: user.extra };
    if ('path' in a) spec.nonResourceAttributes = { path: a.path, verb: a.verb };
    else spec.resourceAttributes = a;
    let decision: AccessDecision;
    try {
      const r = await this.o.client.create<any>(
        { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews' },
        { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
      );
      decision = { allowed: r.status?.allowed === true, reason: r.status?.reason ?? '' };
    } catch (e) {
      if (this.o.whenUnreachable === 'throw') throw e;
      return { allowed: false, reason: `authorization failed: ${(e as Error).message}` };
    }
    const ttl = decision.allowed ? (this.o.authzAllowedTTLMs ?? 0) : (this.o.authzDeniedTTLMs ?? 0);
    remember(this.decisions, key, decision, ttl, now);
    return decision;
  }
}
