// The parts of a CustomResourceDefinition (apiextensions.k8s.io/v1) that serving reads, typed,
// and small helpers over them.

import type { FieldError } from '../machinery/errors.ts';
import { field } from '../machinery/errors.ts';
import type { KObject } from '../api/types.ts';
import type { JSONSchemaProps } from './schema/types.ts';

export const cleanupFinalizer = 'customresourcecleanup.apiextensions.k8s.io';

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface CRDVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: JSONSchemaProps };
  subresources?: { status?: object; scale?: ScaleSubresource };
  additionalPrinterColumns?: PrinterColumn[];
  selectableFields?: Array<{ jsonPath: string }>;
}

export interface CRDNames {
  plural: string;
  singular?: string;
  kind: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
}

export interface WebhookClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path?: string; port?: number };
  caBundle?: string;
}

export function crdVersionsOf(crd: KObject): CRDVersion[] {
  const v = crd.spec?.versions;
  return Array.isArray(v) ? v.filter((x) => x && typeof x === 'object') : [];
}

export function storageVersionOf(crd: KObject): string | undefined {
  return crdVersionsOf(crd).find((v) => v.storage)?.name;
}

export function conditionOf(crd: KObject, type: string): any {
  return (crd.status?.conditions ?? []).find((c: any) => c?.type === type);
}

export function isConditionTrue(crd: KObject, type: string): boolean {
  return conditionOf(crd, type)?.status === 'True';
}

/** Upstream's check for jsonPath fields: a simple path in dot notation starting with '.'. */
export function validateSimpleJSONPath(s: string, path: string): FieldError[] {
  if (s.length === 0) return [field.invalid(path, s, 'must not be empty')];
  if (s[0] !== '.') return [field.invalid(path, s, 'must be a simple json path starting with .')];
  return [];
}

/**
 * Kubernetes' version ordering (upstream version.CompareKubeAwareVersionStrings): GA versions
 * first, newest first (v2 > v1), then betas, then alphas, then anything else alphabetically.
 * Returns negative when a sorts before b.
 */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return { rank: 3, major: 0, minor: 0, raw: v };
    const rank = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return { rank, major: Number(m[1]), minor: Number(m[3] ?? 0), raw: v };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.rank !== y.rank) return x.rank - y.rank;
  if (x.rank === 3) return x.raw < y.raw ? -1 : x.raw > y.raw ? 1 : 0;
  if (x.major !== y.major) return y.major - x.major;
  return y.minor - x.minor;
}
