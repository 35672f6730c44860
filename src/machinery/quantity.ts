// resource.Quantity: exact fixed-point amounts ("100m", "1.5Gi", "1e3") as upstream's
// apimachinery resource package defines them. Values are held as a BigInt count of nano units,
// which is exact because upstream rounds every parsed value up to the nearest nano.

import { errors } from './errors.ts';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

const NANO = 1_000_000_000n;

export class Quantity {
  /** Amount in units of 1e-9. */
  readonly nanos: bigint;
  /** How the amount prints; taken from the suffix it was written with. */
  readonly format: QuantityFormat;

  constructor(nanos: bigint, format: QuantityFormat = 'DecimalSI') {
    this.nanos = nanos;
    this.format = format;
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  /** Canonical form, e.g. "100m", "1536Mi", "1e3". */
  toString(): string {
    return canonicalString(this.nanos, this.format);
  }

  toJSON(): string {
    return this.toString();
  }
}

const quantityFormatMessage = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const quantitySuffixMessage = "unable to parse quantity's suffix";

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalSuffixByExp: Record<number, string> = Object.fromEntries(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binarySuffixByExp: Record<number, string> = { 0: '', 10: 'Ki', 20: 'Mi', 30: 'Gi', 40: 'Ti', 50: 'Pi', 60: 'Ei' };

const numberRe = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/s;
const suffixShapeRe = /^[eEinumkKMGTP]*[-+]?[0-9]*$/;
// Beyond this, BigInt arithmetic would get absurdly large; upstream cannot store such values usefully either.
const maxExponent = 1000;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Integer division rounding the magnitude up (away from zero), like upstream's RoundUp. */
function divAwayFromZero(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b === a ? q : a < 0n ? q - 1n : q + 1n;
}

/** Parses a quantity string; throws a 400 StatusError with upstream's message when invalid. */
export function parseQuantity(s: string): Quantity {
  const q = tryParseQuantity(s);
  if (typeof q === 'string') throw errors.badRequest(q);
  return q;
}

export function isValidQuantity(s: unknown): boolean {
  if (typeof s === 'number') return Number.isFinite(s);
  return typeof s === 'string' && typeof tryParseQuantity(s) !== 'string';
}

/** The parse error message for an invalid quantity, or undefined when valid (for validation). */
export function quantityError(s: string): string | undefined {
  const q = tryParseQuantity(s);
  return typeof q === 'string' ? q : undefined;
}

// Parses by text: a cluster's manifests repeat a handful of quantities ("100m", "64Mi"), each read
// several times per write (validation, QoS class, defaults), and Quantity is immutable.
const parsed = new Map<string, Quantity | string>();
const maxParsed = 1024;

function tryParseQuantity(s: string): Quantity | string {
  let q = parsed.get(s);
  if (q === undefined) {
    q = parseUncached(s);
    if (parsed.size >= maxParsed) parsed.clear();
    parsed.set(s, q);
  }
  return q;
}

function parseUncached(s: string): Quantity | string {
  if (s.length === 0) return quantityFormatMessage;
  const m = numberRe.exec(s);
  if (!m) return quantityFormatMessage;
  const [, sign, intPart, fracPart = '', suffix] = m;
  if (intPart.length === 0 && fracPart.length === 0) return quantityFormatMessage;
  if (!suffixShapeRe.test(suffix)) return quantityFormatMessage;

  let format: QuantityFormat;
  let exp10 = 0;
  let exp2 = 0;
  if (suffix in decimalSuffixes) {
    format = 'DecimalSI';
    exp10 = decimalSuffixes[suffix];
  } else if (suffix in binarySuffixes) {
    format = 'BinarySI';
    exp2 = binarySuffixes[suffix];
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    format = 'DecimalExponent';
    exp10 = Number(suffix.slice(1));
    if (!Number.isSafeInteger(exp10) || Math.abs(exp10) > maxExponent) return quantitySuffixMessage;
  } else {
    return quantitySuffixMessage;
  }

  // value = digits * 10^(exp10 - fracLen) * 2^exp2; scale to nanos, rounding up.
  let amount = BigInt((intPart || '0') + fracPart) * (1n << BigInt(exp2));
  const scale = exp10 - fracPart.length + 9;
  amount = scale >= 0 ? amount * pow10(scale) : divAwayFromZero(amount, pow10(-scale));
  if (sign === '-') amount = -amount;
  return new Quantity(amount, format);
}

/**
 * Accepts a quantity as it appears in decoded JSON: a string (trimmed, as upstream's
 * UnmarshalJSON does), a number (e.g. `cpu: 1`), or null (zero).
 */
export function quantityFromJSON(v: unknown): Quantity {
  if (v === null || v === undefined) return new Quantity(0n);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw errors.badRequest(quantityFormatMessage);
    return parseQuantity(String(v));
  }
  if (typeof v === 'string') return parseQuantity(v.trim());
  if (v instanceof Quantity) return v;
  throw errors.badRequest(quantityFormatMessage);
}

/** Canonical string for a JSON quantity value (number or string). */
export function canonicalizeQuantity(v: unknown): string {
  return quantityFromJSON(v).toString();
}

function canonicalString(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return '0';
  const abs = nanos < 0n ? -nanos : nanos;
  if (format === 'BinarySI') {
    // Small or fractional binary amounts print as decimal so nothing is rounded.
    if (abs >= 1024n * NANO && abs % NANO === 0n) {
      let v = nanos / NANO;
      let e = 0;
      while (e < 60 && v % 1024n === 0n) {
        v /= 1024n;
        e += 10;
      }
      return `${v}${binarySuffixByExp[e]}`;
    }
    format = 'DecimalSI';
  }
  let mantissa = nanos;
  let e = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    e++;
  }
  // Lower the exponent to a multiple of three so a standard suffix applies.
  const r = ((e % 3) + 3) % 3;
  mantissa *= pow10(r);
  e -= r;
  if (format === 'DecimalExponent') return e === 0 ? `${mantissa}` : `${mantissa}e${e}`;
  if (e > 18) {
    mantissa *= pow10(e - 18);
    e = 18;
  }
  return `${mantissa}${decimalSuffixByExp[e]}`;
}

/** Upstream Value(): whole units, rounded away from zero. */
export function quantityValue(q: Quantity): number {
  return Number(divAwayFromZero(q.nanos, NANO));
}

/** Upstream MilliValue(): thousandths, rounded away from zero. */
export function quantityToMilli(q: Quantity): number {
  return Number(divAwayFromZero(q.nanos, 1_000_000n));
}

/** Sum; the result keeps a's format unless a is zero (then b's), like upstream's Add. */
export function addQuantities(a: Quantity, b: Quantity): Quantity {
  return new Quantity(a.nanos + b.nanos, a.isZero() ? b.format : a.format);
}

export function subtractQuantities(a: Quantity, b: Quantity): Quantity {
  return new Quantity(a.nanos - b.nanos, a.isZero() ? b.format : a.format);
}

/** -1, 0 or 1. */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** A Quantity from whole units (e.g. for computed values). */
export function quantityFromInt(n: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return new Quantity(BigInt(n) * NANO, format);
}

/** A Quantity from thousandths (e.g. CPU millicores). */
export function quantityFromMilli(n: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return new Quantity(BigInt(n) * 1_000_000n, format);
}
