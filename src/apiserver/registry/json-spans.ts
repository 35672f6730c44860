// Finding parts of an object's stored JSON text without parsing it: a Table row carries the
// object's metadata, which is a slice of the text the cache already holds, and a row's cells need
// a parse of the object without its managedFields (the most object-dense part of a pod).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Index just past the JSON value that opens with `{` or `[` at `open` (strings skipped, escapes
 * included); -1 if the text ends first.
 */
export function valueEnd(text: string, open: number): number {
  let depth = 0;
  for (let i = open, n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // A quote inside a string is always escaped: jump from quote to quote.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i < 0) return -1;
        let slashes = 0;
        while (text.charCodeAt(i - 1 - slashes) === BACKSLASH) slashes++;
        if ((slashes & 1) === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * The text without metadata's `"managedFields":[...]` (and its comma), for an object whose
 * metadata object spans [from, to). A raw `"managedFields":[` inside metadata can only be that
 * key: quotes inside strings are escaped, and no other metadata field holds objects keyed so
 * with a list value. Returns the text unchanged when there is none.
 */
export function withoutManagedFields(text: string, from: number, to: number): string {
  const key = text.indexOf('"managedFields":[', from);
  if (key < 0 || key >= to) return text;
  const end = valueEnd(text, key + '"managedFields":'.length);
  if (end < 0 || end > to) return text;
  if (text.charCodeAt(end) === 0x2c) return text.slice(0, key) + text.slice(end + 1);
  // The last key of metadata: drop the comma before it instead.
  const start = text.charCodeAt(key - 1) === 0x2c ? key - 1 : key;
  return text.slice(0, start) + text.slice(end);
}
