import { unknownPlugins } from '../apiserver/admission/chain.ts';
import type { ApiServerAuthOptions } from '../apiserver/server.ts';
// Typed options for every command, with all defaults in one place.

import { formatIPv4, parseIPv4 } from '../machinery/ipv4.ts';
import { homedir, hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDuration } from '../machinery/duration.ts';
import { parseEndpointList, type DatastoreOptions } from '../storage/open.ts';
import { leaderElectionTiming, type LeaderElectionTiming } from './leader-election-flags.ts';
import { dnsFlagValues, type DnsFlags } from './dns-flags.ts';
import { hpaFlagOptions } from '../controllers/podautoscaler/flags.ts';
import { cloudProviders } from '../cloud/registry.ts';

export const DEFAULT_PORT = 6443;
export const DEFAULT_BIND_ADDRESS = '127.0.0.1';

export function defaultDataDir(): string {
  return join(homedir(), '.mizzen');
}

/** Flags shared by `up` and `apiserver`. */
export interface ServeOptions {
  dataDir: string;
  port: number;
  bindAddress: string;
  /** Passed through to the API server; undefined lets it pick its default. */
  serviceCIDR?: string;
  /** `--service-node-port-range`: the NodePort allocator's range and the proxy's (default 30000-32767). */
  nodePortRange?: [number, number];
  /** etcd instead of SQLite (absent: SQLite in dataDir). */
  datastore?: DatastoreOptions;
  /** Authentication and authorization flags (the API server's defaults where unset). */
  auth?: AuthFlags;
}

/** What the auth flags set: the API server's auth options that have a flag. */
export type AuthFlags = Omit<ApiServerAuthOptions, 'defaultServiceAccountWaitMs'>;

function parseBool(value: string, flag: string, command: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`invalid ${flag} "${value}": must be true or false`, command);
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export function authFlags(values: Record<string, string | boolean | undefined>, command: string): AuthFlags | undefined {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const out: AuthFlags = {};
  if (str('token-auth-file') !== undefined) out.tokenAuthFile = expandPath(str('token-auth-file')!);
  if (str('anonymous-auth') !== undefined) out.anonymous = parseBool(str('anonymous-auth')!, '--anonymous-auth', command);
  if (str('authorization-mode') !== undefined) {
    const modes = list(str('authorization-mode')!);
    for (const m of modes) if (m !== 'Node' && m !== 'RBAC' && m !== 'AlwaysAllow') throw new UsageError(`invalid --authorization-mode "${m}": known modes are Node, RBAC and AlwaysAllow`, command);
    if (!modes.length) throw new UsageError('invalid --authorization-mode "": name at least one mode', command);
    out.authorizationModes = modes as AuthFlags['authorizationModes'];
  }
  if (str('service-account-issuer') !== undefined) out.serviceAccountIssuer = str('service-account-issuer');
  if (str('service-account-signing-key-file') !== undefined) out.serviceAccountKeyFile = expandPath(str('service-account-signing-key-file')!);
  if (str('service-account-max-token-expiration') !== undefined) {
    const ms = parseDurationFlag(str('service-account-max-token-expiration')!, '--service-account-max-token-expiration');
    if (ms < 3600_000) throw new UsageError('invalid --service-account-max-token-expiration: must be at least 1h', command);
    out.serviceAccountMaxTokenExpirationSeconds = Math.floor(ms / 1000);
  }
  if (str('api-audiences') !== undefined) out.apiAudiences = list(str('api-audiences')!);
  if (str('disable-admission-plugins') !== undefined) out.disableAdmissionPlugins = list(str('disable-admission-plugins')!);
  if (str('enable-admission-plugins') !== undefined) out.enableAdmissionPlugins = list(str('enable-admission-plugins')!);
  const unknown = unknownPlugins({ enable: out.enableAdmissionPlugins, disable: out.disableAdmissionPlugins });
  if (unknown.length) throw new UsageError(`unknown admission plugins: ${unknown.join(',')}`, command);
  if (str('audit-policy-file') !== undefined) out.auditPolicyFile = expandPath(str('audit-policy-file')!);
  if (str('audit-log-path') !== undefined) out.auditLogPath = str('audit-log-path') === '-' ? '-' : expandPath(str('audit-log-path')!);
  if (str('encryption-provider-config') !== undefined) out.encryptionProviderConfig = expandPath(str('encryption-provider-config')!);
  for (const [flag, key] of [['max-requests-inflight', 'maxRequestsInflight'], ['max-mutating-requests-inflight', 'maxMutatingRequestsInflight']] as const) {
    const v = str(flag);
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) throw new UsageError(`invalid --${flag} "${v}": must be a non-negative integer (0 for no limit)`, command);
    out[key] = Number(v);
  }
  return Object.keys(out).length ? out : undefined;
}

