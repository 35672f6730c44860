// ServiceAccount tokens: signed JWTs (jose) in upstream's two shapes.
//
// Bound tokens (TokenRequest, projected volumes) carry `iss`, `aud`, `exp`, `iat`, `nbf`, `jti`,
// `sub` and a private `kubernetes.io` claim naming the namespace, the ServiceAccount and, when bound,
// the pod (and its node), secret or node, each with its uid. Legacy tokens (Secrets of type
// kubernetes.io/service-account-token) have issuer `kubernetes/serviceaccount`, flat
// `kubernetes.io/serviceaccount/...` claims and no expiry.
//
// Verification checks the signature once per token (the result is cached until the token expires),
// then on every request the objects the token names, from the watch caches: a deleted
// ServiceAccount, pod, secret or node, or one re-created with another uid, ends the token at once.

import { randomUUID, timingSafeEqual } from 'node:crypto';
import { SignJWT, compactVerify, decodeProtectedHeader } from 'jose';
import type { KObject } from '../../api/types.ts';
import type { SigningKey } from './service-account-keys.ts';
import { serviceAccountGroups, serviceAccountUsername, type UserInfo } from './user.ts';

export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** What the ServiceAccount admission asks for; such tokens live a year but warn after an hour (upstream). */
export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;
/** A bound pod's token stays valid this long after the pod got its deletionTimestamp (upstream). */
const POD_DELETION_GRACE_MS = 60_000;

export const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
export const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
export const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';
export const EXTRA_NODE_UID = 'authentication.kubernetes.io/node-uid';
export const EXTRA_CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';

export interface Ref {
  name: string;
  uid: string;
}

export interface PrivateClaims {
  namespace: string;
  serviceaccount: Ref;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
  warnafter?: number;
}

/** Live objects a token may name, read from the watch caches. */
export interface TokenObjectGetter {
  serviceAccount(ns: string, name: string): KObject | undefined;
  pod(ns: string, name: string): KObject | undefined;
  secret(ns: string, name: string): KObject | undefined;
  node(name: string): KObject | undefined;
}

export class TokenError extends Error {}

export interface IssueOptions {
  serviceAccount: KObject;
  audiences: string[];
  expirationSeconds: number;
  pod?: KObject;
  secret?: KObject;
  node?: KObject;
  /** Tokens asked for with 3607 s live a year, with warnafter at the hour (default true, as upstream). */
  extendExpiration?: boolean;
  now?: number;
}

export class ServiceAccountTokenIssuer {
  constructor(
    readonly key: SigningKey,
    readonly issuer: string = DEFAULT_ISSUER,
  ) {}

  /** A bound token: returns it with its expiry (seconds since the epoch). */
  async issue(o: IssueOptions): Promise<{ token: string; exp: number; jti: string }> {
    const now = Math.floor((o.now ?? Date.now()) / 1000);
    let lifetime = o.expirationSeconds;
    const priv: PrivateClaims = {
      namespace: o.serviceAccount.metadata.namespace!,
      serviceaccount: { name: o.serviceAccount.metadata.name!, uid: o.serviceAccount.metadata.uid! },
    };
    if (o.pod) {
      priv.pod = { name: o.pod.metadata.name!, uid: o.pod.metadata.uid! };
      if (o.node) priv.node = { name: o.node.metadata.name!, uid: o.node.metadata.uid! };
    } else if (o.secret) priv.secret = { name: o.secret.metadata.name!, uid: o.secret.metadata.uid! };
    else if (o.node) priv.node = { name: o.node.metadata.name!, uid: o.node.metadata.uid! };
    if ((o.extendExpiration ?? true) && o.pod && lifetime === WARN_ONLY_EXPIRATION_SECONDS) {
      priv.warnafter = now + lifetime;
      lifetime = EXTENDED_EXPIRATION_SECONDS;
    }
    const jti = randomUUID();
    const exp = now + lifetime;
    const token = await new SignJWT({ 'kubernetes.io': priv } as Record<string, unknown>)
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.kid })
      .setIssuer(this.issuer)
      .setAudience(o.audiences)
      .setSubject(serviceAccountUsername(priv.namespace, priv.serviceaccount.name))
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(this.key.privateKey);
    return { token, exp, jti };
  }

  /** A legacy token for a kubernetes.io/service-account-token Secret (no expiry, no audience). */
  async issueLegacy(serviceAccount: KObject, secret: KObject): Promise<string> {
    const ns = serviceAccount.metadata.namespace!;
    return new SignJWT({
      'kubernetes.io/serviceaccount/namespace': ns,
      'kubernetes.io/serviceaccount/secret.name': secret.metadata.name!,
      'kubernetes.io/serviceaccount/service-account.name': serviceAccount.metadata.name!,
      'kubernetes.io/serviceaccount/service-account.uid': serviceAccount.metadata.uid!,
    })
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.kid })
      .setIssuer(LEGACY_ISSUER)
      .setSubject(serviceAccountUsername(ns, serviceAccount.metadata.name!))
      .sign(this.key.privateKey);
  }
}

