// HTTPS to an aggregated API server: the APIService's caBundle (or insecureSkipTLSVerify), the
// certificate checked against `<service>.<namespace>.svc` as upstream does.

import https from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { KObject } from '../../api/types.ts';
import type { Resolved } from './resolve.ts';

export function tlsOptions(apiService: KObject, target: Resolved): https.RequestOptions {
  const spec = apiService.spec ?? {};
  const insecure = spec.insecureSkipTLSVerify === true;
  const ca = spec.caBundle ? Buffer.from(spec.caBundle, 'base64').toString('utf8') : undefined;
  return {
    host: target.host,
    port: target.port,
    servername: /^[\d.:]+$/.test(target.serverName) ? undefined : target.serverName,
    ca,
    rejectUnauthorized: !insecure,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(target.serverName, cert),
    agent: false,
  };
}

/** GET a path on the backend; resolves with status and body (at most 10 MB), rejects on transport errors. */
export function backendGet(apiService: KObject, target: Resolved, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ ...tlsOptions(apiService, target), method: 'GET', path, headers: { Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 10 * 1024 * 1024) req.destroy(new Error('response too large'));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`Client.Timeout exceeded while awaiting headers (${timeoutMs / 1000}s)`)));
    req.on('error', reject);
    req.end();
  });
}
