// The least a server can do for a big LIST (bench/list-floor.ts): HTTPS on the API server's own
// certificate, every GET answered with the same body, held in memory already encoded, written in
// one call. No routing, no authentication beyond TLS, no building of the JSON. Plain JavaScript so
// it starts without tsx. Usage: node list-floor-server.mjs CERT KEY BODYFILE; prints "port N".

import fs from 'node:fs';
import https from 'node:https';

const [certFile, keyFile, bodyFile] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile);
const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), keepAliveTimeout: 60_000 }, (req, res) => {
  req.resume();
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
