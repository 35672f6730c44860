// The scale subresource: autoscaling/v1 Scale views of workloads' replicas.

import type { KObject, ResourceDef } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';

function getPath(obj: any, path: string): any {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function setPath(obj: any, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  o[keys[keys.length - 1]] = value;
}

export function scaleOf(def: ResourceDef, obj: KObject): KObject {
  const s = def.scale!;
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: getPath(obj, s.specReplicasPath) ?? 0 },
    status: { replicas: getPath(obj, s.statusReplicasPath) ?? 0, selector: s.selector(obj) },
  };
}

/** Applies a Scale body to the workload (returns the modified workload). */
export function applyScale(def: ResourceDef, cur: KObject, scale: any, name: string): KObject {
  if (!scale || typeof scale !== 'object') throw errors.badRequest('expected a Scale object');
  if (scale.kind !== undefined && scale.kind !== 'Scale') throw errors.badRequest(`expected kind Scale, got ${JSON.stringify(scale.kind)}`);
  const replicas = scale.spec?.replicas;
  if (replicas === undefined || replicas === null) return cur;
  if (!Number.isInteger(replicas) || replicas < 0)
    throw errors.invalid('Scale', 'autoscaling', name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', detail: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
  const rv = scale.metadata?.resourceVersion;
  if (rv) cur.metadata.resourceVersion = rv;
  setPath(cur, def.scale!.specReplicasPath, replicas);
  return cur;
}
