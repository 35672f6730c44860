import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { createWebSocketStream } from 'ws';
import { ensurePki, type Pki } from '../../apiserver/pki.ts';
import { SpdySession, type SpdyStream } from '../../machinery/spdy/session.ts';
import { dialUpgrade } from '../../machinery/http-upgrade.ts';
import { startTestKubelet, testPod, type TestKubelet } from './testing/test-kubelet.ts';

let dir: string;
let pki: Pki;
let k: TestKubelet;
let echo: net.Server;
let echoPort: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mizzen-kubelet-server-'));
  pki = await ensurePki(dir);
  k = await startTestKubelet({ nodeName: 'node-1', ca: { certPem: pki.caCertPem, keyPem: pki.caKeyPem }, stats: { summary: async () => ({ node: { nodeName: 'node-1' }, pods: [] }) } });
  k.runtime.addContainer('c-main');
  k.runtime.addContainer('c-attach', ['sh', '-c', 'while read l; do echo "got $l"; echo "err $l" >&2; done']);
  k.pods.set(testPod('default', 'web', { main: { id: 'c-main', running: true }, side: { id: 'c-attach', running: true }, gone: { id: 'c-gone' }, pending: { waiting: 'ContainerCreating' } }), 'sandbox-web');
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
});

after(async () => {
  await k.close();
  echo.close();
  await rm(dir, { recursive: true, force: true });
});

const creds = () => ({ ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem });

