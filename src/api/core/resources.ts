// Resource lists (requests, limits, quota hard/used): names and quantities, as upstream's
// ValidateResourceRequirements / ValidateResourceQuantityValue.

import { field, type FieldError } from '../../machinery/errors.ts';
import { compareQuantities, quantityError, quantityFromJSON, type Quantity } from '../../machinery/quantity.ts';
import { isQualifiedName } from '../validation.ts';

export const quantityRegexMessage = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** A JSON quantity (string or number) parsed, or undefined when invalid. */
export function quantityOf(v: unknown): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return quantityFromJSON(v);
  } catch {
    return undefined;
  }
}

/** Approximate numeric value (for sums where exactness does not matter), or undefined. */
export function quantityNumber(v: unknown): number | undefined {
  const q = quantityOf(v);
  return q === undefined ? undefined : Number(q.nanos) / 1e9;
}

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);

function isStandardContainerResource(name: string): boolean {
  return standardContainerResources.has(name) || name.startsWith('hugepages-');
}

/** Validates one ResourceList: keys are resource names, values non-negative quantities. */
export function validateResourceMap(list: unknown, path: string, forContainer: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (list === undefined || list === null) return errs;
  if (typeof list !== 'object' || Array.isArray(list)) return [field.invalid(path, list, 'must be a map of resource names to quantities')];
  for (const [name, value] of Object.entries(list as Record<string, unknown>)) {
    const p = `${path}[${name}]`;
    for (const m of isQualifiedName(name)) errs.push(field.invalid(p, name, m));
    if (forContainer && !name.includes('/') && !isStandardContainerResource(name))
      errs.push(field.invalid(p, name, 'must be a standard resource for containers'));
    const q = quantityOf(value);
    if (!q) {
      errs.push(field.invalid(p, value, (typeof value === 'string' && quantityError(value.trim())) || quantityRegexMessage));
      continue;
    }
    if (q.nanos < 0n) errs.push(field.invalid(p, q.toString(), 'must be greater than or equal to 0'));
    const n = Number(q.nanos) / 1e9;
    // Extended (domain-prefixed) resources must be whole numbers.
    if (name.includes('/') && !name.startsWith('kubernetes.io/') && n !== undefined && !Number.isInteger(n))
      errs.push(field.invalid(p, value, 'must be an integer'));
  }
  return errs;
}

/** Each request must not exceed its limit (path `<resources>.requests`, as upstream). */
export function validateRequestsVsLimits(res: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const req = res?.requests;
  const lim = res?.limits;
  if (!req || !lim || typeof req !== 'object' || typeof lim !== 'object') return errs;
  for (const [name, rv] of Object.entries(req as Record<string, unknown>)) {
    if (!(name in lim)) continue;
    const r = quantityOf(rv);
    const l = quantityOf(lim[name]);
    if (r === undefined || l === undefined) continue;
    if (compareQuantities(r, l) > 0) errs.push(field.invalid(`${path}.requests`, r.toString(), `must be less than or equal to ${name} limit of ${l.toString()}`));
  }
  return errs;
}
