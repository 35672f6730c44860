// Field selectors (`?fieldSelector=metadata.name=foo,status.phase!=Running`), following
// upstream's apimachinery fields package: only `=`, `==` and `!=`, terms joined by commas,
// and `\` escaping for `\`, `,` and `=` inside values.

import { errors, StatusError } from './errors.ts';

export type FieldOperator = '=' | '==' | '!=';

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  /** Unescaped value. */
  readonly value: string;
}

export class FieldSelector {
  /** Terms sorted the way upstream sorts them (by their raw text). */
  readonly requirements: readonly FieldRequirement[];

  constructor(requirements: readonly FieldRequirement[]) {
    this.requirements = requirements;
  }

  empty(): boolean {
    return this.requirements.length === 0;
  }

  /**
   * `get` returns the object's value for a field label; a missing field compares as "",
   * as upstream's fields.Set does.
   */
  matches(get: (field: string) => string | undefined): boolean {
    return this.requirements.every((r) => {
      const v = get(r.field) ?? '';
      return r.operator === '!=' ? v !== r.value : v === r.value;
    });
  }

  /** Value required for a field by an `=`/`==` term (e.g. metadata.name for a single-object watch). */
  requiresExactMatch(fieldName: string): string | undefined {
    for (const r of this.requirements) if (r.field === fieldName && r.operator !== '!=') return r.value;
    return undefined;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeFieldValue(r.value)}`).join(',');
  }
}

/** Escapes `\`, `,` and `=` so a value can be embedded in a selector string. */
export function escapeFieldValue(v: string): string {
  return v.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** Reverses escapeFieldValue; unescaped `,`/`=` and unknown escapes are errors, as upstream. */
export function unescapeFieldValue(s: string): string {
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw new Error(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') throw new Error(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw new Error('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas that are not escaped, keeping escapes in the pieces. */
function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** The first operator found scanning left to right; at one position `!=` beats `==` beats `=`. */
function splitTerm(term: string): [string, FieldOperator, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

/** Parses a field selector string; throws a 400 StatusError on bad syntax. "" selects everything. */
export function parseFieldSelector(s: string): FieldSelector {
  const parts = splitTerms(s).sort();
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    const [lhs, op, rhs] = split;
    let value: string;
    try {
      value = unescapeFieldValue(rhs);
    } catch (e) {
      throw errors.badRequest((e as Error).message);
    }
    reqs.push({ field: lhs, operator: op, value });
  }
  return new FieldSelector(reqs);
}

/** Upstream's message for a field label the resource does not index. */
export function fieldLabelNotSupported(label: string): StatusError {
  return errors.badRequest(`field label not supported: ${label}`);
}

/** Throws 400 `field label not supported: <field>` for the first unsupported field. */
export function checkFieldSelectorSupported(sel: FieldSelector, supported: Iterable<string>): void {
  const ok = new Set(supported);
  for (const r of sel.requirements) if (!ok.has(r.field)) throw fieldLabelNotSupported(r.field);
}
