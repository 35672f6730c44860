// CEL for admission (ValidatingAdmissionPolicy validations, variables, matchConditions and webhook
// matchConditions): the cel-js environment and Kubernetes libraries of the CRD validation rules,
// with upstream's admission variables (object, oldObject, request, params, namespaceObject,
// variables) as dynamic values. Expressions compile once and are kept by their text.

import { Environment } from '@marcbachmann/cel-js';
import { registerKubernetesLibrary } from '../../apiextensions/cel/library.ts';
import { toCel } from '../../apiextensions/cel/validator.ts';
import { field, type FieldError } from '../../machinery/errors.ts';
import type { UserInfo } from '../authn/user.ts';
import type { AdmissionRequest } from './types.ts';

export type Program = (ctx: Record<string, unknown>) => unknown;

let env: Environment | undefined;
const programs = new Map<string, Program | string>();

function celEnv(): Environment {
  if (env) return env;
  env = registerKubernetesLibrary(new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false }));
  for (const v of ['object', 'oldObject', 'request', 'params', 'namespaceObject', 'variables', 'authorizer']) env.registerVariable(v, 'dyn');
  return env;
}

/** The compiled expression, or the compile error's text. */
export function compile(expr: string): Program | string {
  let p = programs.get(expr);
  if (p !== undefined) return p;
  try {
    const e = celEnv();
    const checked = e.check(expr);
    p = checked.valid ? (e.parse(expr) as unknown as Program) : `compilation failed: ${(checked.error as Error)?.message ?? checked.error}`;
  } catch (err) {
    p = `compilation failed: ${(err as Error).message?.split('\n')[0]}`;
  }
  if (programs.size > 5000) programs.clear();
  programs.set(expr, p);
  return p;
}

const outputTypes = { bool: ['bool'], string: ['string'], stringOrNull: ['string', 'null'], any: [] as string[] };

/**
 * Problems with an expression when a policy or webhook is written (upstream compiles them then and
 * refuses what does not compile, or does not give the type the field needs), as the field's error.
 */
export function expressionErrors(expr: unknown, path: string, want: keyof typeof outputTypes): FieldError[] {
  if (typeof expr !== 'string' || !expr.trim()) return [];
  let checked: { valid: boolean; type?: string; error?: unknown };
  try {
    checked = celEnv().check(expr) as typeof checked;
  } catch (err) {
    checked = { valid: false, error: err };
  }
  if (!checked.valid) {
    const msg = String((checked.error as Error)?.message ?? checked.error).split('\n')[0];
    return [field.invalid(path, expr, `compilation failed: ${msg}`)];
  }
  const ok = outputTypes[want];
  if (ok.length && checked.type !== 'dyn' && !ok.includes(String(checked.type)))
    return [field.invalid(path, expr, `cel expression must evaluate to ${want === 'bool' ? 'a bool' : want === 'string' ? 'a string' : 'a string or null'}`)];
  return [];
}

function userInfo(u: UserInfo | undefined): Record<string, unknown> {
  if (!u) return { username: '' };
  return { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: [...u.groups], ...(u.extra ? { extra: u.extra } : {}) };
}

/** The admission.k8s.io/v1 AdmissionRequest of a write (also what CEL's `request` is). */
export function admissionRequestOf(r: AdmissionRequest, uid: string): Record<string, unknown> {
  const gvk = { group: r.def.group, version: r.def.version, kind: r.def.kind };
  const gvr = { group: r.def.group, version: r.def.version, resource: r.def.plural };
  const options =
    r.operation === 'CREATE' ? { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' } : r.operation === 'UPDATE' ? { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1' } : { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' };
  return {
    uid,
    kind: gvk,
    resource: gvr,
    ...(r.subresource ? { subResource: r.subresource, requestSubResource: r.subresource } : {}),
    requestKind: gvk,
    requestResource: gvr,
    name: r.obj.metadata.name ?? '',
    ...(r.def.namespaced ? { namespace: r.obj.metadata.namespace ?? '' } : {}),
    operation: r.operation,
    userInfo: userInfo(r.user),
    object: r.operation === 'DELETE' ? null : r.obj,
    oldObject: r.operation === 'CREATE' ? null : (r.old ?? null),
    dryRun: !!r.dryRun,
    options,
  };
}

/** The variables of one evaluation, as CEL values (ints as BigInt). */
export function celContext(r: AdmissionRequest, extra: { params?: unknown; namespaceObject?: unknown } = {}): Record<string, unknown> {
  const req = admissionRequestOf(r, '');
  return {
    object: r.operation === 'DELETE' ? null : toCel(r.obj, undefined),
    oldObject: r.operation === 'CREATE' || !r.old ? null : toCel(r.old, undefined),
    request: toCel({ ...req, object: undefined, oldObject: undefined }, undefined),
    params: extra.params === undefined ? null : toCel(extra.params, undefined),
    namespaceObject: extra.namespaceObject === undefined ? null : toCel(extra.namespaceObject, undefined),
    variables: {},
  };
}
