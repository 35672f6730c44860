// The components worker of `mizzen up` (scheduler, controllers, cloud controller manager) dies
// (a test-only hook makes it throw): `up` says so, restarts it after a back-off, and the cluster
// schedules pods again; the API server's metrics still come from the (new) thread. The worker's
// watches (over its MessagePort to the API server, src/client/watch-stream.ts) end with it: once
// the new thread runs, the server serves as many watches as before the crash, not twice as many.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasKubectl, startCluster, type Cluster } from './harness.ts';
import { poll } from '../src/testing/poll.ts';

const skip = hasKubectl ? undefined : 'needs /usr/bin/kubectl';
const dir = mkdtempSync(join(tmpdir(), 'gaps10-crash-'));
const crashFile = join(dir, 'crash-now');
let c: Cluster;

before(async () => {
  if (skip) return;
  process.env.MIZZEN_TEST_COMPONENTS_CRASH_FILE = crashFile;
  try {
    c = await startCluster({ extraArgs: ['--simulated-nodes', '1'] });
  } finally {
    delete process.env.MIZZEN_TEST_COMPONENTS_CRASH_FILE;
  }
});

after(async () => {
  await c?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The API server's open watches by resource (apiserver_longrunning_requests, verb WATCH). */
const watches = async (): Promise<Record<string, number>> => {
  const out: Record<string, number> = {};
  for (const m of (await c.kubectl(['get', '--raw', '/metrics'])).stdout.matchAll(/^apiserver_longrunning_requests\{verb="WATCH",group="([^"]*)",version="[^"]*",resource="([^"]*)"[^}]*\} (\d+)$/gm)) {
    const k = m[1] ? `${m[2]}.${m[1]}` : m[2]!;
    out[k] = (out[k] ?? 0) + Number(m[3]);
  }
  return out;
};

const sorted = (o: Record<string, number>) => Object.entries(o).sort(([a], [b]) => a.localeCompare(b));

const runningPods = async (app: string) =>
  JSON.parse((await c.kubectl(['get', 'pods', '-l', `app=${app}`, '-o', 'json'])).stdout).items.filter((p: any) => p.spec.nodeName && p.status?.phase === 'Running').length;

test('a dead components worker is restarted and pods get scheduled again', { skip, timeout: 180_000 }, async () => {
  await c.kubectl(['create', 'deployment', 'before', '--image=busybox:1.35', '--', 'sleep', '3600']);
  await poll(() => runningPods('before'), { what: 'the first pod Running', timeoutMs: 30_000, intervalMs: 500 });

  const before = await watches();
  assert.ok(before.pods! >= 1 && before.nodes! >= 1, `watches before the crash: ${JSON.stringify(before)}`);

  writeFileSync(crashFile, '');
  await poll(() => /components worker failed: .*crashing on purpose/.test(c.logs()), { what: `the worker's death in the log:\n${c.logs()}`, timeoutMs: 15_000, intervalMs: 200 });
  assert.ok(!existsSync(crashFile));
  // The thread's 'exit' follows its 'error' after its teardown (later on a busy machine).
  await poll(() => /components worker exited with code 1; restarting it in 1\.0s \(restart 1\)/.test(c.logs()), { what: `the restart scheduled in the log:\n${c.logs().slice(-3000)}`, timeoutMs: 15_000, intervalMs: 200 });
  await poll(() => /components worker restarted/.test(c.logs()), { what: `the restart in the log:\n${c.logs().slice(-3000)}`, timeoutMs: 30_000, intervalMs: 200 });

  // The new scheduler and controllers: a new Deployment gets its ReplicaSet, pod and node.
  await c.kubectl(['create', 'deployment', 'after', '--image=busybox:1.35', '--replicas=2', '--', 'sleep', '3600']);
  await poll(() => runningPods('after'), { what: `the new pods Running after the restart:\n${c.logs().slice(-3000)}`, done: (n) => n === 2, timeoutMs: 60_000, intervalMs: 500 });
  // The dead thread's watches ended on the server (its port closed); the new thread's replaced them.
  await poll(watches, { what: `the same watches as before the crash (${JSON.stringify(before)})`, done: (w) => JSON.stringify(sorted(w)) === JSON.stringify(sorted(before)), timeoutMs: 30_000, intervalMs: 500 });
  // The API server asks the new thread for its metrics (the port it holds was rebound).
  const metrics = (await c.kubectl(['get', '--raw', '/metrics'])).stdout;
  assert.match(metrics, /scheduler_/, 'the scheduler thread\'s metrics on /metrics');
});
