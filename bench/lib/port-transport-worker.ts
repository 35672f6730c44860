// The client side of bench/port-transport.ts, in its own thread.

import { workerData, parentPort } from 'node:worker_threads';
import { ApiClient } from '../../src/client/api-client.ts';
import { PortConnector } from '../../src/client/port-link.ts';
const { socketPath, port, ops, concurrency, round, via } = workerData;
const connector = via === 'port' ? new PortConnector(port) : undefined;
const client = new ApiClient({ socketPath, maxSockets: 64, connect: connector ? () => connector.connect() : undefined });
let next = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < ops) {
    const i = next++;
    await client.request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'r' + round + '-' + i }, data: { a: 'x'.repeat(200) } });
  }
}));
parentPort!.postMessage(performance.now() - t0);
client.close();
connector?.close();
