// Nodes: cluster-scoped, allocatable defaults to capacity, the `kubectl get nodes` table.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { isQualifiedName, isValidLabelValue } from '../validation.ts';
import { age, ageColumn, clone, col, nameColumn } from './common.ts';
import { validateResourceMap } from './resources.ts';

const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** NodeSystemInfo's fields: Go serialises each of them (as "" when unset), and clients rely on it. */
const nodeInfoFields = ['machineID', 'systemUUID', 'bootID', 'kernelVersion', 'osImage', 'containerRuntimeVersion', 'kubeletVersion', 'kubeProxyVersion', 'operatingSystem', 'architecture'];

function defaultNode(node: KObject): void {
  if (!node.status || typeof node.status !== 'object' || Array.isArray(node.status)) node.status = {};
  const st = node.status;
  // Upstream SetDefaults_NodeStatus: allocatable starts out equal to capacity.
  if (st.capacity && !st.allocatable) st.allocatable = clone(st.capacity);
  // The struct-valued fields upstream always writes, zero-valued: the Python client refuses a
  // node whose nodeInfo lacks one ("Invalid value for `kube_proxy_version`, must not be None").
  if (!st.nodeInfo || typeof st.nodeInfo !== 'object' || Array.isArray(st.nodeInfo)) st.nodeInfo = {};
  for (const f of nodeInfoFields) if (st.nodeInfo[f] === undefined || st.nodeInfo[f] === null) st.nodeInfo[f] = '';
  if (!st.daemonEndpoints || typeof st.daemonEndpoints !== 'object' || Array.isArray(st.daemonEndpoints)) st.daemonEndpoints = {};
  const ke = st.daemonEndpoints.kubeletEndpoint;
  if (!ke || typeof ke !== 'object' || Array.isArray(ke)) st.daemonEndpoints.kubeletEndpoint = { Port: 0 };
  else if (ke.Port === undefined || ke.Port === null) ke.Port = 0;
  const spec = node.spec;
  if (spec && spec.podCIDR && !spec.podCIDRs) spec.podCIDRs = [spec.podCIDR];
  if (spec && !spec.podCIDR && Array.isArray(spec.podCIDRs) && spec.podCIDRs.length) spec.podCIDR = spec.podCIDRs[0];
}

function validateTaints(taints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(taints)) return errs;
  const seen = new Set<string>();
  taints.forEach((t: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!t?.key) errs.push(field.invalid(`${p}.key`, '', 'name part must be non-empty'));
    else for (const m of isQualifiedName(t.key)) errs.push(field.invalid(`${p}.key`, t.key, m));
    if (t?.value) for (const m of isValidLabelValue(t.value)) errs.push(field.invalid(`${p}.value`, t.value, m));
    if (!t?.effect) errs.push(field.required(`${p}.effect`));
    else if (!taintEffects.includes(t.effect)) errs.push(field.notSupported(`${p}.effect`, t.effect, taintEffects));
    const k = `${t?.key}:${t?.effect}`;
    if (seen.has(k)) errs.push(field.duplicate(p, `taints must be unique by key and effect pair`));
    seen.add(k);
  });
  return errs;
}

function validateNode(node: KObject): FieldError[] {
  const errs = validateTaints(node.spec?.taints, 'spec.taints');
  errs.push(...validateResourceMap(node.status?.capacity, 'status.capacity', false));
  errs.push(...validateResourceMap(node.status?.allocatable, 'status.allocatable', false));
  return errs;
}

function validateNodeUpdate(node: KObject, old: KObject): FieldError[] {
  const errs = validateNode(node);
  const o = old.spec ?? {};
  const n = node.spec ?? {};
  if (o.podCIDR && n.podCIDR !== o.podCIDR) errs.push(field.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  if (o.providerID && n.providerID !== o.providerID) errs.push(field.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  return errs;
}

function nodeRoles(labels: Record<string, string> | undefined): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const r = k.slice('node-role.kubernetes.io/'.length);
      if (r) roles.add(r);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function nodeStatus(node: KObject): string {
  const out: string[] = [];
  const ready = (node.status?.conditions ?? []).find((c: any) => c?.type === 'Ready');
  if (ready) out.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (out.length === 0) out.push('Unknown');
  if (node.spec?.unschedulable) out.push('SchedulingDisabled');
  return out.join(',');
}

function address(node: KObject, type: string): string {
  const a = (node.status?.addresses ?? []).find((x: any) => x?.type === type);
  return a?.address || '<none>';
}

export function nodeRow(node: KObject, now: number): unknown[] {
  const info = node.status?.nodeInfo ?? {};
  return [
    node.metadata.name,
    nodeStatus(node),
    nodeRoles(node.metadata.labels),
    age(node, now),
    info.kubeletVersion ?? '',
    address(node, 'InternalIP'),
    address(node, 'ExternalIP'),
    info.osImage || '<unknown>',
    info.kernelVersion || '<unknown>',
    info.containerRuntimeVersion || '<unknown>',
  ];
}

export const nodes: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  model: 'V1Node',
  statusOnCreate: true,
  strategy: {
    defaults: defaultNode,
    // Unlike most kinds, a node may be created with its status (kubelets register that way).
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    validate: validateNode,
    validateUpdate: validateNodeUpdate,
  },
  status: {
    prepareForUpdate: (obj) => defaultNode(obj),
    validateUpdate: (obj) => [...validateResourceMap(obj.status?.capacity, 'status.capacity', false), ...validateResourceMap(obj.status?.allocatable, 'status.allocatable', false)],
  },
  table: {
    columns: [
      nameColumn,
      col('Status', 'string', 0, 'The status of the node'),
      col('Roles', 'string', 0, 'The roles of the node'),
      ageColumn,
      col('Version', 'string', 0, 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', 1, 'List of addresses reachable to the node. Queried from cloud provider, if available.'),
      col('External-IP', 'string', 1, 'List of addresses reachable to the node. Queried from cloud provider, if available.'),
      col('OS-Image', 'string', 1, 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).'),
      col('Kernel-Version', 'string', 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
      col('Container-Runtime', 'string', 1, 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).'),
    ],
    row: nodeRow,
    // A Table of 5,000 nodes (the console's map, kubectl get nodes) then costs no parse of them.
    agesOnly: true,
  },
  fieldSelectors: {
    'spec.unschedulable': (o) => String(o.spec?.unschedulable === true),
  },
};
