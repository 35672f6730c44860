// The probers against real servers on 127.0.0.1: HTTP(S), TCP and a gRPC health server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ensurePki } from '../../apiserver/pki.ts';
import type { Container } from '../pods/api-types.ts';
import { ExecTimeoutError, criExecSync, probeExec, type ExecSync } from './exec.ts';
import {
  HEALTH_CHECK_METHOD,
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  probeGRPC,
} from './grpc.ts';
import { canonicalHeaderKey, newRequestForHTTPGetAction, probeHTTP, resolveContainerPort } from './http.ts';
import { probeTCP } from './tcp.ts';

let server: http.Server;
let port: number;
let tlsServer: https.Server;
let tlsPort: number;
let pkiDir: string;
const seen: http.IncomingHttpHeaders[] = [];
const pending: http.ServerResponse[] = [];

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  seen.push(req.headers);
  const url = new URL(req.url ?? '/', 'http://x');
  switch (url.pathname) {
    case '/ok':
      res.end('healthy');
      return;
    case '/created':
      res.writeHead(201).end('made');
      return;
    case '/fail':
      res.writeHead(500).end('secret internals');
      return;
    case '/missing':
      res.writeHead(404).end();
      return;
    case '/same-host':
      res.writeHead(302, { Location: '/ok' }).end();
      return;
    case '/other-host':
      res.writeHead(301, { Location: `http://localhost:${port}/ok` }).end('moved away');
      return;
    case '/loop':
      res.writeHead(302, { Location: `/loop?n=${Number(url.searchParams.get('n') ?? 0) + 1}` }).end();
      return;
    case '/slow':
      pending.push(res); // never answers
      return;
    case '/big':
      res.end('a'.repeat(20 * 1024));
      return;
    default:
      res.writeHead(404).end();
  }
}

before(async () => {
  server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
  pkiDir = await mkdtemp(join(tmpdir(), 'mizzen-probe-pki-'));
  const pki = await ensurePki(pkiDir);
  tlsServer = https.createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, handler);
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  tlsPort = (tlsServer.address() as net.AddressInfo).port;
});

after(async () => {
  for (const r of pending) r.destroy();
  server.closeAllConnections();
  tlsServer.closeAllConnections();
  await new Promise((r) => server.close(r));
  await new Promise((r) => tlsServer.close(r));
  await rm(pkiDir, { recursive: true, force: true });
});

const container: Container = { name: 'c', ports: [{ name: 'http', containerPort: 0 }] };
const get = (path: string, extra: object = {}, timeoutMs = 2000) =>
  probeHTTP(newRequestForHTTPGetAction({ path, port, ...extra }, container, '127.0.0.1', 'probe'), timeoutMs);

test('resolveContainerPort and header names', () => {
  const c: Container = { name: 'c', ports: [{ name: 'web', containerPort: 8080 }] };
  assert.equal(resolveContainerPort(80, c), 80);
  assert.equal(resolveContainerPort('web', c), 8080);
  assert.equal(resolveContainerPort('9090', c), 9090);
  assert.throws(() => resolveContainerPort('nope', c), /strconv\.Atoi: parsing "nope": invalid syntax/);
  assert.throws(() => resolveContainerPort(70000, c), /invalid port number: 70000/);
  assert.equal(canonicalHeaderKey('x-custom-HEADER'), 'X-Custom-Header');
  assert.equal(canonicalHeaderKey('user-agent'), 'User-Agent');
});

