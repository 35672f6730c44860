// One thread of the API server benchmark's watchers (plain JavaScript, so it loads without tsx).
// It opens its share of the watches over raw TLS and notes, for each ADDED event whose pod name
// starts with the prefix, when its bytes arrived, on the monotonic clock every thread shares.
//
// Why threads and raw sockets: the benchmark stands in for 100 separate clients (kubelets,
// controllers), each on its own machine. In one Node thread, reading 100 TLS sockets through https.get
// costs ~35 µs each, so the last watcher would mostly wait for the client to read the other 99;
// split over two threads and without an HTTP parser per chunk, the client weighs less on what is
// measured (it still shares this machine's two cores with the server).

import tls from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';

const { host, port, ca, cert, key, path, count, prefix } = workerData;
const needle = `"name":"${prefix}`;
/** [name, arrival in ms on process.hrtime's clock] for every event seen. */
const seen = [];
const sockets = [];

function open() {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, ca, cert, key, servername: 'localhost' }, () => {
      s.setNoDelay(true);
      let carry = '';
      let headers = true;
      s.on('data', (d) => {
        const now = Number(process.hrtime.bigint()) / 1e6;
        let text = carry + d.toString('latin1');
        if (headers) {
          const end = text.indexOf('\r\n\r\n');
          if (end < 0) return void (carry = text);
          headers = false;
          text = text.slice(end + 4);
          resolve(s);
        }
        let start = 0;
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
          const line = text.slice(start, i);
          start = i + 1;
          if (!line.includes('{"type":"ADDED"')) continue;
          const at = line.indexOf(needle);
          if (at >= 0) seen.push([line.slice(at + 8, line.indexOf('"', at + 8)), now]);
        }
        carry = text.slice(start);
      });
      s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n`);
    });
    s.once('error', reject);
    sockets.push(s);
  });
}

await Promise.all(Array.from({ length: count }, open));
parentPort.postMessage({ type: 'ready' });
parentPort.on('message', (m) => {
  if (m.type !== 'report') return;
  for (const s of sockets) s.destroy();
  parentPort.postMessage({ type: 'report', seen });
});
