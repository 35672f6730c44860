// What the CLI needs around the API server: the server's start contract, the names its serving
// certificate must carry, and the URL clients should use.

import { networkInterfaces, hostname } from 'node:os';
import { join } from 'node:path';
import { firstServiceIP } from './options.ts';
import type { DatastoreOptions } from '../storage/open.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Mirrors the contract of src/apiserver/server.ts so the CLI can be tested with a fake server. */
export interface ApiServerStartOptions {
  dataDir: string;
  port: number;
  bindAddress: string;
  tls: { cert: string; key: string; clientCA: string };
  serviceCIDR?: string;
  nodePortRange?: [number, number];
  datastore?: DatastoreOptions;
  log?: (msg: string) => void;
  auth?: import('./options.ts').AuthFlags;
  /** The API server's client certificate for kubelets and the CA their serving certificates come from. */
  kubeletClient?: { cert: string; key: string; ca: string };
  /** Called on each metrics.k8s.io request (the standalone API server starts its pipeline then). */
  onResourceMetricsRequest?: () => void;
  /** Routes answered before authentication (the join endpoints). */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
}

export interface RunningApiServerLike {
  url: string;
  port: number;
  close(): Promise<void>;
  /** A components worker's port (Prometheus metrics, metrics.k8s.io); absent on fakes. */
  attachThread?(t: import('../metrics/thread-port.ts').ThreadPortClient): void;
  /** A thread's requests over a MessagePort, as connections to the private socket; absent on fakes. */
  acceptPort?(port: import('node:worker_threads').MessagePort): void;
}

export type StartApiServer = (opts: ApiServerStartOptions) => Promise<RunningApiServerLike>;

/** Imported on demand: the server pulls in the whole API machinery. */
export async function loadStartApiServer(): Promise<StartApiServer> {
  const mod = await import('../apiserver/server.ts');
  return mod.startApiServer;
}

export function isWildcardAddress(addr: string): boolean {
  return addr === '0.0.0.0' || addr === '::';
}

/**
 * Extra names for the serving certificate beyond the fixed local ones: the bind address, or every
 * interface address when listening on all of them, and the `kubernetes` service IP of a custom range.
 */
export function servingHostsFor(bindAddress: string, serviceCIDR?: string): string[] {
  const hosts = [hostname()];
  if (isWildcardAddress(bindAddress)) {
    for (const addrs of Object.values(networkInterfaces())) {
      for (const a of addrs ?? []) {
        if (!a.internal && !a.address.startsWith('fe80:')) hosts.push(a.address);
      }
    }
  } else {
    hosts.push(bindAddress);
  }
  if (serviceCIDR) hosts.push(firstServiceIP(serviceCIDR));
  return hosts;
}

/** The URL clients should use; a wildcard bind is reached over loopback. */
export function clientURL(bindAddress: string, port: number): string {
  let host = bindAddress;
  if (bindAddress === '0.0.0.0') host = '127.0.0.1';
  else if (bindAddress === '::') host = '::1';
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Storage reports a held data dir with code ELOCKED (see src/storage/sqlite/lock.ts). */
export function isLockedError(err: unknown): err is Error & { code: 'ELOCKED'; pid?: number; file?: string } {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ELOCKED';
}

/** Storage's own message already names the file and the pid holding it. */
export function lockedMessage(dataDir: string, err: Error & { pid?: number }): string {
  if (/in use/.test(err.message)) return `mizzen: ${err.message}`;
  const by = typeof err.pid === 'number' && err.pid > 0 ? ` by process ${err.pid}` : '';
  return `mizzen: data directory ${dataDir} is in use${by}: ${err.message}`;
}

/** Longest Unix socket path the kernel takes (sun_path is 108 bytes on Linux, 104 on macOS, with a NUL). */
const MAX_SOCKET_PATH_BYTES = 103;

/**
 * The API server's private socket for the in-process components (plain HTTP, no TLS cost), or
 * undefined when the data dir's path is too long for one; the components then use a kubeconfig.
 */
export function apiSocketPath(dataDir: string): string | undefined {
  const p = join(dataDir, 'apiserver.sock');
  return Buffer.byteLength(p) <= MAX_SOCKET_PATH_BYTES ? p : undefined;
}

/** The server's start contract plus the private socket (src/apiserver/server.ts has both). */
export type StartApiServerWithSocket = (
  opts: Parameters<StartApiServer>[0] & { unixSocket?: string },
) => Promise<Awaited<ReturnType<StartApiServer>> & { socketPath?: string }>;
