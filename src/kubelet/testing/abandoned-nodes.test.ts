// A test node whose test was killed: a child process starts a node and a container and is then
// SIGKILLed (its parent, a shell, exited before). Its containerd, shim and container keep running
// until a sweep stops them; while the child lived, a sweep left them alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupLocalNode, localNodeSkipReason, shimPidsOf } from './local-node.ts';
import { sweepAbandonedTestNodes } from './abandoned-nodes.ts';

const alive = (pid: number) => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const FIXTURE = `
import { startLocalNode } from ${JSON.stringify(new URL('./local-node.ts', import.meta.url).href)};
const node = await startLocalNode();
const cri = node.runtime.cri;
const config = node.sandboxConfig('left');
const sandboxId = await cri.runPodSandbox(config);
const id = await cri.createContainer(sandboxId, { metadata: { name: 'c' }, image: { image: 'busybox' }, command: ['sleep', '3600'], logPath: 'c/0.log' }, config);
await cri.startContainer(id);
const { runtime, sandboxConfig, restart, cleanup, ...rest } = node;
console.log(JSON.stringify({ ...rest, pid: process.pid, socketPath: runtime.paths.socketPath, pidFile: runtime.paths.pidFile }));
setInterval(() => {}, 1000);
`;

test('sweepAbandonedTestNodes stops the containerd, shims and containers of a node whose test was killed', { skip: localNodeSkipReason(), timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mzab-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'fixture.mts'), FIXTURE);
  // Through a shell that exits at once, so that neither the node's owner nor its parent lives on.
  const sh = spawn('sh', ['-c', `${process.execPath} --import tsx ${join(dir, 'fixture.mts')} &`], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
  let out = '';
  sh.stdout!.on('data', (d) => (out += d));
  await until('the fixture node runs a container', () => out.includes('\n'), 90_000);
  const n = JSON.parse(out);
  t.after(() => cleanupLocalNode(n));
  const shims = shimPidsOf(n.socketPath);
  const containerd = Number(readFileSync(n.pidFile, 'utf8'));
  // The pause and sleep processes: children of the shims.
  const containers = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return shims.includes(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      return false;
    }
  });
  assert.ok(shims.length >= 1 && containers.length >= 2, `a shim (${shims}) with pause and sleep (${containers})`);

  // Its owner lives: left alone.
  assert.ok(!sweepAbandonedTestNodes().dataDirs.includes(n.dataDir));
  assert.ok([...shims, ...containers, containerd].every(alive));

  process.kill(n.pid, 'SIGKILL');
  await until('the fixture is gone', () => !alive(n.pid));
  assert.ok([...shims, ...containers, containerd].every(alive), 'a killed test leaves its node running');
  const r = sweepAbandonedTestNodes();
  assert.ok(r.dataDirs.includes(n.dataDir), JSON.stringify(r));
  await until('the containerd, shims and containers are gone', () => ![...shims, ...containers, containerd].some(alive));
  assert.deepEqual(shimPidsOf(n.socketPath), []);
});
