// Endpoints (core v1): validation of subsets and the `kubectl get endpoints` table.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { isDNS1123Label } from '../validation.ts';
import { age, ageColumn, col, isIP, nameColumn } from './common.ts';
import { portRangeError } from './pod-spec.ts';

const protocols = ['SCTP', 'TCP', 'UDP'];

function defaultEndpoints(ep: KObject): void {
  for (const ss of ep.subsets ?? []) for (const p of ss?.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
}

function validateEndpoints(ep: KObject): FieldError[] {
  const errs: FieldError[] = [];
  (ep.subsets ?? []).forEach((ss: any, i: number) => {
    const p = `subsets[${i}]`;
    const addrs = [...(ss?.addresses ?? []).map((a: any, j: number) => [a, `${p}.addresses[${j}]`]), ...(ss?.notReadyAddresses ?? []).map((a: any, j: number) => [a, `${p}.notReadyAddresses[${j}]`])];
    if (addrs.length === 0) errs.push(field.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    for (const [a, ap] of addrs) {
      if (!isIP(a?.ip)) errs.push(field.invalid(`${ap}.ip`, a?.ip ?? '', 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      if (a?.hostname) for (const m of isDNS1123Label(a.hostname)) errs.push(field.invalid(`${ap}.hostname`, a.hostname, m));
    }
    const ports: any[] = ss?.ports ?? [];
    ports.forEach((port: any, j: number) => {
      const pp = `${p}.ports[${j}]`;
      if (ports.length > 1 && !port?.name) errs.push(field.required(`${pp}.name`));
      else if (port?.name) for (const m of isDNS1123Label(port.name)) errs.push(field.invalid(`${pp}.name`, port.name, m));
      errs.push(...portRangeError(`${pp}.port`, port?.port));
      if (!port?.protocol) errs.push(field.required(`${pp}.protocol`));
      else if (!protocols.includes(port.protocol)) errs.push(field.notSupported(`${pp}.protocol`, port.protocol, protocols));
    });
  });
  return errs;
}

/** Up to three `ip:port` entries, then ` + N more...` (upstream formatEndpoints). */
export function formatEndpoints(ep: KObject): string {
  const subsets: any[] = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs: any[] = ss?.addresses ?? [];
    const ports: any[] = ss?.ports ?? [];
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(String(a.ip).includes(':') ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`);
      }
    }
  }
  const text = list.join(',');
  return more ? `${text} + ${count - max} more...` : text;
}

export const endpoints: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  listKind: 'EndpointsList',
  plural: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  model: 'V1Endpoints',
  strategy: {
    defaults: defaultEndpoints,
    validate: validateEndpoints,
    validateUpdate: (obj) => validateEndpoints(obj),
  },
  table: {
    columns: [nameColumn, col('Endpoints', 'string', 0, 'Endpoints of the service'), ageColumn],
    row: (ep, now) => [ep.metadata.name, formatEndpoints(ep), age(ep, now)],
  },
};
