// The CRI client against a small gRPC server speaking the same proto on a Unix socket: deadlines,
// cancellation, error codes and messages, reconnecting after the server restarts, and the proto
// being found from the esbuild bundle (`mizzen images ls`). No root or containerd needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { connectCri, normalizeEndpoint } from './grpc-client.ts';
import { CriError, GrpcStatus, isDeadlineExceeded, isNotFound, isUnavailable } from './errors.ts';
import { criService } from './proto.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

type Handler = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => void;

/** A fake runtime: the handlers given, UNIMPLEMENTED for the rest. */
async function fakeRuntime(socket: string, handlers: Record<string, Handler>): Promise<grpc.Server> {
  const server = new grpc.Server();
  const impl = (service: Record<string, unknown>) =>
    Object.fromEntries(
      Object.keys(service).map((name) => [
        name,
        handlers[name] ?? ((_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: GrpcStatus.UNIMPLEMENTED, details: `${name} not faked` })),
      ]),
    );
  const rt = criService('RuntimeService');
  const img = criService('ImageService');
  server.addService(rt as unknown as grpc.ServiceDefinition, impl(rt) as grpc.UntypedServiceImplementation);
  server.addService(img as unknown as grpc.ServiceDefinition, impl(img) as grpc.UntypedServiceImplementation);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  return server;
}

const version: Handler = (call, cb) => cb(null, { version: call.request.version, runtimeName: 'fake', runtimeVersion: '1.0.0', runtimeApiVersion: 'v1' });

function tmpSocket(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-cri-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'cri.sock');
}

test('requests and responses in camelCase with defaults; enums by name; int64 as numbers', async (t) => {
  const socket = tmpSocket(t);
  let seen: Record<string, unknown> = {};
  const server = await fakeRuntime(socket, {
    Version: version,
    CreateContainer: (call, cb) => {
      seen = call.request;
      cb(null, { containerId: 'c1' });
    },
    ContainerStatus: (_call, cb) =>
      cb(null, { status: { id: 'c1', state: 'CONTAINER_EXITED', exitCode: 137, reason: 'OOMKilled', createdAt: 1_796_597_504_706_254_600, labels: { a: 'b' } } }),
  });
  t.after(() => server.forceShutdown());
  const cri = connectCri(socket);
  t.after(() => cri.close());
  assert.deepEqual(await cri.version(), { version: 'v1', runtimeName: 'fake', runtimeVersion: '1.0.0', runtimeApiVersion: 'v1' });
  const id = await cri.createContainer(
    'sb1',
    { metadata: { name: 'c' }, image: { image: 'busybox' }, command: ['sh'], envs: [{ key: 'A', value: '1' }], linux: { resources: { memoryLimitInBytes: 64 * 1024 * 1024 } } },
    { metadata: { name: 'p', uid: 'u', namespace: 'default' }, portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353 }] },
  );
  assert.equal(id, 'c1');
  assert.equal(seen.podSandboxId, 'sb1');
  assert.deepEqual((seen.config as { envs: unknown }).envs, [{ key: 'A', value: '1' }]);
  assert.equal((seen.config as { linux: { resources: { memoryLimitInBytes: number } } }).linux.resources.memoryLimitInBytes, 67108864);
  assert.equal((seen.sandboxConfig as { portMappings: { protocol: string }[] }).portMappings[0]!.protocol, 'UDP');
  const st = (await cri.containerStatus('c1')).status!;
  assert.equal(st.state, 'CONTAINER_EXITED');
  assert.equal(st.exitCode, 137);
  assert.equal(st.reason, 'OOMKilled');
  assert.equal(st.startedAt, 0, 'defaults filled in');
  assert.deepEqual(st.mounts, []);
  assert.equal(st.image, null, 'absent message is null');
  assert.ok(Math.abs(st.createdAt - 1_796_597_504_706_254_600) < 1000);
  assert.deepEqual(st.labels, { a: 'b' });
});

