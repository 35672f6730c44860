// Entry point of the components worker thread: starts the client components it is given, in
// order, and stops them in reverse order when asked. Messages to the parent:
// {type:'log', msg}, {type:'started', name}, {type:'ready'}, {type:'failed', error}, {type:'stopped'}.

import { existsSync, unlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { sharedInformersFor, startClientComponent, type ApiConnection, type ClientComponentSpec } from './client-components.ts';
import type { RunningComponent } from './components.ts';
import { PortConnector } from '../client/port-link.ts';
import { serveThreadPort } from '../metrics/thread-port.ts';
import { serveThreadMetrics } from '../metrics/prometheus.ts';
import { startAfterBurstGC } from './after-burst-gc.ts';

const { specs, connection, port: servicesPort, apiPort } = workerData as {
  specs: ClientComponentSpec[];
  connection: ApiConnection;
  port?: import('node:worker_threads').MessagePort;
  /** The API server's thread serves requests sent over this port (src/client/port-link.ts). */
  apiPort?: import('node:worker_threads').MessagePort;
};
const connector = apiPort && connection.socketPath ? new PortConnector(apiPort) : undefined;
if (connector) connection.connect = () => connector.connect();
// The parent's questions (Prometheus metrics, metrics.k8s.io) come on their own port.
if (servicesPort) {
  serveThreadMetrics();
  serveThreadPort(servicesPort);
}
const port = parentPort!;
// This thread's heap back after a burst (src/cli/after-burst-gc.ts).
startAfterBurstGC({
  onCollect: (a, b) => port.postMessage({ type: 'log', name: specs.map((s) => s.name).join('+'), msg: `heap after a burst: ${Math.round(a / 1048576)} → ${Math.round(b / 1048576)} MB` }),
});
const running: { name: string; c: RunningComponent }[] = [];
const shared = sharedInformersFor(specs, connection, (msg) => port.postMessage({ type: 'log', name: 'informers', msg }));

async function stopAll(): Promise<void> {
  for (const r of running.reverse()) {
    try {
      await r.c.close();
    } catch (e) {
      port.postMessage({ type: 'log', name: r.name, msg: `error while stopping: ${(e as Error).message}` });
    }
  }
  await shared?.close();
  connector?.close();
}

port.on('message', (m: { type: string }) => {
  if (m.type === 'stop') void stopAll().then(() => port.postMessage({ type: 'stopped' }));
});

try {
  for (const spec of specs) {
    const c = await startClientComponent(spec, connection, (msg) => port.postMessage({ type: 'log', name: spec.name, msg }), shared?.informers);
    running.push({ name: spec.name, c });
    port.postMessage({ type: 'started', name: spec.name });
  }
  port.postMessage({ type: 'ready' });
  crashHookForTests();
} catch (e) {
  await stopAll();
  port.postMessage({ type: 'failed', error: (e as Error)?.stack ?? String(e) });
}

/**
 * For tests of the restart (e2e/components-restart.test.ts): with MIZZEN_TEST_COMPONENTS_CRASH_FILE
 * set, the scheduler's thread throws an uncaught error once that file appears (and removes it,
 * so the restarted thread lives on).
 */
function crashHookForTests(): void {
  const file = process.env.MIZZEN_TEST_COMPONENTS_CRASH_FILE;
  if (!file || !specs.some((s) => s.name === 'scheduler')) return;
  const timer = setInterval(() => {
    if (!existsSync(file)) return;
    unlinkSync(file);
    clearInterval(timer);
    throw new Error(`crashing on purpose: ${file} appeared (MIZZEN_TEST_COMPONENTS_CRASH_FILE)`);
  }, 200);
  timer.unref();
}
