// The Kubernetes CEL libraries (upstream apiserver/pkg/cel/library) that validation rules use in
// practice, added to a cel-js Environment. cel-js already has the standard functions and macros,
// strings' lowerAscii/upperAscii/trim/split/substring/indexOf/lastIndexOf/join, timestamps and
// durations, and optionals. Added here: lists (isSorted, sum, min, max, indexOf, lastIndexOf),
// strings (charAt, replace, reverse), regex (find, findAll), URLs (url, isURL and accessors) and
// quantities (quantity, isQuantity, compareTo, isLessThan, isGreaterThan, add, sub, asInteger,
// asApproximateFloat, sign, isInteger). Not supported: ip/cidr, sets.*, format, authz.

import type { Environment } from '@marcbachmann/cel-js';
import { addQuantities, compareQuantities, parseQuantity, quantityError, subtractQuantities, quantityFromInt, Quantity as KQuantity } from '../../machinery/quantity.ts';
import { compiledPattern } from '../schema/patterns.ts';

/** A URL value (upstream's kubernetes URL type). */
export class CelURL {
  constructor(readonly url: URL) {}
}

/** A resource quantity value. */
export class CelQuantity {
  constructor(readonly q: KQuantity) {}
}

function fail(message: string): never {
  throw new Error(message);
}

function regex(pattern: string): RegExp {
  const re = compiledPattern(pattern);
  if (!re) fail(`invalid regular expression: ${pattern}`);
  return re;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  return fail('no such overload for comparison');
}

function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint' || typeof a === 'number') return typeof b === typeof a && a === b;
  return JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) === JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

function parseURL(s: string): URL | undefined {
  // Upstream accepts absolute URIs and absolute paths ("/path").
  try {
    return s.startsWith('/') ? new URL(s, 'relative:///') : new URL(s);
  } catch {
    return undefined;
  }
}

