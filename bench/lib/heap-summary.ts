// Heap snapshots for the benchmarks: a preload that makes every thread of a `mizzen up` child
// write one on SIGUSR2 (worker threads cannot receive signals, so the main thread passes it on
// through a BroadcastChannel), and a summary of a snapshot by constructor (self sizes), read
// without JSON.parse of the whole file (a snapshot of a large heap is beyond V8's string limit).
// `node --import tsx bench/lib/heap-summary.ts FILE.heapsnapshot` prints the summary of one file.

import { mkdirSync, mkdtempSync, openSync, readSync, closeSync, fstatSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A preload module (for NODE_OPTIONS=--import=...) that, on SIGUSR2, makes each thread write
 * DIR/<n>-<threadId>.heapsnapshot (if snapshots) and DIR/<n>-<threadId>.json (v8 heap statistics
 * and the thread's name), n counting the signals from 1.
 */
export function heapSnapshotPreload(dir: string, snapshots: boolean): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mizzen-heap-')), 'preload.mjs');
  writeFileSync(
    file,
    `import v8 from 'node:v8';
import { writeFileSync } from 'node:fs';
import { threadId, isMainThread, workerData } from 'node:worker_threads';
const dir = ${JSON.stringify(dir)};
const ch = new BroadcastChannel('mizzen-bench-heap');
ch.unref();
const dump = (n) => {
  const base = dir + '/' + n + '-' + threadId;
  const t = performance.now();
  if (${snapshots}) v8.writeHeapSnapshot(base + '.heapsnapshot');
  const names = (workerData && workerData.specs) ? workerData.specs.map((s) => s.name).join('+') : isMainThread ? 'main' : 'worker';
  writeFileSync(base + '.json', JSON.stringify({ threadId, names, heap: v8.getHeapStatistics(), snapshotMs: Math.round(performance.now() - t) }));
};
ch.onmessage = (m) => dump(m.data);
if (isMainThread) {
  let n = 0;
  process.on('SIGUSR2', () => { n++; ch.postMessage(n); dump(n); });
}
`,
  );
  return file;
}

export interface HeapSummary {
  totalMB: number;
  /** Self size by constructor (objects, closures) or by node type in parentheses, largest first. */
  top: { name: string; count: number; MB: number }[];
}

/** Self sizes of a .heapsnapshot grouped by constructor name, the largest `n` groups. */
export function summarizeHeapSnapshot(file: string, n = 20): HeapSummary {
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) off += readSync(fd, buf, off, size - off, off);
  closeSync(fd);
  // The header (snapshot meta) is small and comes first.
  const nodesAt = buf.indexOf('"nodes":[');
  const header = buf.subarray(0, nodesAt).toString();
  const metaJSON = header.slice(header.indexOf('{', header.indexOf('"snapshot"')), header.lastIndexOf('}') + 1);
  const meta = JSON.parse(metaJSON).meta as { node_fields: string[]; node_types: [string[]] };
  const nf = meta.node_fields.length;
  const fType = meta.node_fields.indexOf('type');
  const fName = meta.node_fields.indexOf('name');
  const fSize = meta.node_fields.indexOf('self_size');
  const typeNames = meta.node_types[0];
  const nodes = parseInts(buf, nodesAt + 9);
  const strings = parseStrings(buf, buf.indexOf('"strings":[') + 11);
  const groups = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i + nf <= nodes.length; i += nf) {
    const type = typeNames[nodes[i + fType]];
    const bytes = nodes[i + fSize];
    total += bytes;
    const name = type === 'object' || type === 'closure' || type === 'native' ? strings[nodes[i + fName]] : type.includes('string') ? '(string)' : `(${type})`;
    const g = groups.get(name);
    if (g) {
      g.count++;
      g.bytes += bytes;
    } else groups.set(name, { count: 1, bytes });
  }
  const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
  const top = [...groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, n).map(([name, g]) => ({ name, count: g.count, MB: mb(g.bytes) }));
  return { totalMB: mb(total), top };
}

/** The integers of a JSON array of non-negative integers starting at `at`, up to its `]`. */
function parseInts(buf: Buffer, at: number): Float64Array {
  const out: number[] = [];
  let cur = -1;
  for (let i = at; i < buf.length; i++) {
    const c = buf[i];
    if (c >= 48 && c <= 57) cur = (cur < 0 ? 0 : cur * 10) + (c - 48);
    else {
      if (cur >= 0) out.push(cur);
      cur = -1;
      if (c === 93 /* ] */) break;
    }
  }
  return Float64Array.from(out);
}

/** The strings of a JSON array of strings starting at `at`, each decoded alone. */
function parseStrings(buf: Buffer, at: number): string[] {
  const out: string[] = [];
  let i = at;
  for (;;) {
    while (i < buf.length && buf[i] !== 34 /* " */ && buf[i] !== 93) i++;
    if (i >= buf.length || buf[i] === 93) return out;
    const start = i++;
    while (buf[i] !== 34) i += buf[i] === 92 /* \ */ ? 2 : 1;
    i++;
    const raw = buf.toString('utf8', start, i);
    // Names are short; very long strings (source text) are not needed for grouping.
    out.push(raw.length > 200 ? raw.slice(1, 200) : JSON.parse(raw));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of process.argv.slice(2)) console.log(JSON.stringify({ file: f, ...summarizeHeapSnapshot(f, 30) }));
}