/** A token whose signature checked out: what it claims, before the live objects are consulted. */
export interface VerifiedToken {
  legacy: boolean;
  namespace: string;
  serviceAccount: Ref;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
  audiences: string[];
  /** Seconds since the epoch; undefined for legacy tokens. */
  exp?: number;
  /** The user last computed for this token: reused while the objects it names are unchanged. */
  lastUser?: { user: UserInfo; key: string };
  /** Its audiences among the API's, once computed. */
  apiAudiences?: string[];
  nbf?: number;
  jti?: string;
}

/** Does this look like a JWT at all (three base64url parts)? Cheap, so other token types are not parsed as JWTs. */
export function looksLikeJWT(token: string): boolean {
  const a = token.indexOf('.');
  if (a <= 0) return false;
  const b = token.indexOf('.', a + 1);
  // Only the shape: a bad character fails decoding or the signature later, at no cost here.
  return b > a + 1 && b < token.length - 1 && token.indexOf('.', b + 1) < 0;
}

export interface ServiceAccountAuthenticatorOptions {
  /** Verification keys (the signing key's public half and any others, as --service-account-key-file). */
  keys: SigningKey[] | { publicKey: import('node:crypto').KeyObject; kid: string; alg: string }[];
  /** Issuers accepted for bound tokens (the first is the one this server issues as). */
  issuers: string[];
  /** --api-audiences: a bound token must name one of them (default: the issuers). */
  apiAudiences?: string[];
  getter: TokenObjectGetter;
  /** Accept legacy Secret-based tokens (default true). */
  legacy?: boolean;
  now?: () => number;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const ref = (v: any): Ref | undefined => (v && isStr(v.name) && isStr(v.uid) ? { name: v.name, uid: v.uid } : undefined);

export class ServiceAccountAuthenticator {
  private readonly verified = new Map<string, VerifiedToken | TokenError>();
  private readonly now: () => number;
  readonly apiAudiences: string[];

  constructor(private readonly o: ServiceAccountAuthenticatorOptions) {
    this.now = o.now ?? Date.now;
    this.apiAudiences = o.apiAudiences?.length ? o.apiAudiences : o.issuers;
  }

  /**
   * The user a JWT stands for, checked against the live objects; undefined when the token is not
   * one of ours (another issuer: let other authenticators try), a TokenError when it is ours but invalid.
   * `audiences` restricts which audiences count (TokenReview's spec.audiences); default the API's.
   */
  async authenticate(token: string, audiences: string[] = this.apiAudiences): Promise<{ user: UserInfo; audiences: string[] } | undefined> {
    const known = this.cached(token, audiences);
    if (known !== undefined) return known;
    const v = await this.verify(token);
    if (v === undefined) return undefined;
    this.remember(token, v);
    if (v instanceof TokenError) throw v;
    return this.validate(v, audiences);
  }

  /**
   * The answer for a token whose signature was already checked, synchronously (the request path's
   * common case); undefined when it has not been seen. Throws TokenError when it is invalid.
   */
  cached(token: string, audiences: string[] = this.apiAudiences): { user: UserInfo; audiences: string[] } | undefined {
    const v = this.verified.get(token);
    if (v === undefined) return undefined;
    if (v instanceof TokenError) throw v;
    return this.validate(v, audiences);
  }

