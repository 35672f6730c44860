// Evaluating compiled validation rules on an object (and, on update, its old version), with
// upstream's errors: `spec: Invalid value: "object": <message>` at the rule's node (or its
// fieldPath), the reason choosing the error type. Transition rules (those reading oldSelf) run only
// where the old object has a value at the same place: objects correlate by field, maps by key,
// lists by their x-kubernetes-list-map-keys; atomic lists and sets do not correlate.

import { Environment, Optional } from '@marcbachmann/cel-js';
import type { FieldError } from '../../machinery/errors.ts';
import { field } from '../../machinery/errors.ts';
import { additionalPropertiesOf, isObject, itemsOf, type JSONSchemaProps } from '../schema/types.ts';
import { parseFieldPath, type CompiledRule, type RuleNode } from './compile.ts';
import { costLimitExceeded, evaluateMetered, runtimeCostBudget } from './runtime-cost.ts';

/** The runtime cost left for one object's rules; `stopped` once a limit ended the validation. */
/** Upstream's MaxEvaluatedMessageExpressionSizeBytes: a longer message falls back to the static one. */
const maxMessageBytes = 5 * 1024;

interface Budget {
  remaining: number;
  stopped: boolean;
  stopReason?: string;
}

/**
 * Errors of the rules under `node` for `obj` (and `old` on update), within upstream's runtime
 * cost budget for one object (`budget`, for tests).
 */
export function evaluateRules(node: RuleNode | undefined, obj: unknown, old: unknown, hasOld: boolean, path = '', budget = runtimeCostBudget): FieldError[] {
  const errs: FieldError[] = [];
  if (node) walk(node, obj, old, hasOld, path, errs, { remaining: budget, stopped: false });
  return errs;
}

function walk(node: RuleNode, v: unknown, old: unknown, hasOld: boolean, path: string, errs: FieldError[], b: Budget): void {
  if (v === undefined || v === null || b.stopped) return;
  const s = node.schema;
  if (node.rules.length) {
    if (b.remaining <= 0) return outOfBudget(b, errs, path, typeNameOf(s), 'validation failed due to running out of cost budget, no further validation rules will be run');
    const self = toCel(v, s);
    const oldSelf = hasOld && old !== undefined && old !== null ? toCel(old, s) : undefined;
    for (const r of node.rules) {
      evaluateRule(r, s, self, oldSelf, path, errs, b);
      if (b.stopped) return;
    }
  }
  if (Array.isArray(v)) {
    if (!node.items) return;
    const keys = s['x-kubernetes-list-type'] === 'map' ? (s['x-kubernetes-list-map-keys'] ?? []) : undefined;
    const oldByKey = new Map<string, unknown>();
    if (keys && hasOld && Array.isArray(old)) for (const o of old) if (isObject(o)) oldByKey.set(JSON.stringify(keys.map((k) => o[k] ?? null)), o);
    v.forEach((item, i) => {
      const id = keys && isObject(item) ? JSON.stringify(keys.map((k) => item[k] ?? null)) : undefined;
      const o = id !== undefined ? oldByKey.get(id) : undefined;
      walk(node.items!, item, o, o !== undefined, `${path}[${i}]`, errs, b);
    });
    return;
  }
  if (!isObject(v)) return;
  const o = hasOld && isObject(old) ? old : undefined;
  if (node.properties)
    for (const [k, c] of node.properties) if (k in v) walk(c, v[k], o?.[k], o !== undefined && k in o, path ? `${path}.${k}` : k, errs, b);
  if (node.additionalProperties) {
    const declared = s.properties ?? {};
    for (const [k, val] of Object.entries(v)) {
      if (k in declared) continue;
      walk(node.additionalProperties, val, o?.[k], o !== undefined && k in o, `${path}[${k}]`, errs, b);
    }
  }
}

/** Ends the validation of the object with `detail` (upstream returns a budget of -1). */
function outOfBudget(b: Budget, errs: FieldError[], at: string, typeName: string, detail: string): void {
  errs.push(field.invalid(at, typeName, detail));
  b.stopped = true;
  b.remaining = -1;
}

function typeNameOf(s: JSONSchemaProps): string {
  return s['x-kubernetes-int-or-string'] ? '' : (s.type ?? '');
}

