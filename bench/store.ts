// Store benchmark: durable creates/s on a SqliteStore with many creates in flight while the main
// thread also spends CPU on every op (standing in for the API server's request handling). Shows
// whether commits overlap with that work or stall it.
//
// Flags: --total 20000 --concurrency 64 --value-bytes 1500 --cpu-us 150 --dir DIR (default: a temp dir)
//        --module PATH (another module exporting SqliteStore, to compare implementations)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.ts';
import { percentile } from './lib/cluster.ts';

/** Busy-wait: the CPU cost of parsing, validating and answering one request. */
function burn(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    // spin
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      total: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '64' },
      'value-bytes': { type: 'string', default: '1500' },
      'cpu-us': { type: 'string', default: '150' },
      dir: { type: 'string' },
      module: { type: 'string' },
    },
  });
  const total = Number(values.total);
  const concurrency = Number(values.concurrency);
  const cpuUs = Number(values['cpu-us']);
  const payload = 'x'.repeat(Number(values['value-bytes']));
  const dir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mizzen-bench-store-'));
  const Impl: typeof SqliteStore = values.module ? (await import(path.resolve(values.module))).SqliteStore : SqliteStore;
  const store = Impl.open({ file: path.join(dir, 'state.db'), compactIntervalMs: 0 });
  const mode = (store as unknown as { mode?: string }).mode ?? 'sync';
  try {
    const lat: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const i = next++;
          if (i >= total) return;
          // Each request arrives as its own event (as over a socket), not as one burst of microtasks.
          await new Promise<void>((r) => setImmediate(r));
          burn(cpuUs);
          const start = performance.now();
          await store.create(`/registry/pods/bench/p-${i}`, `{"i":${i},"pad":"${payload}"}`);
          lat.push(performance.now() - start);
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        bench: 'store',
        mode,
        total,
        concurrency,
        cpuUs,
        createsPerSec: Math.round(total / secs),
        p50AckMs: Number(percentile(lat, 50).toFixed(2)),
        p99AckMs: Number(percentile(lat, 99).toFixed(2)),
      }),
    );
  } finally {
    await store.close();
    if (!values.dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Runnable on its own too: node --import tsx bench/store.ts [flags]
if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
