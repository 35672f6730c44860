// Shared pieces of the cloud controllers' tests: nodes and services as the API stores them, and
// events read back from the API server.

import type { KObject } from '../../api/types.ts';
import type { ApiClient } from '../../client/api-client.ts';
import { poll } from '../../testing/poll.ts';
import { defaultCloudControllerOptions, type CloudControllerOptions } from '../controllers/options.ts';

/** Fast backoff for tests (the defaults wait seconds to minutes between tries). */
export const fastCloudOptions: CloudControllerOptions = {
  ...defaultCloudControllerOptions,
  serviceRetryMinMs: 100,
  serviceRetryMaxMs: 1000,
  nodeRetryMinMs: 100,
  nodeRetryMaxMs: 1000,
  nodeMonitorPeriodMs: 200,
  routeReconciliationPeriodMs: 300,
};

const nodesRef = { version: 'v1', resource: 'nodes' };

/** Create a node and set its status (create alone may not keep status). */
export async function createNode(
  client: ApiClient,
  name: string,
  opts: { labels?: Record<string, string>; annotations?: Record<string, string>; taints?: any[]; providerID?: string; ready?: 'True' | 'False' | 'Unknown'; addresses?: any[]; podCIDR?: string } = {},
): Promise<KObject> {
  const spec: Record<string, unknown> = {};
  if (opts.taints) spec.taints = opts.taints;
  if (opts.providerID) spec.providerID = opts.providerID;
  if (opts.podCIDR) spec.podCIDRs = [opts.podCIDR];
  const node = await client.create<KObject>(nodesRef, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: opts.labels, annotations: opts.annotations }, spec });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  node.status = {
    ...(node.status ?? {}),
    addresses: opts.addresses ?? [{ type: 'Hostname', address: name }],
    conditions: [{ type: 'Ready', status: opts.ready ?? 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now }],
  };
  return client.updateStatus<KObject>({ ...nodesRef, name }, node);
}

export async function setNodeReady(client: ApiClient, name: string, status: 'True' | 'False' | 'Unknown'): Promise<void> {
  const node = await client.get<KObject>({ ...nodesRef, name });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  node.status.conditions = [{ type: 'Ready', status, reason: 'Test', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now }];
  await client.updateStatus({ ...nodesRef, name }, node);
}

export function loadBalancerService(name: string, extra: { ports?: any[]; spec?: Record<string, unknown>; selector?: Record<string, string> | null } = {}): KObject {
  const spec: Record<string, unknown> = {
    type: 'LoadBalancer',
    ports: extra.ports ?? [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    ...(extra.spec ?? {}),
  };
  if (extra.selector !== null) spec.selector = extra.selector ?? { app: name };
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec };
}

export async function eventsFor(client: ApiClient, namespace: string, name: string): Promise<KObject[]> {
  const list = await client.list<KObject>({ version: 'v1', resource: 'events', namespace });
  return list.items.filter((e) => e.involvedObject?.name === name);
}

/** Wait for an event about `name` with this reason (and message, when given); returns it. */
export function waitForEvent(client: ApiClient, namespace: string, name: string, reason: string, message?: string | RegExp, timeoutMs = 20_000): Promise<KObject> {
  return poll(
    async () => {
      const evs = await eventsFor(client, namespace, name);
      return evs.find((e) => e.reason === reason && (message === undefined || (typeof message === 'string' ? e.message === message : message.test(e.message))));
    },
    { what: `event ${reason} on ${namespace}/${name}`, timeoutMs, intervalMs: 50 },
  ) as Promise<KObject>;
}

export function waitUntil<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  return poll(check, { what, timeoutMs, intervalMs: 50 }) as Promise<T>;
}

/** Wait until the route controller reports the node's network available (NetworkUnavailable=False); returns that condition. */
export function waitForNodeRouted(client: ApiClient, name: string, timeoutMs = 20_000): Promise<KObject> {
  return waitUntil(`${name} NetworkUnavailable=False`, async () => {
    const cond = (await client.get<KObject>({ ...nodesRef, name })).status?.conditions?.find((k: any) => k.type === 'NetworkUnavailable');
    return cond?.status === 'False' ? cond : undefined;
  }, timeoutMs);
}
