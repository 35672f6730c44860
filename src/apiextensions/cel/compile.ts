// Compiling a schema's x-kubernetes-validations rules, once per CRD change: each rule is type
// checked against the CEL type of its node (so a CRD with a wrong rule is refused with the reason,
// as upstream does), its cost estimated, and parsed for evaluation. The result mirrors the schema:
// only the nodes with rules, and the paths to them, are kept.

import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import type { FieldError } from '../../machinery/errors.ts';
import { field } from '../../machinery/errors.ts';
import { additionalPropertiesOf, child, index, itemsOf, key, type JSONSchemaProps, type ValidationRule } from '../schema/types.ts';
import { registerKubernetesLibrary } from './library.ts';
import { TypeRegistrar } from './types.ts';
import { meterEnvironment } from './runtime-cost.ts';
import { CostEstimator, costErrorMessage, maxSize, perCRDCostLimit, perRuleCostLimit } from './cost.ts';

export interface CompiledRule {
  rule: ValidationRule;
  program: (ctx: Record<string, unknown>) => unknown;
  messageProgram?: (ctx: Record<string, unknown>) => unknown;
  /** A transition rule: it reads oldSelf, so it runs only on updates (unless optionalOldSelf). */
  usesOldSelf: boolean;
  /** Estimated cost of one evaluation. */
  cost: number;
}

/** The rules of one schema node and of the nodes below it that have rules. */
export interface RuleNode {
  schema: JSONSchemaProps;
  rules: CompiledRule[];
  properties?: Map<string, RuleNode>;
  items?: RuleNode;
  additionalProperties?: RuleNode;
}

export interface Compiled {
  root?: RuleNode;
  /** Problems with the rules, at their schema paths (for CRD validation). */
  errors: FieldError[];
  /** Estimated cost of all rules (times how often they may run). */
  totalCost: number;
}

const validReasons = ['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate'];

let baseEnv: Environment | undefined;
let evalEnv: Environment | undefined;
let evalEnvOptional: Environment | undefined;

function newEnv(): Environment {
  return registerKubernetesLibrary(new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false }));
}

/**
 * The environment rules are evaluated in: self and oldSelf are values of any type (oldSelf an
 * optional one for optionalOldSelf rules), with the runtime cost meter on it.
 */
function evaluationEnv(optionalOldSelf = false): Environment {
  if (optionalOldSelf) return (evalEnvOptional ??= meterEnvironment(newEnv().registerVariable('self', 'dyn').registerVariable('oldSelf', 'optional<dyn>')));
  return (evalEnv ??= meterEnvironment(newEnv().registerVariable('self', 'dyn').registerVariable('oldSelf', 'dyn')));
}

function typedEnv(s: JSONSchemaProps, isRoot: boolean, optionalOldSelf: boolean): Environment {
  baseEnv ??= newEnv();
  const env = baseEnv.clone();
  const t = new TypeRegistrar(env).typeOf(s, 'Object', isRoot);
  env.registerVariable('self', t);
  env.registerVariable('oldSelf', optionalOldSelf ? `optional<${t}>` : t);
  return env;
}

function usesVariable(node: unknown, name: string): boolean {
  if (!node || typeof node !== 'object') return false;
  const n = node as { op?: string; args?: unknown };
  if (n.op === 'id') return n.args === name;
  const a = n.args;
  if (Array.isArray(a)) return a.some((x) => usesVariable(x, name));
  return typeof a === 'object' ? usesVariable(a, name) : false;
}

/** cel-go's wording of a compile error: `ERROR: <input>:1:6: undeclared reference to 'foo'`. */
export function celError(e: unknown, expr: string): string {
  const err = e as { summary?: string; message?: string; range?: { start: number } };
  const summary = err.summary ?? err.message?.split('\n')[0] ?? String(e);
  const pos = err.range?.start;
  if (typeof pos !== 'number') return `ERROR: <input>: ${summary}`;
  const before = expr.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - (before.lastIndexOf('\n') + 1) + 1;
  return `ERROR: <input>:${line}:${col}: ${summary}`;
}

