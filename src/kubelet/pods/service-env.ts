// Service environment variables (upstream pkg/kubelet/envvars and getServiceEnvVarMap): for each
// Service a container can see, FOO_SERVICE_HOST/FOO_SERVICE_PORT[_NAME] plus Docker-link style
// FOO_PORT, FOO_PORT_80_TCP[_PROTO|_PORT|_ADDR].

import type { Service } from './api-types.ts';

/** Services that always get env vars, whatever the pod's namespace (the `kubernetes` Service). */
const MASTER_SERVICES = new Set(['kubernetes']);

export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/** Upstream's makeEnvVariableName: upper case, '.' and '-' to '_', '_' before a leading digit. */
export function envVariableName(s: string): string {
  const name = s.replace(/[.-]/g, '_').toUpperCase();
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The env vars for a list of Services, in upstream's order per Service. */
export function envVarsFromServices(services: Service[]): [string, string][] {
  const out: [string, string][] = [];
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const ports = svc.spec?.ports ?? [];
    if (!ports.length) continue;
    const ip = svc.spec!.clusterIP!;
    const prefix = envVariableName(svc.metadata.name ?? '');
    out.push([`${prefix}_SERVICE_HOST`, ip]);
    out.push([`${prefix}_SERVICE_PORT`, String(ports[0].port)]);
    for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envVariableName(p.name)}`, String(p.port)]);
    ports.forEach((p, i) => {
      const protocol = p.protocol || 'TCP';
      const url = `${protocol.toLowerCase()}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out.push([`${prefix}_PORT`, url]);
      const pp = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.push([pp, url], [`${pp}_PROTO`, protocol.toLowerCase()], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip]);
    });
  }
  return out;
}

/**
 * The service env vars a pod in `namespace` gets: the `kubernetes` Service of `default` always, the
 * Services of its own namespace when enableServiceLinks (a same-named Service there wins).
 */
export function serviceEnvVarMap(services: Service[], namespace: string, enableServiceLinks: boolean): Map<string, string> {
  const chosen = new Map<string, Service>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name = svc.metadata.name ?? '';
    if (svc.metadata.namespace === 'default' && MASTER_SERVICES.has(name)) {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (svc.metadata.namespace === namespace && enableServiceLinks) {
      chosen.set(name, svc);
    }
  }
  const sorted = [...chosen.keys()].sort().map((k) => chosen.get(k)!);
  return new Map(envVarsFromServices(sorted));
}
