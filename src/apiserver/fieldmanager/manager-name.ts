// Who a write is attributed to: the `fieldManager` query parameter, or else the part of the
// User-Agent before the first `/` (kubectl/v1.32.0 -> kubectl), as upstream does. kubectl names
// itself per command (kubectl-create, kubectl-edit, kubectl-client-side-apply, ...).

import { errors, field, type FieldError } from '../../machinery/errors.ts';

export const fieldManagerMaxLength = 128;

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** The manager name for a write. */
export function managerOrUserAgent(fieldManager: string | null | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const prefix = (userAgent ?? '').split('/')[0];
  let out = '';
  let bytes = 0;
  for (const ch of prefix) {
    if (!printable.test(ch)) continue;
    const n = Buffer.byteLength(ch);
    if (bytes + n > fieldManagerMaxLength) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** Upstream's ValidateFieldManager. */
export function fieldManagerErrors(fieldManager: string): FieldError[] {
  const errs: FieldError[] = [];
  if (Buffer.byteLength(fieldManager) > fieldManagerMaxLength) errs.push(field.tooLong('fieldManager', fieldManagerMaxLength));
  let i = 0;
  for (const ch of fieldManager) {
    if (!printable.test(ch)) errs.push(field.invalid('fieldManager', fieldManager, `invalid characters at ${i}`));
    i += Buffer.byteLength(ch);
  }
  return errs;
}

/**
 * Checks the write's options as upstream's ValidateCreateOptions / ValidateUpdateOptions /
 * ValidatePatchOptions do for field management: 422 naming the options kind.
 */
export function checkFieldManagerOptions(kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions', q: URLSearchParams, apply: boolean): void {
  const fm = q.get('fieldManager') ?? '';
  const errs: FieldError[] = [];
  if (kind === 'PatchOptions') {
    if (!apply && q.has('force')) errs.push(field.forbidden('force', 'may not be specified for non-apply patch'));
    if (apply && fm === '') errs.push(field.required('fieldManager', 'is required for apply patch'));
  }
  errs.push(...fieldManagerErrors(fm));
  if (errs.length) throw errors.invalid(kind, 'meta.k8s.io', '', errs);
}
