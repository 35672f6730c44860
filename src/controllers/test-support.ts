// Test-only helpers for controller tests: a real in-process API server with simulated nodes, a
// controller context over a real client, a tiny "bind every pending pod to sim-N round robin" loop
// standing in for the scheduler, and polling. Several engineers use this file: keep it additive.

import type { KObject } from '../api/types.ts';
import { ApiClient, isAlreadyExists, isConflict, isNotFound } from '../client/api-client.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { poll } from '../testing/poll.ts';
import { startTestCluster, eventually as pollUntil, type TestCluster } from '../kubelet/simulated/test-cluster.ts';
import { startSimulatedNodes, type SimulatedNodes } from '../kubelet/simulated/simulator.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import { Informer, SharedInformerFactory } from '../client/informer.ts';
import { defaultControllerManagerOptions, type Controller, type ControllerContext, type ControllerFactory, type ControllerManagerOptions } from './types.ts';

/** Poll until check returns a value other than undefined (controllers get a longer default deadline). */
export function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  return pollUntil(what, check, timeoutMs);
}

/**
 * A client for controllers: every informer holds a keep-alive socket for its watch, so the
 * garbage collector alone needs dozens; a small pool would starve plain requests.
 */
export function controllerClient(kubeconfig: string): ApiClient {
  return new ApiClient({ ...loadKubeconfig(kubeconfig), maxSockets: 1024 });
}

export interface TestControllerEnv {
  ctx: ControllerContext;
  informers: SharedInformerFactory;
  /** Build controllers (registering informers), start informers, wait for sync, run them. */
  start(...factories: ControllerFactory[]): Promise<Controller[]>;
  stop(): Promise<void>;
}

/** A ControllerContext like the manager's, for running a few controllers in a test. */
export function testControllerEnv(
  clientOrKubeconfig: ApiClient | string,
  options: Partial<ControllerManagerOptions> = {},
  log: (m: string) => void = () => {},
): TestControllerEnv {
  const ownClient = typeof clientOrKubeconfig === 'string';
  const client = typeof clientOrKubeconfig === 'string' ? controllerClient(clientOrKubeconfig) : clientOrKubeconfig;
  const informers = new SharedInformerFactory(client, { log, backoffInitialMs: 100, backoffMaxMs: 1000 });
  const recorders: EventRecorder[] = [];
  const ctx: ControllerContext = {
    client,
    informers,
    recorder(component) {
      const r = new EventRecorder(client, { source: { component }, log });
      recorders.push(r);
      return r;
    },
    options: { ...defaultControllerManagerOptions, workers: 2, ...options },
    log,
  };
  const running: Controller[] = [];
  return {
    ctx,
    informers,
    async start(...factories) {
      const cs = factories.map((f) => f(ctx));
      informers.start();
      await informers.waitForCacheSync();
      for (const c of cs) c.run();
      running.push(...cs);
      return cs;
    },
    async stop() {
      await Promise.all(running.map((c) => c.stop()));
      running.length = 0;
      await informers.stop();
      await Promise.all(recorders.map((r) => r.flush().catch(() => {})));
      if (ownClient) client.close();
    },
  };
}

/** Stands in for the scheduler: binds every unscheduled, undeleted pod to nodes round robin. */
export function startRoundRobinBinder(client: ApiClient, nodes: string[]): { stop(): Promise<void> } {
  const inf = new Informer(client, { version: 'v1', resource: 'pods' }, { log: () => {}, backoffInitialMs: 100 });
  let next = 0;
  const pending = new Set<string>();
  const bind = (pod: KObject) => {
    const m = pod.metadata;
    if (pod.spec?.nodeName || m.deletionTimestamp || !nodes.length) return;
    const key = `${m.namespace}/${m.name}/${m.uid}`;
    if (pending.has(key)) return;
    pending.add(key);
    const node = nodes[next++ % nodes.length];
    client.bind(m.namespace!, m.name!, node, m.uid).catch(() => pending.delete(key));
  };
  inf.addEventHandler({ onAdd: bind, onUpdate: (_o, n) => bind(n) });
  inf.start();
  return { stop: () => inf.stop() };
}

/**
 * Run the given controller factories against a client without leader election (a minimal
 * controller manager for unit-style tests). Stop with the returned stop().
 */
