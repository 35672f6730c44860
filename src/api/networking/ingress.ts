// networking.k8s.io/v1 Ingress (upstream pkg/apis/networking/validation, printers.go printIngress).

import { isIP } from 'node:net';
import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { isDNS1035Label, isDNS1123Subdomain } from '../validation.ts';
import { age, ageColumn, clone, col, nameColumn } from '../core/common.ts';
import { isValidPortName, portRangeError } from '../core/pod-spec.ts';
import { validateIngressClassName, validateTypedLocalObjectReference } from './common.ts';

const pathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];
const wildcardRe = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const ingressClassAnnotation = 'kubernetes.io/ingress.class';

/** Upstream IsWildcardDNS1123Subdomain messages. */
export function isWildcardDNS1123Subdomain(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push('must be no more than 253 characters');
  if (!wildcardRe.test(v))
    out.push(
      "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  return out;
}

function validateHost(host: string, path: string): FieldError[] {
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  return msgs.map((m) => field.invalid(path, host, m));
}

function validateBackend(backend: any, path: string): FieldError[] {
  const hasResource = !!backend?.resource;
  const hasService = !!backend?.service;
  if (hasResource && hasService) return [field.invalid(path, '', 'cannot set both resource and service backends')];
  if (hasResource) return validateTypedLocalObjectReference(backend.resource, `${path}.resource`);
  if (!hasService) return [field.invalid(path, '', 'resource or service backend is required')];
  const errs: FieldError[] = [];
  const svc = backend.service;
  if (!svc.name) errs.push(field.required(`${path}.service.name`));
  else for (const m of isDNS1035Label(svc.name)) errs.push(field.invalid(`${path}.service.name`, svc.name, m));
  const port = svc.port ?? {};
  const hasName = typeof port.name === 'string' && port.name.length > 0;
  const hasNumber = port.number !== undefined && port.number !== null && port.number !== 0;
  if (hasName && hasNumber) errs.push(field.invalid(`${path}.service.port`, '', 'cannot set both port name & port number'));
  else if (hasName) for (const m of isValidPortName(port.name)) errs.push(field.invalid(`${path}.service.port.name`, port.name, m));
  else if (hasNumber) errs.push(...portRangeError(`${path}.service.port.number`, port.number));
  else errs.push(field.required(path, 'port name or number is required'));
  return errs;
}

function validatePath(p: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const value: string = typeof p?.path === 'string' ? p.path : '';
  if (!p?.pathType) errs.push(field.required(`${path}.pathType`, 'pathType must be specified'));
  else if (p.pathType === 'Exact' || p.pathType === 'Prefix') {
    if (!value.startsWith('/')) errs.push(field.invalid(`${path}.path`, value, 'must be an absolute path'));
    if (value.length > 0) {
      for (const seq of ['//', '/./', '/../', '%2f', '%2F']) if (value.includes(seq)) errs.push(field.invalid(`${path}.path`, value, `must not contain '${seq}'`));
      for (const suffix of ['/..', '/.']) if (value.endsWith(suffix)) errs.push(field.invalid(`${path}.path`, value, `cannot end with '${suffix}'`));
    }
  } else if (p.pathType === 'ImplementationSpecific') {
    if (value.length > 0 && !value.startsWith('/')) errs.push(field.invalid(`${path}.path`, value, 'must be an absolute path'));
  } else errs.push(field.notSupported(`${path}.pathType`, p.pathType, pathTypes));
  errs.push(...validateBackend(p?.backend, `${path}.backend`));
  return errs;
}

export function validateIngressSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  const rules: any[] = Array.isArray(spec?.rules) ? spec.rules : [];
  if (rules.length === 0 && !spec?.defaultBackend) errs.push(field.invalid('spec', rules, 'either `defaultBackend` or `rules` must be specified'));
  if (spec?.defaultBackend) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((rule, i) => {
    const p = `spec.rules[${i}]`;
    const host: string = rule?.host ?? '';
    if (host) {
      if (isIP(host)) errs.push(field.invalid(`${p}.host`, host, 'must be a DNS name, not an IP address'));
      errs.push(...validateHost(host, `${p}.host`));
    }
    if (rule?.http) {
      const paths: any[] = Array.isArray(rule.http.paths) ? rule.http.paths : [];
      if (paths.length === 0) errs.push(field.required(`${p}.http.paths`));
      paths.forEach((hp, j) => errs.push(...validatePath(hp, `${p}.http.paths[${j}]`)));
    }
  });
  (Array.isArray(spec?.tls) ? spec.tls : []).forEach((tls: any, i: number) => {
    (Array.isArray(tls?.hosts) ? tls.hosts : []).forEach((h: string, j: number) => errs.push(...validateHost(String(h), `spec.tls[${i}].hosts[${j}]`)));
  });
  if (spec?.ingressClassName !== undefined && spec?.ingressClassName !== null)
    for (const m of validateIngressClassName(spec.ingressClassName)) errs.push(field.invalid('spec.ingressClassName', spec.ingressClassName, m));
  return errs;
}

