// The 409 an apply gets when it would change fields other managers own, worded as upstream:
//   Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas
//   Apply failed with 2 conflicts: conflicts with "a":\n- .spec.replicas\nconflicts with ...

import { StatusError } from '../../machinery/errors.ts';
import { formatPath } from '../../machinery/fieldpath/path-element.ts';
import type { Conflict } from '../../machinery/apply/updater.ts';
import { parseManagerKey } from './managed-fields.ts';

/** `"name"`, `"name" with subresource "status"`, and ` using <apiVersion>` for Update managers. */
export function printManager(key: string): string {
  let id;
  try {
    id = parseManagerKey(key);
  } catch {
    return JSON.stringify(key);
  }
  let s = JSON.stringify(id.manager);
  if (id.subresource) s += ` with subresource ${JSON.stringify(id.subresource)}`;
  if (id.operation === 'Update') s += ` using ${id.apiVersion ?? ''}`;
  return s;
}

export function conflictMessage(conflicts: Conflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].manager)}: ${formatPath(conflicts[0].path)}`;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const list = byManager.get(c.manager) ?? [];
    list.push(formatPath(c.path));
    byManager.set(c.manager, list);
  }
  const lines: string[] = [];
  for (const m of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${printManager(m)}:`);
    for (const p of byManager.get(m)!) lines.push(`- ${p}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

export function conflictError(conflicts: Conflict[]): StatusError {
  return new StatusError(409, 'Conflict', conflictMessage(conflicts), {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: formatPath(c.path) })),
  });
}
