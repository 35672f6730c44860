// Static cost estimation of validation rules, in the spirit of cel-go's checker/cost.go as
// upstream applies it to CRDs: every list, map and string a rule touches is assumed as large as
// the schema allows (maxItems, maxProperties, maxLength), or, without a bound, as large as fits
// in a request (3 MiB); comprehensions multiply by the size they iterate; string functions cost a
// tenth of the string length; regular expressions the string's length times the pattern's.
// The numbers are estimates of the same order as upstream's, not identical ones.

import type { ASTNode } from '@marcbachmann/cel-js';
import { additionalPropertiesOf, itemsOf, type JSONSchemaProps } from '../schema/types.ts';

/** Upstream's limits: per rule (times how often it runs), and for all rules of a schema. */
export const perRuleCostLimit = 10_000_000;
export const perCRDCostLimit = 100_000_000;
const maxRequestBytes = 3 * 1024 * 1024;

/** Smallest JSON encoding of a value of this schema, for sizing unbounded lists and maps. */
function minSerializedSize(s: JSONSchemaProps | undefined): number {
  if (!s) return 1;
  switch (s.type) {
    case 'string':
      return 2; // ""
    case 'boolean':
      return 4; // true
    case 'object':
    case 'array':
      return 2; // {} []
    default:
      return 1; // 0
  }
}

/** How many items/properties a list/map may hold: its bound, or what fits in a request. */
export function maxSize(s: JSONSchemaProps | undefined): number {
  if (!s) return maxRequestBytes;
  if (s.type === 'array') return s.maxItems ?? Math.floor(maxRequestBytes / (minSerializedSize(itemsOf(s)) + 1));
  if (s.type === 'string') return s.maxLength !== undefined ? s.maxLength * 4 : maxRequestBytes - 2; // bytes, as upstream counts
  if (s.type === 'object') return s.maxProperties ?? Math.floor(maxRequestBytes / (minSerializedSize(additionalPropertiesOf(s)) + 5));
  return 1;
}

/** What the estimator knows about a sub-expression: the schema it denotes (when it is data). */
interface Shape {
  schema?: JSONSchemaProps;
  /** Literal string length, for regex patterns. */
  literal?: string;
  /** Size bound for lists/maps/strings built by the expression itself. */
  size?: number;
}

interface Estimate {
  cost: number;
  shape: Shape;
}

const stringFunctions = new Set([
  'contains',
  'startsWith',
  'endsWith',
  'indexOf',
  'lastIndexOf',
  'lowerAscii',
  'upperAscii',
  'trim',
  'replace',
  'split',
  'substring',
  'charAt',
  'reverse',
  'join',
]);
const regexFunctions = new Set(['matches', 'find', 'findAll']);
const comprehensions = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

function sizeOf(sh: Shape): number {
  if (sh.size !== undefined) return sh.size;
  if (sh.literal !== undefined) return sh.literal.length;
  return maxSize(sh.schema);
}

function elementSchema(s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  if (!s) return undefined;
  if (s.type === 'array') return itemsOf(s);
  if (s.type === 'object') return { type: 'string' }; // maps iterate over keys
  return undefined;
}

export class CostEstimator {
  private vars = new Map<string, JSONSchemaProps | undefined>();

  constructor(self: JSONSchemaProps | undefined) {
    this.vars.set('self', self);
    this.vars.set('oldSelf', self);
  }

  estimate(node: ASTNode): number {
    return Math.ceil(this.walk(node).cost);
  }