export interface UpOptions extends ServeOptions {
  /** Simulated (kwok-style) nodes to register, 0 for none. */
  simulatedNodes: number;
  /** Capacity of each simulated node, e.g. `cpu=32,memory=256Gi,pods=110`. */
  simulatedNodeCapacity?: string;
  /** Simulated nodes only heartbeat; pods bound to them stay Pending. */
  simulatedNodesHeartbeatOnly?: boolean;
  /** Passed to the controller manager (flag text like `50s`). */
  nodeMonitorGracePeriodMs?: number;
  /** --pod-gc-period, passed to the controller manager. */
  podGCPeriodMs?: number;
  clusterCIDR?: string;
  /** Run no local node (by default, as root, a real kubelet named after the host runs). */
  noKubelet: boolean;
  /** The local node's settings (--node-name, --kubelet-port, --cgroup-root, --pod-bridge). */
  node?: { name?: string; kubeletPort?: number; cgroupRoot?: string; bridge?: string; noClusterDNS?: boolean; noServiceProxy?: boolean; noNetworkPolicy?: boolean };
  /** The cloud controller manager's provider (default local); 'none' runs none. */
  cloudProvider?: string;
  cloudConfig?: string;
  /** --configure-cloud-routes (default true): the route controller runs when the provider has routes. */
  configureCloudRoutes?: boolean;
  /** Lease timing of the scheduler, controller manager and cloud controller manager. */
  leaderElection?: LeaderElectionTiming;
  /** --metric-resolution: how often the metrics pipeline collects (default 15 s). */
  metricResolutionMs?: number;
  /** --horizontal-pod-autoscaler-sync-period (default 15 s). */
  hpaSyncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (default 5 m). */
  hpaDownscaleStabilizationMs?: number;
  /** --horizontal-pod-autoscaler-tolerance, -cpu-initialization-period, -initial-readiness-delay. */
  hpaTolerance?: number;
  hpaCpuInitializationPeriodMs?: number;
  hpaInitialReadinessDelayMs?: number;
  /** Join an existing control plane (`--join URL --token T`). */
  join?: { server: string; token: string };
  /** Cluster DNS: --cluster-dns, --cluster-domain, --dns-upstream (upOptions fills in the defaults). */
  dns?: DnsFlags;
}

/** Providers `up --cloud-provider` accepts: those registered in src/cloud/registry.ts, plus none. */
export const UP_CLOUD_PROVIDERS = [...Object.keys(cloudProviders), 'none'];

export function parseCount(value: string | undefined, flag: string, command: string): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value)) throw new UsageError(`invalid ${flag} "${value}": must be a non-negative integer`, command);
  return Number(value);
}

