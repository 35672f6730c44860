import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { Container, Pod } from '../pods/api-types.ts';
import type { ExecSync } from '../prober/exec.ts';
import { runLifecycleHandler, runPostStartHook, runPreStopHook, terminationGracePeriod } from './handlers.ts';

let server: http.Server;
let port: number;
const requests: { url?: string; ua?: string }[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url, ua: req.headers['user-agent'] });
    res.writeHead(req.url === '/error' ? 500 : 200).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const pod: Pod = { metadata: { name: 'web', namespace: 'ns', uid: 'u1' }, spec: { containers: [], terminationGracePeriodSeconds: 30 } };
const execSync: ExecSync = async (_id, cmd) => {
  if (cmd[0] === 'true') return { exitCode: 0, stdout: '', stderr: '' };
  if (cmd[0] === 'fail') return { exitCode: 3, stdout: 'partial\n', stderr: 'oops\n' };
  throw new Error('rpc error: code = NotFound desc = container not found');
};
const c = (lifecycle: Container['lifecycle'], extra: Partial<Container> = {}): Container => ({ name: 'app', lifecycle, ...extra });

test('exec hooks: upstream failure messages', async () => {
  assert.equal(await runLifecycleHandler({ exec: { command: ['true'] } }, pod, c({}), 'containerd://x', '127.0.0.1', { execSync }), undefined);
  assert.equal(
    await runLifecycleHandler({ exec: { command: ['fail', '-v'] } }, pod, c({}), 'containerd://x', '127.0.0.1', { execSync }),
    `Exec lifecycle hook ([fail -v]) for Container "app" in Pod "web_ns(u1)" failed - error: command 'fail -v' exited with 3: oops\n, message: "partial\\noops\\n"`,
  );
  assert.equal(
    await runLifecycleHandler({ exec: { command: ['gone'] } }, pod, c({}), 'containerd://x', '127.0.0.1', { execSync }),
    'Exec lifecycle hook ([gone]) for Container "app" in Pod "web_ns(u1)" failed - error: rpc error: code = NotFound desc = container not found, message: ""',
  );
});

test('httpGet hooks: pod IP and named port; only transport errors fail; HTTPS falls back to HTTP', async () => {
  const ct = c({}, { ports: [{ name: 'admin', containerPort: port }] });
  requests.length = 0;
  assert.equal(await runLifecycleHandler({ httpGet: { path: '/start', port: 'admin' } }, pod, ct, 'containerd://x', '127.0.0.1', { execSync }), undefined);
  assert.deepEqual(requests, [{ url: '/start', ua: 'kube-lifecycle/1.32' }]);
  assert.equal(await runLifecycleHandler({ httpGet: { path: '/error', port } }, pod, ct, 'containerd://x', '127.0.0.1', { execSync }), undefined);
  const events: string[] = [];
  assert.equal(
    await runLifecycleHandler({ httpGet: { path: '/tls', port, scheme: 'HTTPS' } }, pod, ct, 'containerd://x', '127.0.0.1', { execSync, recordEvent: (_p, _c, _t, r, m) => events.push(`${r}: ${m}`) }),
    undefined,
  );
  assert.deepEqual(events, [`LifecycleHTTPFallback: request to HTTPS lifecycle hook 127.0.0.1:${port} got HTTP response, retry with HTTP succeeded`]);
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  assert.equal(
    await runLifecycleHandler({ httpGet: { path: '/x', port: closedPort } }, pod, ct, 'containerd://x', '127.0.0.1', { execSync }),
    `HTTP lifecycle hook (/x) for Container "app" in Pod "web_ns(u1)" failed - error: Get "http://127.0.0.1:${closedPort}/x": dial tcp 127.0.0.1:${closedPort}: connect: connection refused`,
  );
});

