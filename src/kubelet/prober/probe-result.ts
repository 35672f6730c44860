// What one probe attempt returns (upstream pkg/probe): a result and the output that goes into
// the `Unhealthy` / `ProbeWarning` event. An `error` means the probe could not be run at all
// (bad port name, exec failure other than a timeout): upstream records an event and discards it.

export type ProbeOutcome = 'success' | 'warning' | 'failure' | 'unknown';

export interface ProbeResult {
  result: ProbeOutcome;
  output: string;
  error?: Error;
}

/** The kubelet version probes announce themselves with (`kube-probe/1.32`). */
export const KUBE_VERSION = { major: '1', minor: '32' };

export function userAgent(purpose: 'probe' | 'lifecycle'): string {
  return `kube-${purpose}/${KUBE_VERSION.major}.${KUBE_VERSION.minor}`;
}

/** How much of a probe's output (exec stdout+stderr, HTTP body) is kept: 10 KiB. */
export const MAX_PROBE_OUTPUT = 10 * 1024;

/** Go's net error text for a few errnos Node reports. */
export function goNetError(op: 'dial' | 'read', network: string, addr: string, err: NodeJS.ErrnoException): string {
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ECONNRESET: 'read: connection reset by peer',
    ETIMEDOUT: 'i/o timeout',
    EADDRNOTAVAIL: 'connect: cannot assign requested address',
  };
  const reason = (err.code && reasons[err.code]) || err.message;
  return `${op} ${network} ${addr}: ${reason}`;
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
