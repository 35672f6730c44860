// /metrics/resource: the kubelet's resource metrics in the Prometheus text format, as upstream's
// resource metrics collector renders them from the stats Summary (what metrics-server scrapes):
// families sorted by name, empty families left out, labels sorted by name, samples with the
// stats' timestamp in milliseconds, values as Go's strconv 'g' prints float64s, and the help
// texts with their stability level, e.g.
//
//   # HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
//   # TYPE node_cpu_usage_seconds_total counter
//   node_cpu_usage_seconds_total 1234.56 1700000000000

import type { CPUStats, MemoryStatsJSON, Summary } from './summary.ts';

export const RESOURCE_METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: { labels: [string, string][]; value: number; timestampMs?: number }[];
}

const FAMILIES: Omit<Family, 'samples'>[] = [
  { name: 'container_cpu_usage_seconds_total', help: '[STABLE] Cumulative cpu time consumed by the container in core-seconds', type: 'counter' },
  { name: 'container_memory_working_set_bytes', help: '[STABLE] Current working set of the container in bytes', type: 'gauge' },
  { name: 'container_start_time_seconds', help: '[STABLE] Start time of the container since unix epoch in seconds', type: 'gauge' },
  { name: 'node_cpu_usage_seconds_total', help: '[STABLE] Cumulative cpu time consumed by the node in core-seconds', type: 'counter' },
  { name: 'node_memory_working_set_bytes', help: '[STABLE] Current working set of the node in bytes', type: 'gauge' },
  { name: 'pod_cpu_usage_seconds_total', help: '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', type: 'counter' },
  { name: 'pod_memory_working_set_bytes', help: '[STABLE] Current working set of the pod in bytes', type: 'gauge' },
  { name: 'resource_scrape_error', help: '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', type: 'gauge' },
];

/** A float64 as Go's strconv.FormatFloat(f, 'g', -1, 64) writes it (and Prometheus' text format). */
export function goFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expText] = f.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  // Shortest 'g' switches to %e when the exponent is < -4 or >= 6 (Go's eprec for shortest):
  // 123456 stays, 14086144 is 1.4086144e+07, as in upstream's /metrics/resource.
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(f);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function ms(time: string | undefined): number | undefined {
  if (!time) return undefined;
  const t = Date.parse(time);
  return Number.isFinite(t) ? t : undefined;
}

function cpuSeconds(c: CPUStats | undefined): number | undefined {
  return c?.usageCoreNanoSeconds === undefined ? undefined : c.usageCoreNanoSeconds / 1e9;
}

function workingSet(m: MemoryStatsJSON | undefined): number | undefined {
  return m?.workingSetBytes;
}

/** The exposition of a Summary (or of a failure to get one: only resource_scrape_error 1). */
export function renderResourceMetrics(summary: Summary | undefined): string {
  const fam = new Map<string, Family>(FAMILIES.map((f) => [f.name, { ...f, samples: [] }]));
  const add = (name: string, labels: [string, string][], value: number | undefined, time?: string) => {
    if (value === undefined || !Number.isFinite(value)) return;
    fam.get(name)!.samples.push({ labels: labels.sort((a, b) => (a[0] < b[0] ? -1 : 1)), value, timestampMs: ms(time) });
  };
  if (summary) {
    const n = summary.node;
    add('node_cpu_usage_seconds_total', [], cpuSeconds(n.cpu), n.cpu?.time);
    add('node_memory_working_set_bytes', [], workingSet(n.memory), n.memory?.time);
    for (const p of summary.pods) {
      const pl: [string, string][] = [
        ['namespace', p.podRef.namespace],
        ['pod', p.podRef.name],
      ];
      add('pod_cpu_usage_seconds_total', [...pl], cpuSeconds(p.cpu), p.cpu?.time);
      add('pod_memory_working_set_bytes', [...pl], workingSet(p.memory), p.memory?.time);
      for (const c of p.containers) {
        const cl: [string, string][] = [['container', c.name], ...pl];
        add('container_cpu_usage_seconds_total', [...cl], cpuSeconds(c.cpu), c.cpu?.time);
        add('container_memory_working_set_bytes', [...cl], workingSet(c.memory), c.memory?.time);
        const start = ms(c.startTime);
        if (start !== undefined) add('container_start_time_seconds', [...cl], start / 1000, c.startTime);
      }
    }
  }
  fam.get('resource_scrape_error')!.samples.push({ labels: [], value: summary ? 0 : 1 });

  let out = '';
  for (const f of [...fam.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!f.samples.length) continue;
    out += `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`;
    const lines = f.samples.map((s) => {
      const labels = s.labels.length ? `{${s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      return { key: labels, text: `${f.name}${labels} ${goFloat(s.value)}${s.timestampMs !== undefined ? ` ${s.timestampMs}` : ''}\n` };
    });
    lines.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const l of lines) out += l.text;
  }
  return out;
}
