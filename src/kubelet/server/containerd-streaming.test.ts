// exec, attach, cp, port-forward and logs through the real kubectl, the API server and the kubelet
// server to a real containerd's streaming server (CRI Exec/Attach/PortForward URLs on 127.0.0.1),
// and the kubelet's own SPDY client straight against containerd. Needs root and containerd.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import net from 'node:net';
import { once } from 'node:events';
import type { KObject } from '../../api/types.ts';
import { ensureKubeletServingCert } from '../../apiserver/pki.ts';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { localNodeSkipReason, startLocalNode, type LocalNode } from '../testing/local-node.ts';
import type { CriClient } from '../cri/services.ts';
import type { PodSandboxConfig } from '../cri/types.ts';
import { startKubeletServer, type RunningKubeletServer } from './server.ts';
import { criLogSource, criStreamingRuntime } from './cri-runtime.ts';
import { dialRemoteCommand } from './remote-command.ts';
import { MemoryPods, testPod } from './testing/test-kubelet.ts';

const KUBECTL = '/usr/bin/kubectl';
const skip = localNodeSkipReason() ?? (existsSync(KUBECTL) ? undefined : `kubectl is not installed at ${KUBECTL}`);

describe('streaming against real containerd', { skip }, () => {
  let node: LocalNode;
  let cri: CriClient;
  let api: TestApiServer;
  let kubelet: RunningKubeletServer;
  let sandboxId: string;
  let config: PodSandboxConfig;
  let containerId: string;
  let attachId: string;

  function kubectl(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(KUBECTL, ['--kubeconfig', api.kubeconfig, ...args]);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
      p.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      p.stdin.end(stdin ?? '');
    });
  }

  before(async () => {
    node = await startLocalNode();
    cri = node.runtime.cri;
    config = node.sandboxConfig('web');
    sandboxId = await cri.runPodSandbox(config);
    containerId = await cri.createContainer(
      sandboxId,
      { metadata: { name: 'web' }, image: { image: 'busybox' }, command: ['sh', '-c', 'echo "<p>hi</p>" > /tmp/index.html; echo started; echo oops >&2; exec httpd -f -p 8080 -h /tmp'], logPath: 'web/0.log' },
      config,
    );
    await cri.startContainer(containerId);
    attachId = await cri.createContainer(
      sandboxId,
      { metadata: { name: 'reader' }, image: { image: 'busybox' }, command: ['sh', '-c', 'while read l; do echo "got $l"; done'], stdin: true, logPath: 'reader/0.log' },
      config,
    );
    await cri.startContainer(attachId);

    api = await startTestApiServer({ name: 'containerd-streams' });
    const serving = await ensureKubeletServingCert(join(node.dataDir, 'kubelet-pki'), { certPem: api.pki.caCertPem, keyPem: api.pki.caKeyPem }, 'node-1');
    const pods = new MemoryPods();
    kubelet = await startKubeletServer({
      nodeName: 'node-1',
      port: 0,
      bindAddress: '127.0.0.1',
      tls: { cert: serving.certPem, key: serving.keyPem, clientCA: api.pki.caCertPem },
      pods,
      runtime: criStreamingRuntime(cri),
      logs: criLogSource(cri),
    });
    const nodes = api.server.resource('', 'nodes');
    await nodes.create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    await nodes.update(undefined, 'node-1', (n) => ({ ...n, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } }), { subresource: 'status' });
    const p = testPod('default', 'web', { web: { id: containerId, running: true }, reader: { id: attachId, running: true } }, 'node-1');
    for (const cs of p.status.containerStatuses) cs.containerID = `containerd://${cs.name === 'web' ? containerId : attachId}`;
    const created: KObject = await api.server.resource('', 'pods').create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: p.spec });
    await api.server.resource('', 'pods').update('default', 'web', (cur) => ({ ...cur, status: p.status }), { subresource: 'status' });
    pods.set({ ...p, metadata: { ...p.metadata, uid: created.metadata.uid } }, sandboxId);
  });

  after(async () => {
    await kubelet?.close();
    await api?.close();
    await node?.cleanup();
  });

  test('kubectl exec in a containerd container: output and exit codes', async () => {
    const hi = await kubectl(['exec', 'web', '-c', 'web', '--', 'sh', '-c', 'echo hi from $(hostname)']);
    assert.deepEqual([hi.code, hi.stdout], [0, 'hi from web\n'], hi.stderr);
    const three = await kubectl(['exec', 'web', '-c', 'web', '--', 'sh', '-c', 'exit 3']);
    assert.equal(three.code, 3, three.stderr);
  });

  test('kubectl exec -i ends stdin (v5 CLOSE translated to a SPDY half-close)', async () => {
    const r = await kubectl(['exec', '-i', 'web', '-c', 'web', '--', 'sh', '-c', 'wc -c'], 'twelve bytes');
    assert.deepEqual([r.code, r.stdout.trim()], [0, '12'], r.stderr);
  });

  test('kubectl cp into the container and back', async () => {
    const local = join(node.dataDir, 'cp.txt');
    const content = 'through containerd\n'.repeat(1000);
    await writeFile(local, content);
    const up = await kubectl(['cp', '-c', 'web', local, 'web:/tmp/cp.txt']);
    assert.equal(up.code, 0, up.stderr);
    const back = join(node.dataDir, 'cp-back.txt');
    const down = await kubectl(['cp', '-c', 'web', 'web:/tmp/cp.txt', back]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await readFile(back, 'utf8'), content);
  });

  test('kubectl attach to a container with stdin', async () => {
    const p = spawn(KUBECTL, ['--kubeconfig', api.kubeconfig, 'attach', '-i', 'web', '-c', 'reader']);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    try {
      for (let i = 0; i < 100 && !/got hello/.test(out); i++) {
        if (i % 10 === 0) p.stdin.write('hello\n');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(out, /got hello/);
    } finally {
      p.kill('SIGKILL');
      await once(p, 'close');
    }
  });

  test('kubectl port-forward to the pod\'s port through containerd', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const n = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(n));
      });
    });
    const pf = spawn(KUBECTL, ['--kubeconfig', api.kubeconfig, 'port-forward', '--address', '127.0.0.1', 'pod/web', `${port}:8080`]);
    let out = '';
    pf.stdout.on('data', (d) => (out += d));
    pf.stderr.on('data', (d) => (out += d));
    try {
      for (let i = 0; i < 100 && !/Forwarding from/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /Forwarding from 127\.0\.0\.1/);
      const res = await fetch(`http://127.0.0.1:${port}/index.html`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '<p>hi</p>\n');
    } finally {
      pf.kill('SIGKILL');
      await once(pf, 'close');
    }
  });

  test('kubectl logs reads containerd\'s CRI log file', async () => {
    const r = await kubectl(['logs', 'web', '-c', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /started\n/);
    assert.match(r.stdout, /oops\n/);
    const ts = await kubectl(['logs', 'web', '-c', 'web', '--timestamps', '--tail=1']);
    assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) /);
  });

  test('the kubelet\'s SPDY client speaks to containerd directly', async () => {
    const url = await cri.exec({ containerId, cmd: ['sh', '-c', 'cat; exit 9'], stdin: true, stdout: true, stderr: true });
    const s = await dialRemoteCommand(url);
    const errS = s.createStream({ streamtype: 'error' });
    const inS = s.createStream({ streamtype: 'stdin' });
    const outS = s.createStream({ streamtype: 'stdout' });
    s.createStream({ streamtype: 'stderr' }).resume();
    const read = (st: NodeJS.ReadableStream) =>
      new Promise<string>((resolve) => {
        let t = '';
        st.on('data', (d) => (t += d));
        st.on('end', () => resolve(t));
      });
    const [out, err] = [read(outS), read(errS)];
    inS.end('spdy to containerd');
    assert.equal(await out, 'spdy to containerd');
    const status = JSON.parse(await err);
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.deepEqual(status.details.causes, [{ reason: 'ExitCode', message: '9' }]);
  });
});
