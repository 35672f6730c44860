// The watch cache's key index at scale: `npm run bench -- list-index [--keys 150000]`.
//
// What one LIST page of 500 costs in the index alone (the scan from its continue key and the
// remainingItemCount), in-process, at N pod keys: the first page after N creates, a page after one
// more create, after one delete, and the cost of a create. Medians of 21 rounds, so the figures
// hold on a busy machine better than the client-timed pages of `scale --list-only`. Prints one JSON line.

import { parseArgs } from 'node:util';
import { KeyIndex } from '../src/storage/key-index.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { keys: { type: 'string', default: '150000' } } });
  const n = Number(values.keys);
  const before = calibrationMs();
  const prefix = '/registry/pods/';
  // Namespaces and names in no particular order, as creates arrive.
  const keys = Array.from({ length: n }, (_, i) => `${prefix}bench-${i % 32}/pod-${(i * 7919) % n}-${(i * 2654435761 >>> 0).toString(36)}`);
  const page = (ix: KeyIndex<{ key: string }>, after?: string): [number, string] => {
    const t = performance.now();
    let got = 0;
    let last = '';
    for (const v of ix.scan(prefix, after)) {
      last = v.key;
      if (++got >= 500) break;
    }
    ix.countAfter(prefix, last);
    return [performance.now() - t, last];
  };
  const firsts: number[] = [];
  const inserts: number[] = [];
  let ix!: KeyIndex<{ key: string }>;
  for (let r = 0; r < 3; r++) {
    ix = new KeyIndex<{ key: string }>((v) => v.key);
    const t = performance.now();
    for (const key of keys) ix.set({ key });
    inserts.push(((performance.now() - t) * 1000) / n);
    firsts.push(page(ix)[0]);
  }
  const [, mid] = page(ix, keys[n >> 1]);
  const next: number[] = [];
  const afterCreate: number[] = [];
  const afterDelete: number[] = [];
  for (let r = 0; r < 21; r++) {
    next.push(page(ix, mid)[0]);
    ix.set({ key: `${prefix}bench-3/new-${r}` });
    afterCreate.push(page(ix, mid)[0]);
    ix.delete(keys[r * 7]);
    afterDelete.push(page(ix, mid)[0]);
  }
  console.log(
    JSON.stringify({
      bench: 'list-index',
      keys: n,
      pageMs: { firstAfterCreates: round(median(firsts)), next: round(median(next)), afterOneCreate: round(median(afterCreate)), afterOneDelete: round(median(afterDelete)) },
      createUs: round(median(inserts), 1),
      calibration: calibration(before),
      loadAverage: (await import('node:os')).loadavg().map((x) => round(x)),
      measuredAs: 'KeyIndex in-process: one page = scan 500 keys from a continue key + countAfter; medians (3 rounds for the first page and creates, 21 for the others)',
    }),
  );
}