export function upOptions(values: Record<string, string | boolean | undefined>): UpOptions {
  const str = (k: string) => values[k] as string | undefined;
  if (values['simulated-nodes-heartbeat-only'] === true && !Number(str('simulated-nodes') ?? 0))
    throw new UsageError('--simulated-nodes-heartbeat-only applies to simulated nodes: add --simulated-nodes N', 'up');
  const serve = serveOptions(values as any, 'up');
  let dns: DnsFlags;
  try {
    dns = dnsFlagValues(values, serve.serviceCIDR);
  } catch (e) {
    throw new UsageError((e as Error).message, 'up');
  }
  return {
    ...serve,
    dns,
    simulatedNodes: parseCount(str('simulated-nodes'), '--simulated-nodes', 'up'),
    simulatedNodeCapacity: str('simulated-node-capacity'),
    simulatedNodesHeartbeatOnly: values['simulated-nodes-heartbeat-only'] === true,
    nodeMonitorGracePeriodMs: str('node-monitor-grace-period') === undefined ? undefined : parseDurationFlag(str('node-monitor-grace-period')!, '--node-monitor-grace-period'),
    ...durationOption(str('pod-gc-period'), '--pod-gc-period', 'podGCPeriodMs', 1),
    clusterCIDR: str('cluster-cidr'),
    ...durationOption(str('metric-resolution'), '--metric-resolution', 'metricResolutionMs', 1),
    ...hpaOptions(values),
    noKubelet: values['no-kubelet'] === true,
    ...localNodeOptions(values),
    cloudProvider: cloudProviderFlag(str('cloud-provider')),
    cloudConfig: str('cloud-config') === undefined ? undefined : expandPath(str('cloud-config')!),
    ...(str('configure-cloud-routes') === undefined ? {} : { configureCloudRoutes: parseBool(str('configure-cloud-routes')!, '--configure-cloud-routes', 'up') }),
    ...leaderElectionOption(values),
    ...joinOption(values),
  };
}

/** The HorizontalPodAutoscaler controller's flags (src/controllers/podautoscaler/flags.ts). */
function hpaOptions(values: Record<string, unknown>): ReturnType<typeof hpaFlagOptions> {
  try {
    return hpaFlagOptions(values);
  } catch (e) {
    throw new UsageError((e as Error).message, 'up');
  }
}

/** An optional duration flag, at least minMs. */
export function durationOption<K extends string>(v: string | undefined, flag: string, key: K, minMs: number, command = 'up'): Partial<Record<K, number>> {
  if (v === undefined) return {};
  const ms = parseDurationFlag(v, flag);
  if (ms < minMs) throw new UsageError(`invalid ${flag} "${v}": must be ${minMs ? 'positive' : 'zero or more'}`, command);
  return { [key]: ms } as Partial<Record<K, number>>;
}

/** The local node's flags; absent when none is given. */
function localNodeOptions(values: Record<string, unknown>): { node?: UpOptions['node'] } {
  const str = (k: string) => values[k] as string | undefined;
  const node: NonNullable<UpOptions['node']> = {};
  if (str('node-name') !== undefined) {
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(str('node-name')!)) throw new UsageError(`invalid --node-name "${str('node-name')}": must be a DNS subdomain`, 'up');
    node.name = str('node-name');
  }
  if (str('kubelet-port') !== undefined) {
    const v = str('kubelet-port')!;
    if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`invalid --kubelet-port "${v}": must be an integer between 0 and 65535`, 'up');
    node.kubeletPort = Number(v);
  }
  if (str('cgroup-root') !== undefined) {
    if (!/^(\/[A-Za-z0-9._-]+)+$/.test(str('cgroup-root')!)) throw new UsageError(`invalid --cgroup-root "${str('cgroup-root')}": expected an absolute cgroup path such as /mizzen`, 'up');
    node.cgroupRoot = str('cgroup-root');
  }
  if (str('pod-bridge') !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(str('pod-bridge')!)) throw new UsageError(`invalid --pod-bridge "${str('pod-bridge')}": a Linux interface name of at most 15 characters`, 'up');
    node.bridge = str('pod-bridge');
  }
  // The node services (src/kubelet/node-services.ts) run by default beside the local node.
  if (values['no-cluster-dns'] === true) node.noClusterDNS = true;
  if (values['no-service-proxy'] === true) node.noServiceProxy = true;
  if (values['no-network-policy'] === true) node.noNetworkPolicy = true;
  if (Object.keys(node).length && values['no-kubelet'] === true) throw new UsageError('the local node flags do not go with --no-kubelet', 'up');
  return Object.keys(node).length ? { node } : {};
}

/** `--join URL` with `--token T` or `--token-file F`. */
function joinOption(values: Record<string, unknown>): { join?: { server: string; token: string } } {
  const server = values.join as string | undefined;
  const token = tokenFlag(values, 'up');
  if (server === undefined) {
    if (token !== undefined) throw new UsageError('--token goes with --join (a member joining an existing control plane)', 'up');
    return {};
  }
  if (!/^https:\/\/[^/\s]+(:\d+)?\/?$/.test(server)) throw new UsageError(`invalid --join "${server}": expected https://host:port of a control-plane member`, 'up');
  if (token === undefined) throw new UsageError('--join needs --token or --token-file (the first member keeps it in DATA_DIR/token)', 'up');
  return { join: { server, token } };
}

