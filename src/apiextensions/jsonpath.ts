// The JSONPath subset printer columns and selectable fields use (kubectl's template syntax
// without the braces): `.spec.replicas`, `.spec.list[0].name`, `.spec.list[*].name`,
// `.status.conditions[?(@.type=="Ready")].status`, `.metadata.labels['app.kubernetes.io/name']`.

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; path: Step[]; op: '==' | '!='; value: unknown };

const cache = new Map<string, Step[] | null>();

/** Parses a path; null when it is not in the supported subset. */
export function parseJSONPath(expr: string): Step[] | null {
  let hit = cache.get(expr);
  if (hit !== undefined) return hit;
  hit = parse(expr.trim().replace(/^\{(.*)\}$/s, '$1'));
  if (cache.size > 10_000) cache.clear();
  cache.set(expr, hit);
  return hit;
}

function parse(src: string): Step[] | null {
  const steps: Step[] = [];
  let i = 0;
  if (src.startsWith('$')) i = 1;
  while (i < src.length) {
    const c = src[i];
    if (c === '.') {
      const m = /^[A-Za-z0-9_$\-/]+/.exec(src.slice(i + 1));
      if (!m) {
        if (i + 1 === src.length && steps.length === 0) return steps; // "." alone: the object
        return null;
      }
      steps.push({ kind: 'field', name: m[0] });
      i += 1 + m[0].length;
    } else if (c === '[') {
      const end = matchingBracket(src, i);
      if (end < 0) return null;
      const inner = src.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/s.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) {
        const f = /^@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*(.+)$/.exec(inner.slice(2, -1).trim());
        if (!f) return null;
        const path = parse(f[1]);
        if (!path) return null;
        let value: unknown;
        const raw = f[3].trim();
        if (/^'.*'$|^".*"$/s.test(raw)) value = raw.slice(1, -1);
        else if (raw === 'true' || raw === 'false') value = raw === 'true';
        else if (!Number.isNaN(Number(raw))) value = Number(raw);
        else return null;
        steps.push({ kind: 'filter', path, op: f[2] as '==' | '!=', value });
      } else return null;
    } else return null;
  }
  return steps;
}

function matchingBracket(src: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  return -1;
}

/** Every value the path selects, in order. */
export function findResults(obj: unknown, steps: Step[]): unknown[] {
  let cur: unknown[] = [obj];
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || v === undefined) continue;
      switch (s.kind) {
        case 'field':
          if (typeof v === 'object' && !Array.isArray(v) && s.name in (v as object)) next.push((v as Record<string, unknown>)[s.name]);
          break;
        case 'index':
          if (Array.isArray(v)) {
            const at = s.index < 0 ? v.length + s.index : s.index;
            if (at >= 0 && at < v.length) next.push(v[at]);
          }
          break;
        case 'all':
          if (Array.isArray(v)) next.push(...v);
          else if (typeof v === 'object') next.push(...Object.values(v as object));
          break;
        case 'filter':
          if (Array.isArray(v))
            for (const item of v) {
              const got = findResults(item, s.path);
              const eq = got.length > 0 && got[0] === s.value;
              if (s.op === '==' ? eq : got.length > 0 && !eq) next.push(item);
            }
          break;
      }
    }
    cur = next;
  }
  return cur;
}
