// Finds keys that appear twice in the same JSON object. JSON.parse keeps the last one silently;
// upstream's strict decoding reports them (fieldValidation=Strict fails, Warn warns).

/** Paths of duplicated keys (`data`, `metadata.labels.app`, `spec.containers[0].name`), for valid JSON text. */
export function findDuplicateFields(text: string): string[] {
  const out: string[] = [];
  interface Frame {
    keys?: Set<string>;
    index: number;
    key: string;
  }
  const stack: Frame[] = [];
  let expectKey = false;
  const n = text.length;
  let i = 0;
  const path = () =>
    stack
      .slice(1)
      .map((f, j) => (stack[j].keys ? `${j > 0 ? '.' : ''}${stack[j].key}` : `[${stack[j].index}]`))
      .join('');
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 92 /* \\ */) {
          escaped = true;
          j++;
        } else if (d === 34) break;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const raw = text.slice(i + 1, j);
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : raw;
        if (top.keys!.has(key)) {
          const prefix = path();
          out.push(prefix ? `${prefix}.${key}` : key);
        } else top.keys!.add(key);
        top.key = key;
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 123 /* { */) {
      stack.push({ keys: new Set(), index: 0, key: '' });
      expectKey = true;
    } else if (c === 91 /* [ */) {
      stack.push({ index: 0, key: '' });
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 44 /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) expectKey = true;
      else if (top) top.index++;
    }
    i++;
  }
  return out;
}
