// Checks shared by the networking kinds.

import { field, type FieldError } from '../../machinery/errors.ts';
import { isDNS1123Subdomain } from '../validation.ts';

/** IngressClass names are DNS subdomains (upstream ValidateIngressClassName). */
export function validateIngressClassName(name: unknown): string[] {
  return typeof name === 'string' ? isDNS1123Subdomain(name) : ['must be a string'];
}

/** A path segment name as upstream's ValidatePathSegmentName checks names in references. */
export function pathSegmentErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const out: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) out.push(`may not contain '${bad}'`);
  return out;
}

export function validateTypedLocalObjectReference(ref: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ref.apiGroup !== undefined && ref.apiGroup !== null && ref.apiGroup !== '')
    for (const m of isDNS1123Subdomain(ref.apiGroup)) errs.push(field.invalid(`${path}.apiGroup`, ref.apiGroup, m));
  if (!ref.kind) errs.push(field.required(`${path}.kind`));
  else for (const m of pathSegmentErrors(ref.kind)) errs.push(field.invalid(`${path}.kind`, ref.kind, m));
  if (!ref.name) errs.push(field.required(`${path}.name`));
  else for (const m of pathSegmentErrors(ref.name)) errs.push(field.invalid(`${path}.name`, ref.name, m));
  return errs;
}

