// The client side of bench/port-watch.ts, in its own thread: W watches over the socket or over the
// port (ApiClient.watch as the components use it), until each has seen N events.

import { readFileSync } from 'node:fs';
import { workerData, parentPort } from 'node:worker_threads';
import { ApiClient } from '../../src/client/api-client.ts';
import { PortConnector } from '../../src/client/port-link.ts';

const { socketPath, port, events, watchers, via, fromStore } = workerData as {
  socketPath: string;
  port: import('node:worker_threads').MessagePort;
  events: number;
  watchers: number;
  via: 'socket' | 'port' | 'none';
  fromStore: boolean;
};
/** This thread's CPU so far, ms (first field of schedstat: ns on a CPU). */
const threadCpuMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
const connector = via === 'port' ? new PortConnector(port) : undefined;
const client = new ApiClient({ socketPath, maxSockets: 8, connect: connector ? () => connector.connect() : undefined });
const cms = { version: 'v1', resource: 'configmaps', namespace: 'default' };
const rv = fromStore ? (await client.list(cms, { limit: 1 })).metadata.resourceVersion : undefined;
let left = via === 'none' ? 0 : watchers;
let names = 0;
let done!: () => void;
const allDone = new Promise<void>((r) => (done = r));
const handles = Array.from({ length: via === 'none' ? 0 : watchers }, () => {
  let n = 0;
  return client.watch(
    cms,
    { resourceVersion: rv, allowWatchBookmarks: true },
    (ev) => {
      if (ev.type !== 'ADDED') return;
      names += ev.object.metadata.name ? 1 : 0;
      if (++n === events && --left === 0) done();
    },
    (err) => err && console.error('watch ended:', err.message),
  );
});
// The server says when it has every watch (frames), or the watches are given time to arrive (store).
if (fromStore) await new Promise((r) => setTimeout(r, 300));
else await new Promise<void>((r) => parentPort!.once('message', () => r()));
const cpu0 = threadCpuMs();
parentPort!.postMessage({ type: 'ready' });
if (via === 'none') await new Promise<void>((r) => parentPort!.once('message', () => r()));
else await allDone;
parentPort!.postMessage({ type: 'done', workerCpuMs: threadCpuMs() - cpu0, names });
for (const h of handles) h.abort();
client.close();
connector?.close();
