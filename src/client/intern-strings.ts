// One copy of the strings that many cached objects repeat. JSON.parse gives every object its own
// copy of each string value longer than a few characters: 150,000 pods hold 150,000 copies of
// their image, namespace, scheduler name, toleration keys and so on (about a quarter of a parsed
// pod without managedFields). An informer's transform passes objects through intern() before
// caching them, so the repeats share one string.

import { SharedStrings } from '../machinery/shared-strings.ts';

/** Strings longer than this are rarely repeated (and big ones are not worth a lookup). */
const MAX_LENGTH = 64;

export class StringInterner extends SharedStrings {
  // Two generations (SharedStrings): strings repeated in a stretch of objects (a second's creation
  // timestamps, a pod's volume name in its volumes and mounts) are still shared after the first
  // maxEntries distinct strings, and strings no longer seen are let go.
  constructor(maxEntries = 20_000) {
    super(maxEntries);
  }

  /** The shared copy of s. */
  string(s: string): string {
    return s.length > MAX_LENGTH ? s : this.share(s);
  }

  /**
   * Replace, in place, the string values of obj by their shared copies; metadata's own
   * identifiers (name, uid, resourceVersion) are unique and skipped; creationTimestamp is shared.
   */
  intern<T extends object>(obj: T): T {
    const o = obj as Record<string, unknown>;
    for (const k in o) {
      const v = o[k];
      if (typeof v === 'string') o[k] = this.string(v);
      else if (v !== null && typeof v === 'object') {
        if (k === 'metadata') this.metadata(v as Record<string, unknown>);
        else this.walk(v);
      }
    }
    return obj;
  }

  private metadata(m: Record<string, unknown>): void {
    if (typeof m.namespace === 'string') m.namespace = this.string(m.namespace);
    // Objects created in the same second share it.
    if (typeof m.creationTimestamp === 'string') m.creationTimestamp = this.string(m.creationTimestamp);
    for (const k of ['labels', 'annotations', 'ownerReferences'] as const) {
      const v = m[k];
      if (v !== null && typeof v === 'object') this.walk(v);
    }
  }

  private walk(v: object): void {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === 'string') v[i] = this.string(x);
        else if (x !== null && typeof x === 'object') this.walk(x);
      }
      return;
    }
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const x = o[k];
      if (typeof x === 'string') o[k] = this.string(x);
      else if (x !== null && typeof x === 'object') this.walk(x);
    }
  }
}
