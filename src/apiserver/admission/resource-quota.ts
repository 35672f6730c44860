// ResourceQuota admission (upstream plugin/pkg/admission/resourcequota): a write that would take a
// namespace's usage past a quota's hard limits is refused with 403 `exceeded quota: ...`; one that
// fits is charged to the quota's status.used at once (compare-and-swap on the quota, so parallel
// writes cannot both take the last unit), and the ResourceQuota controller later recounts.

import type { KObject } from '../../api/types.ts';
import { errors, StatusError } from '../../machinery/errors.ts';
import { addQuantities, compareQuantities, Quantity, quantityFromJSON, subtractQuantities } from '../../machinery/quantity.ts';
import { objectUsage, podMatchesQuota } from '../../controllers/resourcequota/usage.ts';
import { listCached, type AdmissionPlugin, type AdmissionRequest, type Lookup } from './types.ts';

const podScopes = new Set(['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity']);

function q(v: unknown): Quantity {
  try {
    return quantityFromJSON(v);
  } catch {
    return new Quantity(0n);
  }
}

/** Upstream's prettyPrint: `name=value` sorted by name, comma-separated. */
const pretty = (m: Map<string, Quantity>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join(',');

/** Whether the quota's scopes select this object (scoped quotas only ever see pods). */
function quotaMatches(quota: KObject, r: AdmissionRequest): boolean {
  const scoped = (quota.spec?.scopes ?? []).length > 0 || (quota.spec?.scopeSelector?.matchExpressions ?? []).length > 0;
  const isPod = r.def.group === '' && r.def.plural === 'pods';
  if (!scoped) return true;
  if (!isPod) return false;
  const scopes: string[] = [...(quota.spec?.scopes ?? []), ...(quota.spec?.scopeSelector?.matchExpressions ?? []).map((e: any) => e?.scopeName)];
  return scopes.every((s) => podScopes.has(s)) && podMatchesQuota(r.obj, quota);
}

/** The increase this write makes for each of the quota's names (only positive deltas count). */
function delta(r: AdmissionRequest, names: string[]): Map<string, Quantity> {
  const now = objectUsage(r.def.group, r.def.plural, r.obj, names);
  if (r.operation === 'UPDATE' && r.old) {
    const before = objectUsage(r.def.group, r.def.plural, r.old, names);
    for (const [k, v] of now) {
      const d = subtractQuantities(v, before.get(k) ?? new Quantity(0n));
      if (d.nanos > 0n) now.set(k, d);
      else now.delete(k);
    }
  }
  for (const [k, v] of now) if (v.nanos <= 0n) now.delete(k);
  return now;
}

/** Upstream's check for one quota: status known, and used + requested within hard. */
function check(quota: KObject, requested: Map<string, Quantity>, gr: { group: string; resource: string }, name: string): StatusError | undefined {
  const hard: Record<string, unknown> = quota.status?.hard ?? {};
  const used: Record<string, unknown> = quota.status?.used ?? {};
  const specHard = Object.keys(quota.spec?.hard ?? {});
  const unknown = specHard.filter((k) => !(k in hard) || !(k in used));
  if (unknown.length)
    return errors.forbidden(gr, name, `status unknown for quota: ${quota.metadata.name}, resources: ${unknown.sort().join(',')}`);
  const failed = new Map<string, Quantity>();
  for (const [k, v] of requested) {
    if (!(k in hard)) continue;
    if (compareQuantities(addQuantities(q(used[k]), v), q(hard[k])) > 0) failed.set(k, v);
  }
  if (!failed.size) return undefined;
  const mask = (m: Record<string, unknown>) => new Map([...failed.keys()].map((k) => [k, q(m[k])]));
  return errors.forbidden(
    gr,
    name,
    `exceeded quota: ${quota.metadata.name}, requested: ${pretty(failed)}, used: ${pretty(mask(used))}, limited: ${pretty(mask(hard))}`,
  );
}

/**
 * A quota on cpu or memory (requests or limits) requires every container to say it, as
 * upstream's pod evaluator does; LimitRanger defaults usually fill them in.
 */
function missingPodResources(pod: KObject, names: string[]): string[] {
  const missing: string[] = [];
  const all: any[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const name of names) {
    const m = /^(requests|limits)\.(cpu|memory)$/.exec(name) ?? (/^(cpu|memory)$/.test(name) ? [name, 'requests', name] : null);
    if (!m) continue;
    const kind = m[1];
    if (all.some((c) => c?.resources?.[kind]?.[m[2]] === undefined)) missing.push(name);
  }
  return missing.sort();
}

export function resourceQuota(lookup: Lookup): AdmissionPlugin {
  return {
    name: 'ResourceQuota',
    validate(r) {
      if (r.operation === 'DELETE' || !r.def.namespaced || r.subresource) return;
      const ns = r.obj.metadata.namespace;
      if (!ns) return;
      const quotas = listCached(lookup, '', 'resourcequotas', ns).filter((qu) => quotaMatches(qu, r));
      if (!quotas.length) return;
      const gr = { group: r.def.group, resource: r.def.plural };
      const name = r.obj.metadata.name ?? '';
      const isPodCreate = r.operation === 'CREATE' && r.def.group === '' && r.def.plural === 'pods';
      const charges: { quota: KObject; requested: Map<string, Quantity> }[] = [];
      for (const quota of quotas) {
        const names = Object.keys(quota.spec?.hard ?? {});
        if (isPodCreate) {
          const missing = missingPodResources(r.obj, names);
          if (missing.length) throw errors.forbidden(gr, name, `failed quota: ${quota.metadata.name}: must specify ${missing.join(',')}`);
        }
        const requested = delta(r, names);
        if (!requested.size) continue;
        const err = check(quota, requested, gr, name);
        if (err) throw err;
        charges.push({ quota, requested });
      }
      if (r.dryRun || !charges.length) return;
      return charge(ns, charges, gr, name);
    },
  };

  async function charge(ns: string, charges: { quota: KObject; requested: Map<string, Quantity> }[], gr: { group: string; resource: string }, name: string): Promise<void> {
    const store = lookup('', 'resourcequotas')!;
    for (const { quota, requested } of charges) {
      // Charged on the latest copy: a parallel write that took the room first makes this one fail.
      await store.update(
        ns,
        quota.metadata.name!,
        (cur) => {
          const err = check(cur, requested, gr, name);
          if (err) throw err;
          const used: Record<string, string> = { ...(cur.status?.used ?? {}) };
          for (const [k, v] of requested) if (k in used) used[k] = addQuantities(q(used[k]), v).toString();
          cur.status = { ...(cur.status ?? {}), used };
          return cur;
        },
        { subresource: 'status' },
      );
    }
  }
}