interface Walk {
  errors: FieldError[];
  total: number;
  contributions: Array<{ path: string; cost: number }>;
}

/**
 * Compiles every rule in `schema`. `path` is where the schema sits in the CRD
 * (`spec.versions[0].schema.openAPIV3Schema`), for error paths.
 */
export function compileRules(schema: JSONSchemaProps, path: string): Compiled {
  const w: Walk = { errors: [], total: 0, contributions: [] };
  const root = compileNode(schema, path, true, [], undefined, w);
  if (w.total > perCRDCostLimit) {
    w.errors.push(field.forbidden(path, costErrorMessage('x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema', w.total, perCRDCostLimit)));
    for (const c of w.contributions) if (c.cost > perCRDCostLimit / 100) w.errors.push(field.forbidden(c.path, 'contributed to estimated rule & messageExpression cost total exceeding cost limit'));
  }
  return { root, errors: w.errors, totalCost: w.total };
}

function compileNode(s: JSONSchemaProps | undefined, path: string, isRoot: boolean, sizes: number[], uncorrelatable: string | undefined, w: Walk): RuleNode | undefined {
  if (!s || typeof s !== 'object') return undefined;
  const node: RuleNode = { schema: s, rules: [] };
  let keep = false;
  const rules = s['x-kubernetes-validations'];
  if (Array.isArray(rules) && rules.length) {
    keep = true;
    rules.forEach((r, i) => {
      const c = compileRule(s, r, child(path, 'x-kubernetes-validations'), i, isRoot, sizes, uncorrelatable, w);
      if (c) node.rules.push(c);
    });
  }
  for (const [k, ps] of Object.entries(s.properties ?? {})) {
    const c = compileNode(ps, key(child(path, 'properties'), k), false, sizes, uncorrelatable, w);
    if (c) (node.properties ??= new Map()).set(k, c);
  }
  const items = itemsOf(s);
  if (items) {
    const correlatable = s['x-kubernetes-list-type'] === 'map';
    const c = compileNode(items, child(path, 'items'), false, [...sizes, maxSize(s)], correlatable ? uncorrelatable : (uncorrelatable ?? path), w);
    if (c) node.items = c;
  }
  const extra = additionalPropertiesOf(s);
  if (extra) {
    const c = compileNode(extra, child(path, 'additionalProperties'), false, [...sizes, maxSize(s)], uncorrelatable, w);
    if (c) node.additionalProperties = c;
  }
  return keep || node.properties || node.items || node.additionalProperties ? node : undefined;
}

