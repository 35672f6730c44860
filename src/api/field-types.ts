// Server-side apply types of the built-in kinds, built lazily from @kubernetes/client-node's
// models plus the facts the generated models drop: list types and keys (patch-meta.ts), which
// structs and maps are atomic, which fields upstream's Go structs always hold (non-pointer
// structs, lists without omitempty), and key defaults. The facts are upstream's, as its
// OpenAPI schema for server-side apply states them (+structType=atomic, +mapType=atomic,
// defaults of non-pointer struct fields).

import { anyScalar, deduced, untypedAtomic, type FieldType, type ListType, type MapType, type ZeroField } from '../machinery/apply/types.ts';
import { customResourceFieldType, type OpenAPISchema } from '../machinery/apply/openapi-types.ts';
import { fieldPatchMeta } from './patch-meta.ts';
import { loadModel, type TypeRef } from './schema/models.ts';
import { anyFieldTypes, quantityFields } from './schema/names.ts';

/** Structs upstream marks atomic: owned and replaced as a whole. */
const atomicStructs = new Set([
  'V1LabelSelector',
  'V1OwnerReference',
  'V1ConfigMapKeySelector',
  'V1SecretKeySelector',
  'V1ObjectFieldSelector',
  'V1ResourceFieldSelector',
  'V1LocalObjectReference',
  'V1ObjectReference',
  'V1TypedLocalObjectReference',
  'V1SecretReference',
  'V1NodeSelector',
  'V1NodeSelectorTerm',
  'V1TopologySelectorTerm',
  'V1ScopeSelector',
  'V1EndpointAddress',
  'CoreV1EndpointPort',
  'DiscoveryV1EndpointPort',
  'V1RoleRef',
  'RbacV1Subject',
  'V1MatchResources',
  'V1NamedRuleWithOperations',
  'V1ParamKind',
  'V1ParamRef',
  'V1Variable',
]);

/** Fields whose struct type is atomic elsewhere but granular here (model -> field). */
const granularFields: Record<string, string[]> = {
  V1PersistentVolumeSpec: ['claimRef'],
};

/** Map-valued fields upstream marks atomic (replaced as a whole, not key by key). */
const atomicMapFields: Record<string, string[]> = {
  V1PodSpec: ['nodeSelector'],
  V1ServiceSpec: ['selector'],
  V1ReplicationControllerSpec: ['selector'],
  V1Scheduling: ['nodeSelector'],
};

/**
 * Fields upstream's Go structs hold even when unset (beyond metadata/spec/status of every object,
 * which are always non-pointer structs): non-pointer struct fields (`object`) and lists without
 * omitempty (`null`). Only non-atomic ones matter: they decide where a change is "added" (and so
 * gets a `.` in update entries).
 */
const zeroFieldTable: Record<string, ZeroField[]> = {
  V1DeploymentSpec: [
    ['strategy', 'object'],
    ['template', 'object'],
  ],
  V1DaemonSetSpec: [
    ['template', 'object'],
    ['updateStrategy', 'object'],
  ],
  V1ReplicaSetSpec: [['template', 'object']],
  V1StatefulSetSpec: [
    ['template', 'object'],
    ['updateStrategy', 'object'],
  ],
  V1JobSpec: [['template', 'object']],
  V1CronJobSpec: [['jobTemplate', 'object']],
  V1PodTemplate: [['template', 'object']],
  V1PodSpec: [['containers', 'null']],
  V1Container: [['resources', 'object']],
  V1EphemeralContainer: [['resources', 'object']],
  V1ContainerStatus: [
    ['lastState', 'object'],
    ['state', 'object'],
  ],
  CoreV1Event: [['source', 'object']],
  EventsV1Event: [['deprecatedSource', 'object']],
  V1NodeStatus: [
    ['daemonEndpoints', 'object'],
    ['nodeInfo', 'object'],
  ],
  V1NodeDaemonEndpoints: [['kubeletEndpoint', 'object']],
  V1PersistentVolumeClaimSpec: [['resources', 'object']],
  V1WeightedPodAffinityTerm: [['podAffinityTerm', 'object']],
  V1ServiceStatus: [['loadBalancer', 'object']],
  V1Endpoint: [['conditions', 'object']],
  V1HTTPIngressPath: [['backend', 'object']],
  V1IngressServiceBackend: [['port', 'object']],
  V1IngressStatus: [['loadBalancer', 'object']],
  V1HorizontalPodAutoscalerSpec: [['scaleTargetRef', 'object']],
  V2HorizontalPodAutoscalerSpec: [['scaleTargetRef', 'object']],
  V1VolumeAttachmentSpec: [['source', 'object']],
  V1MutatingWebhook: [['clientConfig', 'object']],
  V1ValidatingWebhook: [['clientConfig', 'object']],
  V1CSINodeSpec: [['drivers', 'null']],
};

