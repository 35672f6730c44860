// Names derived from a ResourceDef: its apiVersion and its storage keys.

import type { ResourceDef } from './types.ts';

export function apiVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/**
 * Storage key prefix for a resource: /registry/<group>/<plural>/ (core: /registry/<plural>/); a
 * resource stored as another (ResourceDef.storedAs) uses that one's.
 */
export function keyPrefix(def: Pick<ResourceDef, 'group' | 'plural' | 'storedAs'>): string {
  const { group, plural } = def.storedAs ?? def;
  return group ? `/registry/${group}/${plural}/` : `/registry/${plural}/`;
}

export function objectKey(def: ResourceDef, namespace: string | undefined, name: string): string {
  return def.namespaced ? `${keyPrefix(def)}${namespace}/${name}` : `${keyPrefix(def)}${name}`;
}
