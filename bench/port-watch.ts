// What a watch event costs the components of `mizzen up` over the API server's private socket and
// over a MessagePort (src/client/port-link.ts), in CPU of the server's thread and of the watching
// thread, rounds alternated.
//
// Default (frames): an HTTP server on the main thread streams ready-made watch frames of a ~1.5 KB
// pod, B per turn of its event loop, to W watches of a worker thread, written as the API server's
// watch handler writes them (corked socket, one HTTP chunk per event). Only the transport differs
// between "socket" and "port"; "none" is the frames made without watchers.
// --store: a test API server instead, N configmaps created C at a time straight into its store, W
// watches of them (the writes' cost is in every round, so its noise is too).
// `npm run bench -- port-watch [--events 20000] [--watchers 2] [--batch 4] [--rounds 3] [--store]`

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { acceptPortStreams } from '../src/client/port-link.ts';
import { startTestApiServer } from '../src/testing/api-server.ts';
import { calibrationMs } from './lib/calibrate.ts';

type Via = 'none' | 'socket' | 'port';
const mainThreadCpuMs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
const turn = () => new Promise<void>((r) => setImmediate(r));

/** Where the frames or writes come from; `run` makes N events and resolves when they are all made. */
interface Source {
  socketPath: string;
  acceptPort(port: MessagePort): { close(): void };
  /** How many watches are open (frames only). */
  watching?(): number;
  run(events: number, round: number): Promise<void>;
  close(): Promise<void>;
}

