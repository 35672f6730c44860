// A kubelet server for tests: the real HTTPS server with a serving certificate from the given
// cluster CA, in front of ProcessRuntime, with pods and log files that tests put in place.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../../../api/types.ts';
import { ensureKubeletServingCert } from '../../../apiserver/pki.ts';
import { startKubeletServer, type KubeletServerOptions, type RunningKubeletServer } from '../server.ts';
import { runningContainerIdFromStatus, type ContainerLogSource, type KubeletPods, type StatsProvider } from '../types.ts';
import { ProcessRuntime } from './process-runtime.ts';

/** Pods held in memory, their sandboxes and containers as a kubelet would report them. */
export class MemoryPods implements KubeletPods {
  readonly pods = new Map<string, KObject>();
  readonly sandboxes = new Map<string, string>();

  set(pod: KObject, sandboxId?: string): void {
    this.pods.set(`${pod.metadata.namespace}/${pod.metadata.name}`, pod);
    if (sandboxId) this.sandboxes.set(pod.metadata.uid!, sandboxId);
  }

  list(): KObject[] {
    return [...this.pods.values()];
  }

  get(namespace: string, name: string, uid?: string): KObject | undefined {
    const p = this.pods.get(`${namespace}/${name}`);
    return p && (!uid || p.metadata.uid === uid) ? p : undefined;
  }

  sandboxId(pod: KObject): string | undefined {
    return this.sandboxes.get(pod.metadata.uid!);
  }

  runningContainerId(pod: KObject, container: string): string | undefined {
    return runningContainerIdFromStatus(pod, container);
  }
}

/** Log files by container ID, and which containers still run. */
export class MemoryLogs implements ContainerLogSource {
  readonly paths = new Map<string, string>();
  readonly running = new Set<string>();

  async logPath(id: string): Promise<string | undefined> {
    return this.paths.get(id);
  }

  async isRunning(id: string): Promise<boolean> {
    return this.running.has(id);
  }
}

export interface TestKubelet {
  server: RunningKubeletServer;
  runtime: ProcessRuntime;
  pods: MemoryPods;
  logs: MemoryLogs;
  /** A scratch directory removed by close(), for log files. */
  dir: string;
  /** Write a CRI log file for a container and register it. */
  writeLog(containerId: string, lines: string[], file?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTestKubelet(opts: {
  nodeName: string;
  ca: { certPem: string; keyPem: string };
  port?: number;
  bindAddress?: string;
  stats?: StatsProvider;
  auth?: KubeletServerOptions['auth'];
}): Promise<TestKubelet> {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-kubelet-'));
  const serving = await ensureKubeletServingCert(join(dir, 'pki'), opts.ca, opts.nodeName);
  const runtime = await ProcessRuntime.start();
  const pods = new MemoryPods();
  const logs = new MemoryLogs();
  const server = await startKubeletServer({
    nodeName: opts.nodeName,
    port: opts.port ?? 0,
    bindAddress: opts.bindAddress ?? '127.0.0.1',
    tls: { cert: serving.certPem, key: serving.keyPem, clientCA: opts.ca.certPem },
    pods,
    runtime,
    logs,
    stats: opts.stats,
    auth: opts.auth,
  });
  return {
    server,
    runtime,
    pods,
    logs,
    dir,
    async writeLog(containerId, lines, file) {
      const path = join(dir, file ?? `${containerId}.log`);
      await writeFile(path, lines.map((l) => `${l}\n`).join(''));
      logs.paths.set(containerId, path);
      return path;
    },
    async close() {
      await server.close();
      await runtime.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A pod as the kubelet reports it: `containers` maps each container to its runtime ID and whether
 * it runs (a container with an ID that does not run is terminated with exit code 0).
 */
export function testPod(namespace: string, name: string, containers: Record<string, { id?: string; running?: boolean; waiting?: string; previousId?: string }>, nodeName = 'node-1'): KObject {
  const uid = `uid-${namespace}-${name}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, uid },
    spec: { nodeName, containers: Object.keys(containers).map((c) => ({ name: c, image: 'busybox' })) },
    status: {
      phase: 'Running',
      containerStatuses: Object.entries(containers).map(([c, s]) => ({
        name: c,
        image: 'busybox',
        imageID: '',
        ready: !!s.running,
        restartCount: s.previousId ? 1 : 0,
        containerID: s.id ? `fake://${s.id}` : undefined,
        state: s.waiting ? { waiting: { reason: s.waiting } } : s.running ? { running: { startedAt: '2024-05-01T10:00:00Z' } } : { terminated: { exitCode: 0, reason: 'Completed', containerID: s.id ? `fake://${s.id}` : undefined } },
        lastState: s.previousId ? { terminated: { exitCode: 1, reason: 'Error', containerID: `fake://${s.previousId}` } } : {},
      })),
    },
  };
}
