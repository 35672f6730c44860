// Downward API values: pod fields (fieldRef) and container resources (resourceFieldRef), as
// upstream's pkg/fieldpath, pkg/api/v1/resource and the kubelet's podFieldSelectorRuntimeValue
// compute them for env vars and downwardAPI volume files.

import { isQualifiedName } from '../../api/validation.ts';
import { parseQuantity, quantityToMilli, quantityValue, type Quantity } from '../../machinery/quantity.ts';
import type { Container, ObjectFieldSelector, Pod, ResourceFieldSelector, ResourceList } from './api-types.ts';
import { goQuote } from './format.ts';

/** `metadata.labels['key']` → ['metadata.labels', 'key']; undefined when not subscripted. */
export function splitSubscriptedPath(fieldPath: string): [path: string, subscript: string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const s = fieldPath.slice(0, -2);
  const i = s.indexOf("['");
  if (i <= 0) return undefined;
  return [s.slice(0, i), s.slice(i + 2)];
}

/** Labels or annotations as a downward API file: `key="value"` lines, keys sorted, values Go-quoted. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(m![k])}`)
    .join('\n');
}

/** Upstream's fieldpath.ExtractFieldPathAsString: the metadata fields (what downwardAPI volumes may use). */
export function extractFieldPathAsString(pod: Pod, fieldPath: string): string {
  const sub = splitSubscriptedPath(fieldPath);
  if (sub) {
    const [path, key] = sub;
    switch (path) {
      case 'metadata.annotations': {
        const errs = isQualifiedName(key.toLowerCase());
        if (errs.length) throw new Error(`invalid key subscript in ${fieldPath}: ${errs.join(';')}`);
        return pod.metadata.annotations?.[key] ?? '';
      }
      case 'metadata.labels': {
        const errs = isQualifiedName(key);
        if (errs.length) throw new Error(`invalid key subscript in ${fieldPath}: ${errs.join(';')}`);
        return pod.metadata.labels?.[key] ?? '';
      }
      default:
        throw new Error(`fieldPath ${goQuote(fieldPath)} does not support subscript`);
    }
  }
  switch (fieldPath) {
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
  }
  throw new Error(`unsupported fieldPath: ${fieldPath}`);
}

const supportedPodFieldLabels = new Set([
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'spec.schedulerName',
  'status.phase',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);

/** Upstream's ConvertDownwardAPIFieldLabel for pods: checks the version and the label, maps spec.host. */
export function convertDownwardAPIFieldLabel(apiVersion: string | undefined, label: string): string {
  const version = apiVersion || 'v1';
  if (version !== 'v1') throw new Error(`unsupported pod version: ${version}`);
  const sub = splitSubscriptedPath(label);
  if (sub) {
    if (sub[0] === 'metadata.annotations' || sub[0] === 'metadata.labels') return label;
    throw new Error(`field label does not support subscript: ${label}`);
  }
  if (supportedPodFieldLabels.has(label)) return label;
  if (label === 'spec.host') return 'spec.nodeName';
  throw new Error(`field label not supported: ${label}`);
}

/** Runtime facts a fieldRef may need that are not in the pod object the kubelet was given. */
export interface PodRuntimeFields {
  /** The pod's IPs, primary first (from the sandbox). */
  podIPs?: string[];
  /** The node's IPs, primary first. */
  hostIPs?: string[];
}

/** Value of an env var's fieldRef (the kubelet's podFieldSelectorRuntimeValue). */
export function podFieldValue(pod: Pod, ref: ObjectFieldSelector, rt: PodRuntimeFields = {}): string {
  const path = convertDownwardAPIFieldLabel(ref.apiVersion, ref.fieldPath);
  const podIPs = rt.podIPs ?? (pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []));
  const hostIPs = rt.hostIPs ?? (pod.status?.hostIPs?.map((p) => p.ip) ?? (pod.status?.hostIP ? [pod.status.hostIP] : []));
  switch (path) {
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
      if (!hostIPs.length) throw new Error('node IP is not known yet');
      return hostIPs[0];
    case 'status.hostIPs':
      if (!hostIPs.length) throw new Error('node IP is not known yet');
      return hostIPs.join(',');
    case 'status.podIP':
      return podIPs[0] ?? '';
    case 'status.podIPs':
      return podIPs.join(',');
  }
  return extractFieldPathAsString(pod, path);
}

// ---- resourceFieldRef ----

function quantity(v: string | number | undefined): Quantity | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return parseQuantity(String(v));
}

const zero = () => parseQuantity('0');

/**
 * Limits with cpu, memory and ephemeral-storage filled from node allocatable where the container
 * sets none (upstream's MergeContainerResourceLimits, used for downward API values).
 */
export function limitsWithAllocatable(limits: ResourceList | undefined, allocatable: ResourceList | undefined): ResourceList {
  const out: ResourceList = { ...(limits ?? {}) };
  for (const name of ['cpu', 'memory', 'ephemeral-storage']) {
    const q = quantity(out[name]);
    if ((!q || q.isZero()) && allocatable?.[name] !== undefined) out[name] = allocatable[name];
  }
  return out;
}

function isHugePageResourceName(name: string): boolean {
  return name.startsWith('hugepages-');
}

function ceilDiv(a: number, b: number): string {
  return String(Math.ceil(a / b));
}

/** Upstream's ExtractContainerResourceValue: ceil(amount / divisor), cpu in millis. */
export function containerResourceValue(fs: ResourceFieldSelector, container: Container): string {
  const divisor = quantity(fs.divisor);
  const div = divisor && !divisor.isZero() ? divisor : parseQuantity('1');
  const res = container.resources ?? {};
  const dot = fs.resource.indexOf('.');
  const kind = dot > 0 ? fs.resource.slice(0, dot) : '';
  const name = dot > 0 ? fs.resource.slice(dot + 1) : '';
  const list = kind === 'limits' ? res.limits : kind === 'requests' ? res.requests : undefined;
  if (list !== undefined || kind === 'limits' || kind === 'requests') {
    const amount = quantity(list?.[name]) ?? zero();
    if (name === 'cpu') return ceilDiv(quantityToMilli(amount), quantityToMilli(div));
    if (name === 'memory' || name === 'ephemeral-storage' || isHugePageResourceName(name)) return ceilDiv(quantityValue(amount), quantityValue(div));
  }
  throw new Error(`unsupported container resource : ${fs.resource}`);
}

/**
 * A resourceFieldRef's value for the named container (or `container` when the ref names none),
 * limits defaulted to node allocatable as upstream does for env vars and downwardAPI volumes.
 */
export function resourceFieldValue(fs: ResourceFieldSelector, pod: Pod, container: Container | undefined, allocatable: ResourceList | undefined): string {
  let target = container;
  if (fs.containerName) {
    target = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])].find((c) => c.name === fs.containerName);
    if (!target) throw new Error(`container ${fs.containerName} not found`);
  }
  if (!target) throw new Error('resourceFieldRef needs a containerName');
  const merged: Container = { ...target, resources: { ...target.resources, limits: limitsWithAllocatable(target.resources?.limits, allocatable) } };
  return containerResourceValue(fs, merged);
}
