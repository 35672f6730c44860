// Type checking of a ValidatingAdmissionPolicy's expressions against the kinds it matches, as
// upstream's ValidatingAdmissionPolicy status controller does for `status.typeChecking`: for every
// built-in kind its matchConstraints name explicitly (group, version and resource without `*`),
// `object` and `oldObject` get that kind's schema as their CEL type and each expression is checked;
// what fails becomes a warning on the expression's field, per kind:
//   apps/v1, Kind=Deployment: ERROR: <input>:1:13: undefined field 'replica'
// Admission itself is unchanged (variables stay dynamic); the warnings tell the author that an
// expression reads a field the kind does not have. Wildcard rules and custom resources are not
// checked (nothing is said about them), nor are `params` (dynamic).

import { Environment } from '@marcbachmann/cel-js';
import type { KObject, ResourceDef } from '../../api/types.ts';
import { getSchemaRegistry, type JSONSchema } from '../../api/schema.ts';
import { registerKubernetesLibrary } from '../../apiextensions/cel/library.ts';
import { TypeRegistrar } from '../../apiextensions/cel/types.ts';
import { celError } from '../../apiextensions/cel/compile.ts';

export interface ExpressionWarning {
  fieldRef: string;
  warning: string;
}

/** A swagger definition with its references inlined; a type that contains itself stops as dynamic. */
function inlineSchema(defs: Record<string, JSONSchema>, s: JSONSchema | undefined, stack: string[]): JSONSchema {
  if (!s || typeof s !== 'object') return {};
  if (typeof s.$ref === 'string') {
    const name = s.$ref.replace('#/definitions/', '');
    if (stack.includes(name)) return {};
    return inlineSchema(defs, defs[name], [...stack, name]);
  }
  if (s.format === 'int-or-string') return { 'x-kubernetes-int-or-string': true };
  const out: JSONSchema = { ...s };
  if (s.properties) {
    out.properties = {};
    for (const [k, v] of Object.entries(s.properties)) out.properties[k] = inlineSchema(defs, v as JSONSchema, stack);
  }
  if (s.items) out.items = inlineSchema(defs, s.items, stack);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') out.additionalProperties = inlineSchema(defs, s.additionalProperties, stack);
  return out;
}

/** Per kind, the environment with `object` and `oldObject` typed (built once: a pod's has hundreds of types). */
const envs = new WeakMap<ResourceDef, Environment>();

function envFor(def: ResourceDef, resources: ResourceDef[]): Environment | undefined {
  let env = envs.get(def);
  if (env) return env;
  const reg = getSchemaRegistry(resources);
  const name = reg.definitionNameOf(def.model);
  if (!name || !reg.definitions[name]) return undefined;
  const schema = inlineSchema(reg.definitions, reg.definitions[name], [name]);
  env = registerKubernetesLibrary(new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false }));
  const t = new TypeRegistrar(env).typeOf(schema as never, def.kind, true);
  env.registerVariable('object', t);
  env.registerVariable('oldObject', t);
  for (const v of ['request', 'params', 'namespaceObject', 'variables', 'authorizer']) env.registerVariable(v, 'dyn');
  envs.set(def, env);
  return env;
}

/** The built-in kinds a policy's matchConstraints name without wildcards. */
export function matchedKinds(policy: KObject, resources: ResourceDef[]): ResourceDef[] {
  const out: ResourceDef[] = [];
  for (const rule of policy.spec?.matchConstraints?.resourceRules ?? []) {
    const groups: string[] = rule.apiGroups ?? [];
    const versions: string[] = rule.apiVersions ?? [];
    const names: string[] = rule.resources ?? [];
    for (const g of groups)
      for (const v of versions)
        for (const r of names) {
          if (g === '*' || v === '*' || r.includes('*') || r.includes('/')) continue;
          const def = resources.find((d) => d.group === g && d.version === v && d.plural === r && !d.virtual);
          if (def && !out.includes(def)) out.push(def);
        }
  }
  return out;
}

/** cel-go's wording where cel-js says it differently, and the expression with a caret under the spot. */
function warningText(e: unknown, expr: string): string {
  let text = celError(e, expr).replace(/No such key: (\S+)/, "undefined field '$1'");
  const m = /^ERROR: <input>:(\d+):(\d+):/.exec(text);
  if (m && !expr.includes('\n')) text += `\n | ${expr}\n | ${'.'.repeat(Number(m[2]) - 1)}^`;
  return text;
}

/** The expressions of a policy, by field path. */
function expressions(policy: KObject): [string, string][] {
  const spec = policy.spec ?? {};
  const out: [string, string][] = [];
  const add = (path: string, e: unknown) => {
    if (typeof e === 'string' && e.trim()) out.push([path, e]);
  };
  (spec.matchConditions ?? []).forEach((c: any, i: number) => add(`spec.matchConditions[${i}].expression`, c?.expression));
  (spec.validations ?? []).forEach((v: any, i: number) => {
    add(`spec.validations[${i}].expression`, v?.expression);
    add(`spec.validations[${i}].messageExpression`, v?.messageExpression);
  });
  (spec.auditAnnotations ?? []).forEach((a: any, i: number) => add(`spec.auditAnnotations[${i}].valueExpression`, a?.valueExpression));
  return out;
}

/** Upstream's status.typeChecking.expressionWarnings for the policy (empty when all check). */
export function typeCheckPolicy(policy: KObject, resources: ResourceDef[]): ExpressionWarning[] {
  const kinds = matchedKinds(policy, resources);
  const out: ExpressionWarning[] = [];
  for (const [fieldRef, expr] of expressions(policy)) {
    const lines: string[] = [];
    for (const def of kinds) {
      const env = envFor(def, resources);
      if (!env) continue;
      let problem: unknown;
      try {
        const r = env.check(expr) as { valid: boolean; error?: unknown };
        if (!r.valid) problem = r.error;
      } catch (e) {
        problem = e;
      }
      if (problem !== undefined) lines.push(`${def.group ? `${def.group}/` : ''}${def.version}, Kind=${def.kind}: ${warningText(problem, expr)}`);
    }
    if (lines.length) out.push({ fieldRef, warning: `${lines.join('\n')}\n` });
  }
  return out;
}
