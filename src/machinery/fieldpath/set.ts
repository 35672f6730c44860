// Sets of field paths, kept in the shape `metadata.managedFields[].fieldsV1` stores them: a trie
// whose keys are path elements. A node below the root is a member of the set when it is empty
// (`"f:replicas": {}`) or holds the `.` key (`"f:labels": {".": {}, "f:app": {}}`); a node with
// children and no `.` only leads to members. The root is never a member.
//
// Server-side apply is set algebra over these (STYLE #16): what a manager owns, what an apply
// sets, what changed; conflicts and removals are intersections and differences. The functions
// never change their inputs and return canonical sets (keys in upstream's order, `.` first), so
// a fieldsV1 object read from storage is used as is, and an unchanged set keeps its identity.

import { compareElements, formatPath, type Path, type PathElement } from './path-element.ts';

/** A set of field paths as a fieldsV1 trie. Treat as immutable. */
export type FieldSet = { [pe: string]: FieldSet };

export const SELF = '.';

const emptySet: FieldSet = Object.freeze({}) as FieldSet;

/**
 * The one member leaf (`{}`) and `.` value every set built here uses: sets are immutable, so a
 * pod's forty leaves need not be forty objects.
 */
export const LEAF: FieldSet = emptySet;

/** The empty set. */
export function emptyFieldSet(): FieldSet {
  return emptySet;
}

function hasKeys(n: FieldSet): boolean {
  for (const _ in n) return true;
  return false;
}

/** Whether a node below the root is itself a member. */
function isMemberNode(n: FieldSet): boolean {
  return SELF in n || !hasKeys(n);
}

function childKeys(n: FieldSet): string[] {
  const keys = Object.keys(n);
  const i = keys.indexOf(SELF);
  if (i >= 0) keys.splice(i, 1);
  return keys;
}

/** Assembles a node in canonical form; undefined when it would be an empty non-member. */
function node(member: boolean, keys: string[], children: FieldSet[], sorted: boolean): FieldSet | undefined {
  if (keys.length === 0) return member ? LEAF : undefined;
  if (!sorted && keys.length > 1) {
    const order = keys.map((_, i) => i).sort((x, y) => compareElements(keys[x], keys[y]));
    keys = order.map((i) => keys[i]);
    children = order.map((i) => children[i]);
  }
  const out: FieldSet = {};
  if (member) out[SELF] = LEAF;
  for (let i = 0; i < keys.length; i++) out[keys[i]] = children[i];
  return out;
}

export function isEmpty(s: FieldSet): boolean {
  return !hasKeys(s);
}

/** Members of either set. */
export function union(a: FieldSet, b: FieldSet): FieldSet {
  return unionNode(a, b, true) ?? emptySet;
}

function unionNode(a: FieldSet, b: FieldSet, root: boolean): FieldSet | undefined {
  if (a === b) return a;
  if (!hasKeys(b)) return root ? a : isMemberNode(a) ? a : node(true, childKeys(a), childKeys(a).map((k) => a[k]), true);
  if (!hasKeys(a)) return root ? b : isMemberNode(b) ? b : node(true, childKeys(b), childKeys(b).map((k) => b[k]), true);
  const member = !root && (isMemberNode(a) || isMemberNode(b));
  const keys: string[] = [];
  const children: FieldSet[] = [];
  // When one side already holds everything (a writer updating the fields it owns), return it as is.
  let sameAsA = root || member === isMemberNode(a);
  let sameAsB = root || member === isMemberNode(b);
  for (const k of childKeys(a)) {
    const c = k in b ? (unionNode(a[k], b[k], false) as FieldSet) : a[k];
    keys.push(k);
    children.push(c);
    if (!sameNode(c, a[k])) sameAsA = false;
    if (!sameNode(c, b[k])) sameAsB = false;
  }
  for (const k of childKeys(b)) {
    if (k in a) continue;
    keys.push(k);
    children.push(b[k]);
    sameAsA = false;
  }
  if (sameAsA) return a;
  if (sameAsB && keys.length === childKeys(b).length) return b;
  return node(member, keys, children, keys.length === childKeys(a).length);
}

/** The same node, or both member leaves (`{}`). */
function sameNode(x: FieldSet, y: FieldSet | undefined): boolean {
  return x === y || (y !== undefined && !hasKeys(x) && !hasKeys(y));
}

/** Members of both sets. */
export function intersection(a: FieldSet, b: FieldSet): FieldSet {
  return intersectNode(a, b, true) ?? emptySet;
}

function intersectNode(a: FieldSet, b: FieldSet, root: boolean): FieldSet | undefined {
  if (a === b) return a;
  const member = !root && isMemberNode(a) && isMemberNode(b);
  const keys: string[] = [];
  const children: FieldSet[] = [];
  for (const k of childKeys(a)) {
    if (!(k in b) || k === SELF) continue;
    const c = intersectNode(a[k], b[k], false);
    if (c) {
      keys.push(k);
      children.push(c);
    }
  }
  return node(member, keys, children, true);
}

/**
 * Members of `a` that are not members of `b`. As upstream's Difference, a member of `b` does not
 * take away the children of the same path in `a` (parent − child = parent; child − parent = child).
 */
export function difference(a: FieldSet, b: FieldSet): FieldSet {
  return differenceNode(a, b, true) ?? emptySet;
}

