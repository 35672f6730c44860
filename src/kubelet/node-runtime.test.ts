// The node's container runtime for real: our own containerd in a temp dir, Mizzen's images, a
// pod network on a bridge of its own. Traffic goes only to pods on this node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CriError, isNotFound } from './cri/errors.ts';
import type { CriClient } from './cri/services.ts';
import type { PodSandboxConfig } from './cri/types.ts';
import { localNodeSkipReason, shimPidsOf, startLocalNode, type LocalNode } from './testing/local-node.ts';
import { buildDockerSaveArchive } from './testing/docker-save.ts';
import { buildOciArchive } from './images/oci.ts';
import { busyboxLayer, inspectBusybox, PAUSE_IMAGE } from './images/node-images.ts';
import { routeTypeFor } from './network/routes.ts';
import { cidrsOverlap, nthAddress } from './network/cidr.ts';
import { httpGet } from '../testing/http-get.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const get = (url: string) => httpGet(url, 3000);

/** Retries while the server in the pod starts listening. */
async function getWhenUp(url: string, ms = 10_000): Promise<{ status: number; body: string }> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await get(url);
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function removeSandbox(cri: CriClient, id: string): Promise<void> {
  await cri.stopPodSandbox(id).catch(() => {});
  await cri.removePodSandbox(id).catch(() => {});
}

const skip = localNodeSkipReason();

