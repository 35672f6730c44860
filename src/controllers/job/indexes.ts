// Indexed Jobs record finished indexes as a compact interval list ("1,3-5,7"), as upstream's
// status.completedIndexes.

export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

/** Parse "1,3-5" into a set of indexes below `completions` (bad parts are skipped). */
export function parseIndexes(s: string | undefined | null, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    for (let i = lo; i <= hi && i < completions; i++) if (i >= 0) out.add(i);
  }
  return out;
}

/** Format indexes as sorted, merged intervals. */
export function formatIndexes(set: Iterable<number>): string {
  const xs = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(j === i ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** A pod's completion index from its annotation (falling back to the label), or undefined. */
export function podIndex(pod: { metadata: { annotations?: Record<string, string>; labels?: Record<string, string> } }): number | undefined {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? pod.metadata.labels?.[COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}
