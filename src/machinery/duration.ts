// Go-style durations (`1h2m3.5s`, `250ms`, `0`), as Kubernetes flags and annotations write them.

const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration string; throws an Error naming the text if it is malformed. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new Error(`invalid duration "${text}" (use e.g. 2s, 500ms, 1m30s)`);
    total += Number(m[1]) * unitMs[m[2]];
    pos = re.lastIndex;
  }
  if (pos === 0) throw new Error(`invalid duration "${text}" (use e.g. 2s, 500ms, 1m30s)`);
  return total;
}
