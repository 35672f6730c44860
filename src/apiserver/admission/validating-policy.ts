// ValidatingAdmissionPolicy (upstream apiserver/pkg/admission/plugin/policy/validating): every
// ValidatingAdmissionPolicyBinding whose policy matches the write (the policy's matchConstraints,
// then the binding's matchResources) evaluates the policy's CEL validations with `object`,
// `oldObject`, `request`, `params` (paramKind + the binding's paramRef), `namespaceObject` and its
// `variables`. A failed validation answers as the binding's validationActions say: Deny (422 or
// the validation's reason), Warn (a Warning header), Audit (an audit annotation).

import type { KObject } from '../../api/types.ts';
import { errors, StatusError, type StatusReason } from '../../machinery/errors.ts';
import { labelSelectorFromObject } from '../../machinery/labels.ts';
import type { ResourceStore } from '../registry/resource-store.ts';
import { celContext, compile } from './cel-admission.ts';
import { matches, namespaceOf } from './matching.ts';
import { listCached, type AdmissionPlugin, type AdmissionRequest, type Lookup } from './types.ts';

const GROUP = 'admissionregistration.k8s.io';
const reasonCodes: Record<string, number> = { Unauthorized: 401, Forbidden: 403, Invalid: 422, RequestEntityTooLarge: 413 };

export interface PolicyDeps {
  lookup: Lookup;
  /** The store of a kind named by apiVersion and kind (paramKind). */
  byKind(apiVersion: string, kind: string): ResourceStore | undefined;
}

class PolicyFailure extends Error {}

function evaluate(expr: string, ctx: Record<string, unknown>): unknown {
  const p = compile(expr);
  if (typeof p === 'string') throw new PolicyFailure(`expression '${expr}' resulted in error: ${p}`);
  try {
    return p(ctx);
  } catch (e) {
    throw new PolicyFailure(`expression '${expr}' resulted in error: ${(e as Error).message?.split('\n')[0]}`);
  }
}

/** The params objects of a binding (none: [undefined]); an empty list means none were found. */
function paramsOf(deps: PolicyDeps, policy: KObject, binding: KObject, r: AdmissionRequest): (KObject | undefined)[] | string {
  const kind = policy.spec?.paramKind;
  if (!kind) return [undefined];
  const ref = binding.spec?.paramRef;
  if (!ref) return `failed to configure binding: paramRef is required when policy ${policy.metadata.name} has paramKind`;
  const store = deps.byKind(kind.apiVersion, kind.kind);
  if (!store) return `failed to find resource referenced by paramKind: '${kind.apiVersion}, Kind=${kind.kind}'`;
  const ns = store.def.namespaced ? (ref.namespace ?? r.obj.metadata.namespace ?? '') : undefined;
  let found: KObject[] = [];
  if (ref.name) {
    const o = store.tryGet(ns, ref.name)?.obj;
    if (o) found = [o];
  } else {
    let sel;
    try {
      sel = labelSelectorFromObject(ref.selector ?? {});
    } catch {
      return 'invalid paramRef.selector';
    }
    found = store.cache.list(store.listPrefix(ns)).items.map((c) => c.obj).filter((o) => sel.matches(o.metadata.labels));
  }
  if (found.length) return found;
  if (ref.parameterNotFoundAction === 'Allow') return [];
  return `no params found for policy binding with \`Deny\` parameterNotFoundAction`;
}

export function validatingPolicies(deps: PolicyDeps): AdmissionPlugin {
  const { lookup } = deps;

  function runPolicy(policy: KObject, binding: KObject, r: AdmissionRequest): void {
    const spec = policy.spec ?? {};
    const actions: string[] = binding.spec?.validationActions ?? ['Deny'];
    const prefix = `ValidatingAdmissionPolicy '${policy.metadata.name}' with binding '${binding.metadata.name}'`;
    const failClosed = spec.failurePolicy !== 'Ignore';
    const params = paramsOf(deps, policy, binding, r);
    const fail = (msg: string) => {
      if (!failClosed) return;
      throw errors.forbidden({ group: r.def.group, resource: r.def.plural }, r.obj.metadata.name ?? '', `${prefix} denied request: ${msg}`);
    };
    if (typeof params === 'string') return fail(params);
    for (const param of params) {
      const ctx = celContext(r, { params: param, namespaceObject: r.def.namespaced ? namespaceOf(r, lookup) : undefined });
      try {
        for (const c of spec.matchConditions ?? []) if (evaluate(String(c?.expression ?? ''), ctx) !== true) return;
        const vars: Record<string, unknown> = {};
        ctx.variables = vars;
        for (const v of spec.variables ?? []) if (v?.name) vars[v.name] = evaluate(String(v.expression ?? ''), ctx);
        for (const v of spec.validations ?? []) {
          const expr = String(v?.expression ?? '');
          const ok = evaluate(expr, ctx);
          if (ok === true) continue;
          if (ok !== false) throw new PolicyFailure(`expression '${expr}' resulted in a non-boolean value`);
          let message = typeof v.message === 'string' && v.message ? v.message : `failed expression: ${expr.trim()}`;
          if (v.messageExpression) {
            try {
              const m = evaluate(v.messageExpression, ctx);
              if (typeof m === 'string' && m.trim() && !/[\r\n]/.test(m)) message = m;
            } catch {
              // the static message stands, as upstream
            }
          }
          const reason = (v.reason as string) || 'Invalid';
          if (actions.includes('Warn')) r.warnings?.push(`Validation failed for ${prefix}: ${message}`);
          if (actions.includes('Audit') && r.annotations)
            r.annotations['validation.policy.admission.k8s.io/validation_failure'] = JSON.stringify([
              { message, policy: policy.metadata.name, binding: binding.metadata.name, expressionIndex: (spec.validations ?? []).indexOf(v), validationActions: actions },
            ]);
          if (actions.includes('Deny')) {
            const code = reasonCodes[reason] ?? 422;
            throw new StatusError(code, reason as StatusReason, `${prefix} denied request: ${message}`, { name: r.obj.metadata.name, group: r.def.group, kind: r.def.plural });
          }
        }
        for (const a of spec.auditAnnotations ?? []) {
          if (!a?.key || !r.annotations) continue;
          const val = evaluate(String(a.valueExpression ?? ''), ctx);
          if (typeof val === 'string' && val) r.annotations[`${policy.metadata.name}/${a.key}`] = val;
        }
      } catch (e) {
        if (e instanceof PolicyFailure) return fail(e.message);
        throw e;
      }
    }
  }

  return {
    name: 'ValidatingAdmissionPolicy',
    validate(r) {
      if (r.def.group === GROUP) return;
      const bindings = listCached(lookup, GROUP, 'validatingadmissionpolicybindings');
      if (!bindings.length) return;
      const policies = lookup(GROUP, 'validatingadmissionpolicies');
      for (const b of bindings) {
        const policy = policies?.tryGet(undefined, b.spec?.policyName ?? '')?.obj;
        if (!policy) continue;
        if (!matches(policy.spec?.matchConstraints, r, lookup)) continue;
        const mr = b.spec?.matchResources;
        if (mr && !matches({ ...mr, resourceRules: mr.resourceRules ?? [{ apiGroups: ['*'], apiVersions: ['*'], resources: ['*/*'], operations: ['*'] }] }, r, lookup)) continue;
        runPolicy(policy, b, r);
      }
    },
  };
}
