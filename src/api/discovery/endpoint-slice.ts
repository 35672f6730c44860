// discovery.k8s.io/v1 EndpointSlice.

import { field, type FieldError } from '../../machinery/errors.ts';
import { ageColumn, nameColumn } from '../apps/workload-common.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, validateImmutable, validateLabels } from '../validation.ts';

const addressTypes = ['IPv4', 'IPv6', 'FQDN'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const maxEndpoints = 1000;
const maxAddresses = 100;
const maxPorts = 20000;

export function defaultEndpointSlice(obj: KObject): void {
  for (const p of Array.isArray(obj.ports) ? obj.ports : []) {
    if (!p || typeof p !== 'object') continue;
    p.name ??= '';
    p.protocol ??= 'TCP';
  }
}

const ipv4Re = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false;
  const dbl = s.split('::');
  if (dbl.length > 2) return false;
  const groups = s.split(':').filter((g) => g !== '');
  if (groups.some((g) => g.length > 4 && !ipv4Re.test(g))) return false;
  return dbl.length === 2 ? groups.length < 8 : groups.length === 8;
}

function validateAddress(addr: unknown, type: string, path: string): FieldError[] {
  if (typeof addr !== 'string') return [field.invalid(path, addr, 'must be a string')];
  if (type === 'IPv4') {
    if (!ipv4Re.test(addr)) return [field.invalid(path, addr, 'must be a valid IPv4 address')];
    if (addr === '0.0.0.0') return [field.invalid(path, addr, 'may not be unspecified (0.0.0.0)')];
    if (addr.startsWith('127.')) return [field.invalid(path, addr, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')];
  } else if (type === 'IPv6') {
    if (!isIPv6(addr)) return [field.invalid(path, addr, 'must be a valid IPv6 address')];
  } else if (type === 'FQDN') {
    const msgs = isDNS1123Subdomain(addr.replace(/\.$/, ''));
    if (!addr.includes('.')) msgs.unshift('should be a domain with at least two segments separated by dots');
    return msgs.map((m) => field.invalid(path, addr, m));
  }
  return [];
}

function validateEndpoints(list: unknown, type: string): FieldError[] {
  if (!Array.isArray(list)) return [];
  const errs: FieldError[] = [];
  if (list.length > maxEndpoints) errs.push(field.tooMany('endpoints', list.length, maxEndpoints));
  list.forEach((ep: any, i: number) => {
    const p = `endpoints[${i}]`;
    const addrs = ep?.addresses;
    if (!Array.isArray(addrs) || addrs.length === 0) errs.push(field.required(`${p}.addresses`, 'must contain at least 1 address'));
    else if (addrs.length > maxAddresses) errs.push(field.tooMany(`${p}.addresses`, addrs.length, maxAddresses));
    else addrs.forEach((a: unknown, j: number) => errs.push(...validateAddress(a, type, `${p}.addresses[${j}]`)));
    if (ep?.hostname) for (const m of isDNS1123Label(ep.hostname)) errs.push(field.invalid(`${p}.hostname`, ep.hostname, m));
    if (ep?.nodeName) for (const m of isDNS1123Subdomain(ep.nodeName)) errs.push(field.invalid(`${p}.nodeName`, ep.nodeName, m));
    errs.push(...validateLabels(ep?.deprecatedTopology, `${p}.deprecatedTopology`));
  });
  return errs;
}

function validatePorts(list: unknown): FieldError[] {
  if (!Array.isArray(list)) return [];
  const errs: FieldError[] = [];
  if (list.length > maxPorts) errs.push(field.tooMany('ports', list.length, maxPorts));
  const names = new Set<string>();
  list.forEach((port: any, i: number) => {
    const p = `ports[${i}]`;
    const name = port?.name ?? '';
    if (name !== '') for (const m of isDNS1123Label(name)) errs.push(field.invalid(`${p}.name`, name, m));
    if (names.has(name)) errs.push(field.duplicate(`${p}.name`, name));
    names.add(name);
    if (port?.protocol === undefined || port?.protocol === null) errs.push(field.required(`${p}.protocol`));
    else if (!protocols.includes(port.protocol)) errs.push(field.notSupported(`${p}.protocol`, port.protocol, protocols));
    const num = port?.port;
    if (num !== undefined && num !== null && !(Number.isInteger(num) && num >= 1 && num <= 65535))
      errs.push(field.invalid(`${p}.port`, num, 'must be between 1 and 65535, inclusive'));
    if (port?.appProtocol) for (const m of isQualifiedName(port.appProtocol)) errs.push(field.invalid(`${p}.appProtocol`, port.appProtocol, m));
  });
  return errs;
}

export function validateEndpointSlice(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const type = obj.addressType ?? '';
  if (type === '') errs.push(field.required('addressType'));
  else if (!addressTypes.includes(type)) errs.push(field.notSupported('addressType', type, addressTypes));
  errs.push(...validateEndpoints(obj.endpoints, type));
  errs.push(...validatePorts(obj.ports));
  return errs;
}

export function validateEndpointSliceUpdate(obj: KObject, old: KObject): FieldError[] {
  return [...validateEndpointSlice(obj), ...validateImmutable(obj.addressType, old.addressType, 'addressType')];
}

/** Up to three entries joined by commas, then ` + N more...`; `<unset>` when there are none. */
function listWithMore(items: string[]): string {
  const shown = items.slice(0, 3).join(',');
  if (items.length > 3) return `${shown} + ${items.length - 3} more...`;
  return shown === '' ? '<unset>' : shown;
}

function portsCell(obj: KObject): string {
  return listWithMore((obj.ports ?? []).map((p: any) => (p?.port !== undefined && p?.port !== null ? String(p.port) : p?.name ? p.name : '*')));
}

function endpointsCell(obj: KObject): string {
  return listWithMore((obj.endpoints ?? []).flatMap((e: any) => (Array.isArray(e?.addresses) ? e.addresses.map(String) : [])));
}

export const endpointslices: ResourceDef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  model: 'V1EndpointSlice',
  strategy: {
    defaults: defaultEndpointSlice,
    validate: validateEndpointSlice,
    validateUpdate: validateEndpointSliceUpdate,
  },
  table: {
    columns: [
      nameColumn,
      { name: 'AddressType', type: 'string', description: 'Type of the addresses in the slice.', priority: 0 },
      { name: 'Ports', type: 'string', description: 'Ports exposed by the endpoints.', priority: 0 },
      { name: 'Endpoints', type: 'string', description: 'Addresses of the endpoints.', priority: 0 },
      ageColumn,
    ],
    row: (obj, now) => [obj.metadata.name, obj.addressType ?? '', portsCell(obj), endpointsCell(obj), humanAge(obj.metadata.creationTimestamp, now)],
  },
};