function compileRule(
  s: JSONSchemaProps,
  r: ValidationRule,
  rulesPath: string,
  i: number,
  isRoot: boolean,
  sizes: number[],
  uncorrelatable: string | undefined,
  w: Walk,
): CompiledRule | undefined {
  const at = index(rulesPath, i);
  if (!r || typeof r !== 'object' || typeof r.rule !== 'string') {
    w.errors.push(field.required(child(at, 'rule'), 'rule is not specified'));
    return undefined;
  }
  const trimmedRule = r.rule.trim();
  const trimmedMsg = (r.message ?? '').trim();
  if (!trimmedRule) {
    w.errors.push(field.required(child(at, 'rule'), 'rule is not specified'));
    return undefined;
  }
  if (r.message !== undefined && r.message.length > 0 && !trimmedMsg) w.errors.push(field.invalid(child(at, 'message'), r.message, 'message must be non-empty if specified'));
  else if (/[\n\r]/.test(trimmedMsg)) w.errors.push(field.invalid(child(at, 'message'), r.message, 'message must not contain line breaks'));
  else if (/[\n\r]/.test(trimmedRule) && !trimmedMsg && !r.messageExpression)
    w.errors.push(field.required(child(at, 'message'), 'message must be specified if rule contains line breaks'));
  if (r.reason !== undefined && !validReasons.includes(r.reason))
    w.errors.push(field.notSupported(child(at, 'reason'), r.reason, validReasons));
  if (r.fieldPath !== undefined && r.fieldPath !== '' && !fieldPathResolves(s, r.fieldPath))
    w.errors.push(field.invalid(child(at, 'fieldPath'), r.fieldPath, `fieldPath must be a valid path: does not refer to a valid field`));

  const env = typedEnv(s, isRoot, r.optionalOldSelf === true);
  let ast: ASTNode;
  try {
    const checked = env.check(r.rule);
    if (!checked.valid) {
      w.errors.push(field.invalid(child(at, 'rule'), r, `compilation failed: ${celError(checked.error, r.rule)}`));
      return undefined;
    }
    if (checked.type !== 'bool' && checked.type !== 'dyn') {
      w.errors.push(field.invalid(child(at, 'rule'), r, 'cel expression must evaluate to a bool'));
      return undefined;
    }
    ast = env.parse(r.rule).ast as ASTNode;
  } catch (e) {
    w.errors.push(field.invalid(child(at, 'rule'), r, `compilation failed: ${celError(e, r.rule)}`));
    return undefined;
  }
  const usesOldSelf = usesVariable(ast, 'oldSelf');
  if (usesOldSelf && uncorrelatable !== undefined)
    w.errors.push(field.invalid(child(at, 'rule'), r, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${uncorrelatable}`));
  let messageProgram: CompiledRule['messageProgram'];
  let cost = new CostEstimator(s).estimate(ast);
  if (r.messageExpression !== undefined && r.messageExpression !== '') {
    try {
      const checked = env.check(r.messageExpression);
      if (!checked.valid) w.errors.push(field.invalid(child(at, 'messageExpression'), r.messageExpression, `messageExpression compilation failed: ${celError(checked.error, r.messageExpression)}`));
      else if (checked.type !== 'string' && checked.type !== 'dyn') w.errors.push(field.invalid(child(at, 'messageExpression'), r.messageExpression, 'must evaluate to a string'));
      else {
        messageProgram = evaluationEnv(r.optionalOldSelf === true).parse(r.messageExpression);
        cost += new CostEstimator(s).estimate(env.parse(r.messageExpression).ast as ASTNode);
      }
    } catch (e) {
      w.errors.push(field.invalid(child(at, 'messageExpression'), r.messageExpression, `messageExpression compilation failed: ${celError(e, r.messageExpression)}`));
    }
  } else if (r.messageExpression === '') {
    w.errors.push(field.required(child(at, 'messageExpression'), 'messageExpression must be non-empty if specified'));
  }
  const runs = sizes.reduce((a, b) => a * b, 1);
  const total = cost * runs;
  if (total > perRuleCostLimit) w.errors.push(field.forbidden(child(at, 'rule'), costErrorMessage('estimated rule cost', total, perRuleCostLimit)));
  w.total += total;
  w.contributions.push({ path: child(at, 'rule'), cost: total });
  return { rule: r, program: evaluationEnv(r.optionalOldSelf === true).parse(r.rule), messageProgram, usesOldSelf, cost };
}

/** Does `.a.b` / `.a['b']` / `.list[0]`-style fieldPath name a field of the schema? */
function fieldPathResolves(s: JSONSchemaProps, fieldPath: string): boolean {
  const segs = parseFieldPath(fieldPath);
  if (!segs) return false;
  let cur: JSONSchemaProps | undefined = s;
  for (const seg of segs) {
    if (!cur) return false;
    if (typeof seg === 'number') cur = itemsOf(cur);
    else cur = cur.properties?.[seg] ?? additionalPropertiesOf(cur) ?? (cur['x-kubernetes-preserve-unknown-fields'] ? {} : undefined);
  }
  return !!cur;
}

/** Splits a rule's fieldPath into field names and list indexes; undefined when malformed. */
export function parseFieldPath(p: string): Array<string | number> | undefined {
  const out: Array<string | number> = [];
  const re = /\.([A-Za-z_][A-Za-z0-9_-]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]/y;
  let at = 0;
  while (at < p.length) {
    re.lastIndex = at;
    const m = re.exec(p);
    if (!m) return undefined;
    out.push(m[1] ?? (m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : Number(m[3])));
    at = re.lastIndex;
  }
  return out.length ? out : undefined;
}
