// Continue pages of a list whose objects changed after its first page (an informer relisting on a
// busy cluster): `npm run bench -- list-snapshot [--objects 10000]`. An in-process API server
// (unix socket, SQLite) with N ConfigMaps; the first page of 500, then every object patched, then
// the remaining pages, each a snapshot at the first page's revision (checked). Prints one JSON line
// with the continue pages' wall times (client included: same process).

import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { startTestApiServer } from '../src/testing/api-server.ts';
import { ApiClient } from '../src/client/api-client.ts';
import type { KObject } from '../src/api/types.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { objects: { type: 'string', default: '10000' } } });
  const n = Number(values.objects);
  const before = calibrationMs();
  // A window that holds every change of the run, so no page is 410.
  const api = await startTestApiServer({ name: 'bench-list-snapshot', unixSocket: true, watchCacheWindow: 4 * n });
  const client = new ApiClient({ socketPath: api.socketPath, maxSockets: 16 });
  try {
    const ref = { version: 'v1', resource: 'configmaps', namespace: 'default' };
    const each = async (f: (i: number) => Promise<unknown>) => {
      let next = 0;
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let i = next++; i < n; i = next++) await f(i);
      }));
    };
    await each((i) => client.create(ref, { metadata: { name: `cm-${i}` }, data: { v: '1' } }));
    const first = await client.list(ref, { limit: 500 });
    await each((i) => client.patch({ ...ref, name: `cm-${i}` }, 'merge', { data: { v: '2' } }));
    const times: number[] = [];
    let cont = first.metadata.continue;
    while (cont) {
      const t = performance.now();
      const l = await client.list<KObject>(ref, { limit: 500, continue: cont });
      times.push(performance.now() - t);
      if (l.items.some((o) => (o as { data?: { v?: string } }).data?.v !== '1')) throw new Error('a continue page is not the snapshot');
      cont = l.metadata.continue;
    }
    const sorted = [...times].sort((a, b) => a - b);
    const r = (x: number) => Math.round(x * 10) / 10;
    console.log(
      JSON.stringify({
        bench: 'list-snapshot',
        objects: n,
        changedSinceFirstPage: n,
        continuePages: times.length,
        firstContinueMs: r(times[0]),
        medianMs: r(sorted[sorted.length >> 1]),
        maxMs: r(sorted[sorted.length - 1]),
        totalMs: Math.round(times.reduce((a, b) => a + b, 0)),
        calibration: calibration(before),
        loadAverage: loadavg().map(r),
        measuredAs: 'in-process API server on a unix socket; continue pages of 500 timed at the client (same process: its decode included)',
      }),
    );
  } finally {
    client.close();
    await api.close();
  }
}
