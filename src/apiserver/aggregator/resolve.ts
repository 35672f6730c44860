// Which address an APIService's requests go to: the Service's endpoints directly (as upstream with
// --enable-aggregator-routing), never its ClusterIP, which only a programmed service proxy could
// route. Endpoints that are pods on simulated nodes are refused: nothing listens there.

import { isIP } from 'node:net';
import type { KObject } from '../../api/types.ts';

export interface ResolverLookups {
  service(namespace: string, name: string): KObject | undefined;
  endpoints(namespace: string, name: string): KObject | undefined;
  endpointSlices(namespace: string, serviceName: string): KObject[];
  pod(namespace: string, name: string): KObject | undefined;
  node(name: string): KObject | undefined;
}

/** A reason as the Available condition names it, with upstream's message. */
export interface Unresolved {
  reason: 'ServiceNotFound' | 'ServicePortError' | 'EndpointsNotFound' | 'MissingEndpoints' | 'NoReachableEndpoints';
  message: string;
}

export interface Resolved {
  host: string;
  port: number;
  /** The name the server's certificate is checked against: `<service>.<namespace>.svc`. */
  serverName: string;
}

const SIMULATED_LABEL = 'mizzen.dev/simulated';

interface Candidate {
  ip: string;
  targetRef?: { kind?: string; namespace?: string; name?: string };
}

/** Whether this machine can reach an endpoint; a reason when it cannot. */
export function unreachableReason(c: Candidate, lookups: ResolverLookups): string | undefined {
  const ref = c.targetRef;
  if (ref?.kind !== 'Pod' || !ref.name) return undefined;
  const pod = lookups.pod(ref.namespace ?? '', ref.name);
  const nodeName: string | undefined = pod?.spec?.nodeName;
  if (!nodeName) return undefined;
  const node = lookups.node(nodeName);
  if (node?.metadata.labels?.[SIMULATED_LABEL] === 'true')
    return `endpoint ${c.ip} is pod ${ref.namespace}/${ref.name} on node ${nodeName}, which is simulated and runs no containers`;
  return undefined;
}

export function resolveService(ref: { namespace?: string; name?: string; port?: number }, lookups: ResolverLookups, pick: (n: number) => number = (n) => Math.floor(Math.random() * n)): Resolved | Unresolved {
  const ns = ref.namespace ?? '';
  const name = ref.name ?? '';
  const port = ref.port ?? 443;
  const serverName = `${name}.${ns}.svc`;
  const svc = lookups.service(ns, name);
  if (!svc) return { reason: 'ServiceNotFound', message: `service/${name} in "${ns}" is not present` };
  if (svc.spec?.type === 'ExternalName') return { host: svc.spec.externalName, port, serverName };
  const svcPort = (svc.spec?.ports ?? []).find((p: any) => p.port === port);
  if (!svcPort) return { reason: 'ServicePortError', message: `service/${name} in "${ns}" is not listening on port ${port}` };
  const portName: string = svcPort.name ?? '';

  // EndpointSlices first (what current clients and controllers write), then the Endpoints object.
  const candidates: Array<Candidate & { port: number }> = [];
  const slices = lookups.endpointSlices(ns, name);
  for (const slice of slices) {
    const p = (slice.ports ?? []).find((x: any) => (x.name ?? '') === portName);
    if (!p?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses ?? []) candidates.push({ ip, port: p.port, targetRef: ep.targetRef });
    }
  }
  let sawEndpoints = slices.length > 0;
  if (!candidates.length) {
    const eps = lookups.endpoints(ns, name);
    if (eps) sawEndpoints = true;
    for (const subset of eps?.subsets ?? []) {
      const p = (subset.ports ?? []).find((x: any) => (x.name ?? '') === portName);
      if (!p?.port) continue;
      for (const a of subset.addresses ?? []) candidates.push({ ip: a.ip, port: p.port, targetRef: a.targetRef });
    }
  }
  if (!sawEndpoints) return { reason: 'EndpointsNotFound', message: `cannot find endpoints for service/${name} in "${ns}"` };
  if (!candidates.length) return { reason: 'MissingEndpoints', message: `endpoints for service/${name} in "${ns}" have no addresses with port name ${JSON.stringify(portName)}` };
  const reachable = candidates.filter((c) => isIP(c.ip) && !unreachableReason(c, lookups));
  if (!reachable.length) {
    const why = unreachableReason(candidates[0], lookups) ?? `endpoint ${candidates[0].ip} is not an IP address`;
    return { reason: 'NoReachableEndpoints', message: `no endpoint of service/${name} in "${ns}" can be reached from this API server: ${why}` };
  }
  const c = reachable[pick(reachable.length)];
  return { host: c.ip, port: c.port, serverName };
}

export function isResolved(r: Resolved | Unresolved): r is Resolved {
  return (r as Resolved).host !== undefined;
}
