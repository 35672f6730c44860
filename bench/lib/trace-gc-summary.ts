// Sums a `--trace-gc` log's collections by isolate (thread) and kind, optionally between two byte
// offsets (the scheduler and scale benchmarks print `serverLogRunBytes` when BENCH_SERVER_LOG is
// set): `node --import tsx bench/lib/trace-gc-summary.ts LOG [FROM TO]`. The pause is the main
// thread's time in the collection (V8's helper thread's share is not in it).

import { readFileSync } from 'node:fs';

export interface GcSums {
  [isolate: string]: { [kind: string]: { count: number; pauseMs: number } };
}

export function summarizeTraceGc(text: string): GcSums {
  const out: GcSums = {};
  // [pid:0xISOLATE]   123 ms: Scavenge 4.6 (4.7) -> 4.0 (5.7) MB, 7.08 / 0.02 ms ...
  const re = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: ([A-Za-z-]+(?: \(reduce\))?)[^,]*, ([\d.]+) \/ ([\d.]+) ms/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const iso = (out[m[1]!] ??= {});
    const k = (iso[m[2]!] ??= { count: 0, pauseMs: 0 });
    k.count++;
    k.pauseMs += Number(m[3]);
  }
  for (const iso of Object.values(out)) for (const k of Object.values(iso)) k.pauseMs = Math.round(k.pauseMs);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, from, to] = process.argv.slice(2);
  const buf = readFileSync(file!);
  const text = buf.subarray(from ? Number(from) : 0, to ? Number(to) : buf.length).toString('utf8');
  console.log(JSON.stringify(summarizeTraceGc(text), null, 1));
}
