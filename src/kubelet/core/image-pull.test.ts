// Image pulls through CRI from a real registry on loopback (Debian's docker-registry, image pushed
// with skopeo) behind a small Basic-auth proxy: without credentials the pull is refused
// (ErrImagePull), with the pod's imagePullSecrets it succeeds; policy Always pulls again.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiClient } from '../../client/api-client.ts';
import { loadKubeconfig } from '../../client/kubeconfig.ts';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { poll } from '../../testing/poll.ts';
import { buildOciArchive } from '../images/oci.ts';
import { busyboxLayer, inspectBusybox } from '../images/node-images.ts';
import type { Node, Pod } from '../pods/api-types.ts';
import { localNodeSkipReason, startLocalNode, type LocalNode } from '../testing/local-node.ts';
import { Kubelet } from './kubelet.ts';

const run = promisify(execFile);
const NS = 'kubelet-pull';
const USER = 'puller';
const PASSWORD = 'pull-s3cret';

function skipReason(): string | undefined {
  const r = localNodeSkipReason();
  if (r) return r;
  if (!existsSync('/usr/bin/docker-registry')) return 'needs docker-registry (Debian package docker-registry)';
  if (!existsSync('/usr/bin/skopeo')) return 'needs skopeo (Debian package skopeo)';
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A Basic-auth gate in front of the registry: 401 with a Basic challenge unless the credentials match. */
function startAuthProxy(target: number): Promise<{ port: number; server: http.Server }> {
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="mizzen-test"', 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, server })));
}

describe('image pulls from a loopback registry with imagePullSecrets', { skip: skipReason() }, () => {
  let api: TestApiServer;
  let client: ApiClient;
  let node: LocalNode;
  let kubelet: Kubelet;
  let registry: ChildProcess;
  let proxy: http.Server;
  let image: string;
  const dir = mkdtempSync(join(tmpdir(), 'mzn-registry-'));
  const nodeName = `kpull-${Math.random().toString(36).slice(2, 8)}`;
  const podsRef = { version: 'v1', resource: 'pods', namespace: NS };
  const getPod = (name: string) => client.get<Pod & { status: any }>({ ...podsRef, name });
  const cstatus = (p: any) => p.status?.containerStatuses?.[0];
  const waitPod = (name: string, what: string, pred: (p: any) => boolean) => poll(() => getPod(name), { what: `${name}: ${what}`, timeoutMs: 60_000, intervalMs: 100, done: pred });
  const events = async (name: string) =>
    (await client.list<any>({ version: 'v1', resource: 'events', namespace: NS }, { fieldSelector: `involvedObject.name=${name}` })).items.map((e: any) => `${e.reason}: ${e.message}`);

  before(async () => {
    const regPort = await freePort();
    writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${regPort}\n`);
    registry = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
    await poll(() => new Promise<boolean>((r) => http.get(`http://127.0.0.1:${regPort}/v2/`, (res) => (res.resume(), r(res.statusCode === 200))).on('error', () => r(false))), { what: 'registry up' });
    const p = await startAuthProxy(regPort);
    proxy = p.server;
    const host = `127.0.0.1:${p.port}`;
    image = `${host}/mizzen/app:1`;
    const archive = join(dir, 'app.tar');
    writeFileSync(archive, buildOciArchive({ names: [image], layers: [busyboxLayer(inspectBusybox())], config: { Cmd: ['sh'] } }).archive);
    await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', `${USER}:${PASSWORD}`, `oci-archive:${archive}`, `docker://${image}`], { timeout: 60_000 });
    // The node reaches the registry over plain HTTP (a hosts.toml from registries.yaml); no credentials there.
    const registries = join(dir, 'registries.yaml');
    writeFileSync(registries, `mirrors:\n  "${host}":\n    endpoint: ["http://${host}"]\n`);
    node = await startLocalNode({ registriesFile: registries });

    api = await startTestApiServer({ name: 'kubelet-pull' });
    client = new ApiClient(loadKubeconfig(api.kubeconfig));
    await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: NS } });
    const created = await client.create<Node>({ version: 'v1', resource: 'nodes' }, { metadata: { name: nodeName }, spec: { podCIDR: node.podCIDR } });
    const nodeObj = await client.updateStatus<Node>({ version: 'v1', resource: 'nodes', name: nodeName }, { ...created, status: { allocatable: { cpu: '2', memory: '4Gi', pods: '110' }, capacity: { cpu: '2', memory: '4Gi', pods: '110' }, addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } });
    kubelet = new Kubelet({
      client,
      nodeName,
      runtime: node.runtime,
      rootDir: join(node.dataDir, 'kubelet'),
      clusterDNS: [],
      clusterDomain: 'cluster.local',
      log: () => {},
      getNode: () => nodeObj,
      cgroupRoot: node.cgroupRoot,
    });
    await kubelet.start();
  });
  after(async () => {
    await kubelet?.stop();
    await node?.cleanup();
    client?.close();
    await api?.close();
    proxy?.close();
    registry?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without credentials ErrImagePull; with imagePullSecrets the image is pulled and runs; Always pulls again', async () => {
    const spec = (extra: Record<string, unknown> = {}, policy = 'IfNotPresent') => ({
      nodeName,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image, imagePullPolicy: policy, command: ['sleep', '3600'] }],
      ...extra,
    });
    await client.create(podsRef, { metadata: { name: 'anonymous' }, spec: spec() });
    const denied = await waitPod('anonymous', 'ErrImagePull', (p) => cstatus(p)?.state?.waiting?.reason === 'ErrImagePull');
    assert.match(cstatus(denied).state.waiting.message, /401|[Uu]nauthorized/);

    const dockerconfig = { auths: { [image.split('/')[0]!]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } };
    await client.create({ version: 'v1', resource: 'secrets', namespace: NS }, {
      metadata: { name: 'regcred' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify(dockerconfig)).toString('base64') },
    });
    await client.create(podsRef, { metadata: { name: 'authorized' }, spec: spec({ imagePullSecrets: [{ name: 'regcred' }] }) });
    const ok = await waitPod('authorized', 'running', (p) => cstatus(p)?.state?.running);
    assert.match(cstatus(ok).imageID, /sha256:[0-9a-f]{64}/);
    const evs = await events('authorized');
    assert.ok(evs.includes(`Pulling: Pulling image "${image}"`), evs.join('\n'));
    assert.ok(evs.some((e) => new RegExp(`^Pulled: Successfully pulled image "${image.replace(/[.]/g, '\\.')}" in [\\d.]+s\\. Image size: \\d+ bytes\\.$`).test(e)), evs.join('\n'));

    // Present now, pulled from a registry: IfNotPresent uses it, Always asks the registry again.
    await client.create(podsRef, { metadata: { name: 'present' }, spec: spec({ imagePullSecrets: [{ name: 'regcred' }] }) });
    await waitPod('present', 'running', (p) => cstatus(p)?.state?.running);
    assert.ok((await events('present')).includes(`Pulled: Container image "${image}" already present on machine`));
    await client.create(podsRef, { metadata: { name: 'always' }, spec: spec({ imagePullSecrets: [{ name: 'regcred' }] }, 'Always') });
    await waitPod('always', 'running', (p) => cstatus(p)?.state?.running);
    assert.ok((await events('always')).includes(`Pulling: Pulling image "${image}"`));
  });
});
