// The DNS server's own thread: the zone, the sockets and the forwarder live here, so a busy main
// thread (an API server, a kubelet syncing pods) does not delay answers. The main thread's
// informers send zone updates as messages; this thread never calls the API.

import { parentPort, workerData } from 'node:worker_threads';
import { DnsThread, type DnsThreadConfig, type ToDnsThread } from './dns-thread.ts';

const port = parentPort!;
const t = new DnsThread((workerData as { cfg: DnsThreadConfig }).cfg, (msg) => port.postMessage({ type: 'log', msg }));
try {
  const bound = await t.start();
  port.postMessage({ type: 'ready', bound });
} catch (e) {
  port.postMessage({ type: 'failed', error: (e as Error).message });
}
port.on('message', async (m: ToDnsThread) => {
  if (m.type === 'updates') t.zone.apply(m.updates);
  else if (m.type === 'stats') port.postMessage({ type: 'stats', id: m.id, stats: t.stats() });
  else if (m.type === 'close') {
    await t.close();
    port.postMessage({ type: 'closed' });
    port.close();
  }
});
