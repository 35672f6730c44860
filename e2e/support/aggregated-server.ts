// A tiny aggregated API server for tests: HTTPS on 127.0.0.1 serving one group/version with one
// namespaced resource (widgets) and recording who the API server said was asking.

import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface AggregatedServer {
  port: number;
  /** The X-Remote-User of each request, in order. */
  users: string[];
  /** Each request's path and X-Remote-User, in order (discovery and availability checks included). */
  requests: { path: string; user: string }[];
  /** The CN of the client certificate of each request ('' without one). */
  clients: string[];
  close(): Promise<void>;
}

/** With `clientCA`, client certificates are asked for and those it signed are recorded (as a real aggregated server checks the front proxy). */
export async function startAggregatedServer(opts: { group: string; version: string; cert: string; key: string; clientCA?: string }): Promise<AggregatedServer> {
  const { group, version } = opts;
  const gv = `${group}/${version}`;
  const users: string[] = [];
  const requests: { path: string; user: string }[] = [];
  const clients: string[] = [];
  const resourceList = {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: [
      { name: 'widgets', singularName: 'widget', namespaced: true, kind: 'Widget', verbs: ['get', 'list'], shortNames: ['wd'] },
      { name: 'widgets/status', singularName: '', namespaced: true, kind: 'Widget', verbs: ['get'] },
    ],
  };
  const widget = (ns: string, name: string) => ({ apiVersion: gv, kind: 'Widget', metadata: { name, namespace: ns, creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { size: 3 } });
  const tlsOpts = opts.clientCA ? { requestCert: true, rejectUnauthorized: false, ca: opts.clientCA } : {};
  const server = https.createServer({ cert: opts.cert, key: opts.key, ...tlsOpts }, (req, res) => {
    users.push(String(req.headers['x-remote-user'] ?? ''));
    requests.push({ path: (req.url ?? '').split('?')[0]!, user: users.at(-1)! });
    const sock = req.socket as import('node:tls').TLSSocket;
    clients.push(sock.authorized ? String(sock.getPeerCertificate()?.subject?.CN ?? '') : '');
    const path = (req.url ?? '').split('?')[0];
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === `/apis/${gv}`) return send(200, resourceList);
    const m = /^\/apis\/[^/]+\/[^/]+\/namespaces\/([^/]+)\/widgets(?:\/([^/]+))?$/.exec(path);
    if (m && m[2]) return send(200, widget(m[1], m[2]));
    if (m) return send(200, { apiVersion: gv, kind: 'WidgetList', metadata: { resourceVersion: '1' }, items: [widget(m[1], 'alpha'), widget(m[1], 'beta')] });
    send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `no ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    users,
    requests,
    clients,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
