// Reads the kubelet's `/metrics/resource` answer: the Prometheus text exposition format (version
// 0.0.4) with the series metrics-server uses — node_cpu_usage_seconds_total,
// node_memory_working_set_bytes, container_cpu_usage_seconds_total and
// container_memory_working_set_bytes (labels container, namespace, pod), each with a timestamp in
// milliseconds. Other series are skipped; a malformed line is an error, as a scrape that cannot be
// trusted should not feed an autoscaler.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  timestampMs?: number;
}

/** A point of cumulative CPU (core-seconds) and working-set memory (bytes) at one time. */
export interface UsagePoint {
  timestampMs: number;
  cpuCoreSeconds: number;
  memoryBytes: number;
}

export interface ResourceScrape {
  node?: UsagePoint;
  /** `namespace/pod` → container name → point. */
  containers: Map<string, Map<string, UsagePoint>>;
}

const WANTED = new Set(['node_cpu_usage_seconds_total', 'node_memory_working_set_bytes', 'container_cpu_usage_seconds_total', 'container_memory_working_set_bytes']);

/** Parse every sample line of a text exposition (comments and blank lines skipped). */
export function parseExposition(text: string, keep: (name: string) => boolean = () => true): Sample[] {
  const out: Sample[] = [];
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (!m) throw new Error(`line ${lineNo}: no metric name`);
    const name = m[1]!;
    if (!keep(name)) continue;
    let i = name.length;
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i = parseLabels(line, i + 1, labels, lineNo);
    }
    const rest = line.slice(i).trim().split(/\s+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new Error(`line ${lineNo}: expected a value and an optional timestamp`);
    const value = parseValue(rest[0]!);
    if (value === undefined) throw new Error(`line ${lineNo}: invalid value ${JSON.stringify(rest[0])}`);
    const sample: Sample = { name, labels, value };
    if (rest[1] !== undefined) {
      const ts = Number(rest[1]);
      if (!Number.isInteger(ts)) throw new Error(`line ${lineNo}: invalid timestamp ${JSON.stringify(rest[1])}`);
      sample.timestampMs = ts;
    }
    out.push(sample);
  }
  return out;
}

function parseValue(s: string): number | undefined {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const n = Number(s);
  return Number.isNaN(n) ? undefined : n;
}

/** Parses `a="x",b="y"}` from position i; returns the index after the closing brace. */
function parseLabels(line: string, i: number, into: Record<string, string>, lineNo: number): number {
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return i + 1;
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
    if (!m) throw new Error(`line ${lineNo}: invalid label name`);
    const key = m[0];
    i += key.length;
    if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`line ${lineNo}: expected ="value" after label ${key}`);
    i += 2;
    let v = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error(`line ${lineNo}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = line[i + 1];
        v += e === 'n' ? '\n' : e === '"' ? '"' : e === '\\' ? '\\' : `\\${e ?? ''}`;
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    into[key] = v;
    i++;
  }
}

/**
 * The node's and each container's point. A container needs both its CPU and memory series;
 * samples without a timestamp take `nowMs` (the kubelet always sends one).
 */
export function parseResourceMetrics(text: string, nowMs: number): ResourceScrape {
  const samples = parseExposition(text, (n) => WANTED.has(n));
  const out: ResourceScrape = { containers: new Map() };
  const node: Partial<UsagePoint> = {};
  const partial = new Map<string, Map<string, Partial<UsagePoint>>>();
  for (const s of samples) {
    const ts = s.timestampMs ?? nowMs;
    if (s.name.startsWith('node_')) {
      node.timestampMs = Math.max(node.timestampMs ?? 0, ts);
      if (s.name === 'node_cpu_usage_seconds_total') node.cpuCoreSeconds = s.value;
      else node.memoryBytes = s.value;
      continue;
    }
    const { namespace, pod, container } = s.labels;
    if (!namespace || !pod || !container) continue;
    const key = `${namespace}/${pod}`;
    let byName = partial.get(key);
    if (!byName) partial.set(key, (byName = new Map()));
    let p = byName.get(container);
    if (!p) byName.set(container, (p = {}));
    p.timestampMs = Math.max(p.timestampMs ?? 0, ts);
    if (s.name === 'container_cpu_usage_seconds_total') p.cpuCoreSeconds = s.value;
    else p.memoryBytes = s.value;
  }
  if (node.cpuCoreSeconds !== undefined && node.memoryBytes !== undefined) out.node = node as UsagePoint;
  for (const [key, byName] of partial) {
    const done = new Map<string, UsagePoint>();
    for (const [c, p] of byName) if (p.cpuCoreSeconds !== undefined && p.memoryBytes !== undefined) done.set(c, p as UsagePoint);
    if (done.size) out.containers.set(key, done);
  }
  return out;
}
