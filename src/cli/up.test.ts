// `mizzen up` against a fake API server: the order of start-up, the kubeconfig, the ready line,
// shutdown in reverse order, and the in-use error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runUp, kubeconfigPath, apiSocketPath } from './up.ts';
import { runApiServer } from './apiserver.ts';
import { memoryIO } from './io.ts';
import type { StopSignal } from './lifecycle.ts';
import type { ApiServerStartOptions, StartApiServer } from './serving.ts';
import type { ControlPlaneComponent } from './components.ts';

/** A stop signal the test fires by hand instead of a real SIGTERM. */
function manualStop(): StopSignal & { fire(sig: string): void } {
  let received: string | undefined;
  let resolve!: (s: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  return {
    promise,
    get received() {
      return received;
    },
    dispose() {},
    fire(sig) {
      received = sig;
      resolve(sig);
    },
  };
}

function fakeServer(events: string[], seen: ApiServerStartOptions[], port = 43210): StartApiServer {
  return async (opts) => {
    seen.push(opts);
    events.push('apiserver:start');
    return {
      url: `https://${opts.bindAddress}:${port}`,
      port,
      close: async () => void events.push('apiserver:close'),
    };
  };
}

/** Resolves when a line matching re has been printed. */
function waitForLine(lines: string[], re: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const poll = () => {
      const hit = lines.find((l) => re.test(l));
      if (hit) resolve(hit);
      else setImmediate(poll);
    };
    poll();
  });
}

