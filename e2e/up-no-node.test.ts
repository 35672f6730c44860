// `mizzen up` where the local node cannot start: run as an unprivileged user (setpriv to nobody),
// it says in one line what is missing and how to get it, prints no stack trace, and the control
// plane comes up alone and serves kubectl (no Node, yet a pod is scheduled nowhere and waits).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL, MIZZEN_BIN, freePort, hasKubectl, run, runMizzen } from './harness.ts';
import { poll } from '../src/testing/poll.ts';

const NOBODY = 65534;
const skip = !hasKubectl
  ? 'needs /usr/bin/kubectl'
  : process.getuid?.() !== 0
    ? 'needs root, to run `mizzen up` as another (unprivileged) user'
    : !existsSync('/usr/bin/setpriv')
      ? 'needs setpriv (util-linux)'
      : undefined;

let dir = '';
let up: ChildProcess | undefined;
let out = '';

before(async () => {
  if (skip) return;
  // Built as root first: the unprivileged user may not write the bundle (dist/) of this checkout.
  await runMizzen(['--help']);
  dir = mkdtempSync(join(tmpdir(), 'gaps10-upnonode-'));
  chownSync(dir, NOBODY, NOBODY);
});

after(async () => {
  if (up && up.exitCode === null && up.signalCode === null) {
    const exited = new Promise((r) => up!.once('exit', r));
    up.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('up as a non-root user: one line on the missing node, no stack trace, the control plane serves kubectl', { skip, timeout: 120_000 }, async () => {
  const port = await freePort();
  const dataDir = join(dir, 'data');
  up = spawn('/usr/bin/setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, MIZZEN_BIN, 'up', '--data-dir', dataDir, '--port', String(port)], {
    env: { ...process.env, HOME: dir, NO_COLOR: '1', MIZZEN_NO_CONSOLE_BUILD: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  up.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  await poll(async () => /is ready/.test(out) || up!.exitCode !== null, { what: `the ready line:\n${out}`, timeoutMs: 90_000, intervalMs: 250 });
  assert.equal(up.exitCode, null, `up exited:\n${out}`);

  const lines = out.split('\n').filter((l) => /no local node/.test(l));
  assert.equal(lines.length, 1, `one line about the node:\n${out}`);
  assert.match(lines[0]!, /needs root.*run as root, or pass --no-kubelet/);
  assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, `no stack trace:\n${out}`);
  assert.doesNotMatch(out, /starting node/);

  const env = { ...process.env, KUBECONFIG: join(dataDir, 'kubeconfig') };
  const nodes = await run(KUBECTL, ['get', 'nodes', '-o', 'json'], { env });
  assert.equal(nodes.code, 0, nodes.stderr);
  assert.deepEqual(JSON.parse(nodes.stdout).items, [], 'no local node');
  // The controllers and scheduler run: a Deployment gets its pod, which waits unscheduled (no node).
  assert.equal((await run(KUBECTL, ['create', 'deployment', 'w', '--image=busybox:1.35', '--', 'sleep', '3600'], { env })).code, 0);
  const pod = await poll(
    async () => {
      const r = await run(KUBECTL, ['get', 'pods', '-l', 'app=w', '-o', 'json'], { env });
      const p = JSON.parse(r.stdout).items[0];
      return p?.status?.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status === 'False') ? p : undefined;
    },
    { what: `an unschedulable pod\n${out}`, timeoutMs: 30_000, intervalMs: 500 },
  );
  assert.equal(pod.spec.nodeName, undefined);
});