function evaluateRule(r: CompiledRule, s: JSONSchemaProps, self: unknown, oldSelf: unknown, path: string, errs: FieldError[], b: Budget): void {
  const optional = r.rule.optionalOldSelf === true;
  if (r.usesOldSelf && oldSelf === undefined && !optional) return;
  const ctx = { self, oldSelf: r.usesOldSelf ? (optional ? (oldSelf === undefined ? Optional.none() : Optional.of(oldSelf)) : oldSelf) : undefined };
  const at = withFieldPath(path, r.rule.fieldPath);
  const typeName = typeNameOf(s);
  const run = evaluateMetered(r.program, ctx);
  if (run.exceeded) return outOfBudget(b, errs, at, typeName, `'${costLimitExceeded}': no further validation rules will be run due to call cost exceeds limit for rule: ${ruleErrorString(r)}`);
  if (run.cost > b.remaining) return outOfBudget(b, errs, at, typeName, 'validation failed due to running out of cost budget, no further validation rules will be run');
  b.remaining -= run.cost;
  if (run.error !== undefined) {
    errs.push(field.invalid(at, typeName, `${celMessage(run.error)} evaluating rule: ${ruleErrorString(r)}`));
    return;
  }
  const result = run.value;
  if (result === true) return;
  if (result !== false) {
    errs.push(field.invalid(at, typeName, `rule evaluated to non-boolean value ${String(result)}: ${ruleText(r)}`));
    return;
  }
  const msg = message(r, ctx, b);
  if (msg === undefined) return outOfBudget(b, errs, at, typeName, b.stopReason!);
  switch (r.rule.reason) {
    case 'FieldValueForbidden':
      errs.push(field.forbidden(at, msg));
      break;
    case 'FieldValueRequired':
      errs.push(field.required(at, msg));
      break;
    case 'FieldValueDuplicate':
      errs.push(field.duplicate(at, typeName));
      break;
    default:
      errs.push(field.invalid(at, typeName, msg));
  }
}

/** Upstream's ruleErrorString: the rule's message when it has one, else the rule. */
function ruleErrorString(r: CompiledRule): string {
  return r.rule.message?.trim() || ruleText(r);
}

function ruleText(r: CompiledRule): string {
  return r.rule.rule.trim();
}

/**
 * The rule's message: messageExpression's result when it gives a usable string, else message,
 * else "failed rule: …"; undefined (with `b.stopReason`) when messageExpression went over a
 * cost limit, which ends the validation as upstream does.
 */
function message(r: CompiledRule, ctx: Record<string, unknown>, b: Budget): string | undefined {
  if (r.messageProgram) {
    const run = evaluateMetered(r.messageProgram, ctx);
    if (run.exceeded) {
      b.stopReason = `no further validation rules will be run due to call cost exceeds limit for messageExpression: ${JSON.stringify(r.rule.messageExpression)}`;
      return undefined;
    }
    if (run.cost > b.remaining) {
      b.stopReason = 'messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run';
      return undefined;
    }
    b.remaining -= run.cost;
    const m = run.value;
    // Otherwise upstream falls back to the static message.
    if (run.error === undefined && typeof m === 'string' && m.trim() !== '' && Buffer.byteLength(m.trim()) <= maxMessageBytes && !/[\n\r]/.test(m)) return m.trim();
  }
  if (r.rule.message && r.rule.message.trim()) return r.rule.message.trim();
  return `failed rule: ${ruleText(r)}`;
}

function celMessage(e: unknown): string {
  const err = e as { summary?: string; message?: string };
  const m = err.summary ?? err.message?.split('\n')[0] ?? String(e);
  return m.charAt(0).toLowerCase() + m.slice(1);
}

/** The error path of a rule: its node's, extended by the rule's fieldPath. */
function withFieldPath(path: string, fieldPath: string | undefined): string {
  if (!fieldPath) return path;
  const segs = parseFieldPath(fieldPath);
  if (!segs) return path;
  let out = path;
  for (const s of segs) {
    if (typeof s === 'number') out = `${out}[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s) && fieldPath.includes(`.${s}`)) out = out ? `${out}.${s}` : s;
    else out = `${out}[${s}]`;
  }
  return out;
}

// --- values --------------------------------------------------------------------------------

let durationEnv: Environment | undefined;

function durationOf(s: string): unknown {
  durationEnv ??= new Environment().registerVariable('s', 'string');
  return durationEnv.evaluate('duration(s)', { s });
}

/**
 * A JSON value as CEL sees it under this schema: integers as BigInt (CEL int), numbers as
 * doubles, date/date-time strings as timestamps, duration strings as durations; values without
 * a declared type keep JSON's shapes, with whole numbers as ints.
 */
export function toCel(v: unknown, s: JSONSchemaProps | undefined): unknown {
  if (v === null || v === undefined) return v;
  if (!s || s['x-kubernetes-int-or-string'] || !s.type) return dynToCel(v, s);
  switch (s.type) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v;
    case 'number':
      return v;
    case 'string':
      if (typeof v === 'string' && (s.format === 'date-time' || s.format === 'date')) {
        const d = new Date(v);
        return Number.isNaN(d.getTime()) ? v : d;
      }
      if (typeof v === 'string' && s.format === 'duration') {
        try {
          return durationOf(v);
        } catch {
          return v;
        }
      }
      return v;
    case 'array': {
      if (!Array.isArray(v)) return v;
      const items = itemsOf(s);
      return v.map((x) => toCel(x, items));
    }
    case 'object': {
      if (!isObject(v)) return v;
      const out: Record<string, unknown> = {};
      const extra = additionalPropertiesOf(s);
      for (const [k, x] of Object.entries(v)) out[k] = toCel(x, s.properties?.[k] ?? extra);
      return out;
    }
    default:
      return dynToCel(v, s);
  }
}

function dynToCel(v: unknown, s: JSONSchemaProps | undefined): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map((x) => toCel(x, itemsOf(s)));
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toCel(x, s?.properties?.[k] ?? additionalPropertiesOf(s));
    return out;
  }
  return v;
}
