// pods/<name>/binding (the scheduler's write) and pods/<name>/eviction (disruption-budget-aware delete).

import type { ServerResponse } from 'node:http';
import type { KObject } from '../api/types.ts';
import { errors, StatusError } from '../machinery/errors.ts';
import { labelSelectorFromObject } from '../machinery/labels.ts';
import { sendJSON } from './http-util.ts';
import type { RequestInfo } from './request-info.ts';
import type { ResourceStore } from './registry/resource-store.ts';
import { nowRFC3339 } from '../machinery/time.ts';

export interface PodSubresourceDeps {
  /** The PodDisruptionBudget store (policy/v1), if served. */
  pdbs?: ResourceStore;
}

function success(res: ServerResponse, code: number): void {
  sendJSON(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code });
}

export function podSubresourcePost(deps: PodSubresourceDeps) {
  return async (info: RequestInfo, store: ResourceStore, body: any, res: ServerResponse, dryRun: boolean): Promise<boolean> => {
    if (store.def.group !== '' || store.def.plural !== 'pods') return false;
    const ns = info.namespace!;
    const name = info.name!;
    if (info.subresource === 'binding') {
      if (body.kind !== undefined && body.kind !== 'Binding') throw errors.badRequest(`expected kind Binding, got ${JSON.stringify(body.kind)}`);
      const target = body.target;
      if (!target?.name) throw errors.invalid('Binding', '', name, [{ type: 'FieldValueRequired', field: 'target.name', detail: 'Required value' }]);
      if (target.kind && target.kind !== 'Node') throw errors.invalid('Binding', '', name, [{ type: 'FieldValueNotSupported', field: 'target.kind', detail: `Unsupported value: ${JSON.stringify(target.kind)}: supported values: "Node"` }]);
      if (body.metadata?.name && body.metadata.name !== name) throw errors.badRequest(`the name of the binding (${body.metadata.name}) does not match the pod (${name})`);
      const uid = body.metadata?.uid;
      await store.update(
        ns,
        name,
        (pod) => {
          if (uid && uid !== pod.metadata.uid) throw errors.conflict(store.gr, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
          if (pod.metadata.deletionTimestamp) throw errors.conflict(store.gr, name, 'pod is being deleted, cannot be assigned to a host');
          if (pod.spec?.nodeName) throw errors.conflict(store.gr, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
          pod.spec.nodeName = target.name;
          if (body.metadata?.annotations) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...body.metadata.annotations };
          setCondition(pod, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowRFC3339() });
          return pod;
        },
        { dryRun, subresource: 'binding' },
      );
      success(res, 201);
      return true;
    }
    if (info.subresource === 'eviction') {
      if (body.kind !== undefined && body.kind !== 'Eviction') throw errors.badRequest(`expected kind Eviction, got ${JSON.stringify(body.kind)}`);
      const pod = store.get(ns, name).obj;
      // Terminal, pending or deleting pods are evicted without consulting budgets, as upstream.
      const phase = pod.status?.phase;
      const exempt = phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata.deletionTimestamp;
      if (!exempt && deps.pdbs) {
        const { items } = deps.pdbs.cache.list(deps.pdbs.listPrefix(ns));
        const matching = items.filter((c) => {
          try {
            return labelSelectorFromObject(c.obj.spec?.selector ?? {}).matches(pod.metadata.labels ?? {});
          } catch {
            return false;
          }
        });
        if (matching.length > 1) throw errors.internal('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
        const pdb = matching[0]?.obj;
        if (pdb) {
          const refuse = (retryAfter: number) =>
            new StatusError(
              429,
              'TooManyRequests',
              `Cannot evict pod as it would violate the pod's disruption budget.`,
              { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently` }], retryAfterSeconds: retryAfter },
              retryAfter ? { 'Retry-After': String(retryAfter) } : {},
            );
          // A budget the disruption controller has not caught up with yet: ask to come back soon.
          if ((pdb.status?.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw refuse(10);
          if ((pdb.status?.disruptionsAllowed ?? 0) <= 0) throw refuse(0);
          if (!dryRun) {
            // Consume one disruption: the update re-reads and compare-and-swaps, so two concurrent
            // evictions cannot both take the last one.
            await deps.pdbs.update(
              ns,
              pdb.metadata.name!,
              (cur) => {
                const allowed = cur.status?.disruptionsAllowed ?? 0;
                if (allowed <= 0) throw refuse(0);
                cur.status = { ...(cur.status ?? {}), disruptionsAllowed: allowed - 1 };
                cur.status.disruptedPods = { ...(cur.status.disruptedPods ?? {}), [name]: nowRFC3339() };
                return cur;
              },
              { subresource: 'status' },
            );
          }
        }
      }
      const opts = body.deleteOptions ?? {};
      await store.delete(ns, name, { gracePeriodSeconds: opts.gracePeriodSeconds, preconditions: opts.preconditions, dryRun });
      success(res, 201);
      return true;
    }
    return false;
  };
}

function setCondition(pod: KObject, cond: Record<string, unknown>): void {
  pod.status ??= {};
  const list: any[] = (pod.status.conditions ??= []);
  const i = list.findIndex((c) => c.type === cond.type);
  if (i >= 0) {
    if (list[i].status !== cond.status) list[i] = cond;
  } else list.push(cond);
}
