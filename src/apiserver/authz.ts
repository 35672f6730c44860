// Authorization: may this user do this? Upstream's chain for `--authorization-mode=Node,RBAC`:
// members of system:masters may do anything, then the node authorizer speaks for kubelets, then
// RBAC. The first Allow wins; otherwise the request is refused with upstream's 403 message and the
// authorizers' reasons. `AlwaysAllow` turns the check off (tests of other things, benchmarks).
//
// Answers for users other than nodes are cached per (user, request attributes) until an RBAC object
// changes, so a client repeating the same kind of request costs a map lookup.

import { SYSTEM_MASTERS, userKey, type UserInfo } from './authn/user.ts';
import type { RequestInfo } from './request-info.ts';
import { attributesFor, attributesKey, type Attributes, type Authorizer, type AuthorizerResult } from './authz/attributes.ts';
import { forbiddenError } from './authz/forbidden.ts';
import type { NodeAuthorizer } from './authz/node.ts';
import type { RbacAuthorizer } from './authz/rbac.ts';
import { nodeIdentity } from './authn/user.ts';

export type AuthorizationMode = 'Node' | 'RBAC' | 'AlwaysAllow';

const ALLOW: AuthorizerResult = { decision: 'Allow', reason: '' };
const CACHE_LIMIT = 20_000;

export class AuthorizerChain implements Authorizer {
  /** Per user object (authentication hands out the same object for the same identity), per request attributes. */
  private cache = new WeakMap<UserInfo, Map<string, AuthorizerResult>>();
  /** For user objects that are not reused (impersonation, reviews): keyed by the user's content. */
  private byKey = new Map<string, Map<string, AuthorizerResult>>();
  readonly alwaysAllow: boolean;

  constructor(
    private readonly modes: AuthorizationMode[],
    readonly rbac: RbacAuthorizer | undefined,
    readonly node: NodeAuthorizer | undefined,
  ) {
    this.alwaysAllow = modes.includes('AlwaysAllow');
    rbac?.onChange(() => {
      this.cache = new WeakMap();
      this.byKey.clear();
    });
  }

  authorize(a: Attributes): AuthorizerResult {
    if (this.alwaysAllow) return ALLOW;
    if (a.user.groups.includes(SYSTEM_MASTERS)) return ALLOW;
    const reasons: string[] = [];
    if (this.node && this.modes.includes('Node') && nodeIdentity(a.user).isNode) {
      const r = this.node.authorize(a);
      if (r.decision === 'Allow') return r;
      if (r.reason) reasons.push(r.reason);
    }
    if (!this.rbac || !this.modes.includes('RBAC')) return { decision: 'NoOpinion', reason: reasons.join(', ') };
    let perUser = this.cache.get(a.user);
    if (!perUser) {
      const uk = userKey(a.user);
      perUser = this.byKey.get(uk);
      if (!perUser) {
        if (this.byKey.size >= CACHE_LIMIT) this.byKey.clear();
        this.byKey.set(uk, (perUser = new Map()));
      }
      this.cache.set(a.user, perUser);
    }
    const key = attributesKey(a);
    let r = perUser.get(key);
    if (!r) {
      r = this.rbac.authorize(a);
      if (perUser.size >= CACHE_LIMIT) perUser.clear();
      perUser.set(key, r);
    }
    if (r.decision === 'Allow') return r;
    if (r.reason) reasons.push(r.reason);
    return { decision: 'NoOpinion', reason: reasons.join(', ') };
  }

  /** Throw upstream's 403 unless the request is allowed. */
  check(user: UserInfo, info: RequestInfo, query?: URLSearchParams): void {
    if (this.alwaysAllow) return;
    const a = attributesFor(user, info, query);
    const r = this.authorize(a);
    if (r.decision !== 'Allow') throw forbiddenError(a, r.reason);
  }
}

export function parseAuthorizationModes(text: string): AuthorizationMode[] {
  const out: AuthorizationMode[] = [];
  for (const m of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (m !== 'Node' && m !== 'RBAC' && m !== 'AlwaysAllow') throw new Error(`unknown authorization mode ${JSON.stringify(m)} (known: Node, RBAC, AlwaysAllow)`);
    if (!out.includes(m)) out.push(m);
  }
  return out;
}
