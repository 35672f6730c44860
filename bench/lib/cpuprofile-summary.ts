// Where a thread's CPU went, from a .cpuprofile (`node --cpu-prof`, or BENCH_SERVER_NODE_ARGS=
// "--cpu-prof --cpu-prof-dir=DIR" for a benchmark's server): self time by function and by source
// file, largest first. `node --import tsx bench/lib/cpuprofile-summary.ts FILE.cpuprofile [N]`.

import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A frame as "function file:line" (the file's base name, without a file:// URL's path). */
export function frameName(cf: ProfileNode['callFrame']): string {
  const where = cf.url ? path.basename(cf.url.replace(/^file:\/\//, '')) : '';
  return `${cf.functionName || '(anonymous)'}${where ? ` ${where}:${cf.lineNumber + 1}` : ''}`;
}

export interface ProfileSummary {
  seconds: number;
  byFunction: { name: string; ms: number; pct: number }[];
  byFile: { name: string; ms: number; pct: number }[];
}

export function summarizeProfile(file: string, n = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    total += us;
    const name = frameName(cf);
    fn.set(name, (fn.get(name) ?? 0) + us);
    const f = cf.url ? cf.url.replace(/^file:\/\/.*?\/(src|node_modules|bench)\//, '$1/') : `(${cf.functionName || 'native'})`;
    files.set(f, (files.get(f) ?? 0) + us);
  }
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: Math.round((us / total) * 1000) / 10 }));
  return { seconds: Math.round((p.endTime - p.startTime) / 1e5) / 10, byFunction: top(fn), byFile: top(files) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[3] ?? 25);
  const s = summarizeProfile(process.argv[2], n);
  console.log(`${process.argv[2]}: ${s.seconds} s`);
  console.log('by function (self):');
  for (const x of s.byFunction) console.log(`${String(x.ms).padStart(9)} ms ${x.pct.toFixed(1).padStart(5)} %  ${x.name}`);
  console.log('by file (self):');
  for (const x of s.byFile) console.log(`${String(x.ms).padStart(9)} ms ${x.pct.toFixed(1).padStart(5)} %  ${x.name}`);
}
