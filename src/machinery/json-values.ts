// Decoded JSON values from clients: how deeply they nest, and copying, comparing and writing them
// without recursion limits. Upstream's JSON decoder refuses more than 10,000 levels of objects and
// arrays; Mizzen refuses the same with a 400, and whatever it accepts must also be copied,
// compared and stored — JavaScript's own recursion (JSON.stringify, structuredClone, a recursive
// walk) runs out of stack at a few thousand levels on Node's default stack.

import { errors, type StatusError } from './errors.ts';

/** Upstream's limit (Go's encoding/json maxNestingDepth): a value may nest this many levels. */
export const maxNestingDepth = 10_000;

type Container = Record<string, unknown> | unknown[];

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

/** Levels of objects and arrays in v (a scalar is 0, `{}` is 1); counting stops once past `limit`. */
export function nestingDepth(v: unknown, limit = Infinity): number {
  let max = 0;
  const values: unknown[] = [v];
  const depths: number[] = [0];
  while (values.length) {
    const x = values.pop();
    const d = depths.pop()! + 1;
    if (!isContainer(x)) continue;
    if (d > max) {
      max = d;
      if (max > limit) return max;
    }
    if (Array.isArray(x)) {
      for (const y of x) if (isContainer(y)) (values.push(y), depths.push(d));
    } else {
      for (const k in x) {
        const y = x[k];
        if (isContainer(y)) (values.push(y), depths.push(d));
      }
    }
  }
  return max;
}

/** The 400 for a body or patch that nests deeper than upstream's decoder accepts. */
export function tooDeeplyNested(what: string): StatusError {
  return errors.badRequest(`${what} is nested too deeply: it has more than ${maxNestingDepth} levels of objects and arrays, the most Kubernetes accepts`);
}

/**
 * Refuse a decoded value nested deeper than upstream accepts. `textBytes`, the size of the text it
 * was decoded from, skips the walk when the text is too short to nest that deep (each level takes
 * at least two characters of JSON, and one of YAML).
 */
export function checkNesting(v: unknown, what: string, textBytes?: number, bytesPerLevel = 2): void {
  if (textBytes !== undefined && textBytes < bytesPerLevel * (maxNestingDepth + 1)) return;
  if (nestingDepth(v, maxNestingDepth) > maxNestingDepth) throw tooDeeplyNested(what);
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** JSON.stringify for decoded JSON values at any depth (the native one gives up at a few thousand levels). */
export function stringifyJSON(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch (e) {
    if (!isStackOverflow(e)) throw e;
    return stringifyDeep(v);
  }
}

/** JSON.stringify's output for plain JSON values, with an explicit stack. */
function stringifyDeep(root: unknown): string {
  const out: string[] = [];
  // Work items: a value to write, or a literal to emit.
  const work: ({ v: unknown } | string)[] = [{ v: root }];
  while (work.length) {
    const item = work.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    const v = item.v;
    if (!isContainer(v) || typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      out.push(JSON.stringify(v) ?? 'null');
      continue;
    }
    const parts: ({ v: unknown } | string)[] = [];
    if (Array.isArray(v)) {
      parts.push('[');
      v.forEach((x, i) => {
        if (i > 0) parts.push(',');
        parts.push(x === undefined || typeof x === 'function' || typeof x === 'symbol' ? 'null' : { v: x });
      });
      parts.push(']');
    } else {
      parts.push('{');
      let first = true;
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        parts.push(`${first ? '' : ','}${JSON.stringify(k)}:`, { v: x });
        first = false;
      }
      parts.push('}');
    }
    for (let i = parts.length - 1; i >= 0; i--) work.push(parts[i]);
  }
  return out.join('');
}

/** A deep copy of a decoded JSON value, at any depth. */
export function cloneJSON<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(stringifyJSON(v)) as T);
}

/** Deep equality of decoded JSON values (key order ignored), at any depth. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  try {
    return equalRecursive(a, b);
  } catch (e) {
    if (!isStackOverflow(e)) throw e;
    return equalDeep(a, b);
  }
}

function equalRecursive(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!equalRecursive(a[i], bb[i])) return false;
    return true;
  }
  const ak = Object.keys(a as object);
  const bk = Object.keys(b as object);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (!equalRecursive((a as any)[k], (b as any)[k])) return false;
  return true;
}

function equalDeep(a: unknown, b: unknown): boolean {
  const pairs: unknown[] = [a, b];
  while (pairs.length) {
    const y = pairs.pop();
    const x = pairs.pop();
    if (x === y) continue;
    if (typeof x !== typeof y || !isContainer(x) || !isContainer(y) || Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x)) {
      const yy = y as unknown[];
      if (x.length !== yy.length) return false;
      for (let i = 0; i < x.length; i++) pairs.push(x[i], yy[i]);
    } else {
      const xk = Object.keys(x);
      if (xk.length !== Object.keys(y).length) return false;
      for (const k of xk) {
        if (!Object.prototype.hasOwnProperty.call(y, k)) return false;
        pairs.push((x as any)[k], (y as any)[k]);
      }
    }
  }
  return true;
}

/**
 * A copy of `v` made without recursion, with `keep(key, value, parent)` deciding for each object
 * member whether it stays (arrays keep all elements), and `dropObject(obj)` whether an object
 * (anywhere below the root) is left out altogether. Used to strip nulls and patch directives from
 * values taken out of a patch.
 */
export function copyFiltered(
  v: unknown,
  keep: (key: string, value: unknown) => boolean,
  dropObject: (obj: Record<string, unknown>) => boolean = () => false,
): unknown {
  if (!isContainer(v)) return v;
  const root: Container = Array.isArray(v) ? [] : {};
  const src: Container[] = [v as Container];
  const dst: Container[] = [root];
  while (src.length) {
    const from = src.pop()!;
    const to = dst.pop()!;
    const add = (x: unknown, put: (y: unknown) => void) => {
      if (!isContainer(x)) return put(x);
      if (!Array.isArray(x) && dropObject(x as Record<string, unknown>)) return;
      const copy: Container = Array.isArray(x) ? [] : {};
      put(copy);
      src.push(x as Container);
      dst.push(copy);
    };
    if (Array.isArray(from)) {
      for (const x of from) add(x, (y) => (to as unknown[]).push(y));
    } else {
      for (const k of Object.keys(from)) {
        const x = from[k];
        if (!keep(k, x)) continue;
        add(x, (y) => ((to as Record<string, unknown>)[k] = y));
      }
    }
  }
  return root;
}
