// The ClusterRole aggregation controller (upstream pkg/controller/clusterroleaggregation): a
// ClusterRole with an aggregationRule gets, as its rules, the rules of every other ClusterRole its
// selectors match (by name order, duplicates once). `admin`, `edit` and `view` are built this way,
// so a CRD's ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"` extends `view`.

import type { KObject } from '../../api/types.ts';
import { isConflict, isNotFound } from '../../client/api-client.ts';
import { labelSelectorFromObject } from '../../machinery/labels.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function aggregatedRules(role: KObject, all: KObject[]): unknown[] {
  const out: unknown[] = [];
  const sorted = [...all].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  for (const sel of role.aggregationRule?.clusterRoleSelectors ?? []) {
    const selector = labelSelectorFromObject(sel);
    for (const r of sorted) {
      if (r.metadata.name === role.metadata.name || !selector.matches(r.metadata.labels ?? {})) continue;
      for (const rule of r.rules ?? []) if (!out.some((x) => same(x, rule))) out.push(rule);
    }
  }
  return out;
}

export function createClusterRoleAggregation(ctx: ControllerContext): Controller {
  const roles = ctx.informers.informerFor({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' });
  const worker = new KeyWorker('clusterrole-aggregation', sync, ctx.log);
  // Any change may feed any aggregated role: re-check them all (there are few).
  const enqueueAggregated = () => {
    for (const r of roles.lister().list()) if (r.aggregationRule) worker.add(r.metadata.name!);
  };
  roles.addEventHandler({ onAdd: enqueueAggregated, onUpdate: enqueueAggregated, onDelete: enqueueAggregated });

  async function sync(name: string): Promise<void> {
    const role = roles.lister().get(name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, roles.lister().list());
    if (same(rules, role.rules ?? [])) return;
    const next = structuredClone(role);
    next.rules = rules;
    try {
      await ctx.client.update({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', name }, next);
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) throw e; // requeued; the informer brings the newer copy
      throw e;
    }
  }

  return {
    name: 'clusterrole-aggregation',
    run: () => worker.run(1),
    stop: () => worker.stop(),
  };
}

export const clusterRoleAggregationController: ControllerFactory = (ctx) => createClusterRoleAggregation(ctx);