  /** The verified form of a token seen before (for callers that keep it per connection). */
  verifiedToken(token: string): VerifiedToken | TokenError | undefined {
    return this.verified.get(token);
  }

  /** Check a verified token against the live objects again (throws TokenError). */
  revalidate(v: VerifiedToken): UserInfo {
    return this.validate(v, this.apiAudiences).user;
  }

  /** Only successes and signature failures are cached; a bounded map, cleared when full. */
  private remember(token: string, v: VerifiedToken | TokenError): void {
    if (this.verified.size >= 50_000) this.verified.clear();
    this.verified.set(token, v);
  }

  private async verify(token: string): Promise<VerifiedToken | TokenError | undefined> {
    let header: { alg?: string; kid?: string };
    let claims: any;
    try {
      header = decodeProtectedHeader(token) as { alg?: string; kid?: string };
      const parts = token.split('.');
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!claims || typeof claims !== 'object') return undefined;
    const legacy = claims.iss === LEGACY_ISSUER;
    if (!legacy && !this.o.issuers.includes(claims.iss)) return undefined;
    if (legacy && this.o.legacy === false) return new TokenError('legacy service account tokens are not accepted');
    const keys = (this.o.keys as { publicKey: any; kid: string; alg: string }[]).filter((k) => !header.kid || k.kid === header.kid);
    let ok = false;
    for (const k of keys) {
      if (header.alg !== k.alg) continue;
      try {
        await compactVerify(token, k.publicKey, { algorithms: [k.alg] });
        ok = true;
        break;
      } catch {
        // try the next key
      }
    }
    if (!ok) return new TokenError('invalid signature');
    if (legacy) {
      const ns = claims['kubernetes.io/serviceaccount/namespace'];
      const secretName = claims['kubernetes.io/serviceaccount/secret.name'];
      const saName = claims['kubernetes.io/serviceaccount/service-account.name'];
      const saUid = claims['kubernetes.io/serviceaccount/service-account.uid'];
      if (![ns, secretName, saName, saUid].every((s) => isStr(s) && s !== '')) return new TokenError('service account token claims are incomplete');
      if (claims.sub !== serviceAccountUsername(ns, saName)) return new TokenError('service account token subject does not match its claims');
      return { legacy: true, namespace: ns, serviceAccount: { name: saName, uid: saUid }, secret: { name: secretName, uid: '' }, audiences: [] };
    }
    const k = claims['kubernetes.io'];
    const sa = ref(k?.serviceaccount);
    if (!k || !isStr(k.namespace) || !sa) return new TokenError('service account token claims are incomplete');
    if (claims.sub !== serviceAccountUsername(k.namespace, sa.name)) return new TokenError('service account token subject does not match its claims');
    const aud = Array.isArray(claims.aud) ? claims.aud.filter(isStr) : isStr(claims.aud) ? [claims.aud] : [];
    if (typeof claims.exp !== 'number') return new TokenError('service account token has no expiry');
    return {
      legacy: false,
      namespace: k.namespace,
      serviceAccount: sa,
      pod: ref(k.pod),
      secret: ref(k.secret),
      node: ref(k.node),
      audiences: aud,
      exp: claims.exp,
      nbf: typeof claims.nbf === 'number' ? claims.nbf : undefined,
      jti: isStr(claims.jti) ? claims.jti : undefined,
    };
  }

