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
import { runInNewContext } from 'node:vm';
const dir = ${JSON.stringify(dir)};
const ch = new BroadcastChannel('mizzen-bench-heap');
ch.unref();
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const spaces = () => Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
const dump = (n) => {
  const base = dir + '/' + n + '-' + threadId;
  // As found (garbage included), then after a full collection (what is live), then the snapshot.
  const heap = v8.getHeapStatistics();
  const spacesBefore = spaces();
  const t = performance.now();
  gc();
  const gcMs = Math.round(performance.now() - t);
  const heapAfterGC = v8.getHeapStatistics();
  const spacesAfterGC = spaces();
  const memoryAfterGC = isMainThread ? process.memoryUsage() : undefined;
  const t2 = performance.now();
  if (${snapshots}) v8.writeHeapSnapshot(base + '.heapsnapshot');
  const names = (workerData && workerData.specs) ? workerData.specs.map((s) => s.name).join('+') : isMainThread ? 'main' : 'worker';
  writeFileSync(base + '.json', JSON.stringify({ threadId, names, heap, heapAfterGC, spacesBefore, spacesAfterGC, memoryAfterGC, gcMs, snapshotMs: Math.round(performance.now() - t2) }));
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

/** A snapshot's node and edge tables and its strings (each cut at 200 characters). */
export interface Snapshot {
  nodes: Uint32Array;
  edges: Uint32Array;
  strings: string[];
  /** Fields per node / per edge, and where each field is. */
  nf: number;
  ef: number;
  fType: number;
  fName: number;
  fSize: number;
  fEdges: number;
  eType: number;
  eName: number;
  eTo: number;
  typeNames: string[];
  edgeTypeNames: string[];
}

const CHUNK = 64 << 20;

/**
 * Read a .heapsnapshot in chunks (a full-size heap's snapshot is several GB, beyond one Buffer and
 * V8's string limit): the header by JSON.parse, the node and edge arrays into typed arrays sized
 * from the header's counts, the strings one by one.
 */
export function readSnapshot(file: string): Snapshot {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(CHUNK);
    // The header (snapshot meta) is small and comes first.
    const headLen = readSync(fd, buf, 0, Math.min(CHUNK, size), 0);
    const head = buf.subarray(0, headLen);
    const nodesAt = head.indexOf('"nodes":[');
    const header = head.subarray(0, nodesAt).toString();
    const snapJSON = header.slice(header.indexOf('{', header.indexOf('"snapshot"')), header.lastIndexOf('}') + 1);
    const snap = JSON.parse(snapJSON) as {
      meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
      node_count: number;
      edge_count: number;
    };
    const m = snap.meta;
    const nf = m.node_fields.length;
    const ef = m.edge_fields.length;
    let pos = nodesAt + 9;
    const nodes = new Uint32Array(snap.node_count * nf);
    pos = readInts(fd, buf, pos, size, nodes);
    pos = find(fd, buf, pos, size, '"edges":[') + 9;
    const edges = new Uint32Array(snap.edge_count * ef);
    pos = readInts(fd, buf, pos, size, edges);
    pos = find(fd, buf, pos, size, '"strings":[') + 11;
    const strings = readStrings(fd, buf, pos, size);
    return {
      nodes,
      edges,
      strings,
      nf,
      ef,
      fType: m.node_fields.indexOf('type'),
      fName: m.node_fields.indexOf('name'),
      fSize: m.node_fields.indexOf('self_size'),
      fEdges: m.node_fields.indexOf('edge_count'),
      eType: m.edge_fields.indexOf('type'),
      eName: m.edge_fields.indexOf('name_or_index'),
      eTo: m.edge_fields.indexOf('to_node'),
      typeNames: m.node_types[0],
      edgeTypeNames: m.edge_types[0],
    };
  } finally {
    closeSync(fd);
  }
}

/** The file offset of the first `s` at or after pos. */
function find(fd: number, buf: Buffer, pos: number, size: number, s: string): number {
  for (;;) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
    if (n <= 0) throw new Error(`heap snapshot: ${s} not found`);
    const i = buf.subarray(0, n).indexOf(s);
    if (i >= 0) return pos + i;
    if (pos + n >= size) throw new Error(`heap snapshot: ${s} not found`);
    pos += n - s.length;
  }
}

/** Fill `out` with the non-negative integers of the JSON array at pos (up to its `]`); the offset after it. */
function readInts(fd: number, buf: Buffer, pos: number, size: number, out: Uint32Array): number {
  let k = 0;
  let cur = -1;
  for (;;) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
    if (n <= 0) throw new Error('heap snapshot: array not terminated');
    for (let i = 0; i < n; i++) {
      const c = buf[i];
      if (c >= 48 && c <= 57) cur = (cur < 0 ? 0 : cur * 10) + (c - 48);
      else {
        if (cur >= 0) out[k++] = cur;
        cur = -1;
        if (c === 93 /* ] */) return pos + i + 1;
      }
    }
    pos += n;
  }
}

/** The strings of the JSON array at pos, each decoded alone and cut at 200 characters. */
function readStrings(fd: number, buf: Buffer, pos: number, size: number): string[] {
  const out: string[] = [];
  for (;;) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
    if (n <= 0) return out;
    let i = 0;
    let last = 0;
    for (;;) {
      while (i < n && buf[i] !== 34 /* " */ && buf[i] !== 93) i++;
      if (i >= n) break;
      if (buf[i] === 93) return out;
      const start = i++;
      while (i < n && buf[i] !== 34) i += buf[i] === 92 /* \ */ ? 2 : 1;
      if (i >= n) {
        i = start;
        break;
      }
      i++;
      last = i;
      const raw = buf.toString('utf8', start, i);
      // Names are short; very long strings (source text, stored JSON) are only grouped by their start.
      let s: string;
      try {
        s = raw.length > 200 ? JSON.parse(raw.slice(0, 199).replace(/\\[^"]?$|\\u[0-9a-fA-F]{0,3}$/, '') + '"') : JSON.parse(raw);
      } catch {
        s = raw.slice(1, 200);
      }
      out.push(s);
    }
    // Start the next read at the string cut by the chunk's end.
    const next = i > last ? i : last;
    if (next === 0) throw new Error('heap snapshot: a string longer than a chunk');
    pos += next;
  }
}

/** Self sizes of a .heapsnapshot grouped by constructor name, the largest `n` groups. */
export function summarizeHeapSnapshot(file: string, n = 20): HeapSummary {
  const { nodes, strings, nf, fType, fName, fSize, typeNames } = readSnapshot(file);
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

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of process.argv.slice(2)) console.log(JSON.stringify({ file: f, ...summarizeHeapSnapshot(f, 30) }));
}