test('httpGet probe: status codes, body, headers', async () => {
  assert.deepEqual(await get('/ok'), { result: 'success', output: 'healthy' });
  assert.deepEqual(await get('/created'), { result: 'success', output: 'made' });
  assert.deepEqual(await get('/fail'), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
  assert.deepEqual(await get('/missing'), { result: 'failure', output: 'HTTP probe failed with statuscode: 404' });
  const big = await get('/big');
  assert.equal(big.result, 'success');
  assert.equal(big.output.length, 10 * 1024);

  seen.length = 0;
  await get('/ok');
  assert.equal(seen[0]['user-agent'], 'kube-probe/1.32');
  assert.equal(seen[0].accept, '*/*');
  assert.equal(seen[0].host, `127.0.0.1:${port}`);
  seen.length = 0;
  await get('/ok', { httpHeaders: [{ name: 'x-token', value: 'abc' }, { name: 'Host', value: 'example.test' }, { name: 'user-agent', value: 'mine' }, { name: 'Accept', value: '' }] });
  assert.equal(seen[0]['x-token'], 'abc');
  assert.equal(seen[0].host, 'example.test');
  assert.equal(seen[0]['user-agent'], 'mine');
  assert.equal(seen[0].accept, undefined);
});

test('httpGet probe: redirects as upstream', async () => {
  assert.deepEqual(await get('/same-host'), { result: 'success', output: 'healthy' });
  assert.deepEqual(await get('/other-host'), { result: 'warning', output: 'Probe terminated redirects, Response body: moved away' });
  assert.deepEqual(await get('/loop'), { result: 'failure', output: `Get "http://127.0.0.1:${port}/loop?n=10": stopped after 10 redirects` });
});

test('httpGet probe: timeouts, refused connections, named ports, HTTPS without verification', async () => {
  assert.deepEqual(await get('/slow', {}, 300), {
    result: 'failure',
    output: `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
  });
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  assert.deepEqual(await get('/ok', { port: closedPort }), {
    result: 'failure',
    output: `Get "http://127.0.0.1:${closedPort}/ok": dial tcp 127.0.0.1:${closedPort}: connect: connection refused`,
  });
  const named: Container = { name: 'c', ports: [{ name: 'web', containerPort: port }] };
  assert.equal((await probeHTTP(newRequestForHTTPGetAction({ path: '/ok', port: 'web' }, named, '127.0.0.1', 'probe'), 2000)).result, 'success');
  assert.throws(() => newRequestForHTTPGetAction({ path: '/ok', port: 'nope' }, named, '127.0.0.1', 'probe'), /invalid syntax/);
  assert.deepEqual(await probeHTTP(newRequestForHTTPGetAction({ path: '/ok', port: tlsPort, scheme: 'HTTPS' }, container, '127.0.0.1', 'probe'), 2000), {
    result: 'success',
    output: 'healthy',
  });
});

test('tcpSocket probe', async () => {
  assert.deepEqual(await probeTCP('127.0.0.1', port, 1000), { result: 'success', output: '' });
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  assert.deepEqual(await probeTCP('127.0.0.1', closedPort, 1000), { result: 'failure', output: `dial tcp 127.0.0.1:${closedPort}: connect: connection refused` });
});

test('exec probe over ExecSync', async () => {
  const calls: [string, string[], number][] = [];
  const execSync: ExecSync = async (id, cmd, timeoutMs) => {
    calls.push([id, cmd, timeoutMs]);
    if (cmd[0] === 'ok') return { exitCode: 0, stdout: 'fine\n', stderr: '' };
    if (cmd[0] === 'fail') return { exitCode: 1, stdout: Buffer.from('out '), stderr: Buffer.from('err') };
    if (cmd[0] === 'sleep') throw new ExecTimeoutError(cmd, timeoutMs);
    if (cmd[0] === 'grpc-deadline') throw Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 });
    if (cmd[0] === 'big') return { exitCode: 1, stdout: 'x'.repeat(20000), stderr: '' };
    throw new Error('container not found');
  };
  assert.deepEqual(await probeExec(execSync, 'abc', ['ok'], 1000), { result: 'success', output: 'fine\n' });
  assert.deepEqual(calls[0], ['abc', ['ok'], 1000]);
  assert.deepEqual(await probeExec(execSync, 'abc', ['fail'], 1000), { result: 'failure', output: 'out err' });
  assert.deepEqual(await probeExec(execSync, 'abc', ['sleep', '10'], 1000), { result: 'failure', output: 'command "sleep 10" timed out' });
  assert.deepEqual(await probeExec(execSync, 'abc', ['grpc-deadline'], 1000), { result: 'failure', output: 'command "grpc-deadline" timed out' });
  assert.equal((await probeExec(execSync, 'abc', ['big'], 1000)).output.length, 10 * 1024);
  const seconds: (number | undefined)[] = [];
  const viaCri = criExecSync({ execSync: async (_id, _cmd, t) => (seconds.push(t), { exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }) });
  await probeExec(viaCri, 'abc', ['ok'], 1500);
  await probeExec(viaCri, 'abc', ['ok'], 0);
  assert.deepEqual(seconds, [2, 0]);
  const err = await probeExec(execSync, 'abc', ['boom'], 1000);
  assert.equal(err.result, 'unknown');
  assert.equal(err.error?.message, 'container not found');
});

test('grpc health messages encode and decode', () => {
  assert.deepEqual(decodeHealthCheckRequest(encodeHealthCheckRequest({ service: 'db' })), { service: 'db' });
  assert.deepEqual(decodeHealthCheckRequest(encodeHealthCheckRequest({ service: '' })), { service: '' });
  assert.deepEqual(decodeHealthCheckResponse(encodeHealthCheckResponse({ status: 2 })), { status: 2 });
  assert.deepEqual(decodeHealthCheckResponse(Buffer.from([0x12, 0x01, 0x41, 0x08, 0x01])), { status: 1 }, 'unknown fields skipped');
});

test('grpc probe against a grpc.health.v1 server', async () => {
  const statuses: Record<string, number> = { '': 1, db: 2, cache: 3 };
  const hanging: grpc.sendUnaryData<{ status: number }>[] = [];
  const srv = new grpc.Server();
  srv.addService(
    {
      Check: {
        path: HEALTH_CHECK_METHOD,
        requestStream: false,
        responseStream: false,
        requestSerialize: encodeHealthCheckRequest,
        requestDeserialize: decodeHealthCheckRequest,
        responseSerialize: encodeHealthCheckResponse,
        responseDeserialize: decodeHealthCheckResponse,
      },
    },
    {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, { status: number }>, cb: grpc.sendUnaryData<{ status: number }>) => {
        const svc = call.request.service;
        if (svc === 'slow') return void hanging.push(cb);
        if (!(svc in statuses)) return cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        cb(null, { status: statuses[svc] });
      },
    },
  );
  const gport = await new Promise<number>((res, rej) => srv.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const bare = new grpc.Server(); // serves nothing: Health is unimplemented
  const bport = await new Promise<number>((res, rej) => bare.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  try {
    assert.deepEqual(await probeGRPC('127.0.0.1', '', gport, 2000), { result: 'success', output: 'service is serving' });
    assert.deepEqual(await probeGRPC('127.0.0.1', 'db', gport, 2000), { result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    assert.deepEqual(await probeGRPC('127.0.0.1', 'cache', gport, 2000), { result: 'failure', output: 'service unhealthy (responded with "SERVICE_UNKNOWN")' });
    assert.deepEqual(await probeGRPC('127.0.0.1', 'nope', gport, 2000), { result: 'failure', output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service' });
    const unimpl = await probeGRPC('127.0.0.1', '', bport, 2000);
    assert.match(unimpl.output, /^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
    assert.deepEqual(await probeGRPC('127.0.0.1', 'slow', gport, 1000), { result: 'failure', output: 'timeout: health rpc did not complete within 1s' });
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    assert.deepEqual(await probeGRPC('127.0.0.1', '', closedPort, 1000), {
      result: 'failure',
      output: `timeout: failed to connect service "127.0.0.1:${closedPort}" within 1s: context deadline exceeded`,
    });
  } finally {
    for (const cb of hanging) cb({ code: grpc.status.CANCELLED });
    srv.forceShutdown();
    bare.forceShutdown();
  }
});
