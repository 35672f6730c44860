// The kubelet's HTTPS server (port 10250): what the API server reaches for `kubectl logs`, `exec`,
// `attach`, `cp` and `port-forward`, plus /healthz, /pods and /stats/summary.
//
//   GET      /healthz                                   ok (no client certificate needed)
//   GET      /pods                                      PodList of the pods this kubelet runs
//   GET      /stats/summary                             from the StatsProvider
//   GET      /metrics/resource                          the StatsProvider's resource metrics (Prometheus text)
//   GET      /metrics                                   the process's Prometheus metrics (kubelet_running_pods, ...)
//   GET      /containerLogs/{ns}/{pod}/{container}      the container's log (PodLogOptions query)
//   GET|POST /exec/{ns}/{pod}[/{uid}]/{container}       upgrade: ?command=…&input=1&output=1&error=1&tty=1
//   GET|POST /attach/{ns}/{pod}[/{uid}]/{container}     upgrade: ?input=1&output=1&error=1&tty=1
//   GET|POST /portForward/{ns}/{pod}[/{uid}]             upgrade (ports=… for the older WebSocket form)
//
// With `auth` (src/kubelet/auth), callers authenticate as upstream's kubelet lets them (a
// certificate from the cluster CA, or a bearer token the API server vouches for through a
// TokenReview) and are authorized by a SubjectAccessReview on nodes/proxy, nodes/stats, ... Without
// it, only certificates of system:masters members (the API server's kubelet-client certificate,
// the admin) are let in.

import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { errors, StatusError } from '../../machinery/errors.ts';
import { isWebSocketRequest, proxyUpgrade, writeRawResponse } from '../../machinery/http-upgrade.ts';
import { parsePodLogOptions, parsePortForwardPorts, validatePodLogOptions } from '../../api/core/pod-stream-options.ts';
import { readContainerLog } from './container-logs.ts';
import { logContainerId, podHasContainer } from './log-target.ts';
import { bridgeRemoteCommand, dialRemoteCommand, type StreamFlags } from './remote-command.ts';
import { bridgeChannelPortForward, bridgeSpdyTunnel, dialPortForward, PORT_FORWARD_PROTOCOL } from './port-forward.ts';
import { negotiate, offeredProtocols, portForwardProtocols, remoteCommandProtocols, SPDY_TUNNEL_PREFIX, type ChannelProtocol } from './ws-channels.ts';
import { SpdySession } from '../../machinery/spdy/session.ts';
import type { ContainerLogSource, KubeletPods, StatsProvider, StreamingRuntime } from './types.ts';
import { forbiddenText, type KubeletAuth } from '../auth/kubelet-auth.ts';
import { connectKubeletMetrics } from '../core/kubelet-metrics.ts';

export const DEFAULT_KUBELET_PORT = 10250;

export interface KubeletUser {
  name: string;
  groups: string[];
}

