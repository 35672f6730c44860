// Field ownership across managers (upstream's merge.Updater), as set algebra:
//
//   update: the writer owns what it added or modified; every other manager loses what changed
//           under it and what was removed.
//   apply:  the applier owns exactly what its configuration sets; what it owned last time, no
//           longer sets, and nobody else owns is removed from the object; changing a field
//           another manager owns is a conflict unless forced (then that manager loses it).
//
// Managers are keyed by an opaque identifier (the caller's: name, operation, subresource).

import { emptyFieldSet, difference, intersection, isEmpty, paths, recursiveDifference, union, type FieldSet } from '../fieldpath/set.ts';
import type { PathElement } from '../fieldpath/path-element.ts';
import { compare, type Comparison } from './compare.ts';
import { deepEqual } from './equal.ts';
import { merge } from './merge.ts';
import { removeItems } from './remove.ts';
import { ensureNamedFieldsAreMembers, toFieldSet } from './to-field-set.ts';
import type { FieldType } from './types.ts';

export interface VersionedSet {
  set: FieldSet;
  apiVersion: string;
  applied: boolean;
}

/** Manager identifier -> what it owns. */
export type Managers = Map<string, VersionedSet>;

export interface Conflict {
  manager: string;
  path: PathElement[];
}

/** An apply that would change fields other managers own (upstream's merge.Conflicts). */
export class ConflictsError extends Error {
  constructor(readonly conflicts: Conflict[]) {
    super(`${conflicts.length} conflict(s)`);
  }
}

export interface UpdaterOptions {
  type: FieldType;
  /** This API version (`apps/v1`). */
  version: string;
  /** Subtrees this write may not change (the strategy resets them): neither compared nor owned. */
  ignored?: FieldSet;
}

/**
 * Takes what changed between `before` and `after` away from every manager but `self`: what changed
 * under a manager is a conflict (thrown unless `force`), what was removed is no longer owned.
 */
function settleOthers(before: unknown, after: unknown, managers: Managers, self: string, force: boolean, o: UpdaterOptions): Comparison {
  const c = compare(before, after, o.type, o.ignored);
  return settle(c, managers, self, force);
}

function settle(c: Comparison, managers: Managers, self: string, force: boolean): Comparison {
  const changed = union(c.modified, c.added);
  const anyChange = !isEmpty(changed);
  const anyRemoved = !isEmpty(c.removed);
  if (!anyChange && !anyRemoved) return c;
  const conflicts: Conflict[] = [];
  const next = new Map<string, FieldSet>();
  for (const [id, vs] of managers) {
    if (id === self) continue;
    let set = vs.set;
    if (anyChange) {
      const hit = intersection(set, changed);
      if (!isEmpty(hit)) {
        for (const path of paths(hit)) conflicts.push({ manager: id, path });
        set = difference(set, hit);
      }
    }
    if (anyRemoved) set = difference(set, c.removed);
    if (set !== vs.set) next.set(id, set);
  }
  if (!force && conflicts.length) throw new ConflictsError(conflicts.sort((a, b) => (a.manager < b.manager ? -1 : a.manager > b.manager ? 1 : 0)));
  for (const [id, set] of next) {
    const vs = managers.get(id)!;
    if (isEmpty(set)) managers.delete(id);
    else managers.set(id, { ...vs, set });
  }
  return c;
}

/**
 * An update (create, PUT, non-apply PATCH) by `self`: returns the fields it now owns through this
 * write (what it added or modified), having taken them away from the other managers in place.
 */
export function updateManagers(before: unknown, after: unknown, managers: Managers, self: string, o: UpdaterOptions): FieldSet {
  // The comparison skipped the ignored subtrees already.
  const c = settleOthers(before, after, managers, self, true, o);
  return difference(union(c.modified, c.added), c.removed);
}

export interface ApplyResult {
  /** The merged object, without the fields the applier gave up. */
  object: unknown;
  /** The applier's new set. */
  applied: FieldSet;
  /** The object did not change. */
  noop: boolean;
}

/**
 * An apply of `config` by `self` onto `live` (undefined: the object does not exist yet). Updates
 * `managers` in place (including `self`'s entry) and returns the merged object; throws
 * ConflictsError unless `force`.
 */
export function applyManagers(live: unknown, config: unknown, managers: Managers, self: string, force: boolean, o: UpdaterOptions): ApplyResult {
  let object = merge(live, config, o.type);
  const last = managers.get(self);
  let set = toFieldSet(config, o.type);
  if (o.ignored) set = recursiveDifference(set, o.ignored);
  managers.set(self, { set, apiVersion: o.version, applied: true });
  if (last && !isEmpty(last.set)) object = prune(object, managers, last.set, o.type);
  // Nobody else to conflict with or take fields from (always so on a create): nothing to compare.
  if (managers.size > 1) settleOthers(live, object, managers, self, force, o);
  return { object, applied: set, noop: live !== undefined && deepEqual(live, object) };
}

/**
 * Removes what the applier owned last time, does not set now, and no manager owns (upstream's
 * prune: remove the last set, add back what is still owned, add back what was never the
 * applier's). Named struct fields count as owned when something below them is, so a struct
 * emptied by the removal goes too.
 */
function prune(merged: unknown, managers: Managers, lastSet: FieldSet, t: FieldType): unknown {
  const named = (s: FieldSet) => ensureNamedFieldsAreMembers(s, t);
  const last = named(lastSet);
  let owned = emptyFieldSet();
  for (const vs of managers.values()) owned = union(owned, vs.set);
  const mergedSet = named(toFieldSet(merged, t));
  const withoutLast = removeItems(merged, last, t);
  const keep = union(named(toFieldSet(withoutLast, t)), named(owned));
  const pruned = removeItems(merged, difference(mergedSet, keep), t);
  const dangling = intersection(difference(mergedSet, named(toFieldSet(pruned, t))), last);
  return removeItems(merged, dangling, t);
}