test('errors carry the code and the runtime message; deadlines and aborts end calls', async (t) => {
  const socket = tmpSocket(t);
  const server = await fakeRuntime(socket, {
    Version: version,
    ContainerStatus: (call, cb) => cb({ code: GrpcStatus.NOT_FOUND, details: `an error occurred when try to find container "${call.request.containerId}": not found` }),
    ExecSync: () => {
      /* never answers */
    },
  });
  t.after(() => server.forceShutdown());
  const cri = connectCri(socket, { defaultTimeoutMs: 300 });
  t.after(() => cri.close());
  await assert.rejects(cri.containerStatus('x'), (e: unknown) => {
    assert.ok(e instanceof CriError && isNotFound(e));
    assert.equal(e.message, 'an error occurred when try to find container "x": not found');
    assert.equal(e.method, 'ContainerStatus');
    assert.equal(e.codeName, 'NOT_FOUND');
    assert.equal(e.describe(), 'ContainerStatus: NOT_FOUND: an error occurred when try to find container "x": not found');
    return true;
  });
  await assert.rejects(cri.removeImage({ image: 'x' }), (e: unknown) => e instanceof CriError && e.code === GrpcStatus.UNIMPLEMENTED);
  // ExecSync with a timeout: deadline = its timeout + the request timeout. A per-call deadline wins.
  const started = Date.now();
  await assert.rejects(cri.execSync('c', ['sleep', '9'], 0, { timeoutMs: 200 }), (e: unknown) => isDeadlineExceeded(e));
  assert.ok(Date.now() - started < 2000);
  const ac = new AbortController();
  const call = cri.execSync('c', ['sleep', '9'], 0, { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(call, (e: unknown) => e instanceof CriError && e.code === GrpcStatus.CANCELLED);
  await assert.rejects(cri.version('v1', { signal: AbortSignal.abort() }), (e: unknown) => e instanceof CriError && e.code === GrpcStatus.CANCELLED);
});

test('the client reconnects when the runtime comes back on the same socket', async (t) => {
  const socket = tmpSocket(t);
  let server = await fakeRuntime(socket, { Version: version });
  const cri = connectCri(socket);
  t.after(() => cri.close());
  assert.equal((await cri.version()).runtimeName, 'fake');
  server.forceShutdown();
  await assert.rejects(cri.version('v1', { timeoutMs: 1000 }), (e: unknown) => isUnavailable(e) || isDeadlineExceeded(e));
  // Down for a few seconds, longer than grpc-js's default first backoff would tolerate well.
  await new Promise((r) => setTimeout(r, 1500));
  server = await fakeRuntime(socket, { Version: (call, cb) => cb(null, { version: 'v1', runtimeName: 'fake-again', runtimeVersion: '2', runtimeApiVersion: 'v1' }) });
  t.after(() => server.forceShutdown());
  const v = await cri.waitUntilReady(5000);
  assert.equal(v.runtimeName, 'fake-again');
});

test('waitUntilReady gives up with the last error', async (t) => {
  const socket = tmpSocket(t);
  const cri = connectCri(socket);
  t.after(() => cri.close());
  await assert.rejects(cri.waitUntilReady(300), (e: unknown) => isUnavailable(e) && /ENOENT|No connection/.test((e as Error).message));
});

test('endpoints: unix URLs and bare paths', () => {
  assert.equal(normalizeEndpoint('/run/containerd/containerd.sock'), 'unix:///run/containerd/containerd.sock');
  assert.equal(normalizeEndpoint('unix:///run/x.sock'), 'unix:///run/x.sock');
  assert.throws(() => normalizeEndpoint('tcp://1.2.3.4:1'), /unsupported container runtime endpoint/);
});

test('`mizzen images ls` from the esbuild bundle finds the proto and prints the runtime images', async (t) => {
  const socket = tmpSocket(t);
  const server = await fakeRuntime(socket, {
    Version: version,
    ListImages: (_call, cb) =>
      cb(null, {
        images: [
          { id: `sha256:${'a'.repeat(64)}`, repoTags: ['docker.io/library/busybox:latest', 'docker.io/library/busybox:1.35'], size: 1_057_309 },
          { id: `sha256:${'b'.repeat(64)}`, repoTags: ['mizzen.local/pause:1'], size: 999 },
        ],
      }),
  });
  t.after(() => server.forceShutdown());
  const { stdout } = await run(process.execPath, [join(repoRoot, 'bin/mizzen.js'), 'images', 'ls', '--container-runtime-endpoint', `unix://${socket}`], {
    cwd: repoRoot,
    timeout: 120_000,
  });
  assert.equal(
    stdout,
    [
      'IMAGE                TAG      IMAGE ID        SIZE',
      'busybox              1.35     aaaaaaaaaaaaa   1.06MB',
      'busybox              latest   aaaaaaaaaaaaa   1.06MB',
      'mizzen.local/pause   1        bbbbbbbbbbbbb   999B',
      '',
    ].join('\n'),
  );
  const down = await run(process.execPath, [join(repoRoot, 'bin/mizzen.js'), 'images', 'ls', '--container-runtime-endpoint', `unix://${socket}.missing`], { cwd: repoRoot }).catch((e) => e);
  assert.equal(down.code, 1);
  assert.equal(down.stderr, `mizzen images: cannot reach the container runtime at unix://${socket}.missing: not running.\n`);
});
