// Path elements of managed fields, in their serialized form: the keys of a `fieldsV1` object.
//
//   f:<name>        a field of an object (struct field or map key)
//   k:<json object> an item of an associative list, by its key fields (sorted by name)
//   v:<json value>  an item of a set (a list of scalars)
//   i:<index>       an item of an atomic list, by position
//
// A path element is handled as this string throughout: it is what fieldsV1 stores, it is a good
// Map/object key, and most operations never need it decoded. Ordering (for serialization) and
// human formatting (for conflict messages) decode it when they need to.

/** A path element as it appears as a key of `fieldsV1`. */
export type PathElement = string;

/** A field path: the path elements from the object's root. */
export type Path = readonly PathElement[];

// Field names repeat across objects: one string per name keeps object keys shared and hashed once.
const fieldElements = new Map<string, PathElement>();

export function fieldElement(name: string): PathElement {
  let pe = fieldElements.get(name);
  if (pe === undefined) {
    pe = `f:${name}`;
    if (fieldElements.size < 50_000) fieldElements.set(name, pe);
  }
  return pe;
}

export function indexElement(i: number): PathElement {
  return `i:${i}`;
}

export function valueElement(v: unknown): PathElement {
  return `v:${goJSON(v)}`;
}

/** An associative list item's element from its key fields (sorted by name here). */
export function keyElement(fields: Array<[string, unknown]>): PathElement {
  if (fields.length > 1) fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let s = 'k:{';
  for (let i = 0; i < fields.length; i++) {
    if (i) s += ',';
    s += goString(fields[i][0]) + ':' + goJSON(fields[i][1]);
  }
  return s + '}';
}

// Upstream writes JSON with Go's HTML-safe escaping; matching it keeps keys byte-identical
// with the ones upstream's clients (kubectl's managed-fields migration) compute.
const needsEscape = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;

function goString(s: string): string {
  if (!needsEscape.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += s[i] + s[i + 1];
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += s[i];
  }
  return out + '"';
}

/** JSON of a decoded value as Go's encoder writes it (maps with sorted keys, HTML-safe strings). */
export function goJSON(v: unknown): string {
  if (typeof v === 'string') return goString(v);
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(goJSON).join(',')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return `{${keys.map((k) => `${goString(k)}:${goJSON((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export type DecodedElement =
  | { kind: 'field'; name: string }
  | { kind: 'key'; fields: Array<[string, unknown]> }
  | { kind: 'value'; value: unknown }
  | { kind: 'index'; index: number };

/** Decodes a serialized path element; throws an Error with upstream's wording when it is malformed. */
export function decodeElement(pe: PathElement): DecodedElement {
  if (pe.length < 2) throw new Error('key must be 2 characters long:');
  if (pe.charCodeAt(1) !== 58 /* : */) throw new Error(`missing colon: ${pe}`);
  const body = pe.slice(2);
  switch (pe[0]) {
    case 'f':
      return { kind: 'field', name: body };
    case 'v':
      return { kind: 'value', value: JSON.parse(body) };
    case 'k': {
      const obj = JSON.parse(body);
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`expected an object of key fields: ${pe}`);
      const fields = Object.entries(obj) as Array<[string, unknown]>;
      fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return { kind: 'key', fields };
    }
    case 'i': {
      if (!/^-?\d+$/.test(body)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(body)}: invalid syntax`);
      return { kind: 'index', index: Number(body) };
    }
    default:
      throw new Error('unknown path element type');
  }
}

const kindRank: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

/**
 * Upstream's order of path elements: fields (by name) before keys before values before indexes;
 * keys compare field by field, values by type (numbers, strings, booleans, lists, maps, null).
 */
export function compareElements(a: PathElement, b: PathElement): number {
  if (a === b) return 0;
  const ka = a[0];
  const kb = b[0];
  if (ka !== kb) return (kindRank[ka] ?? 4) - (kindRank[kb] ?? 4);
  if (ka === 'f') return compareStrings(a, b);
  if (ka === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  const da = safeDecode(a);
  const db = safeDecode(b);
  if (!da || !db) return compareStrings(a, b);
  if (da.kind === 'key' && db.kind === 'key') return compareFieldLists(da.fields, db.fields);
  if (da.kind === 'value' && db.kind === 'value') return compareValues(da.value, db.value);
  return compareStrings(a, b);
}

function safeDecode(pe: PathElement): DecodedElement | undefined {
  try {
    return decodeElement(pe);
  } catch {
    return undefined;
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareFieldLists(a: Array<[string, unknown]>, b: Array<[string, unknown]>): number {
  for (let i = 0; ; i++) {
    if (i >= a.length && i >= b.length) return 0;
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const c = compareStrings(a[i][0], b[i][0]) || compareValues(a[i][1], b[i][1]);
    if (c) return c;
  }
}

function valueRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null && typeof v === 'object') return 4;
  return 5;
}

/** Upstream's total order of JSON values. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return (a as number) - (b as number);
    case 1:
      return compareStrings(a as string, b as string);
    case 2:
      return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const la = a as unknown[];
      const lb = b as unknown[];
      for (let i = 0; i < Math.min(la.length, lb.length); i++) {
        const c = compareValues(la[i], lb[i]);
        if (c) return c;
      }
      return la.length - lb.length;
    }
    case 4: {
      const ea = Object.entries(a as object).sort((x, y) => compareStrings(x[0], y[0]));
      const eb = Object.entries(b as object).sort((x, y) => compareStrings(x[0], y[0]));
      return compareFieldLists(ea, eb);
    }
    default:
      return 0;
  }
}

/** A value as upstream prints it in paths: strings quoted, numbers and booleans bare. */
function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(',')}]`;
  if (typeof v === 'object') return Object.entries(v as object).map(([k, x]) => `${k}=${formatValue(x)}`).join('');
  return String(v);
}

/** `.spec`, `[name="nginx"]`, `[=value]`, `[0]`: one element of a path as conflict messages print it. */
export function formatElement(pe: PathElement): string {
  if (pe.startsWith('f:')) return `.${pe.slice(2)}`;
  const d = safeDecode(pe);
  if (!d) return '{{invalid path element}}';
  switch (d.kind) {
    case 'field':
      return `.${d.name}`;
    case 'key':
      return `[${d.fields.map(([k, v]) => `${k}=${formatValue(v)}`).join(',')}]`;
    case 'value':
      return `[=${formatValue(d.value)}]`;
    case 'index':
      return `[${d.index}]`;
  }
}

/** `.spec.template.spec.containers[name="nginx"].image` */
export function formatPath(path: Path): string {
  let s = '';
  for (const pe of path) s += formatElement(pe);
  return s;
}