export function validateLoadBalancerIngress(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (Array.isArray(list) ? list : []).forEach((ing: any, i: number) => {
    const p = `${path}[${i}]`;
    if (ing?.ip && !isIP(ing.ip)) errs.push(field.invalid(`${p}.ip`, ing.ip, 'must be a valid IP address'));
    if (ing?.hostname) {
      for (const m of isDNS1123Subdomain(ing.hostname)) errs.push(field.invalid(`${p}.hostname`, ing.hostname, m));
      if (isIP(ing.hostname)) errs.push(field.invalid(`${p}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

function validateIngressCreate(obj: KObject): FieldError[] {
  const errs = validateIngressSpec(obj.spec);
  const annotated = obj.metadata.annotations?.[ingressClassAnnotation];
  if (obj.spec?.ingressClassName && annotated !== undefined)
    errs.push(field.invalid(`annotations.${ingressClassAnnotation}`, annotated, 'can not be set when the class field is also set'));
  return errs;
}

/** Up to three hosts, then "+ N more..."; `*` when no rule names one (upstream formatHosts). */
function formatHosts(rules: any[] | undefined): string {
  const list: string[] = [];
  const all = rules ?? [];
  let more = false;
  for (const r of all) {
    if (list.length === 3) {
      more = true;
      break;
    }
    if (r?.host) list.push(r.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${all.length - 3} more...` : list.join(',');
}

/** Load-balancer addresses, sorted and de-duplicated, clipped to 16 characters (upstream's stringer). */
export function loadBalancerAddresses(ingress: any[] | undefined, wide = false): string {
  const set = new Set<string>();
  for (const i of ingress ?? []) {
    if (i?.ip) set.add(i.ip);
    else if (i?.hostname) set.add(i.hostname);
  }
  const r = [...set].sort().join(',');
  return !wide && r.length > 16 ? `${r.slice(0, 13)}...` : r;
}

export const ingresses: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  namespaced: true,
  shortNames: ['ing'],
  model: 'V1Ingress',
  tracksGeneration: true,
  strategy: {
    prepareForCreate(obj) {
      obj.status = {};
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    validate: validateIngressCreate,
    validateUpdate: (obj) => validateIngressSpec(obj.spec),
  },
  status: {
    validateUpdate: (obj) => validateLoadBalancerIngress(obj.status?.loadBalancer?.ingress, 'status.loadBalancer.ingress'),
  },
  table: {
    columns: [
      nameColumn,
      col('Class', 'string', 0, 'The name of the IngressClass resource that should be used for additional configuration'),
      col('Hosts', 'string', 0, 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'string', 0, 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'string', 0, 'Ports of TLS configurations that open'),
      ageColumn,
    ],
    row: (obj, now) => [
      obj.metadata.name,
      obj.spec?.ingressClassName ?? '<none>',
      formatHosts(obj.spec?.rules),
      loadBalancerAddresses(obj.status?.loadBalancer?.ingress),
      obj.spec?.tls?.length ? '80, 443' : '80',
      age(obj, now),
    ],
  },
};
