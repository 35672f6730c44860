// The least a server can do for the watch test (bench/watch-floor.ts), in Node: HTTPS with client
// certificates; GET starts a watch (a chunked response kept open); POST parses the JSON body,
// commits it to SQLite (WAL, synchronous=FULL: written and fsynced before going on) on this thread,
// writes one ADDED event to every watch, then answers 201. No routing, validation, watch cache or
// thread hop. Plain JavaScript so it starts without tsx.
//
// Usage: node floor-server.mjs CERT KEY CA DBFILE; prints "port N" once listening.

import fs from 'node:fs';
import https from 'node:https';
import Database from 'better-sqlite3';

const [certFile, keyFile, caFile, dbFile] = process.argv.slice(2);
const db = new Database(dbFile);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, value TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO log (name, value) VALUES (?, ?)');

/** The sockets of open watches. */
const watches = new Set();

function chunk(text) {
  const body = Buffer.from(text);
  return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]);
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
      const frame = chunk(`{"type":"ADDED","object":${text.slice(0, -1)},"rv":"${lastInsertRowid}"}}\n`);
      for (const sock of watches) sock.write(frame);
      res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    });
  },
);
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
