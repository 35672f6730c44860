// Key-prefix helpers shared by the backends.

/**
 * The smallest string greater than every string starting with prefix (for `key >= p AND key < end`
 * range scans), or undefined when there is none (empty prefix, or a last char of U+FFFF).
 */
export function prefixEnd(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last === 0xffff) return undefined;
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** Index of the first element of a sorted array that is >= value. */
export function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element of a sorted array that is > value. */
export function upperBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index just past the last element of a sorted array that starts with prefix. */
export function prefixRangeEnd(sorted: readonly string[], prefix: string): number {
  const end = prefixEnd(prefix);
  return end === undefined ? sorted.length : lowerBound(sorted, end);
}