/** `mizzen agent` flags. */
export function agentOptions(values: Record<string, unknown>): { servers: string[]; token: string; nodeName: string; dataDir: string; lbPort: number; simulatedKubelet: boolean } {
  const server = values.server as string | undefined;
  if (!server) throw new UsageError('--server is required: the https://host:port of a control-plane member', 'agent');
  const servers = server
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of servers) if (!/^https:\/\/[^/\s]+:\d+\/?$/.test(s)) throw new UsageError(`invalid --server "${s}": expected https://host:port`, 'agent');
  const token = tokenFlag(values, 'agent');
  if (!token) throw new UsageError('--token or --token-file is required', 'agent');
  const nodeName = ((values['node-name'] as string | undefined) ?? hostname()).toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(nodeName)) throw new UsageError(`invalid --node-name "${nodeName}": must be a DNS subdomain`, 'agent');
  const dir = values['data-dir'] as string | undefined;
  if (dir === '') throw new UsageError('invalid --data-dir "": must not be empty', 'agent');
  const lb = values['lb-port'] as string | undefined;
  return {
    servers,
    token,
    nodeName,
    dataDir: dir !== undefined ? expandPath(dir) : join(homedir(), '.mizzen-agent'),
    lbPort: lb === undefined ? 6444 : lbPort(lb),
    simulatedKubelet: values['simulated-kubelet'] === true,
  };
}

function lbPort(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`invalid --lb-port "${v}": must be an integer between 0 and 65535`, 'agent');
  return Number(v);
}

/** The join token from --token or --token-file. */
export function tokenFlag(values: Record<string, unknown>, command: string): string | undefined {
  const t = values.token as string | undefined;
  const f = values['token-file'] as string | undefined;
  if (t !== undefined && f !== undefined) throw new UsageError('give --token or --token-file, not both', command);
  if (f === undefined) return t;
  try {
    return readFileSync(expandPath(f), 'utf8').trim();
  } catch (e) {
    throw new UsageError(`cannot read --token-file ${f}: ${(e as Error).message}`, command);
  }
}

function leaderElectionOption(values: Record<string, unknown>): { leaderElection?: LeaderElectionTiming } {
  try {
    const t = leaderElectionTiming(values);
    return t ? { leaderElection: t } : {};
  } catch (e) {
    throw new UsageError((e as Error).message, 'up');
  }
}

function cloudProviderFlag(v: string | undefined): string | undefined {
  if (v !== undefined && !UP_CLOUD_PROVIDERS.includes(v)) throw new UsageError(`invalid --cloud-provider "${v}": must be one of ${UP_CLOUD_PROVIDERS.join(', ')}`, 'up');
  return v;
}

export interface ApiServerCommandOptions extends ServeOptions {
  /** --metric-resolution: how often the built-in metrics pipeline collects (default 15 s). */
  metricResolutionMs?: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCAFile?: string;
}

/** A bad command line: printed with the command's usage, exit status 2. */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** Expand a leading `~` (shells do not expand it after `--flag=`) and make the path absolute. */
export function expandPath(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return resolve(p);
}

export function parsePort(value: string | undefined, command: string): number {
  if (value === undefined) return DEFAULT_PORT;
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`invalid --port "${value}": must be an integer between 0 and 65535`, command);
  }
  return Number(value);
}

export function parseBindAddress(value: string | undefined, command: string): string {
  if (value === undefined) return DEFAULT_BIND_ADDRESS;
  const v = value.replace(/^\[(.*)\]$/, '$1');
  if (v === '') throw new UsageError('invalid --bind-address "": must not be empty', command);
  return v;
}

export function parseServiceCIDR(value: string | undefined, command: string): string | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 30) {
    throw new UsageError(`invalid --service-cluster-ip-range "${value}": must be an IPv4 CIDR such as 10.43.0.0/16`, command);
  }
  return value;
}

