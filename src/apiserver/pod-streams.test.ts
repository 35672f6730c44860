// logs, exec, attach, cp and port-forward end to end with the real kubectl, @kubernetes/client-node
// and (when installed) the Python client: a real API server, a Node whose kubelet endpoint is the
// real kubelet server on 127.0.0.1, and behind it the process-backed stand-in for the runtime's
// streaming server (containerd's wire format, host processes as containers).

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import net from 'node:net';
import https from 'node:https';
import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
// Not re-exported by the package's index; needed to limit Exec to the v4 protocol.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import WebSocket from 'ws';
import type { KObject } from '../api/types.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { startTestKubelet, testPod, type TestKubelet } from '../kubelet/server/testing/test-kubelet.ts';

const KUBECTL = '/usr/bin/kubectl';
const PYTHON = '/usr/bin/python3';
const hasKubectl = existsSync(KUBECTL);

let api: TestApiServer;
let kubelet: TestKubelet;
let echo: net.Server;
let echoPort: number;
let hung: net.Server;
const hungSockets = new Set<net.Socket>();

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], opts: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const p = spawn(KUBECTL, ['--kubeconfig', api.kubeconfig, ...args], { env: { ...process.env, ...(opts.env ?? {}) } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (opts.stdin !== undefined) p.stdin.end(opts.stdin);
    else p.stdin.end();
  });
}

/** A kubectl left running: its output so far, a way to wait for text in it, and kill(). */
function background(args: string[], env: Record<string, string> = {}): { proc: ChildProcess; out: () => string; waitFor(re: RegExp): Promise<void>; kill(): Promise<void> } {
  const proc = spawn(KUBECTL, ['--kubeconfig', api.kubeconfig, ...args], { env: { ...process.env, ...env } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return {
    proc,
    out: () => out,
    async waitFor(re) {
      for (let i = 0; i < 300 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, re);
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await once(proc, 'close');
      }
    },
  };
}

async function createNode(name: string, status: Record<string, unknown>, labels: Record<string, string> = {}): Promise<void> {
  const nodes = api.server.resource('', 'nodes');
  await nodes.create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
  await nodes.update(undefined, name, (n) => ({ ...n, status: { ...n.status, ...status } }), { subresource: 'status' });
}

/** The pod in the API (bound to `node`) and, for the test node, in the kubelet with its status. */
async function createPod(p: KObject, opts: { node?: string; inKubelet?: boolean; sandbox?: string } = {}): Promise<void> {
  const pods = api.server.resource('', 'pods');
  const spec = { ...p.spec, nodeName: opts.node };
  if (!opts.node) delete spec.nodeName;
  const created = await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: p.metadata.name }, spec });
  await pods.update('default', p.metadata.name!, (cur) => ({ ...cur, status: p.status }), { subresource: 'status' });
  if (opts.inKubelet !== false) kubelet.pods.set({ ...p, metadata: { ...p.metadata, uid: created.metadata.uid } }, opts.sandbox ?? `sandbox-${p.metadata.name}`);
}