  private walk(n: ASTNode): Estimate {
    const a = n.args as any;
    switch (n.op) {
      case 'value':
        return { cost: 0, shape: typeof a === 'string' ? { literal: a } : {} };
      case 'id':
        return { cost: 1, shape: { schema: this.vars.get(a as string) } };
      case '.':
      case '.?': {
        const base = this.walk(a[0]);
        const s = base.shape.schema;
        const child = s?.properties?.[a[1]] ?? additionalPropertiesOf(s);
        return { cost: base.cost + 1, shape: { schema: child } };
      }
      case '[]':
      case '[?]': {
        const base = this.walk(a[0]);
        const idx = this.walk(a[1]);
        const s = base.shape.schema;
        const child = s?.type === 'array' ? itemsOf(s) : (additionalPropertiesOf(s) ?? (typeof a[1]?.args === 'string' ? s?.properties?.[a[1].args] : undefined));
        return { cost: base.cost + idx.cost + 1, shape: { schema: child } };
      }
      case 'list': {
        const items = (a as ASTNode[]).map((x) => this.walk(x));
        return { cost: 1 + items.reduce((t, e) => t + e.cost, 0), shape: { size: items.length } };
      }
      case 'map': {
        let cost = 1;
        for (const [k, v] of a as [ASTNode, ASTNode][]) cost += this.walk(k).cost + this.walk(v).cost;
        return { cost, shape: { size: (a as unknown[]).length } };
      }
      case '?:': {
        const [c, t, f] = (a as ASTNode[]).map((x) => this.walk(x));
        return { cost: c.cost + Math.max(t.cost, f.cost), shape: t.cost >= f.cost ? t.shape : f.shape };
      }
      case '&&':
      case '||': {
        const [l, r] = (a as ASTNode[]).map((x) => this.walk(x));
        return { cost: l.cost + r.cost, shape: {} };
      }
      case '!_':
      case '-_':
        return { cost: this.walk(a as ASTNode).cost + 1, shape: {} };
      case '==':
      case '!=': {
        const [l, r] = (a as ASTNode[]).map((x) => this.walk(x));
        const traverse = l.shape.schema?.type === 'string' || l.shape.schema?.type === 'array' || l.shape.schema?.type === 'object' ? 0.1 * Math.min(sizeOf(l.shape), sizeOf(r.shape)) : 0;
        return { cost: l.cost + r.cost + 1 + traverse, shape: {} };
      }
      case 'in': {
        const [l, r] = (a as ASTNode[]).map((x) => this.walk(x));
        const linear = r.shape.schema?.type === 'array' || r.shape.size !== undefined ? sizeOf(r.shape) : 1;
        return { cost: l.cost + r.cost + linear, shape: {} };
      }
      case '+': {
        const [l, r] = (a as ASTNode[]).map((x) => this.walk(x));
        const concat = l.shape.schema?.type === 'string' || l.shape.schema?.type === 'array' ? 0.1 * (sizeOf(l.shape) + sizeOf(r.shape)) : 0;
        return { cost: l.cost + r.cost + 1 + concat, shape: concat ? { size: sizeOf(l.shape) + sizeOf(r.shape) } : {} };
      }
      case 'call':
        return this.call(a[0] as string, undefined, a[1] as ASTNode[]);
      case 'rcall':
        return this.call(a[0] as string, a[1] as ASTNode, a[2] as ASTNode[]);
      default: {
        // the remaining binary operators
        const [l, r] = (a as ASTNode[]).map((x) => this.walk(x));
        return { cost: l.cost + r.cost + 1, shape: {} };
      }
    }
  }

  private call(name: string, receiver: ASTNode | undefined, args: ASTNode[]): Estimate {
    if (receiver && comprehensions.has(name) && args.length >= 2 && args[0].op === 'id') {
      const range = this.walk(receiver);
      const v = args[0].args as string;
      const saved = this.vars.get(v);
      const hadVar = this.vars.has(v);
      this.vars.set(v, elementSchema(range.shape.schema));
      let body = 0;
      for (const b of args.slice(1)) body += this.walk(b).cost;
      if (hadVar) this.vars.set(v, saved);
      else this.vars.delete(v);
      const n = sizeOf(range.shape);
      const out: Shape = name === 'map' || name === 'filter' ? { size: n } : {};
      return { cost: range.cost + n * (body + 1), shape: out };
    }
    if (name === 'has') return { cost: args.length ? this.walk(args[0]).cost : 1, shape: {} };
    const recv = receiver ? this.walk(receiver) : undefined;
    const ests = args.map((x) => this.walk(x));
    let cost = 1 + (recv?.cost ?? 0) + ests.reduce((t, e) => t + e.cost, 0);
    const target = recv ?? ests[0];
    if (regexFunctions.has(name)) {
      const str = recv ?? ests[0];
      const pat = receiver ? ests[0] : ests[1];
      cost += Math.ceil(1 + 0.25 * sizeOf(str?.shape ?? {})) * Math.ceil(1 + 0.25 * sizeOf(pat?.shape ?? {}));
      return { cost, shape: {} };
    }
    if (stringFunctions.has(name) && target) cost += 0.1 * sizeOf(target.shape);
    if (name === 'isSorted' || name === 'sum' || name === 'min' || name === 'max' || name === 'indexOf' || name === 'lastIndexOf') {
      if (target?.shape.schema?.type === 'array') cost += sizeOf(target.shape);
    }
    if (name === 'size') return { cost, shape: {} };
    if (name === 'split' && target) return { cost, shape: { size: sizeOf(target.shape) } };
    return { cost, shape: {} };
  }
}

/**
 * How many times a rule at this depth may run: the product of the sizes of the lists and maps
 * around it (1 at the root).
 */
export function cardinality(sizes: number[]): number {
  return sizes.reduce((a, b) => a * b, 1);
}

/** Upstream's wording for a cost over budget. */
export function costErrorMessage(what: string, cost: number, limit: number): string {
  const f = cost / limit;
  const factor = f > 100 ? 'more than 100x' : f < 1.5 ? `${f.toFixed(6)}x` : `${f.toFixed(1)}x`;
  return `${what} exceeds budget by factor of ${factor} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`;
}
