// The control-plane components that `mizzen up` starts after the API server.
//
// HOOK: the scheduler and the controller-manager plug in here. Add an entry to
// CONTROL_PLANE_COMPONENTS whose start() imports its module lazily (keeps `mizzen --help` fast)
// and returns something to close on shutdown. They run in-process and talk to the API server
// through the admin kubeconfig, just like an external client would.

import type { Pki } from '../apiserver/pki.ts';
import { Worker } from 'node:worker_threads';
import type { UpOptions } from './options.ts';
import type { ClientComponentSpec } from './client-components.ts';

export interface ComponentContext {
  /** The API server's URL as clients should use it (never a wildcard address). */
  apiServerURL: string;
  /** Path of the admin kubeconfig (written before components start). */
  kubeconfig: string;
  pki: Pki;
  dataDir: string;
  serviceCIDR?: string;
  log: (msg: string) => void;
}

export interface RunningComponent {
  close(): Promise<void>;
}

export interface ControlPlaneComponent {
  name: string;
  start(ctx: ComponentContext): Promise<RunningComponent>;
}

/**
 * The client components, in start order. `mizzen up` runs them together on one worker thread
 * (see components-worker.ts): they are API clients like any other, and on their own thread the
 * scheduler and controllers do not wait behind the API server's request handling (measured with
 * `npm run bench -- density`).
 */
export function clientComponentSpecs(opts: UpOptions, rootCAPem: string): ClientComponentSpec[] {
  const cm: Record<string, unknown> = { rootCAPem };
  if (opts.nodeMonitorGracePeriodMs !== undefined) cm.nodeMonitorGracePeriodMs = opts.nodeMonitorGracePeriodMs;
  if (opts.clusterCIDR) cm.clusterCIDR = opts.clusterCIDR;
  const specs: ClientComponentSpec[] = [
    { name: 'controller-manager', options: cm },
    { name: 'scheduler', options: {} },
  ];
  if (opts.simulatedNodes > 0) specs.push({ name: 'simulated-nodes', options: { count: opts.simulatedNodes, capacity: opts.simulatedNodeCapacity } });
  return specs;
}

/** Started after the API server; stopped before it. */
export function controlPlaneComponents(opts: UpOptions): ControlPlaneComponent[] {
  return [
    {
      name: 'controllers',
      start: (ctx) => startComponentsWorker(clientComponentSpecs(opts, ctx.pki.caCertPem), ctx),
    },
  ];
}

/** Runs the client components on a worker thread and resolves once all have started. */
function startComponentsWorker(specs: ClientComponentSpec[], ctx: ComponentContext): Promise<RunningComponent> {
  // From the bundle (dist/cli/main.mjs) the worker is its sibling bundle; from sources, tsx runs it.
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './components-worker.ts' : './components-worker.mjs', import.meta.url);
  const worker = new Worker(entry, {
    workerData: { specs, kubeconfig: ctx.kubeconfig },
    execArgv: fromSources ? ['--import', 'tsx'] : [],
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  let stopped: (() => void) | undefined;
  return new Promise((resolve, reject) => {
    let ready = false;
    worker.on('message', (m: { type: string; name?: string; msg?: string; error?: string }) => {
      if (m.type === 'log') ctx.log(m.msg!.startsWith(`${m.name}: `) ? m.msg! : `${m.name}: ${m.msg}`);
      else if (m.type === 'started') ctx.log(`started ${m.name}`);
      else if (m.type === 'failed') reject(new Error(`a control-plane component failed to start: ${m.error}`));
      else if (m.type === 'stopped') stopped?.();
      else if (m.type === 'ready') {
        ready = true;
        resolve({
          close: () =>
            new Promise<void>((done) => {
              const timer = setTimeout(() => void worker.terminate().then(() => done()), 10_000);
              stopped = () => {
                clearTimeout(timer);
                void worker.terminate().then(() => done());
              };
              worker.postMessage({ type: 'stop' });
            }),
        });
      }
    });
    worker.on('error', (e) => {
      if (!ready) reject(e);
      else ctx.log(`components worker failed: ${e.stack ?? e.message}`);
    });
    worker.on('exit', (code) => {
      if (!ready) reject(new Error(`the components worker exited with code ${code} before it was ready`));
    });
  });
}
