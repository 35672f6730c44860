// networking.k8s.io/v1 NetworkPolicy: served and validated here; enforcing it is the service
// proxy's job on real nodes.

import { field, type FieldError } from '../../machinery/errors.ts';
import { selectorToString, validateLabelSelector } from '../../machinery/labels.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';
import { isValidPortName, portRangeError } from '../core/pod-spec.ts';
import { parseCIDR, strictSubset } from './cidr.ts';

const protocols = ['SCTP', 'TCP', 'UDP'];
const policyTypes = ['Ingress', 'Egress'];

function defaultNetworkPolicy(obj: KObject): void {
  const spec = (obj.spec ??= {});
  spec.podSelector ??= {};
  for (const rules of [spec.ingress, spec.egress])
    for (const r of Array.isArray(rules) ? rules : []) for (const p of Array.isArray(r?.ports) ? r.ports : []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
    spec.policyTypes = ['Ingress'];
    if (Array.isArray(spec.egress) && spec.egress.length > 0) spec.policyTypes.push('Egress');
  }
}

function validatePort(port: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined && !protocols.includes(port.protocol)) errs.push(field.notSupported(`${path}.protocol`, port.protocol, protocols));
  const hasEnd = port.endPort !== undefined && port.endPort !== null;
  if (port.port === undefined || port.port === null) {
    if (hasEnd) errs.push(field.invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is not specified'));
  } else if (typeof port.port === 'number') {
    errs.push(...portRangeError(`${path}.port`, port.port));
    if (hasEnd) {
      if (port.endPort < port.port) errs.push(field.invalid(`${path}.endPort`, port.port, 'must be greater than or equal to `port`'));
      errs.push(...portRangeError(`${path}.endPort`, port.endPort));
    }
  } else {
    if (hasEnd) errs.push(field.invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is non-numeric'));
    for (const m of isValidPortName(String(port.port))) errs.push(field.invalid(`${path}.port`, port.port, m));
  }
  return errs;
}

function validateIPBlock(block: any, path: string): FieldError[] {
  if (!block.cidr) return [field.required(`${path}.cidr`)];
  const outer = parseCIDR(block.cidr);
  if (!outer) return [field.invalid(`${path}.cidr`, block.cidr, `invalid CIDR address: ${block.cidr}`)];
  const errs: FieldError[] = [];
  (Array.isArray(block.except) ? block.except : []).forEach((ex: unknown, i: number) => {
    const inner = parseCIDR(ex);
    if (!inner) errs.push(field.invalid(`${path}.except[${i}]`, ex, `invalid CIDR address: ${String(ex)}`));
    else if (!strictSubset(inner, outer)) errs.push(field.invalid(`${path}.except[${i}]`, ex, 'must be a strict subset of `cidr`'));
  });
  return errs;
}

function validatePeer(peer: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let peers = 0;
  if (peer?.podSelector) {
    peers++;
    errs.push(...validateLabelSelector(peer.podSelector, `${path}.podSelector`));
  }
  if (peer?.namespaceSelector) {
    peers++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`));
  }
  if (peer?.ipBlock) {
    peers++;
    errs.push(...validateIPBlock(peer.ipBlock, `${path}.ipBlock`));
  }
  if (peers === 0) errs.push(field.required(path, 'must specify a peer'));
  else if (peers > 1 && peer.ipBlock) errs.push(field.forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

export function validateNetworkPolicy(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs = validateLabelSelector(spec.podSelector, 'spec.podSelector');
  for (const [dir, peersKey] of [['ingress', 'from'], ['egress', 'to']] as const) {
    (Array.isArray(spec[dir]) ? spec[dir] : []).forEach((rule: any, i: number) => {
      const p = `spec.${dir}[${i}]`;
      (Array.isArray(rule?.ports) ? rule.ports : []).forEach((port: any, j: number) => errs.push(...validatePort(port ?? {}, `${p}.ports[${j}]`)));
      (Array.isArray(rule?.[peersKey]) ? rule[peersKey] : []).forEach((peer: any, j: number) => errs.push(...validatePeer(peer, `${p}.${peersKey}[${j}]`)));
    });
  }
  const types: unknown[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
  types.forEach((t, i) => {
    if (!policyTypes.includes(t as string)) errs.push(field.notSupported(`spec.policyTypes[${i}]`, t, policyTypes));
  });
  if (types.length > policyTypes.length) errs.push(field.invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
  return errs;
}

export const networkPolicies: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  namespaced: true,
  shortNames: ['netpol'],
  model: 'V1NetworkPolicy',
  tracksGeneration: true,
  strategy: { defaults: defaultNetworkPolicy, validate: validateNetworkPolicy },
  table: {
    columns: [nameColumn, col('Pod-Selector', 'string', 0, 'Selects the pods to which this NetworkPolicy object applies.'), ageColumn],
    row: (obj, now) => [obj.metadata.name, selectorToString(obj.spec?.podSelector) || '<none>', age(obj, now)],
  },
};
