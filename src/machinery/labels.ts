// Label selectors: the string form clients send in `?labelSelector=` and the structured
// metav1.LabelSelector found in specs. Semantics and error texts follow upstream's
// apimachinery labels package so kubectl users see familiar messages.

import { errors, field, type FieldError } from './errors.ts';
import { isQualifiedName, isValidLabelValue, validateLabels } from '../api/validation.ts';

/** Upstream's selection.Operator spellings. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

/** metav1.LabelSelector as it appears in JSON. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] | null }> | null;
}

export type Labels = Record<string, string> | undefined | null;

export class LabelSelector {
  /** Requirements sorted by key (all must hold). Empty for everything and nothing. */
  readonly requirements: readonly LabelRequirement[];
  /** True for the selector that matches no object (a null metav1.LabelSelector). */
  readonly selectsNothing: boolean;

  constructor(requirements: readonly LabelRequirement[], selectsNothing = false) {
    // Stable sort by key so the string form is deterministic, as upstream sorts too.
    this.requirements = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.selectsNothing = selectsNothing;
  }

  /** True when the selector places no constraint (matches everything). */
  empty(): boolean {
    return !this.selectsNothing && this.requirements.length === 0;
  }

  matches(labels: Labels): boolean {
    if (this.selectsNothing) return false;
    const ls = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, ls));
  }

  toString(): string {
    return this.requirements.map(requirementToString).join(',');
  }
}

const everything = new LabelSelector([]);
const nothing = new LabelSelector([], true);

/** Matches every object (upstream labels.Everything()). */
export function everythingSelector(): LabelSelector {
  return everything;
}

/** Matches no object (upstream labels.Nothing()). */
export function nothingSelector(): LabelSelector {
  return nothing;
}

function has(ls: Record<string, string>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(ls, k);
}

const int64Re = /^[+-]?[0-9]+$/;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64) or undefined. */
function parseInt64(s: string): bigint | undefined {
  if (!int64Re.test(s)) return undefined;
  const v = BigInt(s);
  return v < int64Min || v > int64Max ? undefined : v;
}

function requirementMatches(r: LabelRequirement, ls: Record<string, string>): boolean {
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has(ls, r.key) && r.values.includes(ls[r.key]);
    case 'notin':
    case '!=':
      return !has(ls, r.key) || !r.values.includes(ls[r.key]);
    case 'exists':
      return has(ls, r.key);
    case '!':
      return !has(ls, r.key);
    case 'gt':
    case 'lt': {
      if (!has(ls, r.key) || r.values.length !== 1) return false;
      const lv = parseInt64(ls[r.key]);
      const rv = parseInt64(r.values[0]);
      if (lv === undefined || rv === undefined) return false;
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
  }
}

function requirementToString(r: LabelRequirement): string {
  const values = [...r.values].sort();
  switch (r.operator) {
    case '!':
      return `!${r.key}`;
    case 'exists':
      return r.key;
    case 'in':
      return `${r.key} in (${values.join(',')})`;
    case 'notin':
      return `${r.key} notin (${values.join(',')})`;
    case 'gt':
      return `${r.key}>${values[0] ?? ''}`;
    case 'lt':
      return `${r.key}<${values[0] ?? ''}`;
    default:
      return `${r.key}${r.operator}${values[0] ?? ''}`;
  }
}

/** Upstream formats a field.Error list as one error, or `[a, b]` for several. */
function aggregate(errs: string[]): string {
  return errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
}

function fieldErrorText(path: string, value: unknown, detail: string): string {
  return `${path}: ${field.invalid(path, value, detail).detail}`;
}

/** Key check with upstream's wording; `path` is `<nil>` when parsing a string selector. */
function keyError(key: string, path: string): string | undefined {
  const msgs = isQualifiedName(key);
  return msgs.length ? fieldErrorText(path, key, msgs.join('; ')) : undefined;
}

/**
 * Builds one requirement, checking it the way upstream's NewRequirement does.
 * Returns the error text (without the "unable to parse requirement" prefix) on failure.
 */