export function registerKubernetesLibrary(env: Environment): Environment {
  // lists
  env.registerFunction('list<A>.isSorted(): bool', (l: unknown[]) => l.every((v, i) => i === 0 || compare(l[i - 1], v) <= 0));
  env.registerFunction('list<int>.sum(): int', (l: bigint[]) => l.reduce((a, b) => a + b, 0n));
  env.registerFunction('list<double>.sum(): double', (l: number[]) => l.reduce((a, b) => a + b, 0));
  env.registerFunction('list<A>.min(): A', (l: unknown[]) => (l.length ? l.reduce((a, b) => (compare(a, b) <= 0 ? a : b)) : fail('min called on empty list')));
  env.registerFunction('list<A>.max(): A', (l: unknown[]) => (l.length ? l.reduce((a, b) => (compare(a, b) >= 0 ? a : b)) : fail('max called on empty list')));
  env.registerFunction('list<A>.indexOf(A): int', (l: unknown[], v: unknown) => BigInt(l.findIndex((x) => equal(x, v))));
  env.registerFunction('list<A>.lastIndexOf(A): int', (l: unknown[], v: unknown) => {
    for (let i = l.length - 1; i >= 0; i--) if (equal(l[i], v)) return BigInt(i);
    return -1n;
  });
  // strings
  env.registerFunction('string.charAt(int): string', (s: string, i: bigint) => {
    const chars = [...s];
    if (i < 0n || i > BigInt(chars.length)) fail(`index out of range: ${i}`);
    return chars[Number(i)] ?? '';
  });
  env.registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) => s.split(a).join(b));
  env.registerFunction('string.replace(string, string, int): string', (s: string, a: string, b: string, n: bigint) => {
    if (n < 0n) return s.split(a).join(b);
    let out = s;
    let from = 0;
    for (let k = 0n; k < n; k++) {
      const at = out.indexOf(a, from);
      if (at < 0) break;
      out = out.slice(0, at) + b + out.slice(at + a.length);
      from = at + b.length;
    }
    return out;
  });
  env.registerFunction('string.reverse(): string', (s: string) => [...s].reverse().join(''));
  // regex
  env.registerFunction('string.find(string): string', (s: string, p: string) => regex(p).exec(s)?.[0] ?? '');
  env.registerFunction('string.findAll(string): list<string>', (s: string, p: string) => [...s.matchAll(new RegExp(regex(p).source, `${regex(p).flags.replace('g', '')}g`))].map((m) => m[0]));
  env.registerFunction('string.findAll(string, int): list<string>', (s: string, p: string, n: bigint) => {
    const all = [...s.matchAll(new RegExp(regex(p).source, `${regex(p).flags.replace('g', '')}g`))].map((m) => m[0]);
    return n < 0n ? all : all.slice(0, Number(n));
  });
  // URLs
  env.registerType('URL', CelURL);
  env.registerFunction('isURL(string): bool', (s: string) => parseURL(s) !== undefined);
  env.registerFunction('url(string): URL', (s: string) => new CelURL(parseURL(s) ?? fail(`URL parse error during conversion from string: ${s}`)));
  env.registerFunction('URL.getScheme(): string', (u: CelURL) => (u.url.protocol === 'relative:' ? '' : u.url.protocol.replace(/:$/, '')));
  env.registerFunction('URL.getHost(): string', (u: CelURL) => u.url.host);
  env.registerFunction('URL.getHostname(): string', (u: CelURL) => u.url.hostname.replace(/^\[|\]$/g, ''));
  env.registerFunction('URL.getPort(): string', (u: CelURL) => u.url.port);
  env.registerFunction('URL.getEscapedPath(): string', (u: CelURL) => u.url.pathname);
  env.registerFunction('URL.getQuery(): map<string, list<string>>', (u: CelURL) => {
    const out: Record<string, string[]> = {};
    for (const [k, v] of u.url.searchParams) (out[k] ??= []).push(v);
    return out;
  });
  // quantities
  env.registerType('Quantity', CelQuantity);
  env.registerFunction('isQuantity(string): bool', (s: string) => quantityError(s) === undefined);
  env.registerFunction('quantity(string): Quantity', (s: string) => {
    try {
      return new CelQuantity(parseQuantity(s));
    } catch {
      return fail(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
    }
  });
  const cmp = (a: CelQuantity, b: CelQuantity) => compareQuantities(a.q, b.q);
  env.registerFunction('Quantity.compareTo(Quantity): int', (a: CelQuantity, b: CelQuantity) => BigInt(cmp(a, b)));
  env.registerFunction('Quantity.isLessThan(Quantity): bool', (a: CelQuantity, b: CelQuantity) => cmp(a, b) < 0);
  env.registerFunction('Quantity.isGreaterThan(Quantity): bool', (a: CelQuantity, b: CelQuantity) => cmp(a, b) > 0);
  env.registerFunction('Quantity.add(Quantity): Quantity', (a: CelQuantity, b: CelQuantity) => new CelQuantity(addQuantities(a.q, b.q)));
  env.registerFunction('Quantity.add(int): Quantity', (a: CelQuantity, b: bigint) => new CelQuantity(addQuantities(a.q, quantityFromInt(b))));
  env.registerFunction('Quantity.sub(Quantity): Quantity', (a: CelQuantity, b: CelQuantity) => new CelQuantity(subtractQuantities(a.q, b.q)));
  env.registerFunction('Quantity.sub(int): Quantity', (a: CelQuantity, b: bigint) => new CelQuantity(subtractQuantities(a.q, quantityFromInt(b))));
  env.registerFunction('Quantity.sign(): int', (a: CelQuantity) => BigInt(a.q.nanos > 0n ? 1 : a.q.nanos < 0n ? -1 : 0));
  env.registerFunction('Quantity.isInteger(): bool', (a: CelQuantity) => a.q.nanos % 1_000_000_000n === 0n);
  env.registerFunction('Quantity.asInteger(): int', (a: CelQuantity) =>
    a.q.nanos % 1_000_000_000n === 0n ? a.q.nanos / 1_000_000_000n : fail('cannot convert value to integer'),
  );
  env.registerFunction('Quantity.asApproximateFloat(): double', (a: CelQuantity) => Number(a.q.nanos) / 1e9);
  return env;
}
