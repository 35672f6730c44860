// How close the API server's watch delivery is to the least any Node server can do on this machine:
// `npm run bench -- watch-floor [--rounds 2] [--watchers 100]`. Runs the apiserver benchmark's watch
// test (100 watchers, a create every 5 ms, same native client) against `mizzen apiserver` and
// against bench/lib/floor-server.mjs (parse, fsynced SQLite commit on the same thread, write the
// event to every watch, answer), with one thread and with two sharing the listening socket, in
// turn, so that all meet the same phases of a machine whose speed drifts. The floor is sent the pod as Mizzen stores it (defaults and all), so that both
// write events of the same size. The floor's p99 is what this machine allows before Mizzen does
// anything.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePki } from '../src/apiserver/pki.ts';
import { watchTarget } from './apiserver.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { adminCreds, request, serverNodeFlags, startCluster, tlsCreds } from './lib/cluster.ts';
import { pickClient, type BenchClient } from './lib/native-clients.ts';
import { watchLatency, type WatchLatency } from './lib/watch-latency.ts';

/** `stored`: a pod as Mizzen stored it, whose copies (renamed) the floor is sent. */
async function floor(dir: string, watchers: number, client: BenchClient, stored: { metadata: object }, threads: 1 | 2): Promise<WatchLatency> {
  const pki = await ensurePki(dir);
  const proc = spawn(process.execPath, [...serverNodeFlags(), path.join(import.meta.dirname, 'lib', 'floor-server.mjs'), pki.files.serverCert, pki.files.serverKey, pki.files.caCert, path.join(dir, `floor-${Date.now()}.db`), String(threads)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /port (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
    });
    const body = (name: string) => JSON.stringify({ ...stored, metadata: { ...stored.metadata, name } });
    return await watchLatency(adminCreds(pki, port), dir, { createPath: '/', watchPath: '/watch', body }, watchers, client);
  } finally {
    proc.kill();
  }
}

/** The watch test on `mizzen apiserver`, and one of its pods as stored. */
async function mizzen(watchers: number, client: BenchClient): Promise<{ latency: WatchLatency; stored: { metadata: object } }> {
  const c = await startCluster([], 'apiserver');
  try {
    await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'watch' } });
    const latency = await watchLatency(tlsCreds(c), c.dataDir, watchTarget('watch'), watchers, client);
    const stored = JSON.parse((await request(c, 'GET', '/api/v1/namespaces/watch/pods/watch-0')).body);
    return { latency, stored };
  } finally {
    await c.stop();
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string', default: '2' }, watchers: { type: 'string', default: '100' }, client: { type: 'string', default: 'native' } } });
  const client = pickClient(values.client);
  const watchers = Number(values.watchers);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mizzen-floor-'));
  const brief = (w: WatchLatency) => ({ p50: +w.p50.toFixed(2), p99: +w.p99.toFixed(2), firstWatcherP99: +w.firstWatcherP99.toFixed(2) });
  try {
    const calibrationBefore = calibrationMs();
    const rounds = [];
    for (let i = 0; i < Number(values.rounds); i++) {
      const m = await mizzen(watchers, client);
      rounds.push({
        mizzen: brief(m.latency),
        floor: brief(await floor(dir, watchers, client, m.stored, 1)),
        floorTwoThreads: brief(await floor(dir, watchers, client, m.stored, 2)),
      });
    }
    console.log(JSON.stringify({ bench: 'watch-floor', watchers, client, rounds, calibration: calibration(calibrationBefore) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