test('sleep hooks, and a sleep cut short by the container stopping', async () => {
  const t0 = Date.now();
  assert.equal(await runLifecycleHandler({ sleep: { seconds: 1 } }, pod, c({}), 'x', '', { execSync }), undefined);
  assert.ok(Date.now() - t0 >= 900);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  assert.equal(
    await runLifecycleHandler({ sleep: { seconds: 30 } }, pod, c({}), 'x', '', { execSync, signal: ac.signal }),
    'Sleep lifecycle hook (30) for Container "app" in Pod "web_ns(u1)" failed - error: container terminated before sleep hook finished',
  );
  assert.match((await runLifecycleHandler({ tcpSocket: { port: 80 } }, pod, c({}), 'x', '', { execSync }))!, /^Cannot run handler: invalid handler: /);
});

test('postStart: FailedPostStartHook event and PostStartHookError', async () => {
  const events: string[] = [];
  const recordEvent = (_p: Pod, name: string, type: string, reason: string, msg: string) => events.push(`${type} ${reason} ${name}: ${msg}`);
  assert.equal(await runPostStartHook(pod, c({ postStart: { exec: { command: ['true'] } } }), 'x', '', { execSync, recordEvent }), undefined);
  assert.equal(await runPostStartHook(pod, c(undefined), 'x', '', { execSync, recordEvent }), undefined);
  const failure = await runPostStartHook(pod, c({ postStart: { exec: { command: ['fail'] } } }), 'x', '', { execSync, recordEvent });
  assert.equal(failure?.reason, 'PostStartHookError');
  assert.match(failure!.message, /^Exec lifecycle hook \(\[fail\]\) for Container "app"/);
  assert.deepEqual(events, [`Warning FailedPostStartHook app: ${failure!.message}`]);
});

test('preStop uses up the grace period; failures are recorded tersely', async () => {
  const events: string[] = [];
  const recordEvent = (_p: Pod, _n: string, _t: string, reason: string, msg: string) => events.push(`${reason}: ${msg}`);
  assert.equal(await runPreStopHook(pod, c(undefined), 'x', '', 30, { execSync }), 30);
  assert.equal(await runPreStopHook(pod, c({ preStop: { exec: { command: ['true'] } } }), 'x', '', 30, { execSync }), 30);
  assert.equal(await runPreStopHook(pod, c({ preStop: { exec: { command: ['fail'] } } }), 'x', '', 30, { execSync, recordEvent }), 30);
  assert.deepEqual(events, ['FailedPreStopHook: PreStopHook failed']);
  // A hook longer than the grace period: waited for at most the grace period, then the 2 s minimum is left.
  const stopped = new AbortController();
  const t0 = Date.now();
  const left = await runPreStopHook(pod, c({ preStop: { sleep: { seconds: 5 } } }), 'x', '', 1, { execSync, signal: stopped.signal });
  stopped.abort(); // the core kills the container: the hook's sleep ends
  assert.equal(left, 2);
  assert.ok(Date.now() - t0 < 4500, 'did not wait for the whole 5 s hook');
  // A sleep of one second in a 5 s grace period leaves 4 s.
  assert.equal(await runPreStopHook(pod, c({ preStop: { sleep: { seconds: 1 } } }), 'x', '', 5, { execSync }), 4);
  // With no grace at all the hook is skipped.
  assert.equal(await runPreStopHook(pod, c({ preStop: { sleep: { seconds: 5 } } }), 'x', '', 0, { execSync }), 2);
});

test('terminationGracePeriod as upstream', () => {
  const ct = c({}, { livenessProbe: { terminationGracePeriodSeconds: 5 }, startupProbe: {} });
  assert.equal(terminationGracePeriod(pod, ct), 30);
  assert.equal(terminationGracePeriod(pod, ct, 'Liveness'), 5);
  assert.equal(terminationGracePeriod(pod, ct, 'Startup'), 30);
  assert.equal(terminationGracePeriod({ ...pod, metadata: { ...pod.metadata, deletionGracePeriodSeconds: 10 } }, ct, 'Liveness'), 10);
  assert.equal(terminationGracePeriod(pod, ct, 'Other', 0), 0);
  assert.equal(terminationGracePeriod({ ...pod, spec: { containers: [] } }, ct), 2);
});