function differenceNode(a: FieldSet, b: FieldSet, root: boolean): FieldSet | undefined {
  if (a === b) return undefined;
  if (!hasKeys(b) && root) return a;
  const member = !root && isMemberNode(a) && !isMemberNode(b);
  const keys: string[] = [];
  const children: FieldSet[] = [];
  let changed = member !== (!root && isMemberNode(a));
  for (const k of childKeys(a)) {
    const c = k in b ? differenceNode(a[k], b[k], false) : a[k];
    if (c !== a[k]) changed = true;
    if (c) {
      keys.push(k);
      children.push(c);
    }
  }
  if (!changed) return a;
  return node(member, keys, children, true);
}

/** Members of `a` that are neither members of `b` nor below a member of `b` (removes whole subtrees). */
export function recursiveDifference(a: FieldSet, b: FieldSet): FieldSet {
  return recursiveDifferenceNode(a, b, true) ?? emptySet;
}

function recursiveDifferenceNode(a: FieldSet, b: FieldSet, root: boolean): FieldSet | undefined {
  if (!hasKeys(b) && root) return a;
  const member = !root && isMemberNode(a);
  const keys: string[] = [];
  const children: FieldSet[] = [];
  let changed = false;
  for (const k of childKeys(a)) {
    let c: FieldSet | undefined = a[k];
    if (k in b && k !== SELF) c = isMemberNode(b[k]) ? undefined : recursiveDifferenceNode(a[k], b[k], false);
    if (c !== a[k]) changed = true;
    if (c) {
      keys.push(k);
      children.push(c);
    }
  }
  if (!changed) return a;
  return node(member, keys, children, true);
}

/** Whether `path` is a member. */
export function has(s: FieldSet, path: Path): boolean {
  if (path.length === 0) return false;
  let n: FieldSet | undefined = s;
  for (const pe of path) {
    n = n[pe];
    if (!n) return false;
  }
  return isMemberNode(n);
}

/** The subset below one element (the element itself not included). */
export function withPrefix(s: FieldSet, pe: PathElement): FieldSet {
  const c = s[pe];
  if (!c) return emptySet;
  if (!(SELF in c)) return c;
  const keys = childKeys(c);
  return node(false, keys, keys.map((k) => c[k]), true) ?? emptySet;
}

export function equals(a: FieldSet, b: FieldSet): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!(k in b)) return false;
    if (!equals(a[k], b[k])) return false;
  }
  return true;
}

/**
 * Every member path, in upstream's iteration order: a node's members first, then the paths
 * below its children (that is the order of conflicts in upstream's messages).
 */
export function paths(s: FieldSet): PathElement[][] {
  const out: PathElement[][] = [];
  const walk = (n: FieldSet, prefix: PathElement[]) => {
    const keys = childKeys(n);
    for (const k of keys) if (isMemberNode(n[k])) out.push([...prefix, k]);
    for (const k of keys) if (childKeys(n[k]).length > 0) walk(n[k], [...prefix, k]);
  };
  walk(s, []);
  return out;
}

/** Human form, one path per line (as upstream's Set.String). */
export function formatSet(s: FieldSet): string {
  return paths(s).map(formatPath).join('\n');
}

/** A mutable set for building one from paths; `build()` gives the canonical FieldSet. */
export class FieldSetBuilder {
  private member = false;
  private children?: Map<PathElement, FieldSetBuilder>;

  insert(path: Path): this {
    if (path.length === 0) return this;
    let n: FieldSetBuilder = this;
    for (const pe of path) {
      n.children ??= new Map();
      let c = n.children.get(pe);
      if (!c) n.children.set(pe, (c = new FieldSetBuilder()));
      n = c;
    }
    n.member = true;
    return this;
  }

  build(): FieldSet {
    return this.buildNode(true) ?? emptySet;
  }

  private buildNode(root: boolean): FieldSet | undefined {
    const keys: string[] = [];
    const children: FieldSet[] = [];
    if (this.children)
      for (const [k, c] of this.children) {
        const n = c.buildNode(false);
        if (n) {
          keys.push(k);
          children.push(n);
        }
      }
    return node(!root && this.member, keys, children, false);
  }
}

/** A set from paths. */
export function fieldSetOf(...ps: Path[]): FieldSet {
  const b = new FieldSetBuilder();
  for (const p of ps) b.insert(p);
  return b.build();
}

/**
 * Checks a fieldsV1 value a client sent and returns it in canonical form; throws an Error saying
 * what is wrong (upstream decodes it the same strict way and refuses a malformed one).
 */
export function canonicalFieldSet(v: unknown, decode: (pe: string) => unknown): FieldSet {
  const walk = (n: unknown, root: boolean): FieldSet | undefined => {
    if (n === null || typeof n !== 'object' || Array.isArray(n)) throw new Error('expected an object of path elements');
    const src = n as Record<string, unknown>;
    const keys: string[] = [];
    const children: FieldSet[] = [];
    let member = false;
    let any = false;
    for (const k of Object.keys(src)) {
      any = true;
      if (k === SELF) {
        member = true;
        continue;
      }
      decode(k);
      const c = walk(src[k], false);
      if (c) {
        keys.push(k);
        children.push(c);
      }
    }
    return node(!root && (member || !any), keys, children, false);
  };
  return walk(v, true) ?? emptySet;
}
