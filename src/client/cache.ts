// The informer's local store (client-go's cache.Indexer): objects keyed by `namespace/name` (or
// `name` for cluster-scoped objects) plus named secondary indexes kept as maps of sets.

import type { KObject } from '../api/types.ts';

/** Values an object is indexed under for one index (e.g. the node a pod is bound to). */
export type IndexFunc<T> = (obj: T) => string[];

export const NAMESPACE_INDEX = 'namespace';

export function namespaceIndexFunc(obj: KObject): string[] {
  return [obj.metadata?.namespace ?? ''];
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function metaNamespaceKey(obj: KObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export function splitMetaNamespaceKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export class Indexer<T extends KObject = KObject> {
  private items = new Map<string, T>();
  private indexers = new Map<string, IndexFunc<T>>();
  /** index name -> indexed value -> keys */
  private indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}, readonly keyFunc: (obj: T) => string = metaNamespaceKey) {
    this.addIndexers(indexers);
  }

  /** Add index functions; existing objects are indexed right away. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`indexer conflict: ${name}`);
      this.indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) for (const v of fn(obj)) addTo(index, v, key);
    }
  }

  hasIndex(indexName: string): boolean {
    return this.indexers.has(indexName);
  }

  /** Add or replace an object. */
  add(obj: T): void {
    const key = this.keyFunc(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    this.reindex(key, old, obj);
  }

  update(obj: T): void {
    this.add(obj);
  }

  /** Remove by object or key; returns the removed object. */
  delete(objOrKey: T | string): T | undefined {
    const key = typeof objOrKey === 'string' ? objOrKey : this.keyFunc(objOrKey);
    const old = this.items.get(key);
    if (!old) return undefined;
    this.items.delete(key);
    this.reindex(key, old, undefined);
    return old;
  }

  get(obj: T): T | undefined {
    return this.items.get(this.keyFunc(obj));
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  size(): number {
    return this.items.size;
  }

  /** Replace the whole content (after a list). */
  replace(objs: T[]): void {
    this.items.clear();
    for (const index of this.indices.values()) index.clear();
    for (const o of objs) this.add(o);
  }

  /** Objects whose index `indexName` contains `value`. */
  byIndex(indexName: string, value: string): T[] {
    const keys = this.indexKeys(indexName, value);
    const out: T[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /** Keys whose index `indexName` contains `value`. */
  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`index "${indexName}" does not exist`);
    const set = index.get(value);
    return set ? [...set] : [];
  }

  /** Objects sharing any index value with obj (client-go's Index). */
  index(indexName: string, obj: T): T[] {
    const fn = this.indexers.get(indexName);
    if (!fn) throw new Error(`index "${indexName}" does not exist`);
    const keys = new Set<string>();
    for (const v of fn(obj)) for (const k of this.indexKeys(indexName, v)) keys.add(k);
    return [...keys].map((k) => this.items.get(k)!).filter(Boolean);
  }

  /** All values currently present in an index. */
  listIndexFuncValues(indexName: string): string[] {
    const index = this.indices.get(indexName);
    return index ? [...index.keys()] : [];
  }

  private reindex(key: string, oldObj: T | undefined, newObj: T | undefined): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      const oldVals = oldObj ? fn(oldObj) : [];
      const newVals = newObj ? fn(newObj) : [];
      // Common case: unchanged single value, nothing to do.
      if (oldVals.length === 1 && newVals.length === 1 && oldVals[0] === newVals[0]) continue;
      for (const v of oldVals) if (!newVals.includes(v)) removeFrom(index, v, key);
      for (const v of newVals) addTo(index, v, key);
    }
  }
}

function addTo(index: Map<string, Set<string>>, value: string, key: string): void {
  let set = index.get(value);
  if (!set) index.set(value, (set = new Set()));
  set.add(key);
}

function removeFrom(index: Map<string, Set<string>>, value: string, key: string): void {
  const set = index.get(value);
  if (!set) return;
  set.delete(key);
  if (set.size === 0) index.delete(value);
}

/** Match an object's labels against equality requirements (a matchLabels map). */
export function matchLabels(obj: KObject, selector: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const labels = obj.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

export type ObjectFilter<T> = ((obj: T) => boolean) | Record<string, string>;

function toPredicate<T extends KObject>(f?: ObjectFilter<T>): (obj: T) => boolean {
  if (!f) return () => true;
  if (typeof f === 'function') return f;
  return (o) => matchLabels(o, f);
}

/** Read-only view over an informer's cache (client-go's listers). */
export class Lister<T extends KObject = KObject> {
  constructor(private readonly indexer: Indexer<T>) {}

  /** All objects, optionally filtered by a predicate or matchLabels map. */
  list(filter?: ObjectFilter<T>): T[] {
    const p = toPredicate(filter);
    return this.indexer.list().filter(p);
  }

  /** Cluster-scoped get by name. */
  get(name: string): T | undefined {
    return this.indexer.getByKey(name);
  }

  byIndex(indexName: string, value: string): T[] {
    return this.indexer.byIndex(indexName, value);
  }

  namespace(ns: string): NamespaceLister<T> {
    return new NamespaceLister(this.indexer, ns);
  }
}

export class NamespaceLister<T extends KObject = KObject> {
  constructor(
    private readonly indexer: Indexer<T>,
    private readonly ns: string,
  ) {}

  list(filter?: ObjectFilter<T>): T[] {
    const p = toPredicate(filter);
    const candidates = this.indexer.hasIndex(NAMESPACE_INDEX)
      ? this.indexer.byIndex(NAMESPACE_INDEX, this.ns)
      : this.indexer.list().filter((o) => (o.metadata?.namespace ?? '') === this.ns);
    return candidates.filter(p);
  }

  get(name: string): T | undefined {
    return this.indexer.getByKey(`${this.ns}/${name}`);
  }
}
