// Bootstrap RBAC reconciled at every start, as upstream's rbac/bootstrap-roles post-start hook:
// missing objects are created; existing ones annotated `rbac.authorization.kubernetes.io/autoupdate`
// other than "false" get the rules, aggregation selectors, subjects, labels and annotations they
// lack (nothing is taken away); a binding whose roleRef changed is re-created.

import type { KObject } from '../../api/types.ts';
import { StatusError } from '../../machinery/errors.ts';
import type { ResourceStore } from '../registry/resource-store.ts';
import { AUTOUPDATE_ANNOTATION, bootstrapPolicy } from './bootstrap-policy.ts';
import { covers } from './escalation.ts';

export interface RbacStores {
  clusterroles: ResourceStore;
  clusterrolebindings: ResourceStore;
  roles: ResourceStore;
  rolebindings: ResourceStore;
}

const canon = (v: unknown) => JSON.stringify(v);

function mergeMeta(cur: KObject, want: KObject): boolean {
  let changed = false;
  for (const field of ['labels', 'annotations'] as const) {
    const w = want.metadata[field] ?? {};
    const c = (cur.metadata[field] ??= {});
    for (const [k, v] of Object.entries(w)) {
      if (!(k in c)) {
        c[k] = v;
        changed = true;
      }
    }
  }
  return changed;
}

function reconcileRole(cur: KObject, want: KObject): boolean {
  let changed = mergeMeta(cur, want);
  if (want.aggregationRule) {
    const have = (cur.aggregationRule ??= { clusterRoleSelectors: [] }).clusterRoleSelectors ?? (cur.aggregationRule.clusterRoleSelectors = []);
    for (const s of want.aggregationRule.clusterRoleSelectors) {
      if (!have.some((h: unknown) => canon(h) === canon(s))) {
        have.push(s);
        changed = true;
      }
    }
    return changed;
  }
  const rules = Array.isArray(cur.rules) ? cur.rules : (cur.rules = []);
  for (const rule of want.rules ?? []) {
    if (!covers(rules, [rule]).covered) {
      rules.push(rule);
      changed = true;
    }
  }
  return changed;
}

function reconcileBinding(cur: KObject, want: KObject): boolean {
  let changed = mergeMeta(cur, want);
  const subjects = Array.isArray(cur.subjects) ? cur.subjects : [];
  for (const s of want.subjects ?? []) {
    if (!subjects.some((h: any) => h?.kind === s.kind && h?.name === s.name && (h?.namespace ?? '') === (s.namespace ?? ''))) {
      subjects.push(s);
      changed = true;
    }
  }
  if (changed && subjects.length) cur.subjects = subjects;
  return changed;
}

async function ensure(store: ResourceStore, want: KObject, reconcile: (cur: KObject, want: KObject) => boolean, log: (m: string) => void): Promise<void> {
  const ns = want.metadata.namespace;
  const name = want.metadata.name!;
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = store.tryGet(ns, name);
    try {
      if (!existing) {
        await store.create(ns, structuredClone(want));
        return;
      }
      const cur = existing.obj;
      if (cur.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return;
      if (want.roleRef && canon(cur.roleRef) !== canon(want.roleRef)) {
        log(`re-creating ${want.kind} ${name}: its roleRef changed`);
        await store.delete(ns, name, { preconditions: { uid: cur.metadata.uid } });
        continue;
      }
      const next = existing.copy();
      if (!reconcile(next, want)) return;
      await store.update(ns, name, () => next);
      return;
    } catch (e) {
      if (e instanceof StatusError && (e.code === 409 || e.code === 404)) continue;
      throw e;
    }
  }
}

export async function reconcileBootstrapPolicy(stores: RbacStores, log: (m: string) => void = () => {}): Promise<void> {
  const p = bootstrapPolicy();
  // Concurrently: on a first start the writes then share group commits instead of waiting in turn.
  await Promise.all([
    ...p.clusterRoles.map((r) => ensure(stores.clusterroles, r, reconcileRole, log)),
    ...p.clusterRoleBindings.map((b) => ensure(stores.clusterrolebindings, b, reconcileBinding, log)),
    ...p.roles.map((r) => ensure(stores.roles, r, reconcileRole, log)),
    ...p.roleBindings.map((b) => ensure(stores.rolebindings, b, reconcileBinding, log)),
  ]);
}