export async function runControllers(
  client: ApiClient,
  factories: ControllerFactory[],
  options: Partial<ControllerManagerOptions> = {},
  log: (m: string) => void = () => {},
): Promise<{ controllers: Controller[]; stop(): Promise<void> }> {
  const informers = new SharedInformerFactory(client, { log });
  const recorders: EventRecorder[] = [];
  const ctx: ControllerContext = {
    client,
    informers,
    options: { ...defaultControllerManagerOptions, ...options },
    log,
    recorder(component) {
      const r = new EventRecorder(client, { source: { component }, log });
      recorders.push(r);
      return r;
    },
  };
  const controllers = factories.map((f) => f(ctx));
  informers.start();
  await informers.waitForCacheSync();
  for (const c of controllers) c.run();
  return {
    controllers,
    async stop() {
      await Promise.all(controllers.map((c) => c.stop()));
      await informers.stop();
      await Promise.all(recorders.map((r) => r.flush()));
    },
  };
}

export interface Binder {
  /** Number of successful bindings so far. */
  bound(): number;
  close(): Promise<void>;
}

/**
 * Bind every unscheduled pod to the given nodes in turn (like startRoundRobinBinder, but waits for
 * its informer to sync and counts bindings). Pods already bound or gone are skipped silently.
 */
export async function startBinder(client: ApiClient, nodeNames: string[], opts: { namespace?: string } = {}): Promise<Binder> {
  if (nodeNames.length === 0) throw new Error('startBinder needs at least one node name');
  let next = 0;
  let count = 0;
  let closed = false;
  const inflight = new Set<Promise<void>>();
  const informer = new Informer<KObject>(
    client,
    { version: 'v1', resource: 'pods' },
    { fieldSelector: 'spec.nodeName=', namespace: opts.namespace, log: () => {}, backoffInitialMs: 100 },
  );
  const bind = (pod: KObject) => {
    if (closed || pod.metadata.deletionTimestamp || pod.spec?.nodeName) return;
    const node = nodeNames[next++ % nodeNames.length]!;
    const p: Promise<void> = client
      .bind(pod.metadata.namespace ?? 'default', pod.metadata.name!, node, pod.metadata.uid)
      .then(() => {
        count++;
      })
      .catch((e) => {
        if (isNotFound(e) || isConflict(e) || isAlreadyExists(e) || closed) return;
        // Anything else: leave the pod; its next event retries.
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  informer.addEventHandler({ onAdd: bind, onUpdate: (_o, n) => bind(n) });
  informer.start();
  await informer.waitForSync();
  return {
    bound: () => count,
    async close() {
      closed = true;
      await informer.stop();
      await Promise.all([...inflight]);
    },
  };
}

export interface ControllerTestCluster {
  cluster: TestCluster;
  client: ApiClient;
  kubeconfig: string;
  /** Present when nodes > 0. */
  nodes?: SimulatedNodes;
  nodeNames: string[];
  /** Present when nodes > 0 and bind is not false. */
  binder?: Binder;
  close(): Promise<void>;
}

/**
 * Start an API server; with `nodes` > 0 also that many simulated nodes (sim-0 …) and, unless
 * `bind: false`, the round-robin binder. Close everything with close().
 */
export async function startControllerTestCluster(opts: { nodes?: number; bind?: boolean; heartbeatSeconds?: number } = {}): Promise<ControllerTestCluster> {
  const cluster = await startTestCluster();
  const count = opts.nodes ?? 0;
  let nodes: SimulatedNodes | undefined;
  let binder: Binder | undefined;
  try {
    if (count > 0) {
      nodes = await startSimulatedNodes({ client: cluster.client, count, heartbeatSeconds: opts.heartbeatSeconds, maxStopMs: 0 });
      if (opts.bind !== false) binder = await startBinder(cluster.client, nodes.nodes);
    }
  } catch (e) {
    await nodes?.close();
    await cluster.close();
    throw e;
  }
  return {
    cluster,
    client: cluster.client,
    kubeconfig: cluster.kubeconfig,
    nodes,
    nodeNames: nodes?.nodes ?? [],
    binder,
    async close() {
      await binder?.close();
      await nodes?.close();
      await cluster.close();
    },
  };
}

/** Poll fn until it returns a truthy value (returned); see src/testing/poll.ts. */
export function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 15_000, message = 'condition', intervalMs = 50): Promise<NonNullable<T>> {
  return poll(fn, { timeoutMs, what: message, intervalMs }) as Promise<NonNullable<T>>;
}

/** Create a namespace (ignoring AlreadyExists) and return its name. */
export async function createNamespace(client: ApiClient, name: string): Promise<string> {
  try {
    await client.create({ version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  return name;
}

/** List pods in a namespace (optionally by label selector string). */
export async function listPods(client: ApiClient, namespace: string, labelSelector?: string): Promise<KObject[]> {
  return (await client.list<KObject>({ version: 'v1', resource: 'pods', namespace }, { labelSelector })).items;
}

/** True when a pod is Running with condition Ready=True. */
export function isPodRunningReady(pod: KObject): boolean {
  if (pod.status?.phase !== 'Running') return false;
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}