export function parseNodePortRange(value: string | undefined, command: string): [number, number] | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value);
  const [lo, hi] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new UsageError(`invalid --service-node-port-range "${value}": must be a port range such as 30000-32767`, command);
  return [lo, hi];
}

/** The first usable address of an IPv4 CIDR: where the `kubernetes` service lives. */
export function firstServiceIP(cidr: string): string {
  const [addr, bits] = cidr.split('/') as [string, string];
  const n = parseIPv4(addr) ?? 0;
  const size = 2 ** (32 - Number(bits));
  return formatIPv4(Math.floor(n / size) * size + 1);
}

export function serveOptions(
  values: { 'data-dir'?: string; port?: string; 'bind-address'?: string; 'service-cluster-ip-range'?: string } & Record<string, unknown>,
  command: string,
): ServeOptions {
  if (values['data-dir'] === '') throw new UsageError('invalid --data-dir "": must not be empty', command);
  const datastore = datastoreOptions(values as Record<string, unknown>, command);
  const auth = authFlags(values as Record<string, string | boolean | undefined>, command);
  return {
    dataDir: values['data-dir'] !== undefined ? expandPath(values['data-dir']) : defaultDataDir(),
    port: parsePort(values.port, command),
    bindAddress: parseBindAddress(values['bind-address'], command),
    serviceCIDR: parseServiceCIDR(values['service-cluster-ip-range'], command),
    ...(values['service-node-port-range'] !== undefined ? { nodePortRange: parseNodePortRange(values['service-node-port-range'] as string, command) } : {}),
    ...(datastore ? { datastore } : {}),
    ...(auth ? { auth } : {}),
  };
}

/**
 * The etcd flags: k3s's --datastore-* or kube-apiserver's --etcd-* (one of each pair). Undefined
 * without endpoints; TLS files without endpoints are a usage error.
 */
export function datastoreOptions(values: Record<string, unknown>, command: string): DatastoreOptions | undefined {
  const pick = (k3s: string, upstream: string): string | undefined => {
    const a = values[k3s] as string | undefined;
    const b = values[upstream] as string | undefined;
    if (a !== undefined && b !== undefined && a !== b) throw new UsageError(`--${k3s} and --${upstream} say different things: give one`, command);
    const v = a ?? b;
    if (v === '') throw new UsageError(`invalid --${a !== undefined ? k3s : upstream} "": must not be empty`, command);
    return v;
  };
  const endpoints = pick('datastore-endpoint', 'etcd-servers');
  const caFile = pick('datastore-cafile', 'etcd-cafile');
  const certFile = pick('datastore-certfile', 'etcd-certfile');
  const keyFile = pick('datastore-keyfile', 'etcd-keyfile');
  const interval = values['etcd-compaction-interval'] as string | undefined;
  if (endpoints === undefined) {
    if (caFile || certFile || keyFile || interval !== undefined) throw new UsageError('the etcd TLS and compaction flags need --datastore-endpoint', command);
    return undefined;
  }
  const list = parseEndpointList(endpoints);
  for (const e of list) {
    if (!/^(https?:\/\/)?[^/\s]+:\d{1,5}\/?$/.test(e)) throw new UsageError(`invalid --datastore-endpoint "${e}": expected https://host:port or http://host:port`, command);
  }
  if (list.length === 0) throw new UsageError('invalid --datastore-endpoint: no endpoint given', command);
  if (!!certFile !== !!keyFile) throw new UsageError('--datastore-certfile and --datastore-keyfile go together', command);
  const ds: DatastoreOptions = { endpoints: list };
  if (caFile) ds.caFile = expandPath(caFile);
  if (certFile) ds.certFile = expandPath(certFile);
  if (keyFile) ds.keyFile = expandPath(keyFile);
  if (interval !== undefined) ds.compactIntervalMs = interval === '0' ? 0 : parseDurationFlag(interval, '--etcd-compaction-interval', command);
  return ds;
}

/** A Go-style duration flag (`50s`, `1m30s`, `500ms`) in milliseconds; a usage error if malformed. */
export function parseDurationFlag(text: string, flag: string, command = 'up'): number {
  try {
    return parseDuration(text);
  } catch {
    throw new UsageError(`invalid ${flag} "${text}": use a duration such as 50s, 1m30s or 500ms`, command);
  }
}