/** Defaults of list-map key fields an item may leave out (item model -> field -> value). */
const keyFieldDefaults: Record<string, Record<string, unknown>> = {
  V1ContainerPort: { protocol: 'TCP' },
  V1ServicePort: { protocol: 'TCP' },
};

const stringType: FieldType = { kind: 'scalar', scalar: 'string' };
const numericType: FieldType = { kind: 'scalar', scalar: 'numeric' };
const booleanType: FieldType = { kind: 'scalar', scalar: 'boolean' };

const types = new Map<string, FieldType>();

/** The apply type of a client-node model (`V1Deployment`); a deduced type for an unknown model. */
export function fieldTypeOf(model: string): FieldType {
  let t = types.get(model);
  if (!t) {
    t = buildModel(model);
    types.set(model, t);
  }
  return t;
}

function zeroFieldsOf(model: string): ZeroField[] | undefined {
  const info = loadModel(model);
  const out: ZeroField[] = [];
  // Every object's (and template's) metadata, spec and status are non-pointer structs upstream.
  const meta = info?.byJSONName.get('metadata');
  if (meta && meta.parsed.kind === 'model' && meta.parsed.name === 'V1ObjectMeta') {
    for (const name of ['metadata', 'spec', 'status']) {
      const f = info!.byJSONName.get(name);
      if (f && f.parsed.kind === 'model') out.push([name, 'object']);
    }
  }
  for (const z of zeroFieldTable[model] ?? []) if (!out.some(([n]) => n === z[0])) out.push(z);
  return out.length ? out : undefined;
}

function buildModel(model: string): FieldType {
  const info = loadModel(model);
  if (!info) return deduced;
  const fields = new Map<string, FieldType>();
  const t: MapType = {
    kind: 'map',
    atomic: atomicStructs.has(model),
    field(name) {
      let f = fields.get(name);
      if (f === undefined) {
        const mf = info.byJSONName.get(name);
        if (!mf) return undefined;
        f = fieldTypeFor(model, name, mf.parsed);
        fields.set(name, f);
      }
      return f;
    },
    zero: zeroFieldsOf(model),
  };
  return t;
}

function fieldTypeFor(model: string, name: string, ref: TypeRef): FieldType {
  // Free-form fields: a ControllerRevision's data is owned whole, managed fields' and watch events' are deduced.
  if (anyFieldTypes[model]?.[name]) return model === 'V1ControllerRevision' ? untypedAtomic : deduced;
  const quantity = quantityFields[model]?.includes(name) ?? false;
  switch (ref.kind) {
    case 'array': {
      const meta = fieldPatchMeta(model, name);
      const items = refType(ref.items, quantity);
      let listType: ListType['listType'] = meta?.listType ?? 'atomic';
      let keys = meta?.listMapKeys;
      // Without a list type, a merge strategy decides as upstream's schema conversion does.
      if (!meta?.listType && meta?.strategy?.includes('merge')) {
        listType = meta.mergeKey ? 'map' : 'set';
        keys = meta.mergeKey ? [meta.mergeKey] : undefined;
      }
      const itemModel = ref.items.kind === 'model' ? ref.items.name : undefined;
      return { kind: 'list', items, listType, keys, keyDefaults: itemModel ? keyFieldDefaults[itemModel] : undefined };
    }
    case 'map': {
      const atomic = atomicMapFields[model]?.includes(name) ?? false;
      return { kind: 'map', atomic, values: refType(ref.values, quantity) };
    }
    case 'model':
      if (granularFields[model]?.includes(name)) {
        const inner = fieldTypeOf(ref.name);
        return inner.kind === 'map' ? { ...inner, atomic: false } : inner;
      }
      return fieldTypeOf(ref.name);
    default:
      return refType(ref, quantity);
  }
}

function refType(ref: TypeRef, quantity: boolean): FieldType {
  switch (ref.kind) {
    case 'primitive':
      if (ref.type === 'string') return quantity ? anyScalar : stringType;
      return ref.type === 'boolean' ? booleanType : numericType;
    case 'date':
    case 'intOrString':
      return anyScalar;
    case 'any':
      return deduced;
    case 'array':
      return { kind: 'list', items: refType(ref.items, quantity), listType: 'atomic' };
    case 'map':
      return { kind: 'map', atomic: false, values: refType(ref.values, quantity) };
    case 'model':
      return fieldTypeOf(ref.name);
  }
}

/**
 * The apply type of a custom resource from its structural schema (a version's
 * `schema.openAPIV3Schema`): what the CustomResourceDefinition side gives a ResourceDef.
 */
export function customResourceType(schema: OpenAPISchema | undefined): FieldType {
  return customResourceFieldType(schema, fieldTypeOf('V1ObjectMeta'));
}
