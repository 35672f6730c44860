// The audit log (upstream apiserver/pkg/audit): a Policy file (audit.k8s.io/v1) chooses for each
// request a level — None, Metadata, Request (plus the request body), RequestResponse (plus the
// response body) — by its first matching rule; each request then writes one audit.k8s.io/v1
// Event per stage (RequestReceived, ResponseStarted for long-running requests, ResponseComplete,
// Panic) that the policy does not omit, as JSON lines to --audit-log-path. Every request is
// audited exactly once per stage; the Audit-ID response header names its events. A request whose
// credentials fail (401) is audited too, as upstream's failed-authentication filter does: one
// ResponseStarted event with no user and the methods it tried (`Authentication failed, attempted:
// bearer`).

import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'yaml';
import type { UserInfo } from './authn/user.ts';
import type { RequestInfo } from './request-info.ts';
import { decodeObjectBody } from './http-util.ts';

export type Level = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type Stage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

const levels: Level[] = ['None', 'Metadata', 'Request', 'RequestResponse'];
const stages: Stage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];
const MAX_BODY = 1024 * 1024;

interface GroupResources {
  group?: string;
  resources?: string[];
  resourceNames?: string[];
}

export interface PolicyRule {
  level: Level;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: Stage[];
  omitManagedFields?: boolean;
}

export interface Policy {
  rules: PolicyRule[];
  omitStages?: Stage[];
  omitManagedFields?: boolean;
}

export class AuditPolicyError extends Error {}

export function parsePolicy(text: string): Policy {
  let doc: any;
  try {
    doc = parse(text);
  } catch (e) {
    throw new AuditPolicyError(`invalid YAML: ${(e as Error).message}`);
  }
  if (doc?.kind !== 'Policy') throw new AuditPolicyError(`kind must be Policy, got ${JSON.stringify(doc?.kind)}`);
  if (doc.apiVersion !== 'audit.k8s.io/v1') throw new AuditPolicyError(`apiVersion must be audit.k8s.io/v1, got ${JSON.stringify(doc.apiVersion)}`);
  const checkStages = (s: unknown, at: string) => {
    if (s === undefined) return;
    if (!Array.isArray(s) || s.some((x) => !stages.includes(x))) throw new AuditPolicyError(`${at}: stages must be among ${stages.join(', ')}`);
  };
  checkStages(doc.omitStages, 'omitStages');
  const rules: PolicyRule[] = (doc.rules ?? []).map((r: any, i: number) => {
    if (!levels.includes(r?.level)) throw new AuditPolicyError(`rules[${i}].level: must be one of ${levels.join(', ')}, got ${JSON.stringify(r?.level)}`);
    checkStages(r.omitStages, `rules[${i}].omitStages`);
    if (r.nonResourceURLs && (r.resources || r.namespaces)) throw new AuditPolicyError(`rules[${i}]: rules cannot apply to both regular resources and non-resource URLs`);
    return r as PolicyRule;
  });
  if (!rules.length) throw new AuditPolicyError('rules: at least one rule is required');
  return { rules, omitStages: doc.omitStages, omitManagedFields: doc.omitManagedFields };
}

const inList = (list: string[] | undefined, v: string) => !list || list.length === 0 || list.includes(v) || list.includes('*');

function urlMatches(patterns: string[], path: string): boolean {
  return patterns.some((p) => p === '*' || p === path || (p.endsWith('*') && path.startsWith(p.slice(0, -1))));
}

function resourceMatches(grs: GroupResources[], info: RequestInfo): boolean {
  const res = info.resource ?? '';
  const full = info.subresource ? `${res}/${info.subresource}` : res;
  return grs.some((gr) => {
    if ((gr.group ?? '') !== info.group && gr.group !== '*') return false;
    if (gr.resources?.length) {
      const ok = gr.resources.some((r) => r === '*' || r === full || r === `${res}/*` || (r.startsWith('*/') && info.subresource === r.slice(2)) || (r === res && !info.subresource));
      if (!ok) return false;
    }
    if (gr.resourceNames?.length && !gr.resourceNames.includes(info.name ?? '')) return false;
    return true;
  });
}

function ruleMatches(r: PolicyRule, user: UserInfo, info: RequestInfo): boolean {
  if (r.users?.length && !r.users.includes(user.name)) return false;
  if (r.userGroups?.length && !user.groups.some((g) => r.userGroups!.includes(g))) return false;
  if (!inList(r.verbs, info.verb)) return false;
  if (r.nonResourceURLs?.length) return !info.isResourceRequest && urlMatches(r.nonResourceURLs, info.path);
  if (r.resources?.length || r.namespaces?.length) {
    if (!info.isResourceRequest) return false;
    if (r.namespaces?.length && !r.namespaces.includes(info.namespace ?? '')) return false;
    if (r.resources?.length && !resourceMatches(r.resources, info)) return false;
  }
  return true;
}

