// The long stretches of a thread's .cpuprofile (the console bench's `--page-profile`): runs of
// samples that are not "(idle)", at least MIN ms long, each with where its time went (self time
// by function, and the outermost JavaScript frames it ran under: an onmessage handler, an
// animation frame's callback, a parse). A main-thread long task shows as such a stretch.
// `node --import tsx bench/lib/cpuprofile-long.ts FILE.cpuprofile [MIN_MS=50] [TOP=8]`.

import { readFileSync } from 'node:fs';
import { frameName, type Profile, type ProfileNode } from './cpuprofile-summary.ts';

export interface Stretch {
  /** ms from the profile's start. */
  startMs: number;
  ms: number;
  self: [string, number][];
  outer: [string, number][];
}

export function longStretches(file: string, minMs = 50, top = 8): Stretch[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode) => frameName(n.callFrame);
  // The outermost frame under the root that is JavaScript (or the native bucket it is).
  const outer = (id: number) => {
    let cur = id;
    let last = id;
    while (parent.has(cur) && parent.get(cur) !== p.nodes[0]!.id) {
      last = cur;
      cur = parent.get(cur)!;
    }
    return name(byId.get(parent.has(cur) ? cur : last)!);
  };
  const out: Stretch[] = [];
  let t = p.startTime;
  let run: { start: number; end: number; ids: [number, number][] } | undefined;
  const close = () => {
    if (run && (run.end - run.start) / 1000 >= minMs) {
      const self = new Map<string, number>();
      const outs = new Map<string, number>();
      for (const [id, us] of run.ids) {
        const n = byId.get(id)!;
        self.set(name(n), (self.get(name(n)) ?? 0) + us);
        const o = outer(id);
        outs.set(o, (outs.get(o) ?? 0) + us);
      }
      const topOf = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => [k, Math.round(us / 1000)] as [string, number]);
      out.push({ startMs: Math.round((run.start - p.startTime) / 1000), ms: Math.round((run.end - run.start) / 1000), self: topOf(self), outer: topOf(outs) });
    }
    run = undefined;
  };
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const id = p.samples[i]!;
    const dt = p.timeDeltas[i + 1] ?? 0;
    const idle = byId.get(id)!.callFrame.functionName === '(idle)';
    // A gap of idle under 2 ms does not end a stretch (the sampler's own jitter).
    if (idle) {
      if (run && t - run.end > 2000) close();
      continue;
    }
    if (!run) run = { start: t, end: t, ids: [] };
    run.ids.push([id, dt]);
    run.end = t + dt;
  }
  close();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = longStretches(process.argv[2]!, Number(process.argv[3] ?? 50), Number(process.argv[4] ?? 8));
  for (const x of s.sort((a, b) => b.ms - a.ms)) {
    console.log(`at ${x.startMs} ms: ${x.ms} ms busy`);
    console.log(`  under: ${x.outer.map(([k, ms]) => `${k} ${ms}`).join(' | ')}`);
    console.log(`  self:  ${x.self.map(([k, ms]) => `${k} ${ms}`).join(' | ')}`);
  }
}