test('up starts PKI, API server, kubeconfig and components, then stops them in reverse', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-up-'));
  try {
    const events: string[] = [];
    const seen: ApiServerStartOptions[] = [];
    const component: ControlPlaneComponent = {
      name: 'fake-controller',
      start: async (ctx) => {
        events.push(`fake-controller:start ${ctx.apiServerURL}`);
        await stat(ctx.kubeconfig); // the kubeconfig exists before components start
        return { close: async () => void events.push('fake-controller:close') };
      },
    };
    const stop = manualStop();
    const io = memoryIO();
    const done = runUp(
      { dataDir: dir, port: 0, bindAddress: '0.0.0.0', simulatedNodes: 0, noKubelet: true },
      io,
      { startApiServer: fakeServer(events, seen), components: [component], stopSignal: stop },
    );
    const ready = await waitForLine(io.stdout, /is ready/);
    assert.match(
      ready,
      new RegExp(`^mizzen is ready in \\d+\\.\\d\\ds: https://127\\.0\\.0\\.1:43210 — export KUBECONFIG=${kubeconfigPath(dir)}; kubectl get nodes$`),
    );
    assert.equal(io.stdout.filter((l) => /is ready/.test(l)).length, 1);

    // The server got the data dir and the PKI.
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.dataDir, dir);
    assert.equal(seen[0]!.port, 0);
    assert.equal(seen[0]!.tls.clientCA, await readFile(join(dir, 'pki', 'ca.crt'), 'utf8'));
    assert.equal(seen[0]!.tls.cert, await readFile(join(dir, 'pki', 'server.crt'), 'utf8'));

    // The kubeconfig points at the reachable URL (never 0.0.0.0) with the admin credentials.
    const cfg = parse(await readFile(kubeconfigPath(dir), 'utf8'));
    assert.equal(cfg.clusters[0].cluster.server, 'https://127.0.0.1:43210');
    assert.equal(
      Buffer.from(cfg.users[0].user['client-certificate-data'], 'base64').toString(),
      await readFile(join(dir, 'pki', 'admin.crt'), 'utf8'),
    );

    stop.fire('SIGTERM');
    assert.equal(await done, 0);
    assert.deepEqual(events, [
      'apiserver:start',
      'fake-controller:start https://127.0.0.1:43210',
      'fake-controller:close',
      'apiserver:close',
    ]);
    assert.ok(io.stdout.some((l) => /received SIGTERM, shutting down/.test(l)));
    assert.deepEqual(io.stderr, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('up asks the server for its private socket and hands the socket it serves to the components', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-up-'));
  try {
    for (const serves of [true, false]) {
      const seen: (ApiServerStartOptions & { unixSocket?: string })[] = [];
      const got: (string | undefined)[] = [];
      const server: StartApiServer = async (opts: ApiServerStartOptions & { unixSocket?: string }) => {
        seen.push(opts);
        // A server without socket support (an older one, or a fake) reports no socketPath.
        return { url: 'https://127.0.0.1:1', port: 1, ...(serves ? { socketPath: opts.unixSocket } : {}), close: async () => {} };
      };
      const component: ControlPlaneComponent = {
        name: 'c',
        start: async (ctx) => {
          got.push(ctx.socketPath);
          return { close: async () => {} };
        },
      };
      const stop = manualStop();
      const io = memoryIO();
      const done = runUp({ dataDir: dir, port: 0, bindAddress: '127.0.0.1', simulatedNodes: 0, noKubelet: true }, io, { startApiServer: server, components: [component], stopSignal: stop });
      await waitForLine(io.stdout, /is ready/);
      stop.fire('SIGTERM');
      assert.equal(await done, 0);
      assert.equal(seen[0]!.unixSocket, join(dir, 'apiserver.sock'));
      assert.deepEqual(got, [serves ? join(dir, 'apiserver.sock') : undefined]);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no private socket when the data dir path is too long for one', () => {
  assert.equal(apiSocketPath('/var/lib/mizzen'), '/var/lib/mizzen/apiserver.sock');
  assert.equal(apiSocketPath(`/${'d'.repeat(100)}`), undefined);
});

test('up reports a data directory held by another process and exits 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-up-'));
  try {
    const locked: StartApiServer = async () => {
      throw Object.assign(new Error(`data directory is in use: ${dir}/state.db is locked by process 4242`), {
        code: 'ELOCKED',
        pid: 4242,
      });
    };
    const io = memoryIO();
    const code = await runUp({ dataDir: dir, port: 0, bindAddress: '127.0.0.1', simulatedNodes: 0, noKubelet: true }, io, {
      startApiServer: locked,
      components: [],
      stopSignal: manualStop(),
    });
    assert.equal(code, 1);
    assert.match(io.stderr.join('\n'), /^mizzen: data directory is in use: .*state\.db is locked by process 4242$/);
    assert.ok(!io.stdout.some((l) => /is ready/.test(l)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a component that fails to start shuts down what already started', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-up-'));
  try {
    const events: string[] = [];
    const broken: ControlPlaneComponent = {
      name: 'broken',
      start: async () => {
        throw new Error('boom');
      },
    };
    await assert.rejects(
      runUp({ dataDir: dir, port: 0, bindAddress: '127.0.0.1', simulatedNodes: 0, noKubelet: true }, memoryIO(), {
        startApiServer: fakeServer(events, []),
        components: [broken],
        stopSignal: manualStop(),
      }),
      /boom/,
    );
    assert.deepEqual(events, ['apiserver:start', 'apiserver:close']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('apiserver command uses the data dir PKI by default and stops on signal', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-apiserver-'));
  try {
    const events: string[] = [];
    const seen: ApiServerStartOptions[] = [];
    const stop = manualStop();
    const io = memoryIO();
    let metricsOpts: any;
    const done = runApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1', metricResolutionMs: 3000 }, io, {
      startApiServer: fakeServer(events, seen, 5555),
      stopSignal: stop,
      // The fake server has no private socket: the pipeline gets the controller manager's kubeconfig.
      startMetrics: async (o, ctx) => {
        metricsOpts = { ...o, ...ctx };
        events.push('metrics:start');
        return { close: async () => void events.push('metrics:close') };
      },
    });
    assert.match(await waitForLine(io.stdout, /is ready/), /https:\/\/127\.0\.0\.1:5555/);
    assert.equal(seen[0]!.tls.key, await readFile(join(dir, 'pki', 'server.key'), 'utf8'));
    // The pipeline starts with the first metrics.k8s.io request, once.
    assert.ok(!events.includes('metrics:start'));
    seen[0]!.onResourceMetricsRequest!();
    seen[0]!.onResourceMetricsRequest!();
    await waitForLine(events, /metrics:start/);
    assert.equal(events.filter((e) => e === 'metrics:start').length, 1);
    assert.equal(metricsOpts.resolutionMs, 3000);
    assert.equal(metricsOpts.kubeletClient.cert, await readFile(join(dir, 'pki', 'apiserver-kubelet-client.crt'), 'utf8'));
    assert.match(metricsOpts.kubeconfig, /controller-manager/);
    stop.fire('SIGINT');
    assert.equal(await done, 0);
    assert.deepEqual(events, ['apiserver:start', 'metrics:start', 'metrics:close', 'apiserver:close']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('apiserver command reports an unreadable TLS file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-apiserver-'));
  try {
    const io = memoryIO();
    const code = await runApiServer(
      { dataDir: dir, port: 0, bindAddress: '127.0.0.1', tlsCertFile: join(dir, 'missing.crt') },
      io,
      { startApiServer: fakeServer([], []), stopSignal: manualStop(), startMetrics: null },
    );
    assert.equal(code, 1);
    assert.match(io.stderr.join('\n'), /cannot read --tls-cert-file .*missing\.crt/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('up starts its local node after the components, waits for it before the ready line, stops it first', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-up-'));
  try {
    const events: string[] = [];
    const component: ControlPlaneComponent = { name: 'fake-controller', start: async () => ({ close: async () => void events.push('fake-controller:close') }) };
    const stop = manualStop();
    const io = memoryIO();
    let markReady!: () => void;
    const done = runUp({ dataDir: dir, port: 0, bindAddress: '127.0.0.1', simulatedNodes: 0, noKubelet: false }, io, {
      startApiServer: fakeServer(events, []),
      components: [component],
      stopSignal: stop,
      startNode: async (_opts, ctx) => {
        events.push('node:start');
        assert.match(ctx.url, /^https:\/\/127\.0\.0\.1:/);
        return {
          nodeName: 'here',
          ready: new Promise<void>((r) => (markReady = r)),
          controller: { getNode: () => undefined },
          stop: async () => void events.push('node:stop'),
        } as any;
      },
    });
    await waitForLine(events, /node:start/);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!io.stdout.some((l) => /is ready/.test(l)), 'no ready line before the node is Ready');
    markReady();
    await waitForLine(io.stdout, /is ready/);
    assert.ok(io.stdout.some((l) => /node here is Ready in \d+\.\d\ds/.test(l)));
    stop.fire('SIGTERM');
    assert.equal(await done, 0);
    assert.deepEqual(events, ['apiserver:start', 'node:start', 'node:stop', 'fake-controller:close', 'apiserver:close']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
