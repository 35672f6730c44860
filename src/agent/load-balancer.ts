// A client-side load balancer for the API servers, as k3s agents run one: a TCP proxy on loopback
// that hands each connection to a live control-plane member. TLS passes through untouched (the
// members' serving certificates name 127.0.0.1), so clients keep their client certificates and
// notice nothing but a reconnect when a member dies. A member that refuses or times out is
// skipped for a few seconds; when every member is failing, all are tried again.

import net from 'node:net';

export interface LoadBalancerOptions {
  /** host:port (or https://host:port) of every API server. */
  servers: string[];
  /** Where to listen (default 127.0.0.1, port 0 = any free one). */
  host?: string;
  port?: number;
  /** How long a member that failed is skipped (default 5 s). */
  holdOffMs?: number;
  connectTimeoutMs?: number;
  /** 'spread' (default): round-robin over live servers; 'first': the first live one in the list. */
  mode?: 'spread' | 'first';
  log?: (msg: string) => void;
}

interface Backend {
  host: string;
  port: number;
  /** Skip until this time (ms since epoch). */
  downUntil: number;
}

export interface RunningLoadBalancer {
  /** https://host:port to put in a kubeconfig. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export function parseServer(s: string): { host: string; port: number } {
  const m = /^(?:https:\/\/)?(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(s.trim());
  if (!m) throw new Error(`invalid server ${JSON.stringify(s)}: expected https://host:port`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

export async function startLoadBalancer(o: LoadBalancerOptions): Promise<RunningLoadBalancer> {
  const backends: Backend[] = o.servers.map((s) => ({ ...parseServer(s), downUntil: 0 }));
  if (backends.length === 0) throw new Error('no servers to balance');
  const holdOff = o.holdOffMs ?? 5000;
  const connectTimeout = o.connectTimeoutMs ?? 3000;
  const log = o.log ?? (() => {});
  let next = 0;
  const sockets = new Set<net.Socket>();

  /** Members in the order to try: the live ones round-robin, then the ones held off. */
  const order = (): Backend[] => {
    const now = Date.now();
    const start = o.mode === 'first' ? 0 : next++ % backends.length;
    const rotated = [...backends.slice(start), ...backends.slice(0, start)];
    return [...rotated.filter((b) => b.downUntil <= now), ...rotated.filter((b) => b.downUntil > now)];
  };

  const connect = (b: Backend): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const s = net.connect({ host: b.host, port: b.port, noDelay: true });
      const t = setTimeout(() => s.destroy(new Error(`connect timeout after ${connectTimeout} ms`)), connectTimeout);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });

  const server = net.createServer({ pauseOnConnect: true, noDelay: true }, async (client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    for (const b of order()) {
      let upstream: net.Socket;
      try {
        upstream = await connect(b);
      } catch (e) {
        if (b.downUntil <= Date.now()) log(`API server ${b.host}:${b.port} is unreachable (${(e as Error).message}); trying another`);
        b.downUntil = Date.now() + holdOff;
        continue;
      }
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      b.downUntil = 0;
      sockets.add(upstream);
      upstream.once('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      return;
    }
    client.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const host = o.host ?? '127.0.0.1';
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