describe('node runtime on a real containerd', { skip }, () => {
  let node: LocalNode;
  let cri: CriClient;
  // The httpd pod, shared by the tests that follow its life.
  let web: { sandboxId: string; config: PodSandboxConfig; containerId: string; ip: string };

  before(async () => {
    node = await startLocalNode();
    cri = node.runtime.cri;
  });
  after(async () => {
    await node?.cleanup();
  });

  test('the runtime is ready with its network and the node images', async () => {
    assert.equal(node.runtime.version.runtimeName, 'containerd');
    assert.equal(node.runtime.version.runtimeApiVersion, 'v1');
    const st = await cri.status();
    const cond = Object.fromEntries(st.status!.conditions.map((c) => [c.type, c.status]));
    assert.deepEqual(cond, { RuntimeReady: true, NetworkReady: true });
    const id = (await cri.imageStatus({ image: 'docker.io/library/busybox:latest' })).image?.id;
    assert.match(id ?? '', /^sha256:[0-9a-f]{64}$/);
    const version = inspectBusybox().version.split('.').slice(0, 2).join('.');
    for (const name of ['busybox', 'busybox:latest', `busybox:${version}`, 'docker.io/library/busybox']) {
      assert.equal((await cri.imageStatus({ image: name })).image?.id, id, name);
    }
    assert.ok((await cri.imageStatus({ image: PAUSE_IMAGE })).image);
    assert.equal((await cri.imageStatus({ image: 'busybox:0.0.1-missing' })).image, null);
    const fs = await cri.imageFsInfo();
    assert.match(fs.imageFilesystems[0]!.fsId!.mountpoint, /io.containerd.snapshotter.v1.overlayfs$/);
  });

  test('a busybox httpd pod answers at its pod IP from the host; ExecSync runs in it', async () => {
    const config = node.sandboxConfig('web');
    const sandboxId = await cri.runPodSandbox(config);
    const status = (await cri.podSandboxStatus(sandboxId)).status!;
    assert.equal(status.state, 'SANDBOX_READY');
    const ip = status.network!.ip;
    assert.ok(cidrsOverlap(`${ip}/32`, node.podCIDR), `${ip} in ${node.podCIDR}`);
    const containerId = await cri.createContainer(
      sandboxId,
      { metadata: { name: 'httpd' }, image: { image: 'busybox' }, command: ['httpd', '-f', '-p', '8080', '-h', '/tmp'], logPath: 'httpd/0.log' },
      config,
    );
    // The page is written with ExecSync once the container runs.
    await cri.startContainer(containerId);
    web = { sandboxId, config, containerId, ip };
    const ex = await cri.execSync(containerId, ['sh', '-c', 'echo "hello from $(hostname)" > /tmp/index.html && id -u'], 10);
    assert.equal(ex.exitCode, 0, ex.stderr.toString());
    assert.equal(ex.stdout.toString(), '0\n');
    const res = await getWhenUp(`http://${ip}:8080/`);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'hello from web\n');
    const failing = await cri.execSync(containerId, ['sh', '-c', 'echo oops >&2; exit 7'], 10);
    assert.equal(failing.exitCode, 7);
    assert.equal(failing.stderr.toString(), 'oops\n');
    const cs = (await cri.containerStatus(containerId)).status!;
    assert.equal(cs.state, 'CONTAINER_RUNNING');
    assert.ok(cs.startedAt > 0 && cs.finishedAt === 0);
    assert.equal(cs.logPath, join(config.logDirectory!, 'httpd/0.log'));
    assert.equal(cs.metadata!.name, 'httpd');
    // The streaming URLs point at containerd's own server on loopback.
    assert.match(await cri.exec({ containerId, cmd: ['sh'], stdin: true, stdout: true, tty: true }), /^http:\/\/127\.0\.0\.1:\d+\/exec\/[\w-]+$/);
    assert.match(await cri.portForward({ podSandboxId: sandboxId, port: [8080] }), /^http:\/\/127\.0\.0\.1:\d+\/portforward\/[\w-]+$/);
    const stats = await cri.containerStats(containerId);
    assert.ok(stats!.memory!.workingSetBytes!.value > 0);
  });

  test('a finished container reports its exit code, reason and log', async (t) => {
    const config = node.sandboxConfig('job');
    const sandboxId = await cri.runPodSandbox(config);
    t.after(() => removeSandbox(cri, sandboxId));
    const containerId = await cri.createContainer(
      sandboxId,
      { metadata: { name: 'main' }, image: { image: 'busybox' }, command: ['sh', '-c', 'echo out; echo err >&2; exit 3'], logPath: 'main/0.log', envs: [{ key: 'A', value: 'b' }] },
      config,
    );
    const created = (await cri.containerStatus(containerId)).status!;
    assert.equal(created.state, 'CONTAINER_CREATED');
    await cri.startContainer(containerId);
    const done = await waitFor('exit', async () => {
      const s = (await cri.containerStatus(containerId)).status!;
      return s.state === 'CONTAINER_EXITED' ? s : undefined;
    });
    assert.equal(done.exitCode, 3);
    assert.equal(done.reason, 'Error');
    // (A container that exits at once may show finishedAt a little before startedAt: containerd
    // stamps the exit from the event and the start after the task started.)
    assert.ok(done.startedAt > 0 && done.finishedAt > 0);
    // CRI log format: RFC 3339 time, stream, P(artial)/F(ull), text. The shim copies output
    // asynchronously, so the file may lag the exit by a moment.
    const log = await waitFor('both log lines', async () => {
      const text = readFileSync(done.logPath, 'utf8');
      return /stdout F out\n/.test(text) && /stderr F err\n/.test(text) ? text : undefined;
    });
    assert.match(log, /^\S+Z stdout F out$/m);
    assert.match(log, /^\S+Z stderr F err$/m);

    const ok = await cri.createContainer(sandboxId, { metadata: { name: 'main', attempt: 1 }, image: { image: 'busybox' }, command: ['true'], logPath: 'main/1.log' }, config);
    await cri.startContainer(ok);
    const okDone = await waitFor('exit', async () => {
      const s = (await cri.containerStatus(ok)).status!;
      return s.state === 'CONTAINER_EXITED' ? s : undefined;
    });
    assert.deepEqual([okDone.exitCode, okDone.reason], [0, 'Completed']);
    const listed = await cri.listContainers({ podSandboxId: sandboxId });
    assert.deepEqual(listed.map((c) => c.metadata!.attempt).sort(), [0, 1]);
  });

  test('errors carry the gRPC code and the runtime message', async (t) => {
    await assert.rejects(cri.containerStatus('no-such-container'), (e: unknown) => isNotFound(e) && /not found/.test((e as CriError).message));
    const config = node.sandboxConfig('bad');
    const sandboxId = await cri.runPodSandbox(config);
    t.after(() => removeSandbox(cri, sandboxId));
    await assert.rejects(
      cri.createContainer(sandboxId, { metadata: { name: 'c' }, image: { image: 'docker.io/library/nope:1' } }, config),
      (e: unknown) => e instanceof CriError && e.method === 'CreateContainer' && /nope/.test(e.message),
    );
    const c = await cri.createContainer(sandboxId, { metadata: { name: 'c' }, image: { image: 'busybox' }, command: ['/no/such/binary'] }, config);
    await assert.rejects(cri.startContainer(c), (e: unknown) => e instanceof CriError && /no such file or directory|executable file not found/.test(e.message));
    const st = (await cri.containerStatus(c)).status!;
    assert.equal(st.state, 'CONTAINER_EXITED');
    assert.equal(st.reason, 'StartError');
    assert.equal(st.exitCode, 128);
    await cri.stopPodSandbox(sandboxId);
    await cri.removePodSandbox(sandboxId);
    await cri.removePodSandbox(sandboxId); // idempotent
  });

  test('cluster and service CIDRs are unreachable; the podCIDR goes to the bridge', async () => {
    // `ip route get` asks the kernel without sending anything.
    const outsidePodCidr = nthAddress(node.clusterCIDR, 256 * ((Number(node.podCIDR.split('.')[2]) + 1) % 256) + 5);
    assert.equal((await routeTypeFor(outsidePodCidr)).type, 'unreachable', outsidePodCidr);
    assert.equal((await routeTypeFor(nthAddress(node.serviceCIDR, 10))).type, 'unreachable');
    assert.deepEqual(await routeTypeFor(web.ip), { type: 'unicast', dev: node.bridge });
  });

  test('containerd killed: restarted by the supervisor, the container keeps running, the client reconnects', async () => {
    const sup = node.runtime.supervisor!;
    const shimsBefore = shimPidsOf(node.runtime.paths.socketPath);
    assert.ok(shimsBefore.length > 0);
    const oldPid = sup.pid!;
    const ready = new Promise((r) => sup.once('ready', r));
    process.kill(oldPid, 'SIGKILL');
    // While containerd is down the pod still serves, and CRI calls fail with UNAVAILABLE.
    assert.equal((await get(`http://${web.ip}:8080/`)).status, 200);
    await ready;
    assert.notEqual(sup.pid, oldPid);
    assert.equal(sup.restarts, 1);
    const cs = await waitFor('CRI through the same client', async () => (await cri.containerStatus(web.containerId)).status!);
    assert.equal(cs.state, 'CONTAINER_RUNNING');
    assert.deepEqual(shimPidsOf(node.runtime.paths.socketPath).sort(), shimsBefore.sort(), 'same shims: nothing restarted');
    assert.equal((await cri.execSync(web.containerId, ['cat', '/tmp/index.html'], 5)).stdout.toString(), 'hello from web\n');
    assert.equal((await get(`http://${web.ip}:8080/`)).status, 200);
  });

  test('a node restart adopts running containers and imports archives dropped in <data-dir>/images', async () => {
    const layer = busyboxLayer(inspectBusybox());
    const saved = buildDockerSaveArchive([{ repoTags: ['mizzen.test/dropped:1'], layers: [layer], config: { Cmd: ['sh'] } }]);
    writeFileSync(join(node.runtime.paths.imagesDir, 'dropped.tar'), saved.archive);
    await node.runtime.stop();
    // The kubelet is down; the pod is not.
    assert.equal((await get(`http://${web.ip}:8080/`)).status, 200);
    const rt = await node.restart();
    cri = rt.cri;
    assert.ok(rt.images.imported.includes('mizzen.test/dropped:1'), JSON.stringify(rt.images));
    assert.ok(rt.images.present.includes(PAUSE_IMAGE), 'node images not imported twice');
    assert.equal((await cri.imageStatus({ image: 'mizzen.test/dropped:1' })).image?.id, saved.configDigests[0]);
    const running = await cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } });
    assert.deepEqual(running.map((c) => c.id), [web.containerId]);
    assert.equal((await cri.podSandboxStatus(web.sandboxId)).status!.network!.ip, web.ip);
  });

  test('mizzen images import/ls (from the bundle): docker save and OCI archives, twice is a no-op', async () => {
    const layer = busyboxLayer(inspectBusybox());
    const oci = buildOciArchive({ names: ['docker.io/mizzen/oci-test:2'], layers: [layer], config: { Cmd: ['sh'] } });
    const saved = buildDockerSaveArchive([{ repoTags: ['saved-test:3'], layers: [layer], config: { Cmd: ['sh'] } }]);
    const ociFile = join(node.dataDir, 'oci-test.tar');
    const savedFile = join(node.dataDir, 'saved-test.tar');
    writeFileSync(ociFile, oci.archive);
    writeFileSync(savedFile, saved.archive);
    const mizzen = (...args: string[]) => run(process.execPath, [join(repoRoot, 'bin/mizzen.js'), 'images', ...args, '--data-dir', node.dataDir], { cwd: repoRoot, timeout: 120_000 });
    const first = await mizzen('import', ociFile, savedFile);
    assert.equal(first.stdout, 'imported docker.io/mizzen/oci-test:2\nimported docker.io/library/saved-test:3\n');
    const second = await mizzen('import', ociFile, savedFile);
    assert.equal(second.stdout, 'already present docker.io/mizzen/oci-test:2\nalready present docker.io/library/saved-test:3\n');
    assert.equal((await cri.imageStatus({ image: 'saved-test:3' })).image?.id, saved.configDigests[0]);
    const ls = (await mizzen('ls')).stdout;
    assert.match(ls, /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE\n/);
    assert.match(ls, /^busybox\s+latest\s+[0-9a-f]{13}\s+\d/m);
    assert.match(ls, /^mizzen\/oci-test\s+2\s/m);
    assert.match(ls, /^mizzen\.local\/pause\s+1\s/m);
    await assert.rejects(mizzen('import', join(node.dataDir, 'missing.tar')), (e: { code: number; stderr: string }) => e.code === 1 && /missing\.tar: no such file/.test(e.stderr));
  });

  test('StopPodSandbox and RemovePodSandbox release the pod network', async () => {
    const ipamDir = join(node.runtime.paths.cniIpamDir);
    const allocated = () => readdirSync(ipamDir, { recursive: true }).map(String).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f.split('/').pop()!));
    assert.ok(allocated().some((f) => f.endsWith(web.ip)));
    await cri.stopPodSandbox(web.sandboxId);
    assert.equal((await cri.podSandboxStatus(web.sandboxId)).status!.state, 'SANDBOX_NOTREADY');
    assert.equal((await cri.containerStatus(web.containerId)).status!.state, 'CONTAINER_EXITED');
    assert.ok(!allocated().some((f) => f.endsWith(web.ip)), 'IP released');
    await cri.removePodSandbox(web.sandboxId);
    assert.deepEqual(await cri.listPodSandbox(), []);
    const { stdout } = await run('ip', ['-o', 'link', 'show', 'master', node.bridge]);
    assert.equal(stdout.trim(), '', 'no veth left on the bridge');
    assert.ok(!existsSync(join(node.runtime.paths.state, 'io.containerd.runtime.v2.task', 'k8s.io', web.sandboxId)));
  });
});