function get(path: string, withCert = true): Promise<{ status: number; body: string; headers: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${k.server.url}${path}`, { ...(withCert ? creds() : { ca: pki.caCertPem }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface WsResult {
  channels: Map<number, string>;
  closeCode: number;
  protocol: string;
  messages: Array<{ channel: number; data: string }>;
}

/** Run a WebSocket exec/attach; `script` sends messages once open. */
function wsRun(path: string, protocols: string[], script?: (ws: WebSocket) => void, base64 = false): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss${k.server.url.slice(5)}${path}`, protocols, { ...creds() });
    const channels = new Map<number, string>();
    const messages: WsResult['messages'] = [];
    ws.on('open', () => script?.(ws));
    ws.on('message', (raw: Buffer, isBinary) => {
      let channel: number;
      let data: Buffer;
      if (base64) {
        assert.equal(isBinary, false);
        channel = raw[0] - 48;
        data = Buffer.from(raw.toString('latin1', 1), 'base64');
      } else {
        channel = raw[0];
        data = raw.subarray(1);
      }
      messages.push({ channel, data: data.toString() });
      channels.set(channel, (channels.get(channel) ?? '') + data.toString());
    });
    ws.on('close', (code) => resolve({ channels, closeCode: code, protocol: ws.protocol, messages }));
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks)}`), { status: res.statusCode, body: Buffer.concat(chunks).toString() })));
    });
    ws.on('error', reject);
  });
}

const execPath = (cmd: string[], q = 'output=1&error=1', container = 'main') => `/exec/default/web/${container}?${q}&${cmd.map((c) => `command=${encodeURIComponent(c)}`).join('&')}`;

test('healthz needs no certificate; everything else does', async () => {
  assert.deepEqual([(await get('/healthz', false)).status, (await get('/healthz', false)).body], [200, 'ok']);
  const denied = await get('/pods', false);
  assert.equal(denied.status, 401);
  assert.equal(JSON.parse(denied.body).reason, 'Unauthorized');
});

test('/pods lists the pods and /stats/summary comes from the provider', async () => {
  const pods = JSON.parse((await get('/pods')).body);
  assert.equal(pods.kind, 'PodList');
  assert.deepEqual(pods.items.map((p: any) => p.metadata.name), ['web']);
  assert.deepEqual(JSON.parse((await get('/stats/summary')).body), { node: { nodeName: 'node-1' }, pods: [] });
  assert.equal((await get('/nothing')).status, 404);
});

test('/metrics serves the process\'s Prometheus series, the kubelet\'s among them', async () => {
  const m = await get('/metrics');
  assert.equal(m.status, 200);
  assert.match(m.body, /^# TYPE kubelet_running_pods gauge$/m);
  assert.match(m.body, /^# TYPE kubelet_pod_start_duration_seconds histogram$/m);
  assert.equal((await get('/metrics', false)).status, 401);
});

test('exec over v5: output, exit status, empty first message', async () => {
  const r = await wsRun(execPath(['sh', '-c', 'echo hi; echo oops >&2']), ['v5.channel.k8s.io']);
  assert.equal(r.protocol, 'v5.channel.k8s.io');
  assert.equal(r.closeCode, 1000);
  assert.deepEqual(r.messages[0], { channel: 1, data: '' });
  assert.equal(r.channels.get(1), 'hi\n');
  assert.equal(r.channels.get(2), 'oops\n');
  assert.deepEqual(JSON.parse(r.channels.get(3)!), { metadata: {}, status: 'Success' });
});

test('exec over v5: a non-zero exit is a NonZeroExitCode Status with the code', async () => {
  const r = await wsRun(execPath(['sh', '-c', 'exit 3']), ['v5.channel.k8s.io']);
  const st = JSON.parse(r.channels.get(3)!);
  assert.equal(st.status, 'Failure');
  assert.equal(st.reason, 'NonZeroExitCode');
  assert.deepEqual(st.details.causes, [{ reason: 'ExitCode', message: '3' }]);
});

test('exec over v5: stdin and its CLOSE signal', async () => {
  const r = await wsRun(execPath(['sh', '-c', 'tr a-z A-Z; echo done'], 'input=1&output=1&error=1'), ['v5.channel.k8s.io'], (ws) => {
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello ')]));
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('world\n')]));
    ws.send(Buffer.from([255, 0]));
  });
  assert.equal(r.channels.get(1), 'HELLO WORLD\ndone\n');
  assert.equal(JSON.parse(r.channels.get(3)!).status, 'Success');
});

test('exec over v4 base64 and over the first channel protocol (plain text errors)', async () => {
  const b = await wsRun(execPath(['sh', '-c', 'printf "\\377\\000x"; exit 2']), ['v4.base64.channel.k8s.io'], undefined, true);
  assert.equal(b.protocol, 'v4.base64.channel.k8s.io');
  assert.equal(JSON.parse(b.channels.get(3)!).details.causes[0].message, '2');
  const v1 = await wsRun(execPath(['sh', '-c', 'exit 4']), ['channel.k8s.io']);
  assert.match(v1.channels.get(3)!, /^command terminated with non-zero exit code: .*exit code 4$/);
  const ok = await wsRun(execPath(['true']), ['channel.k8s.io']);
  assert.equal(ok.channels.get(3) ?? '', '');
  // A client offering several protocols gets the first one the kubelet speaks.
  const pick = await wsRun(execPath(['true']), ['v6.channel.k8s.io', 'v4.channel.k8s.io', 'v5.channel.k8s.io']);
  assert.equal(pick.protocol, 'v4.channel.k8s.io');
});

test('exec with a TTY merges stderr and passes terminal sizes to the runtime', async () => {
  const r = await wsRun(execPath(['sh', '-c', 'read l; echo "tty:$l"; echo err >&2'], 'input=1&output=1&error=1&tty=1'), ['v5.channel.k8s.io'], (ws) => {
    ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":100,"Height":30}')]));
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('x\n')]));
  });
  assert.match(r.channels.get(1)!, /tty:x/);
  assert.match(r.channels.get(1)!, /err/);
  assert.equal(r.channels.get(2), undefined);
  assert.deepEqual(k.runtime.resizes.at(-1), { Width: 100, Height: 30 });
});

test('attach joins the container\'s main process', async () => {
  const r = await wsRun('/attach/default/web/side?input=1&output=1&error=1', ['v5.channel.k8s.io'], (ws) => {
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('one\n')]));
    // Attach lasts until the client leaves (the container keeps running).
    setTimeout(() => ws.close(1000), 500);
  });
  assert.equal(r.channels.get(1), 'got one\n');
  assert.equal(r.channels.get(2), 'err one\n');
});

test('exec over SPDY is proxied to the runtime as is', async () => {
  const up = await dialUpgrade(`${k.server.url}${execPath(['sh', '-c', 'cat; exit 5'], 'input=1&output=1&error=1')}`, {
    method: 'POST',
    headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': ['v5.channel.k8s.io', 'v4.channel.k8s.io'] },
    tls: creds(),
  });
  assert.equal(up.response.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
  const s = new SpdySession(up.socket, { server: false, head: up.head });
  const errS = s.createStream({ streamtype: 'error' });
  const inS = s.createStream({ streamtype: 'stdin' });
  const outS = s.createStream({ streamtype: 'stdout' });
  s.createStream({ streamtype: 'stderr' }).resume();
  const [out, err] = [readAll(outS), readAll(errS)];
  inS.end('through spdy');
  assert.equal(await out, 'through spdy');
  assert.equal(JSON.parse(await err).details.causes[0].message, '5');
});

/**
 * A WebSocket client offering a subprotocol ws would refuse to send ('/' is not a token character,
 * yet kubectl offers SPDY/3.1+portforward.k8s.io): the handshake by hand, then ws on the socket.
 */
async function tunnelClient(path: string): Promise<{ ws: WebSocket; protocol: string }> {
  const up = await dialUpgrade(`${k.server.url}${path}`, {
    headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': 'SPDY/3.1+portforward.k8s.io' },
    tls: creds(),
  });
  const ws = new WebSocket(null as unknown as string, undefined as unknown as string[], {});
  (ws as any)._isServer = false; // frames from a client are masked
  (ws as any).setSocket(up.socket, up.head, { maxPayload: 0 });
  return { ws, protocol: String(up.response.headers['sec-websocket-protocol']) };
}

test('port-forward through the SPDY-over-WebSocket tunnel', async () => {
  const { ws, protocol } = await tunnelClient('/portForward/default/web');
  assert.equal(protocol, 'SPDY/3.1+portforward.k8s.io');
  const s = new SpdySession(createWebSocketStream(ws), { server: false });
  const headers = (t: string) => ({ streamtype: t, port: String(echoPort), requestid: '0' });
  const errS = s.createStream(headers('error'));
  errS.end();
  const data = s.createStream(headers('data'));
  const got = readAll(data);
  data.end('ping through the tunnel');
  assert.equal(await got, 'ping through the tunnel');
  assert.equal(await readAll(errS), '');
  ws.close();
});

test('port-forward over the older WebSocket channel protocol', async () => {
  const r = await wsRun(`/portForward/default/web?port=${echoPort}`, ['v4.channel.k8s.io'], (ws) => {
    ws.once('message', () => {
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('legacy')]));
      setTimeout(() => ws.close(1000), 300);
    });
  });
  const port = Buffer.alloc(2);
  port.writeUInt16LE(echoPort);
  assert.deepEqual(r.messages.slice(0, 2), [
    { channel: 0, data: port.toString() },
    { channel: 1, data: port.toString() },
  ]);
  assert.equal(r.channels.get(0), port.toString() + 'legacy');
});

test('port-forward to a closed port reports the error on the error stream', async () => {
  const closed = net.createServer();
  await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
  const port = (closed.address() as net.AddressInfo).port;
  closed.close();
  const { ws } = await tunnelClient('/portForward/default/web');
  const s = new SpdySession(createWebSocketStream(ws), { server: false });
  const errS = s.createStream({ streamtype: 'error', port: String(port), requestid: '1' });
  errS.end();
  s.createStream({ streamtype: 'data', port: String(port), requestid: '1' }).resume();
  assert.match(await readAll(errS), /ECONNREFUSED/);
  ws.close();
});

test('container logs with options', async () => {
  await k.writeLog('c-main', ['2024-05-01T10:00:00Z stdout F first', '2024-05-01T10:00:01Z stderr F second', '2024-05-01T10:00:02Z stdout F third']);
  await k.writeLog('c-old', ['2024-05-01T09:00:00Z stdout F before restart']);
  const all = await get('/containerLogs/default/web/main');
  assert.equal(all.status, 200);
  assert.equal(all.body, 'first\nsecond\nthird\n');
  assert.match(all.headers['content-type'], /^text\/plain/);
  assert.equal((await get('/containerLogs/default/web/main?tailLines=1&timestamps=true')).body, '2024-05-01T10:00:02.000000000Z third\n');
  assert.equal((await get('/containerLogs/default/web/main?tail=2')).body, 'second\nthird\n');
  assert.equal((await get('/containerLogs/default/web/main?limitBytes=8')).body, 'first\nse');
  assert.equal((await get('/containerLogs/default/web/main?sinceTime=2024-05-01T10:00:01Z')).body, 'second\nthird\n');
  k.pods.set(testPod('default', 'restarted', { main: { id: 'c-main', running: true, previousId: 'c-old' } }), 'sandbox-r');
  assert.equal((await get('/containerLogs/default/restarted/main?previous=true')).body, 'before restart\n');
});

test('container log errors say why', async () => {
  const pending = await get('/containerLogs/default/web/pending');
  assert.equal(pending.status, 400);
  assert.equal(JSON.parse(pending.body).message, 'container "pending" in pod "web" is waiting to start: ContainerCreating');
  const prev = await get('/containerLogs/default/web/main?previous=true');
  assert.equal(JSON.parse(prev.body).message, 'previous terminated container "main" in pod "web" not found');
  const nopod = await get('/containerLogs/default/nope/main');
  assert.deepEqual([nopod.status, JSON.parse(nopod.body).message], [404, 'pod "nope" does not exist']);
  const noc = await get('/containerLogs/default/web/nope');
  assert.deepEqual([noc.status, JSON.parse(noc.body).message], [404, 'container "nope" not found in pod "web"']);
  const bad = await get('/containerLogs/default/web/main?tailLines=-1');
  assert.equal(bad.status, 422);
  assert.match(JSON.parse(bad.body).message, /tailLines: Invalid value: -1: must be greater than or equal to 0/);
  assert.equal((await get('/containerLogs/default/web/main?tailLines=x')).status, 400);
});

test('exec errors: missing pod, container not running, no command, no streams, not an upgrade', async () => {
  const fail = (p: Promise<unknown>) => p.then(() => assert.fail('expected a refusal'), (e) => ({ status: e.status, message: JSON.parse(e.body).message }));
  assert.deepEqual(await fail(wsRun('/exec/default/nope/main?output=1&command=true', ['v5.channel.k8s.io'])), { status: 404, message: 'pod does not exist' });
  assert.deepEqual(await fail(wsRun(execPath(['true'], 'output=1', 'gone'), ['v5.channel.k8s.io'])), { status: 400, message: 'container not found ("gone")' });
  assert.deepEqual(await fail(wsRun('/exec/default/web/main?output=1', ['v5.channel.k8s.io'])), { status: 400, message: 'you must specify a command to run' });
  assert.deepEqual(await fail(wsRun(execPath(['true'], 'tty=0'), ['v5.channel.k8s.io'])), { status: 400, message: 'you must specify at least 1 of stdin, stdout, stderr' });
  assert.equal((await fail(wsRun(execPath(['true']), ['v9.channel.k8s.io']))).status, 400);
  const plain = await get(execPath(['true']));
  assert.deepEqual([plain.status, JSON.parse(plain.body).message], [400, 'Upgrade request required']);
});

function readAll(s: SpdyStream): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });
}
