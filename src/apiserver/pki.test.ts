import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat, readFile, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { ensureKubeletServingCert, ensurePki, type Pki } from './pki.ts';
import { writeKubeconfig } from './kubeconfig.ts';

let dir: string;
let pki: Pki;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mizzen-pki-'));
  pki = await ensurePki(dir, ['192.0.2.10', 'node-a.example']);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('first call issues a CA, a serving, an admin and a kubelet-client certificate', () => {
  assert.deepEqual(pki.issued, ['ca', 'server', 'admin', 'kubelet-client']);
  const ca = new X509Certificate(pki.caCertPem);
  assert.equal(ca.ca, true);
  assert.match(ca.subject, /CN=mizzen-ca/);
});

test('leaf certificates verify against the CA', () => {
  const ca = new X509Certificate(pki.caCertPem);
  for (const pem of [pki.serverCertPem, pki.adminCertPem, pki.kubeletClientCertPem]) {
    const cert = new X509Certificate(pem);
    assert.ok(cert.checkIssued(ca));
    assert.ok(cert.verify(ca.publicKey));
  }
});

test('serving certificate carries the local, host and in-cluster SANs', () => {
  const cert = new X509Certificate(pki.serverCertPem);
  for (const ip of ['127.0.0.1', '::1', '10.43.0.1', '192.0.2.10']) assert.ok(cert.checkIP(ip), ip);
  for (const name of ['localhost', hostname(), 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'node-a.example']) {
    assert.ok(cert.checkHost(name, { subject: 'never' }), name);
  }
});

test('admin certificate names user admin in group system:masters', () => {
  const cert = new X509Certificate(pki.adminCertPem);
  assert.match(cert.subject, /CN=admin/);
  assert.match(cert.subject, /O=system:masters/);
  assert.ok(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), 'clientAuth extended key usage');
});

test('the API server\'s kubelet client certificate is kube-apiserver-kubelet-client in system:masters', () => {
  const cert = new X509Certificate(pki.kubeletClientCertPem);
  assert.match(cert.subject, /CN=kube-apiserver-kubelet-client/);
  assert.match(cert.subject, /O=system:masters/);
  assert.ok(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), 'clientAuth extended key usage');
});

test('a kubelet serving certificate covers the node and its addresses and is reused', async () => {
  const kdir = join(dir, 'kubelet-pki');
  const ca = { certPem: pki.caCertPem, keyPem: pki.caKeyPem };
  const first = await ensureKubeletServingCert(kdir, ca, 'node-1', ['192.0.2.33']);
  assert.equal(first.issued, true);
  const cert = new X509Certificate(first.certPem);
  assert.match(cert.subject, /CN=system:node:node-1/);
  assert.ok(cert.checkIssued(new X509Certificate(pki.caCertPem)));
  for (const ip of ['192.0.2.33', '127.0.0.1']) assert.ok(cert.checkIP(ip), ip);
  assert.ok(cert.checkHost('node-1', { subject: 'never' }));
  assert.ok(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), 'serverAuth extended key usage');
  assert.equal((await ensureKubeletServingCert(kdir, ca, 'node-1', ['192.0.2.33'])).issued, false);
  const more = await ensureKubeletServingCert(kdir, ca, 'node-1', ['192.0.2.34']);
  assert.equal(more.issued, true);
  assert.equal((await stat(join(kdir, 'kubelet.key'))).mode & 0o777, 0o600);
});

test('private keys are written with mode 0600', async () => {
  for (const f of [pki.files.caKey, pki.files.serverKey, pki.files.adminKey, pki.files.kubeletClientKey]) {
    assert.equal((await stat(f)).mode & 0o777, 0o600, f);
  }
});

test('second call reuses the files', async () => {
  const again = await ensurePki(dir, ['192.0.2.10']);
  assert.deepEqual(again.issued, []);
  assert.equal(again.caCertPem, pki.caCertPem);
  assert.equal(again.serverCertPem, pki.serverCertPem);
  assert.equal(again.adminKeyPem, pki.adminKeyPem);
});

test('a new bind address re-issues only the serving certificate', async () => {
  const d = await mkdtemp(join(tmpdir(), 'mizzen-pki-'));
  try {
    const first = await ensurePki(d, ['127.0.0.1']);
    const second = await ensurePki(d, ['198.51.100.7', '0.0.0.0']);
    assert.deepEqual(second.issued, ['server']);
    assert.equal(second.caCertPem, first.caCertPem);
    assert.equal(second.adminCertPem, first.adminCertPem);
    assert.ok(new X509Certificate(second.serverCertPem).checkIP('198.51.100.7'));
  } finally {
    await rm(d, { recursive: true, force: true });
  }
});

test('a replaced CA re-issues the leaves it no longer signs', async () => {
  const d = await mkdtemp(join(tmpdir(), 'mizzen-pki-'));
  try {
    const first = await ensurePki(d);
    await writeFile(first.files.caKey, 'garbage');
    const second = await ensurePki(d);
    assert.deepEqual(second.issued, ['ca', 'server', 'admin', 'kubelet-client']);
    assert.notEqual(second.caCertPem, first.caCertPem);
  } finally {
    await rm(d, { recursive: true, force: true });
  }
});

test('an https server with these certificates accepts a client presenting the admin certificate', async () => {
  const server = createServer(
    { cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caCertPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.end(JSON.stringify({ cn: peer.subject.CN, o: peer.subject.O }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const get = (withClientCert: boolean) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          ca: pki.caCertPem,
          ...(withClientCert ? { cert: pki.adminCertPem, key: pki.adminKeyPem } : {}),
        },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  try {
    const ok = await get(true);
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { cn: 'admin', o: 'system:masters' });
    await assert.rejects(get(false));
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('writeKubeconfig embeds the credentials and is private', async () => {
  const file = join(dir, 'kubeconfig');
  await writeKubeconfig(file, {
    server: 'https://127.0.0.1:6443',
    caPem: pki.caCertPem,
    clientCertPem: pki.adminCertPem,
    clientKeyPem: pki.adminKeyPem,
  });
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const cfg = parse(await readFile(file, 'utf8'));
  assert.equal(cfg['current-context'], 'mizzen');
  assert.deepEqual(cfg.contexts, [{ name: 'mizzen', context: { cluster: 'mizzen', user: 'admin' } }]);
  const cluster = cfg.clusters[0].cluster;
  assert.equal(cluster.server, 'https://127.0.0.1:6443');
  assert.equal(Buffer.from(cluster['certificate-authority-data'], 'base64').toString(), pki.caCertPem);
  const user = cfg.users[0].user;
  assert.equal(Buffer.from(user['client-certificate-data'], 'base64').toString(), pki.adminCertPem);
  assert.equal(Buffer.from(user['client-key-data'], 'base64').toString(), pki.adminKeyPem);
});
