// What an admission plugin sees of a write (upstream's admission.Attributes) and the shape of a
// plugin: a mutating step that runs after defaulting and before the kind's validation, and a
// validating step that runs after it, just before the object is stored.

import type { KObject, ResourceDef } from '../../api/types.ts';
import type { ResourceStore } from '../registry/resource-store.ts';
import type { UserInfo } from '../authn/user.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface AdmissionRequest {
  operation: Operation;
  def: ResourceDef;
  /** The object being written; for DELETE, the stored object. */
  obj: KObject;
  /** The stored object on UPDATE and DELETE. */
  old?: KObject;
  subresource?: string;
  /** Who asks; absent for the server's own writes (bootstrap), which every plugin lets through. */
  user?: UserInfo;
  dryRun?: boolean;
  /** `Warning` header texts for the response. */
  warnings?: string[];
  /** Audit annotations (`pod-security.kubernetes.io/enforce-policy`, ...), for the audit log. */
  annotations?: Record<string, string>;
}

export type AdmitStep = (r: AdmissionRequest) => void | Promise<void>;

export interface AdmissionPlugin {
  /** Upstream's plugin name, as --enable/--disable-admission-plugins spell it. */
  readonly name: string;
  mutate?: AdmitStep;
  validate?: AdmitStep;
}

export type Lookup = (group: string, plural: string) => ResourceStore | undefined;

/** The objects of a resource from its watch cache (one namespace, or all). */
export function listCached(lookup: Lookup, group: string, plural: string, namespace?: string): KObject[] {
  const rs = lookup(group, plural);
  return rs ? rs.cache.list(rs.listPrefix(namespace)).items.map((c) => c.obj) : [];
}

export const isPodCreate = (r: AdmissionRequest) => r.operation === 'CREATE' && !r.subresource && r.def.group === '' && r.def.plural === 'pods';
