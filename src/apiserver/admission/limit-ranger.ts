// LimitRanger (upstream plugin/pkg/admission/limitranger): the LimitRanges of a pod's namespace
// give its containers their default requests and limits (recorded in the
// `kubernetes.io/limit-ranger` annotation), then bound each container, the pod as a whole and
// claims' storage by min, max and maxLimitRequestRatio. Defaults are the mutating step; the
// bounds are checked in the validating step, once mutating webhooks have had their say.

import type { KObject } from '../../api/types.ts';
import { errors } from '../../machinery/errors.ts';
import { compareQuantities, Quantity, quantityFromJSON, quantityToMilli, quantityValue } from '../../machinery/quantity.ts';
import { listCached, type AdmissionPlugin, type AdmissionRequest, type Lookup } from './types.ts';

const ANNOTATION = 'kubernetes.io/limit-ranger';
const MAX_MILLI = Number.MAX_SAFE_INTEGER / 1000;
type List = Record<string, unknown>;

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

function q(v: unknown): Quantity | undefined {
  try {
    return quantityFromJSON(v);
  } catch {
    return undefined;
  }
}

/** Upstream compares at milli precision when nothing overflows it, else in whole units. */
function values(...qs: (Quantity | undefined)[]): number[] {
  const whole = qs.map((x) => (x ? quantityValue(x) : 0));
  if (whole.every((v) => v <= MAX_MILLI)) return qs.map((x) => (x ? quantityToMilli(x) : 0));
  return whole;
}

function minConstraint(type: string, r: string, enforced: Quantity, req: List, lim: List, out: string[]): void {
  const rq = r in req ? q(req[r]) : undefined;
  const lq = r in lim ? q(lim[r]) : undefined;
  const [rv, lv, ev] = values(rq, lq, enforced);
  if (!(r in req)) out.push(`minimum ${r} usage per ${type} is ${enforced}.  No request is specified.`);
  else if (rv < ev) out.push(`minimum ${r} usage per ${type} is ${enforced}, but request is ${rq}.`);
  else if (r in lim && lv < ev) out.push(`minimum ${r} usage per ${type} is ${enforced}, but limit is ${lq}.`);
}

function maxConstraint(type: string, r: string, enforced: Quantity, req: List, lim: List, out: string[]): void {
  const rq = r in req ? q(req[r]) : undefined;
  const lq = r in lim ? q(lim[r]) : undefined;
  const [rv, lv, ev] = values(rq, lq, enforced);
  if (!(r in lim)) out.push(`maximum ${r} usage per ${type} is ${enforced}.  No limit is specified.`);
  else if (lv > ev) out.push(`maximum ${r} usage per ${type} is ${enforced}, but limit is ${lq}.`);
  else if (r in req && rv > ev) out.push(`maximum ${r} usage per ${type} is ${enforced}, but request is ${rq}.`);
}

function ratioConstraint(type: string, r: string, enforced: Quantity, req: List, lim: List, out: string[]): void {
  const rq = r in req ? q(req[r]) : undefined;
  const lq = r in lim ? q(lim[r]) : undefined;
  const [rv, lv] = values(rq, lq, enforced);
  if (!rq || rv === 0) return void out.push(`${r} max limit to request ratio per ${type} is ${enforced}, but no request is specified or request is 0.`);
  if (!lq || lv === 0) return void out.push(`${r} max limit to request ratio per ${type} is ${enforced}, but no limit is specified or limit is 0.`);
  const ratio = lv / rv;
  const milli = quantityValue(enforced) <= MAX_MILLI;
  const max = milli ? quantityToMilli(enforced) : quantityValue(enforced);
  if ((milli ? ratio * 1000 : ratio) > max) out.push(`${r} max limit to request ratio per ${type} is ${enforced}, but provided ratio is ${ratio.toFixed(6)}.`);
}

function checkBounds(item: any, type: string, req: List, lim: List, out: string[]): void {
  for (const [r, v] of Object.entries(item.min ?? {})) {
    const e = q(v);
    if (e) minConstraint(type, r, e, req, lim, out);
  }
  for (const [r, v] of Object.entries(item.max ?? {})) {
    const e = q(v);
    if (e) maxConstraint(type, r, e, req, lim, out);
  }
  for (const [r, v] of Object.entries(item.maxLimitRequestRatio ?? {})) {
    const e = q(v);
    if (e) ratioConstraint(type, r, e, req, lim, out);
  }
}

/** Sum over containers of the resources every container names (upstream's `sum`): cpu in millis. */
function sumLists(lists: List[]): List {
  const keys = new Set(lists.flatMap((l) => Object.keys(l)));
  const out: List = {};
  for (const k of keys) {
    if (!lists.every((l) => k in l)) continue;
    let nanos = 0n;
    for (const l of lists) nanos += q(l[k])?.nanos ?? 0n;
    out[k] = new Quantity(nanos).toString();
  }
  return out;
}

function containers(spec: any): { c: any; init: boolean }[] {
  const out: { c: any; init: boolean }[] = [];
  if (Array.isArray(spec?.containers)) for (const c of spec.containers) if (isObj(c)) out.push({ c, init: false });
  if (Array.isArray(spec?.initContainers)) for (const c of spec.initContainers) if (isObj(c)) out.push({ c, init: true });
  return out;
}