function httpChunk(text: string): Buffer {
  const body = Buffer.from(text);
  return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`, 'latin1'), body, Buffer.from('\r\n', 'latin1')]);
}

function podJson(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: '7f0c1c2e-3b1a-4a63-9d1e-6a8f2b8c9d10', resourceVersion: '123456', creationTimestamp: '2026-12-07T23:00:00Z', labels: { app: 'bench', tier: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'bench-7d9f', uid: '0d5e0b6e-1c4b-4c8e-a3f6-0e5c2f3d4b21', controller: true, blockOwnerDeletion: true }] },
    spec: { nodeName: 'node-0001', schedulerName: 'default-scheduler', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', serviceAccountName: 'default', enableServiceLinks: true, priority: 0, preemptionPolicy: 'PreemptLowerPriority', containers: [{ name: 'c', image: 'registry.local/pause:3.9', imagePullPolicy: 'IfNotPresent', resources: { requests: { cpu: '100m', memory: '64Mi' } }, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] },
    status: { phase: 'Running', qosClass: 'Burstable', hostIP: '10.0.0.1', podIP: '10.64.0.2', startTime: '2026-12-07T23:00:01Z', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-12-07T23:00:00Z' }, { type: 'Ready', status: 'True', lastTransitionTime: '2026-12-07T23:00:02Z' }] },
  });
}

/** An HTTP server that streams frames to every watch, B per turn, as src/apiserver/watch.ts writes them. */
async function frameSource(batch: number): Promise<Source> {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-port-watch-'));
  const socketPath = join(dir, 'frames.sock');
  const watches = new Set<http.ServerResponse>();
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    watches.add(res);
    res.on('close', () => watches.delete(res));
  });
  server.keepAliveTimeout = 120_000;
  server.requestTimeout = 0;
  await new Promise<void>((r) => server.listen(socketPath, r));
  return {
    socketPath,
    acceptPort: (port) => acceptPortStreams(port, (s) => server.emit('connection', s)),
    watching: () => watches.size,
    async run(events, round) {
      for (let i = 0; i < events; ) {
        // One storage batch's events: each encoded once, written to every watch (corked, as watch.ts).
        const frames: Buffer[] = [];
        for (let k = 0; k < batch && i < events; k++, i++) frames.push(httpChunk(`{"type":"ADDED","object":${podJson(`p${round}-${i}`)}}\n`));
        for (const res of watches) {
          const sock = res.socket!;
          sock.cork();
          for (const f of frames) sock.write(f);
          queueMicrotask(() => sock.uncork());
        }
        await turn();
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function storeSource(concurrency: number): Promise<Source> {
  const api = await startTestApiServer({ name: 'port-watch', unixSocket: true });
  const configmaps = api.server.resource('', 'configmaps');
  return {
    socketPath: api.socketPath,
    acceptPort: (port) => (api.server.acceptPort!(port), { close: () => port.close() }),
    async run(events, round) {
      let i = 0;
      const data = { a: 'x'.repeat(1000) };
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (i < events) {
            const n = i++;
            await configmaps.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w${round}-${n}`, labels: { app: 'bench' } }, data });
          }
        }),
      );
    },
    close: () => api.close(),
  };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '20000' },
      watchers: { type: 'string', default: '2' },
      batch: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '8' },
      rounds: { type: 'string', default: '3' },
      store: { type: 'boolean', default: false },
    },
  });
  const events = Number(values.events);
  const watchers = Number(values.watchers);
  const fromStore = values.store!;
  const calibration = [calibrationMs()];
  const source = fromStore ? await storeSource(Number(values.concurrency)) : await frameSource(Number(values.batch));
  const out: Record<Via, { processUs: number[]; mainUs: number[]; workerUs: number[]; wallMs: number[] }> = {
    none: { processUs: [], mainUs: [], workerUs: [], wallMs: [] },
    socket: { processUs: [], mainUs: [], workerUs: [], wallMs: [] },
    port: { processUs: [], mainUs: [], workerUs: [], wallMs: [] },
  };
  const orders: Via[][] = [
    ['none', 'socket', 'port'],
    ['port', 'socket', 'none'],
    ['socket', 'none', 'port'],
  ];
  let seq = 0;
  try {
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const via of orders[r % orders.length]!) {
        const ch = new MessageChannel();
        const link = via === 'port' ? source.acceptPort(ch.port1) : undefined;
        const w = new Worker(`import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(new URL('./lib/port-watch-worker.ts', import.meta.url).href)});`, {
          eval: true,
          workerData: { socketPath: source.socketPath, port: ch.port2, events, watchers, via, fromStore },
          transferList: [ch.port2],
        });
        const messages: { type: string; workerCpuMs?: number }[] = [];
        let wake: (() => void) | undefined;
        w.on('message', (m) => (messages.push(m), wake?.()));
        w.on('error', (e) => console.error(e));
        const next = async (type: string) => {
          for (;;) {
            const i = messages.findIndex((m) => m.type === type);
            if (i >= 0) return messages.splice(i, 1)[0]!;
            await new Promise<void>((r) => (wake = r));
          }
        };
        if (!fromStore) {
          const want = via === 'none' ? 0 : watchers;
          while (source.watching!() < want) await new Promise((r) => setTimeout(r, 10));
          w.postMessage('watching');
        }
        await next('ready');
        const c0 = process.cpuUsage();
        const m0 = mainThreadCpuMs();
        const t0 = performance.now();
        await source.run(events, seq++);
        if (via === 'none') w.postMessage('stop');
        const done = await next('done');
        const wall = performance.now() - t0;
        const c = process.cpuUsage(c0);
        const mainMs = mainThreadCpuMs() - m0;
        await w.terminate();
        link?.close();
        ch.port1.close();
        const us = (x: number) => Math.round((x / events) * 10) / 10;
        out[via].processUs.push(us(c.user + c.system));
        out[via].mainUs.push(us(mainMs * 1000));
        out[via].workerUs.push(us(done.workerCpuMs! * 1000));
        out[via].wallMs.push(Math.round(wall));
      }
    }
  } finally {
    await source.close();
  }
  calibration.push(calibrationMs());
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // Per event delivered to one watch: what the round cost beyond making the events alone.
  const perDelivered = (via: 'socket' | 'port', k: 'processUs' | 'mainUs' | 'workerUs') => Math.round(((median(out[via][k]) - median(out.none[k])) / watchers) * 10) / 10;
  const delivered = (via: 'socket' | 'port') => ({ process: perDelivered(via, 'processUs'), main: perDelivered(via, 'mainUs'), worker: perDelivered(via, 'workerUs') });
  console.log(
    JSON.stringify({
      bench: 'port-watch',
      mode: fromStore ? 'store' : 'frames',
      events,
      watchers,
      ...(fromStore ? { concurrency: Number(values.concurrency) } : { batch: Number(values.batch) }),
      perEventUs: out,
      perEventDeliveredUsMedian: { socket: delivered('socket'), port: delivered('port') },
      calibrationMs: calibration,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      measuredAs: 'CPU µs per event made, of the server thread (main), the watching worker thread and the whole process; delivered = (round - none) / watchers, medians',
    }),
  );
}