before(async () => {
  api = await startTestApiServer({ name: 'streams', kubeletTimeoutMs: 2000 });
  kubelet = await startTestKubelet({ nodeName: 'node-1', ca: { certPem: api.pki.caCertPem, keyPem: api.pki.caKeyPem }, bindAddress: '127.0.0.1' });
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
  // A "kubelet" that accepts connections and never answers.
  hung = net.createServer((s) => {
    hungSockets.add(s);
    s.on('close', () => hungSockets.delete(s));
  });
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  const closedPort = await new Promise<number>((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => r(port));
    });
  });

  const ready = { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] };
  await createNode('node-1', { ...ready, addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'node-1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.server.port } } });
  await createNode('sim-0', { ...ready, addresses: [{ type: 'InternalIP', address: '10.0.0.2' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } }, { 'mizzen.dev/simulated': 'true' });
  await createNode('dead', { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: closedPort } } });
  await createNode('hung', { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: (hung.address() as net.AddressInfo).port } } });
  await createNode('noaddr', { addresses: [], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } });

  kubelet.runtime.addContainer('c-solo');
  kubelet.runtime.addContainer('c-duo-app');
  kubelet.runtime.addContainer('c-duo-side', ['sh', '-c', 'while read l; do echo "got $l"; done']);
  kubelet.runtime.addContainer('c-ticker', ['sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
  await createPod(testPod('default', 'solo', { main: { id: 'c-solo', running: true } }), { node: 'node-1' });
  await createPod(testPod('default', 'duo', { app: { id: 'c-duo-app', running: true, previousId: 'c-duo-app-old' }, sidecar: { id: 'c-duo-side', running: true } }), { node: 'node-1' });
  await createPod(testPod('default', 'ticker', { main: { id: 'c-ticker', running: true } }), { node: 'node-1' });
  await createPod(testPod('default', 'waiting', { main: { waiting: 'ContainerCreating' } }), { node: 'node-1' });
  await createPod(testPod('default', 'unscheduled', { main: {} }), { inKubelet: false });
  await createPod(testPod('default', 'simpod', { main: { id: 'x', running: true } }), { node: 'sim-0', inKubelet: false });
  await createPod(testPod('default', 'deadpod', { main: { id: 'x', running: true } }), { node: 'dead', inKubelet: false });
  await createPod(testPod('default', 'hungpod', { main: { id: 'x', running: true } }), { node: 'hung', inKubelet: false });
  await createPod(testPod('default', 'noaddrpod', { main: { id: 'x', running: true } }), { node: 'noaddr', inKubelet: false });

  await kubelet.writeLog('c-solo', ['2024-05-01T10:00:00Z stdout F first', '2024-05-01T10:00:01Z stderr F second', '2024-05-01T10:00:02Z stdout F third']);
  await kubelet.writeLog('c-duo-app', ['2024-05-01T10:00:00Z stdout F app now']);
  await kubelet.writeLog('c-duo-app-old', ['2024-05-01T09:00:00Z stdout F app before the restart']);
  kubelet.logs.running.add('c-solo');
});

after(async () => {
  await kubelet?.close();
  await api?.close();
  echo?.close();
  for (const s of hungSockets) s.destroy();
  hung?.close();
});