/** Upstream's defaults: each Container item's defaultRequest and default, later ranges winning. */
function defaultsOf(ranges: KObject[]): { requests: List; limits: List } {
  const requests: List = {};
  const limits: List = {};
  for (const lr of ranges)
    for (const item of lr.spec?.limits ?? []) {
      if (item?.type !== 'Container') continue;
      Object.assign(requests, item.defaultRequest ?? {});
      Object.assign(limits, item.default ?? {});
    }
  return { requests, limits };
}

export function mutatePod(ranges: KObject[], pod: KObject): void {
  const d = defaultsOf(ranges);
  if (!Object.keys(d.requests).length && !Object.keys(d.limits).length) return;
  const notes: string[] = [];
  for (const { c, init } of containers(pod.spec)) {
    if (!isObj(c.resources)) c.resources = {};
    const res = c.resources;
    if (!isObj(res.limits)) res.limits = {};
    if (!isObj(res.requests)) res.requests = {};
    const setLimits = Object.keys(d.limits).filter((k) => !(k in res.limits));
    for (const k of setLimits) res.limits[k] = d.limits[k];
    const setRequests = Object.keys(d.requests).filter((k) => !(k in res.requests));
    for (const k of setRequests) res.requests[k] = d.requests[k];
    const what = `${init ? 'init container' : 'container'} ${c.name}`;
    if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for ${what}`);
    if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${what}`);
  }
  if (notes.length) (pod.metadata.annotations ??= {})[ANNOTATION] = `LimitRanger plugin set: ${notes.join('; ')}`;
}

export function validatePod(ranges: KObject[], pod: KObject): string[] {
  const out: string[] = [];
  const all = containers(pod.spec);
  for (const lr of ranges)
    for (const item of lr.spec?.limits ?? []) {
      if (item?.type === 'Container') {
        for (const { c } of all) checkBounds(item, 'Container', c.resources?.requests ?? {}, c.resources?.limits ?? {}, out);
      } else if (item?.type === 'Pod') {
        const app = all.filter((x) => !x.init).map((x) => x.c);
        const requests = sumLists(app.map((c) => c.resources?.requests ?? {}));
        const limits = sumLists(app.map((c) => c.resources?.limits ?? {}));
        // The pod needs the larger of its containers' sum and any one init container.
        for (const { c } of all.filter((x) => x.init)) {
          for (const [into, from] of [[requests, c.resources?.requests ?? {}], [limits, c.resources?.limits ?? {}]] as const)
            for (const [k, v] of Object.entries(from)) {
              const a = q(v);
              const b = k in into ? q(into[k]) : undefined;
              if (a && (!b || compareQuantities(a, b) > 0)) into[k] = v;
            }
        }
        checkBounds(item, 'Pod', requests, limits, out);
      }
    }
  return out;
}

function validateClaim(ranges: KObject[], pvc: KObject): string[] {
  const out: string[] = [];
  const requests = pvc.spec?.resources?.requests ?? {};
  const limits = pvc.spec?.resources?.limits ?? {};
  for (const lr of ranges)
    for (const item of lr.spec?.limits ?? []) {
      if (item?.type !== 'PersistentVolumeClaim') continue;
      for (const [r, v] of Object.entries(item.min ?? {})) {
        const e = q(v);
        if (!e) continue;
        const have = r in requests ? q(requests[r]) : undefined;
        if (!have) out.push(`minimum ${r} usage per PersistentVolumeClaim is ${e}.  No request is specified.`);
        else if (compareQuantities(have, e) < 0) out.push(`minimum ${r} usage per PersistentVolumeClaim is ${e}, but request is ${have}.`);
      }
      for (const [r, v] of Object.entries(item.max ?? {})) {
        const e = q(v);
        if (!e) continue;
        const have = r in requests ? q(requests[r]) : undefined;
        if (!have) out.push(`maximum ${r} usage per PersistentVolumeClaim is ${e}.  No request is specified.`);
        else if (compareQuantities(have, e) > 0) out.push(`maximum ${r} usage per PersistentVolumeClaim is ${e}, but request is ${have}.`);
        const lim = r in limits ? q(limits[r]) : undefined;
        if (lim && compareQuantities(lim, e) > 0) out.push(`maximum ${r} usage per PersistentVolumeClaim is ${e}, but limit is ${lim}.`);
      }
    }
  return out;
}

/** Upstream's NewAggregate text: one error as itself, several in brackets. */
export function aggregate(msgs: string[]): string {
  return msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
}

export function limitRanger(lookup: Lookup): AdmissionPlugin {
  const rangesOf = (ns: string) => listCached(lookup, '', 'limitranges', ns);
  const applies = (r: AdmissionRequest) =>
    !r.subresource && r.def.group === '' && ((r.def.plural === 'pods' && r.operation === 'CREATE') || (r.def.plural === 'persistentvolumeclaims' && r.operation !== 'DELETE'));
  return {
    name: 'LimitRanger',
    mutate(r) {
      if (!applies(r) || r.def.plural !== 'pods') return;
      const ranges = rangesOf(r.obj.metadata.namespace!);
      if (ranges.length) mutatePod(ranges, r.obj);
    },
    validate(r) {
      if (!applies(r)) return;
      const ranges = rangesOf(r.obj.metadata.namespace!);
      if (!ranges.length) return;
      const msgs = r.def.plural === 'pods' ? validatePod(ranges, r.obj) : validateClaim(ranges, r.obj);
      if (msgs.length) throw errors.forbidden({ group: '', resource: r.def.plural }, r.obj.metadata.name ?? '', aggregate(msgs));
    },
  };
}
