// Development helper: start an API server in-process on a data dir and print how to reach it.
// Usage: node --import tsx bench/dev-server.ts DIR [PORT]

import path from 'node:path';
import { ensurePki } from '../src/apiserver/pki.ts';
import { writeKubeconfig } from '../src/apiserver/kubeconfig.ts';
import { startApiServer } from '../src/apiserver/server.ts';

const dir = process.argv[2] ?? '/tmp/mizzen-dev';
const port = Number(process.argv[3] ?? 0);
const t0 = performance.now();
const pki = await ensurePki(dir, ['localhost', '127.0.0.1']);
const srv = await startApiServer({ dataDir: dir, port, bindAddress: '127.0.0.1', tls: { cert: pki.serverCertPem, key: pki.serverKeyPem, clientCA: pki.caCertPem }, log: (m) => console.error(m) });
const kc = path.join(dir, 'kubeconfig');
await writeKubeconfig(kc, { server: srv.url, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem });
console.log(`ready in ${(performance.now() - t0).toFixed(0)}ms: ${srv.url} KUBECONFIG=${kc}`);
process.on('SIGTERM', () => srv.close().then(() => process.exit(0)));
process.on('SIGINT', () => srv.close().then(() => process.exit(0)));