function newRequirement(key: string, operator: LabelOperator, values: string[], keyPath: string): LabelRequirement | string {
  const errs: string[] = [];
  const kerr = keyError(key, keyPath);
  if (kerr) errs.push(kerr);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(fieldErrorText('values', values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(fieldErrorText('values', values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(fieldErrorText('values', values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(fieldErrorText('values', values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(fieldErrorText(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const msgs = isValidLabelValue(v);
    if (msgs.length) errs.push(fieldErrorText(`values[${i}][${key}]`, v, msgs.join('; ')));
  });
  if (errs.length) return aggregate(errs);
  return { key, operator, values };
}

// ---- String form: lexer ----

type Tok =
  | 'id'
  | 'in'
  | 'notin'
  | '('
  | ')'
  | ','
  | '!'
  | '='
  | '=='
  | '!='
  | '>'
  | '<'
  | 'eos'
  | 'error';

interface Scanned {
  tok: Tok;
  lit: string;
}

const symbolTokens: Record<string, Tok> = { '(': '(', ')': ')', ',': ',', '!': '!', '=': '=', '==': '==', '!=': '!=', '>': '>', '<': '<' };
const isSpecial = (c: string) => '=!(),><'.includes(c);
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';

function lex(s: string): Scanned[] {
  const out: Scanned[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && isSpace(s[i])) i++;
    if (i >= s.length) {
      out.push({ tok: 'eos', lit: '' });
      return out;
    }
    if (isSpecial(s[i])) {
      // Longest run of symbol characters that still forms a known token.
      let buf = '';
      let last: Scanned | undefined;
      while (i < s.length && isSpecial(s[i])) {
        const next = buf + s[i];
        if (symbolTokens[next]) {
          last = { tok: symbolTokens[next], lit: next };
          buf = next;
          i++;
        } else if (last) {
          break;
        } else {
          buf = next;
          i++;
        }
      }
      out.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
      continue;
    }
    const start = i;
    while (i < s.length && !isSpace(s[i]) && !isSpecial(s[i])) i++;
    const word = s.slice(start, i);
    out.push({ tok: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'id', lit: word });
  }
}

// ---- String form: parser (recursive descent over the scanned tokens) ----

class Parser {
  private pos = 0;
  constructor(private readonly items: Scanned[]) {}

  /** In value context the keywords `in`/`notin` are plain identifiers. */
  private view(t: Scanned, values: boolean): Scanned {
    return values && (t.tok === 'in' || t.tok === 'notin') ? { tok: 'id', lit: t.lit } : t;
  }
  lookahead(values = true): Scanned {
    return this.view(this.items[Math.min(this.pos, this.items.length - 1)], values);
  }
  consume(values = true): Scanned {
    const t = this.items[Math.min(this.pos, this.items.length - 1)];
    this.pos++;
    return this.view(t, values);
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const t = this.lookahead();
      if (t.tok === 'eos') return reqs;
      if (t.tok !== 'id' && t.tok !== '!') throw new Error(`found '${t.lit}', expected: !, identifier, or 'end of string'`);
      const r = this.requirement();
      if (typeof r === 'string') throw new Error(`unable to parse requirement: ${r}`);
      reqs.push(r);
      const sep = this.consume();
      if (sep.tok === 'eos') return reqs;
      if (sep.tok !== ',') throw new Error(`found '${sep.lit}', expected: ',' or 'end of string'`);
      const after = this.lookahead();
      if (after.tok !== 'id' && after.tok !== '!') throw new Error(`found '${after.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement | string {
    let t = this.consume();
    let negated = false;
    if (t.tok === '!') {
      negated = true;
      t = this.consume();
    }
    if (t.tok !== 'id') return `found '${t.lit}', expected: identifier`;
    const key = t.lit;
    const kerr = keyError(key, '<nil>');
    if (kerr) return kerr;
    const next = this.lookahead();
    if (next.tok === 'eos' || next.tok === ',') return newRequirement(key, negated ? '!' : 'exists', [], '<nil>');
    if (negated) {
      // `!key` takes no operator; anything else after it is a syntax error.
      return `found '${next.lit}', expected: ',' or 'end of string'`;
    }
    const opTok = this.consume(false);
    let op: LabelOperator;
    switch (opTok.tok) {
      case 'in':
        op = 'in';
        break;
      case 'notin':
        op = 'notin';
        break;
      case '=':
      case '==':
      case '!=':
        op = opTok.tok;
        break;
      case '>':
        op = 'gt';
        break;
      case '<':
        op = 'lt';
        break;
      default:
        return `found '${opTok.lit}', expected: in, notin, =, ==, !=, gt, lt`;
    }
    let values: string[];
    if (op === 'in' || op === 'notin') {
      const v = this.setValues();
      if (typeof v === 'string') return v;
      values = v;
    } else {
      const v = this.exactValue();
      if (typeof v === 'string') return v;
      values = v;
    }
    return newRequirement(key, op, values, '<nil>');
  }

  /** `( a, b, c )`; empty members count as the empty string, as upstream's parser does. */
  private setValues(): string[] | string {
    const open = this.consume();
    if (open.tok !== '(') return `found '${open.lit}' expected: '('`;
    const first = this.lookahead();
    if (first.tok === ')') {
      this.consume();
      return [''];
    }
    if (first.tok !== 'id' && first.tok !== ',') return `found '${first.lit}', expected: ',', ')' or identifier`;
    const set = new Set<string>();
    for (;;) {
      const t = this.consume();
      if (t.tok === 'id') {
        set.add(t.lit);
        const after = this.lookahead();
        if (after.tok === ')') break;
        if (after.tok === ',') continue;
        return `found '${after.lit}', expected: ',' or ')'`;
      } else if (t.tok === ',') {
        // A comma directly after '(' or another comma, or before ')', stands for an empty value.
        const prevIsSep = this.items[this.pos - 2]?.tok === ',' || this.items[this.pos - 2]?.tok === '(';
        if (prevIsSep) set.add('');
        const after = this.lookahead();
        if (after.tok === ')') {
          set.add('');
          break;
        }
        if (after.tok === ',' || after.tok === 'id') continue;
        return `found '${after.lit}', expected: ',', or identifier`;
      } else {
        return `found '${t.lit}', expected: ',', or identifier`;
      }
    }
    const close = this.consume();
    if (close.tok !== ')') return `found '${close.lit}', expected: ')'`;
    return [...set].sort();
  }

  private exactValue(): string[] | string {
    const t = this.lookahead();
    if (t.tok === 'eos' || t.tok === ',') return [''];
    const v = this.consume();
    if (v.tok === 'id') return [v.lit];
    return `found '${v.lit}', expected: identifier`;
  }
}

/**
 * Parses the string form (`a=b,c!=d,e in (x,y),f notin (z),g,!h,n>1`).
 * Throws a 400 StatusError with upstream's message on bad input. "" selects everything.
 */
export function parseLabelSelector(s: string): LabelSelector {
  try {
    return new LabelSelector(new Parser(lex(s)).parse());
  } catch (e) {
    throw errors.badRequest((e as Error).message);
  }
}

const objectOperators: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * Converts a metav1.LabelSelector (upstream LabelSelectorAsSelector): null/undefined selects
 * nothing, `{}` selects everything. Throws a 400 StatusError on an invalid selector.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | null | undefined): LabelSelector {
  if (sel === null || sel === undefined) return nothing;
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    const r = newRequirement(k, '=', [v], 'key');
    if (typeof r === 'string') throw errors.badRequest(r);
    reqs.push(r);
  }
  for (const expr of sel.matchExpressions ?? []) {
    const op = objectOperators[expr.operator];
    if (!op) throw errors.badRequest(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    const r = newRequirement(expr.key, op, [...(expr.values ?? [])], 'key');
    if (typeof r === 'string') throw errors.badRequest(r);
    reqs.push(r);
  }
  return reqs.length === 0 ? everything : new LabelSelector(reqs);
}

/**
 * Like labelSelectorFromObject, but a missing selector selects everything
 * (for optional filters where "unset" means "no constraint").
 */
export function labelSelectorFromObjectOrEverything(sel: LabelSelectorObject | null | undefined): LabelSelector {
  return sel === null || sel === undefined ? everything : labelSelectorFromObject(sel);
}

/**
 * Equality selector from a plain map (e.g. a Service's spec.selector), like upstream
 * SelectorFromSet: an empty or missing map selects everything.
 */
export function selectorFromSet(set: Record<string, string> | null | undefined): LabelSelector {
  return labelSelectorFromObject({ matchLabels: set ?? {} });
}

/**
 * Upstream's canonical string form: requirements sorted by key, set values sorted.
 * Accepts a parsed selector or a metav1.LabelSelector object (null -> "").
 */
export function selectorToString(sel: LabelSelector | LabelSelectorObject | null | undefined): string {
  if (sel instanceof LabelSelector) return sel.toString();
  return labelSelectorFromObject(sel).toString();
}

/** Upstream ValidateLabelSelector for a metav1.LabelSelector inside a spec. */
export function validateLabelSelector(sel: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (sel === null || sel === undefined) return errs;
  if (typeof sel !== 'object' || Array.isArray(sel)) return [field.invalid(path, sel, 'must be an object')];
  const s = sel as Record<string, unknown>;
  errs.push(...validateLabels(s.matchLabels, `${path}.matchLabels`));
  const exprs = s.matchExpressions;
  if (exprs === undefined || exprs === null) return errs;
  if (!Array.isArray(exprs)) return [...errs, field.invalid(`${path}.matchExpressions`, exprs, 'must be a list')];
  exprs.forEach((raw, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!raw || typeof raw !== 'object') return errs.push(field.invalid(p, raw, 'must be an object'));
    const e = raw as { key?: unknown; operator?: unknown; values?: unknown };
    const values = Array.isArray(e.values) ? e.values : [];
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(field.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(field.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(field.invalid(`${p}.operator`, e.operator ?? '', 'not a valid selector operator'));
    }
    const key = typeof e.key === 'string' ? e.key : '';
    for (const m of isQualifiedName(key)) errs.push(field.invalid(`${p}.key`, key, m));
    values.forEach((v: unknown, j: number) => {
      if (typeof v !== 'string') return errs.push(field.invalid(`${p}.values[${j}]`, v, 'must be a string'));
      for (const m of isValidLabelValue(v)) errs.push(field.invalid(`${p}.values[${j}]`, v, m));
    });
  });
  return errs;
}