  private validate(v: VerifiedToken, wanted: string[]): { user: UserInfo; audiences: string[] } {
    const now = this.now() / 1000;
    let audiences: string[];
    if (wanted === this.apiAudiences && v.apiAudiences) {
      // The request path's question, answered before for this token.
      audiences = v.apiAudiences;
      if (!v.legacy && v.exp! < now) throw new TokenError('service account token has expired');
    } else if (v.legacy) {
      // Legacy tokens carry no audience: they are good for the API itself only.
      audiences = wanted.filter((a) => this.apiAudiences.includes(a));
      if (!audiences.length) throw new TokenError('token audiences is invalid for the target audiences');
    } else {
      if (v.exp! < now) throw new TokenError('service account token has expired');
      if (v.nbf !== undefined && v.nbf > now + 60) throw new TokenError('service account token is not valid yet');
      audiences = v.audiences.filter((a) => wanted.includes(a));
      if (!audiences.length) throw new TokenError('token audiences is invalid for the target audiences');
    }
    if (wanted === this.apiAudiences) v.apiAudiences = audiences;
    const g = this.o.getter;
    const sa = g.serviceAccount(v.namespace, v.serviceAccount.name);
    if (!sa) throw new TokenError(`service account ${v.namespace}/${v.serviceAccount.name} has been deleted`);
    if (sa.metadata.uid !== v.serviceAccount.uid) throw new TokenError(`service account UID (${sa.metadata.uid}) does not match claim (${v.serviceAccount.uid})`);
    if (sa.metadata.deletionTimestamp) throw new TokenError(`service account ${v.namespace}/${v.serviceAccount.name} is being deleted`);
    const extra: Record<string, string[]> = {};
    if (v.legacy) {
      const secret = g.secret(v.namespace, v.secret!.name);
      if (!secret || secret.metadata.deletionTimestamp) throw new TokenError(`secret ${v.namespace}/${v.secret!.name} has been deleted`);
      if (secret.metadata.annotations?.['kubernetes.io/service-account.uid'] !== v.serviceAccount.uid)
        throw new TokenError(`secret ${v.namespace}/${v.secret!.name} does not belong to the service account`);
    } else {
      if (v.secret) {
        const secret = g.secret(v.namespace, v.secret.name);
        if (!secret || secret.metadata.deletionTimestamp) throw new TokenError(`secret ${v.namespace}/${v.secret.name} has been deleted`);
        if (secret.metadata.uid !== v.secret.uid) throw new TokenError(`secret UID (${secret.metadata.uid}) does not match claim (${v.secret.uid})`);
      }
      if (v.pod) {
        const pod = g.pod(v.namespace, v.pod.name);
        if (!pod) throw new TokenError(`pod ${v.namespace}/${v.pod.name} has been deleted`);
        if (pod.metadata.uid !== v.pod.uid) throw new TokenError(`pod UID (${pod.metadata.uid}) does not match claim (${v.pod.uid})`);
        const del = pod.metadata.deletionTimestamp ? Date.parse(pod.metadata.deletionTimestamp) : NaN;
        if (!Number.isNaN(del) && del < this.now() - POD_DELETION_GRACE_MS) throw new TokenError(`pod ${v.namespace}/${v.pod.name} has been deleted`);
        extra[EXTRA_POD_NAME] = [v.pod.name];
        extra[EXTRA_POD_UID] = [v.pod.uid];
      }
      if (v.node) {
        const node = g.node(v.node.name);
        // A pod-bound token names its node for information; only a node-bound token depends on it.
        if (!v.pod) {
          if (!node) throw new TokenError(`node ${v.node.name} has been deleted`);
          if (node.metadata.uid !== v.node.uid) throw new TokenError(`node UID (${node.metadata.uid}) does not match claim (${v.node.uid})`);
        }
        extra[EXTRA_NODE_NAME] = [v.node.name];
        extra[EXTRA_NODE_UID] = [v.node.uid];
      }
      if (v.jti) extra[EXTRA_CREDENTIAL_ID] = [`JTI=${v.jti}`];
    }
    // The same user object while nothing changed, so per-user caches downstream hit by identity.
    const key = v.pod || v.node ? JSON.stringify(extra) : '';
    if (v.lastUser?.key === key) return { user: v.lastUser.user, audiences };
    const user: UserInfo = {
      name: serviceAccountUsername(v.namespace, v.serviceAccount.name),
      uid: v.serviceAccount.uid,
      groups: serviceAccountGroups(v.namespace),
    };
    if (Object.keys(extra).length) user.extra = extra;
    v.lastUser = { user, key };
    return { user, audiences };
  }
}

/** Constant-time string equality (legacy token Secret contents). */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
