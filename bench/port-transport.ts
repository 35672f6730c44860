// The components' requests to the API server of their own process, over its private Unix socket
// against a MessagePort (src/client/port-link.ts): configmap creates from a worker thread with N in
// flight, CPU of the whole process per request (both threads), rounds alternated.
// `npm run bench -- port-transport [--ops 4000] [--concurrency 8] [--rounds 4]`

import { parseArgs } from 'node:util';
import { MessageChannel, Worker } from 'node:worker_threads';
import { startTestApiServer } from '../src/testing/api-server.ts';
import { loadavg } from 'node:os';


export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ops: { type: 'string', default: '4000' }, concurrency: { type: 'string', default: '8' }, rounds: { type: 'string', default: '4' } } });
  const ops = Number(values.ops);
  const api = await startTestApiServer({ name: 'port-transport', unixSocket: true });
  const results: Record<string, { cpuUsPerOp: number[]; perSec: number[] }> = { socket: { cpuUsPerOp: [], perSec: [] }, port: { cpuUsPerOp: [], perSec: [] } };
  try {
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const via of r % 2 ? ['port', 'socket'] : ['socket', 'port']) {
        const ch = new MessageChannel();
        if (via === 'port') api.server.acceptPort!(ch.port1);
        const c0 = process.cpuUsage();
        const w = new Worker(`import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(new URL('./lib/port-transport-worker.ts', import.meta.url).href)});`, {
          eval: true,
          workerData: { socketPath: api.socketPath, port: ch.port2, ops, concurrency: Number(values.concurrency), round: `${r}${via[0]}`, via },
          transferList: [ch.port2],
        });
        const ms = await new Promise<number>((res, rej) => (w.once('message', res), w.once('error', rej)));
        await w.terminate();
        const c = process.cpuUsage(c0);
        ch.port1.close();
        results[via]!.cpuUsPerOp.push(Math.round((c.user + c.system) / ops));
        results[via]!.perSec.push(Math.round((ops / ms) * 1000));
      }
    }
  } finally {
    await api.close();
  }
  console.log(JSON.stringify({ bench: 'port-transport', ops, concurrency: Number(values.concurrency), ...results, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100), measuredAs: 'whole process CPU (server thread + client worker, worker start included) per configmap create' }));
}
