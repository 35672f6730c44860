// The least a server can do for the watch test (bench/watch-floor.ts), in Node: HTTPS with client
// certificates; GET starts a watch (a chunked response kept open); POST parses the JSON body,
// commits it to SQLite (WAL, synchronous=FULL: written and fsynced before going on) on the thread
// that got it, writes one ADDED event to every watch, then answers 201. No routing, validation,
// watch cache or thread hop. Plain JavaScript so it starts without tsx.
//
// With THREADS 2, a worker thread listens on the same socket (its file descriptor), so the kernel
// spreads connections over both threads and each writes the events to its own watches: what a
// fan-out from two threads would give. (Two handles on one descriptor is fine for a benchmark
// process that exits at the end; a server that stops and starts would close it twice.)
//
// Usage: node floor-server.mjs CERT KEY CA DBFILE [THREADS]; prints "port N" once listening.

import fs from 'node:fs';
import https from 'node:https';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const args = isMainThread ? process.argv.slice(2) : workerData.args;
const [certFile, keyFile, caFile, dbFile, threads = '1'] = args;
const db = new Database(dbFile);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
// Two threads are two connections: one waits while the other commits.
db.pragma('busy_timeout = 5000');
if (isMainThread) db.exec('CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, value TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO log (name, value) VALUES (?, ?)');

/** The sockets of this thread's open watches. */
const watches = new Set();
/** The other thread, if any: it gets every event line to write to its own watches. */
let peer;

function fanOut(line) {
  const body = Buffer.from(line);
  const frame = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]);
  for (const sock of watches) sock.write(frame);
}

const server = https.createServer(
  { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), ca: fs.readFileSync(caFile), requestCert: true, rejectUnauthorized: true, keepAlive: true, noDelay: true },
  (req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      const sock = res.socket;
      watches.add(sock);
      sock.on('close', () => watches.delete(sock));
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const obj = JSON.parse(body);
      const text = JSON.stringify(obj);
      const { lastInsertRowid } = insert.run(obj.metadata.name, text);
      const line = `{"type":"ADDED","object":${text.slice(0, -1)},"rv":"${lastInsertRowid}"}}\n`;
      peer?.postMessage(line);
      fanOut(line);
      res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    });
  },
);

if (isMainThread) {
  server.listen(0, '127.0.0.1', () => {
    const ready = () => console.log(`port ${server.address().port}`);
    if (threads !== '2') return ready();
    peer = new Worker(new URL(import.meta.url), { workerData: { args, fd: server._handle.fd } });
    peer.on('message', (m) => (m === 'listening' ? ready() : fanOut(m)));
  });
} else {
  peer = parentPort;
  parentPort.on('message', fanOut);
  server.listen({ fd: workerData.fd }, () => parentPort.postMessage('listening'));
}