/** The level and omitted stages for one request (the first rule that matches; None when none does). */
export function evaluatePolicy(p: Policy, user: UserInfo, info: RequestInfo): { level: Level; omit: Set<Stage>; omitManagedFields: boolean } {
  const rule = p.rules.find((r) => ruleMatches(r, user, info));
  if (!rule) return { level: 'None', omit: new Set(), omitManagedFields: false };
  return { level: rule.level, omit: new Set([...(p.omitStages ?? []), ...(rule.omitStages ?? [])]), omitManagedFields: rule.omitManagedFields ?? p.omitManagedFields ?? false };
}

/** RFC 3339 with microseconds, as upstream's audit timestamps. */
function micro(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const auditState = new WeakMap<IncomingMessage, Record<string, string>>();

/** Audit annotations of a request being audited (admission adds to them), or undefined. */
export function auditAnnotations(req: IncomingMessage): Record<string, string> | undefined {
  return auditState.get(req);
}

const wantsBody = new WeakSet<IncomingMessage>();
const bodies = new WeakMap<IncomingMessage, Buffer>();

/** Whether the request body should be kept for the audit log (readBody asks). */
export function keepBodyFor(req: IncomingMessage, body: Buffer): void {
  if (wantsBody.has(req)) bodies.set(req, body);
}

function parseBody(b: Buffer | undefined, omitManagedFields: boolean, contentType?: string): unknown {
  if (!b || !b.length || b.length > MAX_BODY) return undefined;
  try {
    // Request bodies may be YAML or protobuf (kubectl's typed clients); the log shows them as JSON.
    const v = contentType ? decodeObjectBody(b, contentType) : JSON.parse(b.toString('utf8'));
    if (omitManagedFields && v?.metadata?.managedFields) delete v.metadata.managedFields;
    return v;
  } catch {
    return undefined;
  }
}

/** What credentials a refused request carried, in upstream's words. */
function authMethods(req: IncomingMessage): string {
  const methods: string[] = [];
  const auth = String(req.headers.authorization ?? '').trim();
  const scheme = auth.split(' ')[0]?.toLowerCase();
  if (scheme === 'basic') methods.push('basic');
  if (scheme === 'bearer' && auth.split(' ').length > 1) methods.push('bearer');
  const q = (req.url ?? '').indexOf('?');
  if (q >= 0 && new URLSearchParams((req.url ?? '').slice(q + 1)).get('access_token')?.trim()) methods.push('access_token');
  const tls = req.socket as import('node:tls').TLSSocket;
  if (tls.encrypted && typeof tls.getPeerCertificate === 'function' && Object.keys(tls.getPeerCertificate() ?? {}).length) methods.push('x509');
  return methods.length ? `Authentication failed, attempted: ${methods.join(', ')}` : 'Authentication failed, no credentials provided';
}

export interface AuditOptions {
  policyFile: string;
  /** A file path, or '-' for stdout. */
  logPath: string;
}

export class AuditLog {
  private readonly out: WriteStream | NodeJS.WriteStream;

  constructor(
    private readonly policy: Policy,
    logPath: string,
  ) {
    this.out = logPath === '-' ? process.stdout : createWriteStream(logPath, { flags: 'a', mode: 0o600 });
  }

  static load(o: AuditOptions): AuditLog {
    return new AuditLog(parsePolicy(readFileSync(o.policyFile, 'utf8')), o.logPath);
  }

  private write(ev: Record<string, unknown>): void {
    this.out.write(JSON.stringify(ev) + '\n');
  }

  /**
   * Starts auditing a request: writes RequestReceived and arranges the later stages. `requester`
   * is the authenticated user, `user` the one it acts as (they differ under impersonation).
   */
  begin(req: IncomingMessage, res: ServerResponse, requester: UserInfo, user: UserInfo, info: RequestInfo, longRunning: boolean): void {
    const { level, omit, omitManagedFields } = evaluatePolicy(this.policy, requester, info);
    if (level === 'None') return;
    const received = new Date();
    const auditID = typeof req.headers['audit-id'] === 'string' && req.headers['audit-id'] ? req.headers['audit-id'] : randomUUID();
    if (!res.headersSent) res.setHeader('Audit-Id', auditID);
    const annotations: Record<string, string> = {};
    auditState.set(req, annotations);
    const withRequest = level === 'Request' || level === 'RequestResponse';
    const withResponse = level === 'RequestResponse' && !longRunning;
    if (withRequest) wantsBody.add(req);
    const userOf = (u: UserInfo) => ({ username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}) });
    const objectRef = info.isResourceRequest
      ? {
          resource: info.resource,
          ...(info.namespace ? { namespace: info.namespace } : {}),
          ...(info.name ? { name: info.name } : {}),
          ...(info.group ? { apiGroup: info.group } : {}),
          apiVersion: info.version,
          ...(info.subresource ? { subresource: info.subresource } : {}),
        }
      : undefined;
    const base = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level,
      auditID,
      requestURI: req.url ?? '/',
      verb: info.verb,
      user: userOf(requester),
      ...(user !== requester && user.name !== requester.name ? { impersonatedUser: userOf(user) } : {}),
      sourceIPs: [req.socket?.remoteAddress ?? ''].filter(Boolean),
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
      ...(objectRef ? { objectRef } : {}),
      requestReceivedTimestamp: micro(received),
    };
    const event = (stage: Stage, extra: Record<string, unknown> = {}) => {
      if (omit.has(stage)) return;
      this.write({ ...base, stage, ...extra, stageTimestamp: micro(new Date()), ...(Object.keys(annotations).length ? { annotations } : {}) });
    };
    event('RequestReceived');

    // Response body (RequestResponse): what the handler writes, when it is plain JSON.
    let chunks: Buffer[] | undefined = withResponse ? [] : undefined;
    let size = 0;
    if (chunks) {
      const keep = (c: unknown, enc?: unknown) => {
        if (!chunks || c === undefined || c === null || typeof c === 'function') return;
        const b = Buffer.isBuffer(c) ? c : typeof c === 'string' ? Buffer.from(c, typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8') : Buffer.from(c as Uint8Array);
        size += b.length;
        if (size > MAX_BODY) chunks = undefined;
        else chunks.push(b);
      };
      const write = res.write.bind(res);
      const end = res.end.bind(res);
      res.write = ((c: unknown, enc?: unknown, cb?: unknown) => (keep(c, enc), (write as any)(c, enc, cb))) as typeof res.write;
      res.end = ((c?: unknown, enc?: unknown, cb?: unknown) => (keep(c, enc), (end as any)(c, enc, cb))) as typeof res.end;
    }
    let started = false;
    const onHeaders = () => {
      if (!longRunning || started) return;
      started = true;
      event('ResponseStarted', { responseStatus: { metadata: {}, code: res.statusCode } });
    };
    const writeHead = res.writeHead.bind(res);
    res.writeHead = ((...args: unknown[]) => {
      const r = (writeHead as any)(...args);
      onHeaders();
      return r;
    }) as typeof res.writeHead;

    let done = false;
    const complete = () => {
      if (done) return;
      done = true;
      const code = res.statusCode;
      const status: Record<string, unknown> = { metadata: {}, code };
      let response: unknown;
      if (chunks && !res.getHeader('content-encoding')) response = parseBody(Buffer.concat(chunks), omitManagedFields);
      if (code >= 300 && response && typeof response === 'object' && (response as any).kind === 'Status') {
        const s = response as any;
        status.status = s.status;
        if (s.message) status.message = s.message;
        if (s.reason) status.reason = s.reason;
        if (s.details) status.details = s.details;
      }
      if (withRequest && !objectRef?.name && info.verb === 'create' && response && (response as any).metadata?.name && objectRef)
        (objectRef as Record<string, unknown>).name = (response as any).metadata.name;
      event('ResponseComplete', {
        ...(objectRef ? { objectRef } : {}),
        responseStatus: status,
        ...(withRequest && bodies.has(req) ? { requestObject: parseBody(bodies.get(req), omitManagedFields, req.headers['content-type'] ?? 'application/json') } : {}),
        ...(response !== undefined && code < 300 ? { responseObject: response } : {}),
      });
      auditState.delete(req);
    };
    res.once('finish', complete);
    res.once('close', complete);
  }

  /**
   * Audits a request refused for its credentials (401): the policy sees it with no user, and one
   * ResponseStarted event says which methods were tried. `res` is absent for connection upgrades.
   */
  failedAuthentication(req: IncomingMessage, res: ServerResponse | undefined, info: RequestInfo, code = 401): void {
    const nobody: UserInfo = { name: '', groups: [] };
    const { level, omit } = evaluatePolicy(this.policy, nobody, info);
    if (level === 'None') return;
    const auditID = typeof req.headers['audit-id'] === 'string' && req.headers['audit-id'] ? req.headers['audit-id'] : randomUUID();
    if (res && !res.headersSent) res.setHeader('Audit-Id', auditID);
    if (omit.has('ResponseStarted')) return;
    const now = micro(new Date());
    this.write({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level,
      auditID,
      stage: 'ResponseStarted',
      requestURI: req.url ?? '/',
      verb: info.verb,
      user: {},
      sourceIPs: [req.socket?.remoteAddress ?? ''].filter(Boolean),
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
      ...(info.isResourceRequest
        ? {
            objectRef: {
              resource: info.resource,
              ...(info.namespace ? { namespace: info.namespace } : {}),
              ...(info.name ? { name: info.name } : {}),
              ...(info.group ? { apiGroup: info.group } : {}),
              apiVersion: info.version,
              ...(info.subresource ? { subresource: info.subresource } : {}),
            },
          }
        : {}),
      responseStatus: { metadata: {}, message: authMethods(req), code },
      requestReceivedTimestamp: now,
      stageTimestamp: now,
    });
  }

  close(): Promise<void> {
    if (this.out === process.stdout) return Promise.resolve();
    return new Promise((resolve) => (this.out as WriteStream).end(() => resolve()));
  }
}