describe('node runtime on an existing containerd endpoint', { skip }, () => {
  test('no supervision; our pause image is imported under the sandbox image that containerd is configured with', async (t) => {
    const { mkdtempSync, mkdirSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { randomBytes } = await import('node:crypto');
    const { ContainerdSupervisor } = await import('./containerd/supervisor.ts');
    const { renderContainerdConfig, mayLowerOomScore } = await import('./containerd/config.ts');
    const { nodePaths } = await import('./containerd/paths.ts');
    const { startNodeRuntime } = await import('./node-runtime.ts');
    const { removeCgroupTree } = await import('./testing/local-node.ts');
    // A "system" containerd of its own, configured the way distributions do: upstream's pause image.
    const sysDir = mkdtempSync(join(tmpdir(), 'mzn-sys-'));
    const kubeletDir = mkdtempSync(join(tmpdir(), 'mzn-kl-'));
    const cgroupRoot = `/mizzen-test-${randomBytes(3).toString('hex')}`;
    const p = nodePaths(sysDir);
    mkdirSync(p.containerdDir, { recursive: true });
    writeFileSync(
      p.configFile,
      renderContainerdConfig({ root: p.root, state: p.state, socketPath: p.socketPath, sandboxImage: 'registry.k8s.io/pause:3.6', cniBinDir: '/usr/lib/cni', cniConfDir: p.cniConfDir, restrictOomScoreAdj: !mayLowerOomScore() }),
    );
    const sup = new ContainerdSupervisor({ configFile: p.configFile, socketPath: p.socketPath, logFile: p.logFile, pidFile: p.pidFile });
    let rt: Awaited<ReturnType<typeof startNodeRuntime>> | undefined;
    t.after(async () => {
      if (rt) {
        for (const sb of await rt.cri.listPodSandbox().catch(() => [])) {
          await rt.cri.stopPodSandbox(sb.id).catch(() => {});
          await rt.cri.removePodSandbox(sb.id).catch(() => {});
        }
        await rt.stop();
      }
      await sup.stop();
      await removeCgroupTree(cgroupRoot);
      rmSync(sysDir, { recursive: true, force: true });
      rmSync(kubeletDir, { recursive: true, force: true });
    });
    await sup.start();
    rt = await startNodeRuntime({ dataDir: kubeletDir, containerRuntimeEndpoint: sup.endpoint, log: () => {} });
    assert.equal(rt.supervisor, undefined);
    assert.equal(rt.endpoint, `unix://${p.socketPath}`);
    assert.equal(rt.pauseImage, 'registry.k8s.io/pause:3.6');
    assert.ok((await rt.cri.imageStatus({ image: 'registry.k8s.io/pause:3.6' })).image);
    assert.ok((await rt.cri.imageStatus({ image: 'busybox' })).image);
    // A host-network pod needs no CNI: the sandbox runs from the imported pause image, offline.
    const config: PodSandboxConfig = {
      metadata: { name: 'hostnet', namespace: 'default', uid: 'u1' },
      logDirectory: join(kubeletDir, 'pods', 'default_hostnet_u1'),
      linux: { cgroupParent: `${cgroupRoot}/podu1`, securityContext: { namespaceOptions: { network: 'NODE' } } },
    };
    const sb = await rt.cri.runPodSandbox(config);
    const c = await rt.cri.createContainer(sb, { metadata: { name: 'c' }, image: { image: 'busybox' }, command: ['sh', '-c', 'exit 0'], logPath: 'c/0.log' }, config);
    await rt.cri.startContainer(c);
    const done = await waitFor('exit', async () => {
      const s = (await rt!.cri.containerStatus(c)).status!;
      return s.state === 'CONTAINER_EXITED' ? s : undefined;
    });
    assert.equal(done.reason, 'Completed');
    await rt.stop();
    assert.ok(sup.pid, 'stopping the node runtime leaves an existing containerd running');
    rt = undefined;
    const cri = (await import('./cri/grpc-client.ts')).connectCri(sup.endpoint);
    for (const s of await cri.listPodSandbox()) {
      await cri.stopPodSandbox(s.id);
      await cri.removePodSandbox(s.id);
    }
    cri.close();
  });
});
