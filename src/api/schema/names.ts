// Upstream definition names (`io.k8s.api.apps.v1.Deployment`) for client-node model names
// (`V1Deployment`). Client-node drops the API group, so the group comes from whoever reaches a
// model first (see schema.ts); these helpers cover the parts that follow from the name alone.

/** Kinds of meta.k8s.io/v1 (apimachinery) as client-node names them without the `V1` prefix. */
export const metaKinds = new Set([
  'ObjectMeta',
  'ListMeta',
  'LabelSelector',
  'LabelSelectorRequirement',
  'OwnerReference',
  'ManagedFieldsEntry',
  'Status',
  'StatusDetails',
  'StatusCause',
  'Condition',
  'DeleteOptions',
  'Preconditions',
  'APIResource',
  'APIResourceList',
  'APIGroup',
  'APIGroupList',
  'APIVersions',
  'GroupVersionForDiscovery',
  'ServerAddressByClientCIDR',
  'WatchEvent',
  'Time',
  'MicroTime',
  'FieldsV1',
  'Patch',
  'Table',
  'PartialObjectMetadata',
]);

/** Group prefixes client-node adds when two groups define a kind of the same name. */
const prefixedGroups: Record<string, string> = {
  Core: '',
  Rbac: 'rbac.authorization.k8s.io',
  Events: 'events.k8s.io',
  Discovery: 'discovery.k8s.io',
  Authentication: 'authentication.k8s.io',
  Storage: 'storage.k8s.io',
  Admissionregistration: 'admissionregistration.k8s.io',
  Apiextensions: 'apiextensions.k8s.io',
  Apiregistration: 'apiregistration.k8s.io',
  Flowcontrol: 'flowcontrol.apiserver.k8s.io',
  Resource: 'resource.k8s.io',
};

export interface ParsedModelName {
  /** Group from an explicit client-node prefix (e.g. `RbacV1Subject`), if any. */
  group?: string;
  version: string;
  kind: string;
}

export function parseModelName(model: string): ParsedModelName | undefined {
  const m = /^([A-Z][a-z]+)?(V\d+(?:(?:alpha|beta)\d+)?)([A-Z][A-Za-z0-9]*)$/.exec(model);
  if (!m) return undefined;
  const [, prefix, version, kind] = m;
  if (prefix && !(prefix in prefixedGroups)) return undefined;
  return { group: prefix ? prefixedGroups[prefix] : undefined, version: version.toLowerCase(), kind };
}

/** Java-style package of an API group, as upstream's OpenAPI definition names use it. */
export function groupPackage(group: string): string {
  if (group === '') return 'io.k8s.api.core';
  if (group === 'apiextensions.k8s.io') return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions';
  if (group === 'apiregistration.k8s.io') return 'io.k8s.kube-aggregator.pkg.apis.apiregistration';
  return `io.k8s.api.${group.split('.')[0]}`;
}

export const metaPackage = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const intOrStringName = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const quantityName = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const timeName = `${metaPackage}.Time`;
export const microTimeName = `${metaPackage}.MicroTime`;
export const fieldsV1Name = `${metaPackage}.FieldsV1`;
export const rawExtensionName = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
export const patchName = `${metaPackage}.Patch`;

/** Definition name for a model once its group is known (undefined group = not decidable yet). */
export function definitionName(model: string, group: string | undefined): string | undefined {
  if (model === 'VersionInfo') return 'io.k8s.apimachinery.pkg.version.Info';
  const p = parseModelName(model);
  if (!p) return undefined;
  if (p.version === 'v1' && metaKinds.has(p.kind) && p.group === undefined) return `${metaPackage}.${p.kind}`;
  const g = p.group ?? group;
  if (g === undefined) return undefined;
  return `${groupPackage(g)}.${p.version}.${p.kind}`;
}

/**
 * Core kinds whose closure decides which models belong to core/v1 even when reached first from
 * another group (PodTemplateSpec from apps, ObjectReference from batch, ...).
 */
export const coreRootModels = [
  'V1Pod',
  'V1PodTemplate',
  'V1ReplicationController',
  'V1Service',
  'V1Node',
  'V1Namespace',
  'V1PersistentVolume',
  'V1PersistentVolumeClaim',
  'V1ConfigMap',
  'V1Secret',
  'V1ServiceAccount',
  'V1Endpoints',
  'CoreV1Event',
  'V1LimitRange',
  'V1ResourceQuota',
  'V1Binding',
];

/**
 * String fields that upstream types as resource.Quantity (client-node flattens them to string):
 * model -> JSON field names. Maps of quantities (ResourceList) are listed by the map field.
 */
export const quantityFields: Record<string, string[]> = {
  V1ResourceRequirements: ['limits', 'requests'],
  V1VolumeResourceRequirements: ['limits', 'requests'],
  V1ResourceQuotaSpec: ['hard'],
  V1ResourceQuotaStatus: ['hard', 'used'],
  V1LimitRangeItem: ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'],
  V1NodeStatus: ['capacity', 'allocatable'],
  V1PersistentVolumeSpec: ['capacity'],
  V1PersistentVolumeClaimStatus: ['capacity', 'allocatedResources'],
  V1EmptyDirVolumeSource: ['sizeLimit'],
  V1ResourceFieldSelector: ['divisor'],
  V1ContainerStatus: ['allocatedResources'],
  V1PodSpec: ['overhead'],
  V1Overhead: ['podFixed'],
  V1CSIStorageCapacity: ['capacity', 'maximumVolumeSize'],
  V2MetricTarget: ['averageValue', 'value'],
  V2MetricValueStatus: ['averageValue', 'value'],
};

/** `any` fields upstream types as a named apimachinery type. */
export const anyFieldTypes: Record<string, Record<string, string>> = {
  V1ManagedFieldsEntry: { fieldsV1: fieldsV1Name },
  V1ControllerRevision: { data: rawExtensionName },
  V1WatchEvent: { object: rawExtensionName },
};