export interface KubeletServerOptions {
  nodeName: string;
  /** 10250 by default; 0 picks a free port. */
  port?: number;
  /** Default 0.0.0.0 (every address), as upstream's --address. */
  bindAddress?: string;
  /** PEM: the serving certificate and key, and the CA client certificates must come from. */
  tls: { cert: string; key: string; clientCA: string };
  pods: KubeletPods;
  runtime: StreamingRuntime;
  logs: ContainerLogSource;
  stats?: StatsProvider;
  /** Who may use the server; default: members of system:masters. Ignored when `auth` is given. */
  authorize?: (user: KubeletUser) => boolean;
  /**
   * Upstream's webhook authentication and authorization (src/kubelet/auth/kubelet-auth.ts): client
   * certificates or TokenReview'd bearer tokens, then a SubjectAccessReview on nodes/<sub>.
   */
  auth?: Pick<KubeletAuth, 'authenticate' | 'authorize'>;
  /** How long to wait for the runtime's streaming server to answer (default 30 s). */
  runtimeTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface RunningKubeletServer {
  port: number;
  /** https://<bind address or 127.0.0.1>:<port> */
  url: string;
  close(): Promise<void>;
}

type Route =
  | { kind: 'healthz' | 'pods' | 'stats' | 'resourceMetrics' | 'metrics' }
  | { kind: 'logs'; namespace: string; pod: string; container: string }
  | { kind: 'exec' | 'attach'; namespace: string; pod: string; uid?: string; container: string }
  | { kind: 'portForward'; namespace: string; pod: string; uid?: string };

function route(path: string): Route | undefined {
  let parts: string[];
  try {
    parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const [head, ...rest] = parts;
  if (head === 'healthz') return { kind: 'healthz' };
  if (head === 'pods' && rest.length === 0) return { kind: 'pods' };
  if (head === 'stats' && rest.length === 1 && rest[0] === 'summary') return { kind: 'stats' };
  if (head === 'metrics' && rest.length === 1 && rest[0] === 'resource') return { kind: 'resourceMetrics' };
  if (head === 'metrics' && rest.length === 0) return { kind: 'metrics' };
  if (head === 'containerLogs' && rest.length === 3) return { kind: 'logs', namespace: rest[0], pod: rest[1], container: rest[2] };
  if ((head === 'exec' || head === 'attach') && (rest.length === 3 || rest.length === 4)) {
    return rest.length === 3
      ? { kind: head, namespace: rest[0], pod: rest[1], container: rest[2] }
      : { kind: head, namespace: rest[0], pod: rest[1], uid: rest[2], container: rest[3] };
  }
  if (head === 'portForward' && (rest.length === 2 || rest.length === 3)) return { kind: 'portForward', namespace: rest[0], pod: rest[1], uid: rest[2] };
  return undefined;
}

function userOf(socket: TLSSocket): KubeletUser | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate?.();
  const cn = cert?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = cert.subject.O;
  return { name, groups: o === undefined ? [] : Array.isArray(o) ? o : [o] };
}

/** A CRI call's failure as a Status (gRPC codes as upstream's streaming.WriteError maps them). */
function runtimeError(e: unknown): StatusError {
  if (e instanceof StatusError) return e;
  const err = e as { code?: number; details?: string; message?: string };
  const msg = err.details || err.message || String(e);
  switch (err.code) {
    case 3: // INVALID_ARGUMENT
    case 9: // FAILED_PRECONDITION
      return errors.badRequest(msg);
    case 5: // NOT_FOUND
      return errors.notFoundPath(msg);
    case 4: // DEADLINE_EXCEEDED
      return errors.timeout(msg);
    case 14: // UNAVAILABLE
      return errors.serviceUnavailable(`the container runtime is unavailable: ${msg}`);
    default:
      return errors.internal(msg);
  }
}

/** A failure to reach the runtime's streaming server. */
function streamingError(e: unknown): StatusError {
  if (e instanceof StatusError) return e;
  return new StatusError(502, 'InternalError', `error connecting to the container runtime's streaming server: ${(e as Error).message}`);
}

/** The stream flags of an exec or attach request, as the kubelet reads them (upstream NewOptions). */
function streamFlags(q: URLSearchParams): StreamFlags {
  const tty = q.get('tty') === '1';
  const flags = { stdin: q.get('input') === '1', stdout: q.get('output') === '1', stderr: q.get('error') === '1' && !tty, tty };
  if (!flags.stdin && !flags.stdout && !flags.stderr) throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return flags;
}

export async function startKubeletServer(opts: KubeletServerOptions): Promise<RunningKubeletServer> {
  const log = opts.log ?? (() => {});
  const authorize = opts.authorize ?? ((u: KubeletUser) => u.groups.includes('system:masters'));
  const timeoutMs = opts.runtimeTimeoutMs ?? 30_000;

  // ws refuses subprotocol names with '/' (SPDY/3.1+portforward.k8s.io), so the kubelet negotiates
  // itself, hides the header from ws and adds the answer to the 101 response. ws (1.4 MB of heap)
  // is loaded by the first exec, attach or port-forward, not by every kubelet.
  const chosenProtocol = new WeakMap<IncomingMessage, string>();
  let wssLoaded: Promise<import('ws').WebSocketServer> | undefined;
  const webSocketServer = () =>
    (wssLoaded ??= import('ws').then(({ WebSocketServer }) => {
      const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 << 20 });
      wss.on('headers', (headers, req) => {
        const p = chosenProtocol.get(req);
        if (p) headers.push(`Sec-WebSocket-Protocol: ${p}`);
      });
      return wss;
    }));
  /**
   * Complete the WebSocket handshake. Resolves with the connection, or with undefined when the
   * client went away meanwhile (then `release` frees what was opened for it at the runtime).
   */
  const acceptWebSocket = async (req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string, release: () => void) => {
    const wss = await webSocketServer();
    return new Promise<import('ws').WebSocket | undefined>((resolve) => {
      if (protocol) chosenProtocol.set(req, protocol);
      delete req.headers['sec-websocket-protocol'];
      const gone = () => {
        release();
        resolve(undefined);
      };
      socket.once('close', gone);
      wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('close', gone);
        resolve(ws);
      });
    });
  };

  /** ws answers a malformed handshake itself: check first, before anything is opened at the runtime. */
  function checkHandshake(req: IncomingMessage): void {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) throw errors.badRequest('invalid WebSocket handshake: missing or invalid Sec-WebSocket-Key');
    if (req.headers['sec-websocket-version'] !== '13') throw errors.badRequest('invalid WebSocket handshake: Sec-WebSocket-Version must be 13');
  }

  async function checkAccess(req: IncomingMessage, path: string): Promise<void> {
    if (opts.auth) {
      const user = await opts.auth.authenticate(req);
      if (!user) throw errors.unauthorized();
      const d = await opts.auth.authorize(user, req.method ?? 'GET', path);
      if (!d.allowed) throw new StatusError(403, 'Forbidden', forbiddenText(user, d.attributes));
      return;
    }
    const user = userOf(req.socket as TLSSocket);
    if (!user) throw errors.unauthorized();
    if (!authorize(user)) throw new StatusError(403, 'Forbidden', `Forbidden (user=${user.name}, verb=${req.method?.toLowerCase()}, resource=nodes, subresource=proxy)`);
  }

  function findPod(namespace: string, name: string, uid?: string) {
    const pod = opts.pods.get(namespace, name, uid);
    if (!pod) throw errors.notFoundPath('pod does not exist');
    if (uid && pod.metadata.uid !== uid) throw errors.notFoundPath('pod not found');
    return pod;
  }

  // ---- plain requests ----

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const path = qi >= 0 ? raw.slice(0, qi) : raw;
    const q = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
    const r = route(path);
    if (r?.kind === 'healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    await checkAccess(req, path);
    if (!r) throw errors.notFoundPath(`the kubelet serves no ${path}`);
    if (r.kind === 'exec' || r.kind === 'attach' || r.kind === 'portForward') {
      if (req.method !== 'GET' && req.method !== 'POST') throw errors.methodNotAllowed(`${req.method} is not allowed on /${r.kind}`);
      throw errors.badRequest('Upgrade request required');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw errors.methodNotAllowed(`${req.method} is not allowed on ${path}`);
    if (r.kind === 'pods') {
      sendJSON(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: opts.pods.list() });
      return;
    }
    if (r.kind === 'stats') {
      if (!opts.stats) throw errors.serviceUnavailable('node statistics are not available yet');
      sendJSON(res, 200, await opts.stats.summary());
      return;
    }
    if (r.kind === 'resourceMetrics') {
      if (!opts.stats?.resourceMetrics) throw errors.serviceUnavailable('resource metrics are not available yet');
      const text = await opts.stats.resourceMetrics();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (r.kind === 'metrics') {
      // The process's own series (kubelet_running_pods, kubelet_pod_start_duration_seconds, ...).
      await connectKubeletMetrics();
      const { exposition, PROMETHEUS_CONTENT_TYPE } = await import('../../metrics/prometheus.ts');
      const text = await exposition();
      res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (r.kind === 'logs') return serveLogs(req, res, r, q);
  }

  async function serveLogs(req: IncomingMessage, res: ServerResponse, r: { namespace: string; pod: string; container: string }, q: URLSearchParams): Promise<void> {
    // Upstream's old `tail` parameter; "all" means no limit.
    const tail = q.get('tail');
    if (tail !== null) {
      if (tail === 'all') q.delete('tailLines');
      else q.set('tailLines', tail);
    }
    const o = parsePodLogOptions(q);
    const invalid = validatePodLogOptions(o);
    if (invalid.length) throw errors.invalid('PodLogOptions', '', r.pod, invalid);
    const pod = opts.pods.get(r.namespace, r.pod);
    if (!pod) throw errors.notFoundPath(`pod ${JSON.stringify(r.pod)} does not exist`);
    if (!podHasContainer(pod, r.container)) throw errors.notFoundPath(`container ${JSON.stringify(r.container)} not found in pod ${JSON.stringify(r.pod)}`);
    const id = logContainerId(pod, r.container, o.previous);
    const path = await opts.logs.logPath(id);
    if (!path) throw errors.badRequest(`container ${JSON.stringify(r.container)} in pod ${JSON.stringify(r.pod)} has no log file`);
    const sinceMs = o.sinceSeconds !== undefined ? Date.now() - o.sinceSeconds * 1000 : o.sinceTime;
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    let started = false;
    const write = (chunk: Buffer) =>
      new Promise<void>((resolve) => {
        if (!started) {
          started = true;
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked', 'X-Content-Type-Options': 'nosniff' });
        }
        if (res.write(chunk)) resolve();
        else {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        }
      });
    try {
      await readContainerLog(
        path,
        { tail: o.tailLines, limitBytes: o.limitBytes, sinceMs, timestamps: o.timestamps, follow: o.follow },
        write,
        { isRunning: () => opts.logs.isRunning(id) },
        ac.signal,
      );
    } catch (e) {
      if (!started) throw errors.badRequest((e as Error).message);
      log(`kubelet: reading the log of ${r.namespace}/${r.pod}/${r.container}: ${(e as Error).message}`);
      res.destroy();
      return;
    }
    if (!started) res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end();
  }

  // ---- upgrades: exec, attach, port-forward ----

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const path = qi >= 0 ? raw.slice(0, qi) : raw;
    const q = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
    await checkAccess(req, path);
    const r = route(path);
    if (!r || (r.kind !== 'exec' && r.kind !== 'attach' && r.kind !== 'portForward')) throw errors.notFoundPath(`the kubelet serves no upgrade at ${path}`);
    if (req.method !== 'GET' && req.method !== 'POST') throw errors.methodNotAllowed(`${req.method} is not allowed on /${r.kind}`);
    const ws = isWebSocketRequest(req);
    if (ws) checkHandshake(req);
    const offered = offeredProtocols(req.headers['sec-websocket-protocol']);

    if (r.kind === 'portForward') {
      const tunnel = ws && offered.includes(SPDY_TUNNEL_PREFIX + PORT_FORWARD_PROTOCOL);
      let channel: ChannelProtocol | undefined;
      let ports: number[] = [];
      if (ws && !tunnel) {
        channel = negotiate(offered, portForwardProtocols);
        if (!channel) throw errors.badRequest(`requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${[SPDY_TUNNEL_PREFIX + PORT_FORWARD_PROTOCOL, ...portForwardProtocols.map((p) => p.name)].join(' ')}]`);
        // The API server passes PodPortForwardOptions' ports as `port` (upstream's streamParams).
        ports = parsePortForwardPorts(q, 'port');
        if (ports.length === 0) throw errors.badRequest('query parameter "port" is required');
      }
      const pod = findPod(r.namespace, r.pod, r.uid);
      const sandbox = opts.pods.sandboxId(pod);
      if (!sandbox) throw errors.badRequest(`pod ${JSON.stringify(r.pod)} has no sandbox to forward ports to: it is not running`);
      let url: string;
      try {
        ({ url } = await opts.runtime.portForward({ podSandboxId: sandbox, port: ports }));
      } catch (e) {
        throw runtimeError(e);
      }
      if (!ws) return proxyUpgrade(req, socket, head, url, { timeoutMs }).catch((e) => Promise.reject(streamingError(e)));
      const up = await dialPortForward(url, timeoutMs).catch((e) => Promise.reject(streamingError(e)));
      if (tunnel) {
        const w = await acceptWebSocket(req, socket, head, SPDY_TUNNEL_PREFIX + PORT_FORWARD_PROTOCOL, () => up.socket.destroy());
        if (w) bridgeSpdyTunnel(w, up);
      } else {
        const session = new SpdySession(up.socket, { server: false, head: up.head });
        const w = await acceptWebSocket(req, socket, head, channel!.name, () => session.destroy());
        if (w) bridgeChannelPortForward(w, channel!, session, ports);
      }
      return;
    }

    // exec and attach
    const flags = streamFlags(q);
    const command = q.getAll('command');
    let channel: ChannelProtocol | undefined;
    if (ws) {
      channel = negotiate(offered, remoteCommandProtocols);
      if (!channel) throw errors.badRequest(`requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${remoteCommandProtocols.map((p) => p.name).join(' ')}]`);
    }
    if (r.kind === 'exec' && command.length === 0) throw errors.badRequest('you must specify a command to run');
    const pod = findPod(r.namespace, r.pod, r.uid);
    const containerId = opts.pods.runningContainerId(pod, r.container);
    if (!containerId) throw errors.badRequest(`container not found (${JSON.stringify(r.container)})`);
    let url: string;
    try {
      const req = { containerId, tty: flags.tty, stdin: flags.stdin, stdout: flags.stdout, stderr: flags.stderr };
      ({ url } = r.kind === 'exec' ? await opts.runtime.exec({ ...req, cmd: command }) : await opts.runtime.attach(req));
    } catch (e) {
      throw runtimeError(e);
    }
    if (!ws) return proxyUpgrade(req, socket, head, url, { timeoutMs }).catch((e) => Promise.reject(streamingError(e)));
    const session = await dialRemoteCommand(url, timeoutMs).catch((e) => Promise.reject(streamingError(e)));
    const w = await acceptWebSocket(req, socket, head, channel!.name, () => session.destroy());
    if (w) bridgeRemoteCommand(w, channel!, session, flags);
  }

  const server = https.createServer(
    { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCA, requestCert: true, rejectUnauthorized: false, keepAlive: true },
    (req, res) => {
      onRequest(req, res).catch((e) => {
        const err = e instanceof StatusError ? e : errors.internal((e as Error)?.message ?? String(e));
        if (!(e instanceof StatusError)) log(`kubelet: ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}`);
        if (res.headersSent) res.destroy();
        else sendJSON(res, err.code, err.toStatus());
      });
    },
  );
  // Upgraded connections leave the HTTP server's bookkeeping: close() ends them itself.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    onUpgrade(req, socket, head).catch((e) => {
      const err = e instanceof StatusError ? e : errors.internal((e as Error)?.message ?? String(e));
      if (!(e instanceof StatusError)) log(`kubelet: upgrade ${req.url}: ${(e as Error)?.stack ?? e}`);
      writeRawResponse(socket, err.code, { 'Content-Type': 'application/json' }, JSON.stringify(err.toStatus()));
    });
  });
  server.headersTimeout = 60_000;
  server.requestTimeout = 0; // logs are followed for as long as the client reads

  const bind = opts.bindAddress ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_KUBELET_PORT, bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const host = bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind.includes(':') ? `[${bind}]` : bind;
  log(`kubelet server for node ${opts.nodeName} listening on ${bind}:${port}`);
  return {
    port,
    url: `https://${host}:${port}`,
    close: async () => {
      const wss = await wssLoaded?.catch(() => undefined);
      return new Promise<void>((resolve) => {
        for (const c of wss?.clients ?? []) c.terminate();
        for (const s of upgraded) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function sendJSON(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