describe('with kubectl', { skip: hasKubectl ? false : `kubectl is not installed at ${KUBECTL}` }, () => {
  test('kubectl exec runs a command and returns its exit code', async () => {
    // -v=4 shows the negotiated protocol: WebSocket v5, not the SPDY fallback.
    const hi = await kubectl(['exec', '-v=4', 'solo', '--', 'echo', 'hi']);
    assert.deepEqual([hi.code, hi.stdout], [0, 'hi\n'], hi.stderr);
    assert.match(hi.stderr, /The subprotocol is v5\.channel\.k8s\.io/);
    const three = await kubectl(['exec', 'solo', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(three.code, 3, three.stderr);
    assert.equal(three.stdout, 'out\n');
    assert.match(three.stderr, /err/);
    assert.match(three.stderr, /command terminated with exit code 3/);
  });

  test('kubectl exec -i passes stdin and its end', async () => {
    const r = await kubectl(['exec', '-i', 'solo', '--', 'sh', '-c', 'tr a-z A-Z; echo end'], { stdin: 'piped data\n' });
    assert.deepEqual([r.code, r.stdout], [0, 'PIPED DATA\nend\n'], r.stderr);
  });

  test('kubectl exec carries megabytes both ways without loss', async () => {
    const big = 'x'.repeat(1023) + '\n';
    const input = big.repeat(16 * 1024); // 16 MiB
    const r = await kubectl(['exec', '-i', 'solo', '--', 'sh', '-c', 'wc -c; head -c 20971520 /dev/zero | tr "\\000" y'], { stdin: input, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const [count, ...rest] = r.stdout.split('\n');
    assert.equal(Number(count.trim()), input.length);
    const ys = rest.join('\n');
    assert.equal(ys.length, 20 * 1024 * 1024);
    assert.ok(/^y+$/.test(ys));
  });

  test('kubectl exec -c picks the container; a wrong one is refused', async () => {
    const r = await kubectl(['exec', 'duo', '-c', 'sidecar', '--', 'true']);
    assert.equal(r.code, 0, r.stderr);
    const bad = await kubectl(['exec', 'duo', '-c', 'nope', '--', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /container nope is not valid for pod duo|container nope not found in pod duo/);
  });

  test('kubectl exec -it gets a terminal and sends its size', async () => {
    // kubectl allocates a TTY only when its own stdin is one: run it under script(1) for a pty.
    const before = kubelet.runtime.resizes.length;
    const cmd = `stty cols 91 rows 33; ${KUBECTL} --kubeconfig ${api.kubeconfig} exec -it solo -- sh -c 'test -t 0 && echo has-a-tty; exit 6'`;
    const p = spawn('script', ['-qfec', cmd, '/dev/null']);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const [code] = await once(p, 'close');
    assert.match(out, /has-a-tty/);
    assert.equal(code, 6, out);
    assert.deepEqual(kubelet.runtime.resizes.slice(before)[0], { Width: 91, Height: 33 });
  });

  test('kubectl exec over SPDY (WebSockets disabled) works the same', async () => {
    const env = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
    const r = await kubectl(['exec', '-i', 'solo', '--', 'sh', '-c', 'cat; exit 4'], { stdin: 'over spdy', env });
    assert.deepEqual([r.code, r.stdout], [4, 'over spdy'], r.stderr);
  });

  test('kubectl cp copies into the pod and back out', async () => {
    const local = join(kubelet.dir, 'cp-src.txt');
    const remoteDir = join(kubelet.dir, 'in-pod');
    await mkdir(remoteDir);
    const content = 'copied through exec and tar\n'.repeat(2000);
    await writeFile(local, content);
    const up = await kubectl(['cp', local, `solo:${remoteDir}/uploaded.txt`]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(await readFile(join(remoteDir, 'uploaded.txt'), 'utf8'), content);
    const back = join(kubelet.dir, 'cp-back.txt');
    const down = await kubectl(['cp', `solo:${remoteDir}/uploaded.txt`, back]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await readFile(back, 'utf8'), content);
  });

  test('kubectl attach shows the container\'s output and sends it stdin', async () => {
    const ticker = background(['attach', 'ticker']);
    try {
      await ticker.waitFor(/tick\ntick/);
    } finally {
      await ticker.kill();
    }
    const side = background(['attach', '-i', 'duo', '-c', 'sidecar']);
    try {
      await new Promise((r) => setTimeout(r, 500));
      side.proc.stdin!.write('hello\n');
      await side.waitFor(/got hello/);
    } finally {
      await side.kill();
    }
  });

  for (const [name, env] of [
    ['WebSocket tunnel', {}],
    ['SPDY', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
  ] as const) {
    test(`kubectl port-forward over the ${name} reaches the pod's port`, async () => {
      const localPort = await freePort();
      const pf = background(['port-forward', '-v=4', '--address', '127.0.0.1', 'pod/solo', `${localPort}:${echoPort}`], env);
      try {
        await pf.waitFor(new RegExp(`Forwarding from 127.0.0.1:${localPort} -> ${echoPort}`));
        // -v=4 shows which dialer ran: the WebSocket tunnel, or SPDY without it.
        if (name === 'WebSocket tunnel') assert.match(pf.out(), /tunneling_dialer.*negotiated protocol: portforward\.k8s\.io/);
        else assert.doesNotMatch(pf.out(), /tunneling_dialer/);
        for (const msg of ['first connection', 'second connection']) {
          const sock = net.connect(localPort, '127.0.0.1');
          await once(sock, 'connect');
          sock.end(msg);
          const chunks: Buffer[] = [];
          sock.on('data', (c) => chunks.push(c));
          await once(sock, 'close');
          assert.equal(Buffer.concat(chunks).toString(), msg);
        }
      } finally {
        await pf.kill();
      }
    });
  }

  test('kubectl logs with --tail, --timestamps, --since-time, -c and --previous', async () => {
    const all = await kubectl(['logs', 'solo']);
    assert.deepEqual([all.code, all.stdout], [0, 'first\nsecond\nthird\n'], all.stderr);
    assert.equal((await kubectl(['logs', 'solo', '--tail=1', '--timestamps'])).stdout, '2024-05-01T10:00:02.000000000Z third\n');
    assert.equal((await kubectl(['logs', 'solo', '--since-time=2024-05-01T10:00:01Z'])).stdout, 'second\nthird\n');
    assert.equal((await kubectl(['logs', 'solo', '--limit-bytes=8'])).stdout, 'first\nse');
    assert.equal((await kubectl(['logs', 'duo', '-c', 'app'])).stdout, 'app now\n');
    assert.equal((await kubectl(['logs', 'duo', '-c', 'app', '--previous'])).stdout, 'app before the restart\n');
    const prev = await kubectl(['logs', 'solo', '--previous']);
    assert.notEqual(prev.code, 0);
    assert.match(prev.stderr, /previous terminated container "main" in pod "solo" not found/);
    const waiting = await kubectl(['logs', 'waiting']);
    assert.match(waiting.stderr, /container "main" in pod "waiting" is waiting to start: ContainerCreating/);
    // --since: these lines are from 2024, so nothing is recent enough.
    assert.equal((await kubectl(['logs', 'solo', '--since=1h'])).stdout, '');
  });

  test('kubectl logs -f follows new lines until the container stops', async () => {
    const f = background(['logs', '-f', 'solo', '--tail=1']);
    try {
      await f.waitFor(/third\n/);
      await writeFile(kubelet.logs.paths.get('c-solo')!, '2024-05-01T10:00:09Z stdout F appended\n', { flag: 'a' });
      await f.waitFor(/appended\n/);
      kubelet.logs.running.delete('c-solo');
      await once(f.proc, 'close');
      assert.equal(f.proc.exitCode, 0);
    } finally {
      kubelet.logs.running.add('c-solo');
      await f.kill();
    }
  });

  test('pods on simulated or unreachable nodes fail with a message naming the node', async () => {
    const sim = await kubectl(['exec', 'simpod', '--', 'true']);
    assert.notEqual(sim.code, 0);
    assert.match(sim.stderr, /node sim-0 is simulated and runs no containers/);
    const simLogs = await kubectl(['logs', 'simpod']);
    assert.match(simLogs.stderr, /BadRequest.*node sim-0 is simulated and runs no containers/);
    const dead = await kubectl(['logs', 'deadpod']);
    assert.match(dead.stderr, /the kubelet of node "dead" at 127\.0\.0\.1:\d+ cannot be reached: .*ECONNREFUSED/);
    const hungLogs = await kubectl(['logs', 'hungpod']);
    assert.match(hungLogs.stderr, /the kubelet of node "hung" at 127\.0\.0\.1:\d+ cannot be reached: no answer within 2s/);
    const noaddr = await kubectl(['exec', 'noaddrpod', '--', 'true']);
    assert.match(noaddr.stderr, /no address to reach the kubelet of node "noaddr"/);
  });

  test('kubectl get --raw through nodes/proxy reaches the kubelet', async () => {
    assert.equal((await kubectl(['get', '--raw', '/api/v1/nodes/node-1/proxy/healthz'])).stdout, 'ok');
    const pods = JSON.parse((await kubectl(['get', '--raw', '/api/v1/nodes/node-1/proxy/pods'])).stdout);
    assert.ok(pods.items.some((p: KObject) => p.metadata.name === 'solo'));
    const logs = await kubectl(['get', '--raw', '/api/v1/nodes/node-1/proxy/containerLogs/default/duo/app?tailLines=1']);
    assert.equal(logs.stdout, 'app now\n');
    const sim = await kubectl(['get', '--raw', '/api/v1/nodes/sim-0/proxy/healthz']);
    assert.match(sim.stderr, /node sim-0 is simulated/);
  });
});

describe('with @kubernetes/client-node', () => {
  function kc(): k8s.KubeConfig {
    const c = new k8s.KubeConfig();
    c.loadFromFile(api.kubeconfig);
    return c;
  }

  function collect(): { stream: Writable; text: () => string } {
    let text = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        text += chunk;
        cb();
      },
    });
    return { stream, text: () => text };
  }

  async function run(protocols: string[] | undefined, command: string[], stdin?: string): Promise<{ out: string; err: string; status: any }> {
    const factory = protocols ? (uri: string, _p: string[], opts: any) => new WebSocket(uri, protocols, opts) : undefined;
    const handler = new WebSocketHandler(kc(), factory as any);
    const exec = new k8s.Exec(kc(), handler);
    const out = collect();
    const err = collect();
    let input: PassThrough | null = null;
    if (stdin !== undefined) {
      input = new PassThrough();
      input.end(stdin);
    }
    const status = await new Promise<any>((resolve, reject) => {
      exec.exec('default', 'solo', 'main', command, out.stream, err.stream, input, false, resolve).catch(reject);
    });
    return { out: out.text(), err: err.text(), status };
  }

  test('Exec over v5 with stdin closed by the CLOSE signal', async () => {
    const r = await run(undefined, ['sh', '-c', 'cat; echo; echo bye >&2'], 'from client-node');
    assert.equal(r.out, 'from client-node\n');
    assert.equal(r.err, 'bye\n');
    assert.equal(r.status.status, 'Success');
  });

  test('Exec over v4 reports a non-zero exit code', async () => {
    const r = await run(['v4.channel.k8s.io'], ['sh', '-c', 'echo v4; exit 7']);
    assert.equal(r.out, 'v4\n');
    assert.equal(r.status.reason, 'NonZeroExitCode');
    assert.equal(r.status.details.causes[0].message, '7');
  });

  test('PortForward over the older WebSocket protocol', async () => {
    const pf = new k8s.PortForward(kc());
    const out = new PassThrough();
    const input = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c) => chunks.push(c));
    const ws: any = await pf.portForward('default', 'solo', [echoPort], out, null, input);
    input.write('client-node forward');
    for (let i = 0; i < 100 && Buffer.concat(chunks).toString() !== 'client-node forward'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(Buffer.concat(chunks).toString(), 'client-node forward');
    ws.close();
  });
});

const hasPythonClient = existsSync(PYTHON) && (await new Promise<boolean>((resolve) => {
  const p = spawn(PYTHON, ['-c', 'import kubernetes.stream']);
  p.on('error', () => resolve(false));
  p.on('close', (code) => resolve(code === 0));
}));

test('the Python client\'s stream() runs exec and reads the exit code', { skip: hasPythonClient ? false : 'python3-kubernetes is not installed (apt-get install python3-kubernetes)' }, async () => {
  const script = `
import sys
from kubernetes import client, config
from kubernetes.stream import stream
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
out = stream(v1.connect_get_namespaced_pod_exec, 'solo', 'default', command=['sh', '-c', 'echo from python'], stderr=True, stdin=False, stdout=True, tty=False)
print(repr(out))
resp = stream(v1.connect_get_namespaced_pod_exec, 'solo', 'default', command=['sh', '-c', 'exit 5'], stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
resp.run_forever(timeout=10)
print(resp.returncode)
`;
  const p = spawn(PYTHON, ['-c', script, api.kubeconfig]);
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  await once(p, 'close');
  assert.equal(out, "'from python\\n'\n5\n", err);
});

test('bad requests get a Status, never a hang', async () => {
  const call = (path: string, headers: Record<string, string> = {}, method = 'GET', anonymous = false) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const creds = anonymous ? { ca: api.pki.caCertPem } : { ca: api.pki.caCertPem, cert: api.pki.adminCertPem, key: api.pki.adminKeyPem };
      const req = https.request(`${api.server.url}${path}`, { method, headers, ...creds }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: any = text;
          try {
            body = JSON.parse(text);
          } catch {
            // text
          }
          resolve({ status: res.statusCode!, body });
        });
      });
      req.on('error', reject);
      // Node's client hands a 101 to 'upgrade' listeners; none here means the test expected an answer.
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve({ status: res.statusCode!, body: '' });
      });
      req.end();
    });
  const upgrade = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' };
  const anonymous = await call('/api/v1/namespaces/default/pods/solo/exec?command=true', upgrade, 'POST', true);
  // No credentials: system:anonymous, whom RBAC does not let exec (upstream answers 403 too).
  assert.deepEqual([anonymous.status, anonymous.body.reason], [403, 'Forbidden']);
  // Other paths that ask for an upgrade are answered as plain requests.
  const plainAnswer = await call('/api/v1/namespaces/default/pods/solo', { Connection: 'Upgrade', Upgrade: 'websocket' });
  assert.deepEqual([plainAnswer.status, plainAnswer.body.metadata?.name], [200, 'solo']);
  const missing = await call('/api/v1/namespaces/default/pods/nope/exec?command=true', upgrade, 'POST');
  assert.deepEqual([missing.status, missing.body.message], [404, 'pods "nope" not found']);
  const notValid = await call('/api/v1/namespaces/default/pods/solo/exec?command=true&container=nope', upgrade, 'POST');
  assert.deepEqual([notValid.status, notValid.body.message], [400, 'container nope is not valid for pod solo']);
  const choose = await call('/api/v1/namespaces/default/pods/duo/log');
  assert.deepEqual([choose.status, choose.body.message], [400, 'a container name must be specified for pod duo, choose one of: [app sidecar]']);
  const noHost = await call('/api/v1/namespaces/default/pods/unscheduled/exec?command=true', upgrade, 'POST');
  assert.deepEqual([noHost.status, noHost.body.message], [400, 'pod unscheduled does not have a host assigned']);
  const emptyLog = await call('/api/v1/namespaces/default/pods/unscheduled/log');
  assert.deepEqual([emptyLog.status, emptyLog.body], [200, '']);
  const notUpgrade = await call('/api/v1/namespaces/default/pods/solo/exec?command=true', {}, 'POST');
  assert.deepEqual([notUpgrade.status, notUpgrade.body.message], [400, 'Upgrade request required']);
  const badTail = await call('/api/v1/namespaces/default/pods/solo/log?tailLines=abc');
  assert.equal(badTail.status, 400);
  const badLimit = await call('/api/v1/namespaces/default/pods/solo/log?limitBytes=0&sinceSeconds=1&sinceTime=2024-01-01T00:00:00Z');
  assert.equal(badLimit.status, 422);
  assert.equal(badLimit.body.details.kind, 'PodLogOptions');
  assert.match(badLimit.body.message, /limitBytes: Invalid value: 0: must be greater than 0/);
  assert.match(badLimit.body.message, /at most one of `sinceTime` or `sinceSeconds` may be specified/);
  const badPort = await call('/api/v1/namespaces/default/pods/solo/portforward?ports=99999', { ...upgrade, 'X-Stream-Protocol-Version': 'portforward.k8s.io' }, 'POST');
  assert.equal(badPort.status, 400);
  const noCommand = await call('/api/v1/namespaces/default/pods/solo/exec', upgrade, 'POST');
  assert.deepEqual([noCommand.status, noCommand.body.message], [400, 'you must specify a command to run']);
  const simProxy = await call('/api/v1/nodes/sim-0/proxy/pods');
  assert.equal(simProxy.status, 400);
  const missingNode = await call('/api/v1/nodes/ghost/proxy/pods');
  assert.deepEqual([missingNode.status, missingNode.body.message], [404, 'nodes "ghost" not found']);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
