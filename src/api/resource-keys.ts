// Names derived from a ResourceDef: its apiVersion and its storage keys.

import type { ResourceDef } from './types.ts';

export function apiVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** Storage key prefix for a resource: /registry/<group>/<plural>/ (core: /registry/<plural>/). */
export function keyPrefix(def: ResourceDef): string {
  return def.group ? `/registry/${def.group}/${def.plural}/` : `/registry/${def.plural}/`;
}

export function objectKey(def: ResourceDef, namespace: string | undefined, name: string): string {
  return def.namespaced ? `${keyPrefix(def)}${namespace}/${name}` : `${keyPrefix(def)}${name}`;
}
