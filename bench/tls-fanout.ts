// What writing one watch event to 100 TLS sockets costs in Node on this machine, without the API
// server: `npm run bench -- tls-fanout [--watchers 100] [--rounds 300]`. A bare Node TLS server (this
// thread) holds the connections of the native watch reader (bench/lib/watch-reader.c, two threads)
// and every 5 ms writes a 2 KB chunk to each, timing the loop (wall and CPU). Twice: with readers
// that wait for data (each write wakes a sleeping reader thread, on this machine's other core or, as
// the kernel often chooses for a socket wake-up, on the writer's own, preempting it) and with
// readers that drain their sockets every 20 ms instead (no wake-ups). The difference is what the
// machine charges the writing thread for waking readers; the whole bounds how fast one thread can
// fan an event out, whatever the server does around it.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { ensurePki } from '../src/apiserver/pki.ts';
import { adminCreds, percentile } from './lib/cluster.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { NativeWatchers, buildNativeClients } from './lib/native-clients.ts';

const chunk = Buffer.from(`7d0\r\n${'x'.repeat(0x7d0 - 1)}\n\r\n`);

async function fanout(pki: Awaited<ReturnType<typeof ensurePki>>, dir: string, watchers: number, rounds: number, batch: boolean) {
  const sockets: tls.TLSSocket[] = [];
  const server = tls.createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caCertPem, requestCert: true }, (s) => {
    s.setNoDelay(true);
    s.once('data', () => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'));
    sockets.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const readers = await NativeWatchers.open(adminCreds(pki, port), dir, '/', watchers, 2, 'none', batch);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await new Promise((r) => setTimeout(r, 5));
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const s of sockets) s.write(chunk);
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  await readers.report();
  for (const s of sockets) s.destroy();
  server.close();
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const r2 = (n: number) => +n.toFixed(2);
  return { wallP50: r2(percentile(wall, 50)), wallP99: r2(percentile(wall, 99)), cpuP50: r2(percentile(cpu, 50)), perWriteUs: r2((percentile(wall, 50) * 1000) / watchers) };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { watchers: { type: 'string', default: '100' }, rounds: { type: 'string', default: '300' } } });
  const problem = buildNativeClients();
  if (problem) throw new Error(problem);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mizzen-fanout-'));
  try {
    const pki = await ensurePki(dir);
    const watchers = Number(values.watchers);
    const calibrationBefore = calibrationMs();
    const rounds = Number(values.rounds);
    const waking = await fanout(pki, dir, watchers, rounds, false);
    const notWaking = await fanout(pki, dir, watchers, rounds, true);
    console.log(
      JSON.stringify({
        bench: 'tls-fanout',
        watchers,
        chunkBytes: chunk.length,
        readersWokenMs: waking,
        readersNotWokenMs: notWaking,
        calibration: calibration(calibrationBefore),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
