// CPU per durable create at the Store, without the API server: the same creates (a pod-sized
// value, N in flight) on SQLite and on one etcd member, alternating, with this process's main
// thread, its other threads and etcd's process measured from /proc. The difference between the two
// main-thread figures is what the etcd store and its transport (node:http2, the codec, the watch)
// cost the API server's main thread per create; etcd's own CPU per create is the rest of the
// price of etcd on a small machine (docs/design.md, "Creates on etcd: where the CPU goes").
//
// Flags: --creates 10000 --concurrency 32 --value-bytes 2100 --rounds 2
//        --ab-bind: etcd only, alternating Node's AsyncResource#bind and ours (async-resource-bind.ts)
//        --ab-transport: etcd only, alternating unary calls on node:http2 and on our HTTP/2 (h2-unary.ts)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.ts';
import { EtcdStore } from '../src/storage/etcd/etcd-store.ts';
import type { Store } from '../src/storage/store.ts';
import { startEtcd, type TestEtcd } from '../src/testing/etcd.ts';
import { processCpuMs, threadCpuMs } from './lib/proc-cpu.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { useFastAsyncResourceBind } from '../src/machinery/async-resource-bind.ts';
import { setUnaryTransport } from '../src/storage/etcd/grpc-transport.ts';

interface Figures {
  createsPerSec: number;
  cpuMsPerCreate: { main: number; otherThreads: number; etcd: number };
  /** Create latency (the write acknowledged, its event delivered): one at a time, and with `concurrency` in flight. */
  ackMs: { serialP50: number; serialP99: number; loadedP50: number; loadedP99: number };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2);
};

async function round(kind: 'sqlite' | 'etcd', o: { creates: number; concurrency: number; value: string }): Promise<Figures> {
  let etcd: TestEtcd | undefined;
  let store: Store;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mizzen-bench-store-cpu-'));
  if (kind === 'etcd') {
    etcd = await startEtcd({ name: 'store-cpu' });
    store = await EtcdStore.open({ endpoints: etcd.endpoints, compactIntervalMs: 0 });
  } else {
    store = SqliteStore.open({ file: path.join(dir, 'state.db'), compactIntervalMs: 0 });
  }
  try {
    const run = async (prefix: string, n: number, concurrency = o.concurrency, lat?: number[]) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (;;) {
            const i = next++;
            if (i >= n) return;
            // Each request arrives as its own event, as from a socket.
            await new Promise<void>((r) => setImmediate(r));
            const t = performance.now();
            await store.create(`/registry/pods/bench/${prefix}-${i}`, o.value.replace('NAME', `${prefix}-${i}`));
            lat?.push(performance.now() - t);
          }
        }),
      );
    };
    await run('warm', 1000);
    const serial: number[] = [];
    await run('serial', 300, 1, serial);
    const loaded: number[] = [];
    const pid = process.pid;
    const etcdPid = etcd?.members[0].proc?.pid;
    const t0 = performance.now();
    const main0 = threadCpuMs(pid).main ?? 0;
    const all0 = processCpuMs(pid);
    const etcd0 = etcdPid ? processCpuMs(etcdPid) : 0;
    await run('pod', o.creates, o.concurrency, loaded);
    const secs = (performance.now() - t0) / 1000;
    const main = (threadCpuMs(pid).main ?? 0) - main0;
    const all = processCpuMs(pid) - all0;
    const e = etcdPid ? processCpuMs(etcdPid) - etcd0 : 0;
    const per = (x: number) => +(x / o.creates).toFixed(3);
    return {
      createsPerSec: Math.round(o.creates / secs),
      cpuMsPerCreate: { main: per(main), otherThreads: per(all - main), etcd: per(e) },
      ackMs: { serialP50: pct(serial, 50), serialP99: pct(serial, 99), loadedP50: pct(loaded, 50), loadedP99: pct(loaded, 99) },
    };
  } finally {
    await store.close();
    await etcd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      creates: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '32' },
      'value-bytes': { type: 'string', default: '2100' },
      rounds: { type: 'string', default: '2' },
      'ab-bind': { type: 'boolean', default: false },
      'ab-transport': { type: 'boolean', default: false },
    },
  });
  const bytes = Number(values['value-bytes']);
  const head = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME"},"pad":"';
  const value = head + 'x'.repeat(Math.max(0, bytes - head.length - 2)) + '"}';
  const o = { creates: Number(values.creates), concurrency: Number(values.concurrency), value };
  const before = calibrationMs();
  if (values['ab-transport']) {
    const ab: Record<'nodeHttp2' | 'own', Figures[]> = { nodeHttp2: [], own: [] };
    for (let r = 0; r < Math.max(1, Number(values.rounds)); r++) {
      for (const kind of r % 2 ? (['own', 'nodeHttp2'] as const) : (['nodeHttp2', 'own'] as const)) {
        setUnaryTransport(kind === 'own' ? 'own' : 'node-http2');
        ab[kind].push(await round('etcd', o));
      }
    }
    setUnaryTransport('own');
    console.log(JSON.stringify({ bench: 'store-cpu', abTransport: true, creates: o.creates, concurrency: o.concurrency, valueBytes: value.length, ...ab, calibration: calibration(before), loadAverage: os.loadavg().map((x) => +x.toFixed(1)) }));
    return;
  }
  if (values['ab-bind']) {
    const ab: Record<'nodeBind' | 'fastBind', Figures[]> = { nodeBind: [], fastBind: [] };
    for (let r = 0; r < Math.max(1, Number(values.rounds)); r++) {
      for (const kind of r % 2 ? (['fastBind', 'nodeBind'] as const) : (['nodeBind', 'fastBind'] as const)) {
        useFastAsyncResourceBind(kind === 'fastBind');
        ab[kind].push(await round('etcd', o));
      }
    }
    useFastAsyncResourceBind(true);
    console.log(JSON.stringify({ bench: 'store-cpu', abBind: true, creates: o.creates, concurrency: o.concurrency, valueBytes: value.length, ...ab, calibration: calibration(before), loadAverage: os.loadavg().map((x) => +x.toFixed(1)) }));
    return;
  }
  const runs: Record<'sqlite' | 'etcd', Figures[]> = { sqlite: [], etcd: [] };
  for (let r = 0; r < Math.max(1, Number(values.rounds)); r++) {
    for (const kind of r % 2 ? (['etcd', 'sqlite'] as const) : (['sqlite', 'etcd'] as const)) runs[kind].push(await round(kind, o));
  }
  console.log(JSON.stringify({ bench: 'store-cpu', creates: o.creates, concurrency: o.concurrency, valueBytes: value.length, ...runs, calibration: calibration(before), loadAverage: os.loadavg().map((x) => +x.toFixed(1)) }));
}
