// What a control-plane member serves to machines that join with the token (k3s serves the same
// idea at /cacerts and /v1-k3s/...):
//
//   GET  /cacerts                          the cluster CA (public; the joiner checks its hash)
//   GET  /v1-mizzen/server-bootstrap       for new control-plane members: the CA and its key (to
//                                          sign their own serving certificate), and how to reach
//                                          the datastore (etcd endpoints and client certificate)
//   POST /v1-mizzen/node-credentials       for agents: a client certificate for system:node:<name>,
//                                          and with `servingHosts` the kubelet's serving certificate
//
// The last two need HTTP basic authentication with the token's secret (user `server` or `node`);
// they are answered only over the API server's TLS, which the joiner verifies with the CA it
// checked against the token.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errors, type StatusError } from '../machinery/errors.ts';
import { isDNS1123Subdomain } from '../api/validation.ts';
import { isIP } from 'node:net';
import { issueClientCertificate, issueKubeletServingCertificate } from '../apiserver/pki.ts';
import { sendJSON, sendStatusError } from '../apiserver/http-util.ts';
import type { DatastoreOptions } from '../storage/open.ts';
import { secretMatches, type JoinToken } from './token.ts';

export interface BootstrapSource {
  ca: { certPem: string; keyPem: string };
  token: JoinToken;
  /** The datastore this member uses (etcd endpoints and TLS files), if it is etcd. */
  datastore?: DatastoreOptions;
  serviceCIDR?: string;
  /**
   * This member's PKI directory: its front-proxy CA (made by the aggregator at start) goes to new
   * members too, so that every API server's proxied requests are trusted by aggregated servers.
   */
  pkiDir?: string;
}

export interface ServerBootstrap {
  ca: { cert: string; key: string };
  /** The aggregator's front-proxy CA (front-proxy-ca.crt/.key), when this member has one. */
  frontProxyCA?: { cert: string; key: string };
  /** The key that signs ServiceAccount tokens: every API server must verify every member's tokens. */
  serviceAccountKey?: string;
  datastore?: { endpoints: string[]; ca?: string; cert?: string; key?: string };
  serviceCIDR?: string;
}

export interface NodeCredentials {
  ca: string;
  cert: string;
  key: string;
  nodeName: string;
  /** The kubelet's serving certificate, when the agent named its hosts (as k3s serves it to agents). */
  servingCert?: string;
  servingKey?: string;
}

export const PATHS = { cacerts: '/cacerts', server: '/v1-mizzen/server-bootstrap', node: '/v1-mizzen/node-credentials' } as const;

/** A handler for the server's extra routes: true when it answered the request. */
export function bootstrapRoutes(src: BootstrapSource): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> {
  const authorized = (req: IncomingMessage, user: 'server' | 'node'): boolean => {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const text = Buffer.from(m[1], 'base64').toString('utf8');
    const i = text.indexOf(':');
    return i > 0 && text.slice(0, i) === user && secretMatches(text.slice(i + 1), src.token.secret);
  };
  const fail = (res: ServerResponse, e: StatusError) => {
    sendStatusError(res, e);
    return true;
  };
  const pem = async (f?: string) => (f ? readFile(f, 'utf8') : undefined);

  return async (req, res, path) => {
    if (path === PATHS.cacerts) {
      if (req.method !== 'GET') return fail(res, errors.methodNotAllowed('use GET'));
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(src.ca.certPem);
      return true;
    }
    if (path === PATHS.server) {
      if (req.method !== 'GET') return fail(res, errors.methodNotAllowed('use GET'));
      if (!authorized(req, 'server')) return fail(res, errors.unauthorized('a valid join token is required (user "server")'));
      const ds = src.datastore?.endpoints?.length ? src.datastore : undefined;
      const fpCert = src.pkiDir ? await readFile(join(src.pkiDir, 'front-proxy-ca.crt'), 'utf8').catch(() => undefined) : undefined;
      const fpKey = src.pkiDir ? await readFile(join(src.pkiDir, 'front-proxy-ca.key'), 'utf8').catch(() => undefined) : undefined;
      const saKey = src.pkiDir ? await readFile(join(src.pkiDir, 'service-account.key'), 'utf8').catch(() => undefined) : undefined;
      const body: ServerBootstrap = {
        ca: { cert: src.ca.certPem, key: src.ca.keyPem },
        frontProxyCA: fpCert && fpKey ? { cert: fpCert, key: fpKey } : undefined,
        serviceAccountKey: saKey,
        serviceCIDR: src.serviceCIDR,
        datastore: ds ? { endpoints: ds.endpoints!, ca: await pem(ds.caFile), cert: await pem(ds.certFile), key: await pem(ds.keyFile) } : undefined,
      };
      sendJSON(res, 200, body);
      return true;
    }
    if (path === PATHS.node) {
      if (req.method !== 'POST') return fail(res, errors.methodNotAllowed('use POST'));
      if (!authorized(req, 'node')) return fail(res, errors.unauthorized('a valid join token is required (user "node")'));
      let nodeName = '';
      let servingHosts: unknown;
      try {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const c of req) {
          size += (c as Buffer).length;
          if (size > 4096) return fail(res, errors.tooLarge('Request entity too large: limit is 4096'));
          chunks.push(c as Buffer);
        }
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        nodeName = String(parsed.nodeName ?? '');
        servingHosts = parsed.servingHosts;
      } catch {
        return fail(res, errors.badRequest('the body must be JSON: {"nodeName": "..."}'));
      }
      const bad = nodeName ? isDNS1123Subdomain(nodeName) : ['must not be empty'];
      if (bad.length) return fail(res, errors.badRequest(`invalid nodeName ${JSON.stringify(nodeName)}: ${bad.join('; ')}`));
      if (servingHosts !== undefined) {
        const ok = Array.isArray(servingHosts) && servingHosts.length <= 16 && servingHosts.every((h) => typeof h === 'string' && (isIP(h) !== 0 || isDNS1123Subdomain(h).length === 0));
        if (!ok) return fail(res, errors.badRequest('servingHosts must be a list of at most 16 IP addresses or DNS names'));
      }
      const c = await issueClientCertificate(src.ca, `system:node:${nodeName}`, ['system:nodes']);
      const body: NodeCredentials = { ca: src.ca.certPem, cert: c.certPem, key: c.keyPem, nodeName };
      if (Array.isArray(servingHosts)) {
        const sv = await issueKubeletServingCertificate(src.ca, nodeName, servingHosts as string[]);
        body.servingCert = sv.certPem;
        body.servingKey = sv.keyPem;
      }
      sendJSON(res, 200, body);
      return true;
    }
    return false;
  };
}
