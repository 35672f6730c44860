// The container runtime under a real node, ready for the kubelet: containerd (supervised, or an
// existing CRI endpoint), the node's images, the pod network and the routes that keep cluster
// traffic on the machine. The kubelet gets a CriClient and calls configurePodNetwork() once its
// Node has a spec.podCIDR.
//
//   const prereq = await ensurePrerequisites({ log, aptLogFile });   // prerequisites.ts
//   if (!prereq.ok) { log(prereq.message); /* run without a local node */ }
//   const rt = await startNodeRuntime({ dataDir, clusterCIDR, serviceCIDR, log, tools: prereq.paths });
//   await rt.configurePodNetwork(node.spec.podCIDR);
//   ... rt.cri.runPodSandbox(...) ...
//   await rt.stop();        // containerd stops, containers keep running (adopted at next start)

import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectCri, endpointSocketPath, normalizeEndpoint } from './cri/grpc-client.ts';
import type { CriClient } from './cri/services.ts';
import type { VersionResponse } from './cri/types.ts';
import { chooseSnapshotter, mayLowerOomScore, renderContainerdConfig } from './containerd/config.ts';
import { nodePaths, type NodePaths } from './containerd/paths.ts';
import { parseRegistries, renderAuthTables, renderHostsFiles, RegistriesError } from './containerd/registries.ts';
import { ContainerdSupervisor } from './containerd/supervisor.ts';
import { archivesIn, ensureBuiltImages, importArchives, isImported, type ImportResult } from './images/import.ts';
import { buildNodeImages, inspectBusybox, PAUSE_IMAGE } from './images/node-images.ts';
import { DEFAULT_BRIDGE, DEFAULT_NETWORK, removePodNetwork, writeCniConfig } from './network/cni-config.ts';
import { ensurePodMasquerade, removePodMasquerade } from './network/pod-masquerade.ts';
import { ensureUnreachableRoutes, removeUnreachableRoutes } from './network/routes.ts';
import type { PrerequisitePaths } from './prerequisites.ts';

export interface NodeRuntimeOptions {
  dataDir: string;
  /** An existing CRI endpoint ('unix:///run/containerd/containerd.sock') instead of our own containerd. */
  containerRuntimeEndpoint?: string;
  /** Cluster pod range and Service range: unreachable routes keep their traffic local (omit to skip). */
  clusterCIDR?: string;
  serviceCIDR?: string;
  /** Linux bridge of the pod network (default 'mizzen0'); tests use unique names. */
  bridge?: string;
  /** CNI network name (default 'mizzen'). */
  networkName?: string;
  /** MTU for pods (default: the MTU of the default route's interface). */
  mtu?: number;
  /** Where the programs are (from ensurePrerequisites); found on PATH when omitted. */
  tools?: Partial<PrerequisitePaths>;
  /** The registries file (default <data-dir>/registries.yaml, used when it exists). */
  registriesFile?: string;
  /** Extra containerd supervisor settings (tests shorten the backoff). */
  supervisor?: { backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number }; stopTimeoutMs?: number };
  log: (msg: string) => void;
}

export interface NodeRuntime {
  /** RuntimeService + ImageService on the runtime's socket. */
  readonly cri: CriClient;
  /** 'unix:///…' */
  readonly endpoint: string;
  /** The runtime's Version answer at start (runtimeName, runtimeVersion: the Node's containerRuntimeVersion is `${runtimeName}://${runtimeVersion}`). */
  readonly version: VersionResponse;
  /** Our containerd, or undefined for an existing endpoint. */
  readonly supervisor: ContainerdSupervisor | undefined;
  readonly paths: NodePaths;
  /** The image every pod sandbox runs (the runtime's sandbox_image). */
  readonly pauseImage: string;
  /** Images imported or found at start. */
  readonly images: ImportResult;
  /**
   * Writes the CNI config for the node's podCIDR (idempotent; call again when it changes) and
   * tells the runtime (UpdateRuntimeConfig). For an existing endpoint only the latter: its CNI
   * configuration is its own.
   */
  configurePodNetwork(podCIDR: string): Promise<void>;
  /** Imports image archives (OCI or docker save) now; see images/import.ts. */
  importArchives(files: string[]): ReturnType<typeof importArchives>;
  /**
   * Stops our containerd (containers keep running) and closes the client. With `cleanup`, also
   * removes the routes, the bridge and the CNI config (tests, `mizzen` uninstall).
   */
  stop(opts?: { cleanup?: boolean }): Promise<void>;
}

export class NodeRuntimeError extends Error {}

/** Bump when the node images' content changes without busybox changing. */
const NODE_IMAGES_BUILD = 1;

export async function startNodeRuntime(o: NodeRuntimeOptions): Promise<NodeRuntime> {
  const paths = nodePaths(o.dataDir);
  const started = performance.now();
  await mkdir(paths.containerdDir, { recursive: true, mode: 0o700 });
  await mkdir(paths.imagesDir, { recursive: true });
  await mkdir(paths.podLogsDir, { recursive: true });

  let supervisor: ContainerdSupervisor | undefined;
  let endpoint: string;
  let pauseImage = PAUSE_IMAGE;
  let snapshotter = 'overlayfs';
  if (o.containerRuntimeEndpoint) {
    endpoint = normalizeEndpoint(o.containerRuntimeEndpoint);
  } else {
    await mkdir(paths.root, { recursive: true, mode: 0o700 });
    await mkdir(paths.cniConfDir, { recursive: true });
    snapshotter = chooseSnapshotter(paths.root);
    const registry = await registryConfig(paths, o);
    const restrictOomScoreAdj = !mayLowerOomScore();
    await writeFile(
      paths.configFile,
      renderContainerdConfig({
        root: paths.root,
        state: paths.state,
        socketPath: paths.socketPath,
        sandboxImage: PAUSE_IMAGE,
        cniBinDir: o.tools?.cniBinDir ?? (existsSync('/usr/lib/cni/bridge') ? '/usr/lib/cni' : '/opt/cni/bin'),
        cniConfDir: paths.cniConfDir,
        restrictOomScoreAdj,
        snapshotter,
        registryConfigPath: registry.configPath,
        registryAuthToml: registry.authToml,
      }),
    );
    supervisor = new ContainerdSupervisor({
      configFile: paths.configFile,
      socketPath: paths.socketPath,
      logFile: paths.logFile,
      pidFile: paths.pidFile,
      ownerFile: paths.ownerFile,
      binary: o.tools?.containerd,
      log: (m) => o.log(m),
      ...o.supervisor,
    });
    await supervisor.start();
    endpoint = supervisor.endpoint;
  }

  const cri = connectCri(endpoint);
  try {
    const version = await cri.waitUntilReady(supervisor ? 5000 : 10_000).catch((e: Error) => {
      throw new NodeRuntimeError(`container runtime at ${endpoint} does not answer: ${e.message}`);
    });
    if (!supervisor) {
      // An existing containerd has its own sandbox image, which no registry may serve here:
      // our pause image is imported under that name too.
      pauseImage = (await runtimeSandboxImage(cri)) ?? PAUSE_IMAGE;
    }
    const containerd = version.runtimeName === 'containerd';
    const ctr = { address: endpointSocketPath(endpoint), snapshotter, ctrPath: o.tools?.ctr };
    let images: ImportResult = { imported: [], present: [], ms: 0 };
    if (containerd) {
      images = await ensureNodeImages(cri, paths, ctr, pauseImage, o.tools?.busybox ?? '/bin/busybox');
      const archives = await archivesIn(paths.imagesDir);
      if (archives.length) {
        const r = await importArchives(cri, archives, ctr);
        images = { imported: [...images.imported, ...r.imported], present: [...images.present, ...r.present], ms: images.ms + r.ms };
        for (const f of r.failed) o.log(`image archive ${f.file} not imported: ${f.error}`);
      }
    } else {
      o.log(`runtime ${version.runtimeName} is not containerd: Mizzen's busybox and pause images are not imported`);
    }
    const routes = [o.clusterCIDR, o.serviceCIDR].filter((c): c is string => !!c);
    if (routes.length) {
      const r = await ensureUnreachableRoutes(routes);
      for (const c of r.conflicts) o.log(`route ${c.dst} exists already (${c.type}${c.dev ? ` dev ${c.dev}` : ''}); not adding an unreachable route for it`);
    }
    o.log(
      `container runtime ${version.runtimeName} ${version.runtimeVersion} ready at ${endpoint} in ${((performance.now() - started) / 1000).toFixed(2)}s` +
        ` (images: ${images.imported.length} imported, ${images.present.length} present)`,
    );

    const bridge = o.bridge ?? DEFAULT_BRIDGE;
    const networkName = o.networkName ?? DEFAULT_NETWORK;
    let stopped = false;
    return {
      cri,
      endpoint,
      version,
      supervisor,
      paths,
      pauseImage,
      images,
      async configurePodNetwork(podCIDR: string) {
        if (supervisor) {
          await writeCniConfig(paths.cniConfDir, { podCIDR, bridge, networkName, ipamDataDir: paths.cniIpamDir, mtu: o.mtu ?? defaultRouteMtu() });
          await ensurePodMasquerade(bridge, podCIDR); // the conflist's bridge has ipMasq off
        }
        await cri.updateRuntimeConfig(podCIDR);
      },
      importArchives: (files) => importArchives(cri, files, ctr),
      async stop(opts = {}) {
        if (stopped) return;
        stopped = true;
        cri.close();
        await supervisor?.stop();
        if (opts.cleanup) {
          if (supervisor) {
            await removePodNetwork(paths.cniConfDir, { bridge, networkName });
            await removePodMasquerade(bridge);
          }
          if (routes.length) await removeUnreachableRoutes(routes);
        }
      },
    };
  } catch (e) {
    cri.close();
    await supervisor?.stop();
    throw e;
  }
}

/** hosts.toml files and auth tables from the registries file, when there is one. */
async function registryConfig(paths: NodePaths, o: NodeRuntimeOptions): Promise<{ configPath?: string; authToml?: string }> {
  const file = o.registriesFile ?? paths.registriesFile;
  await rm(paths.certsDir, { recursive: true, force: true });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !o.registriesFile) return {};
    throw new NodeRuntimeError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let parsed;
  try {
    parsed = parseRegistries(text, file);
  } catch (e) {
    if (e instanceof RegistriesError) throw new NodeRuntimeError(e.message);
    throw e;
  }
  for (const w of parsed.warnings) o.log(w);
  for (const [registry, body] of renderHostsFiles(parsed.config)) {
    const dir = join(paths.certsDir, registry);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'hosts.toml'), body);
  }
  return { configPath: paths.certsDir, authToml: renderAuthTables(parsed.config) };
}

/**
 * Imports the busybox and pause images unless present with the same digests. The digests of the
 * last build are remembered (keyed by the busybox binary), so a normal start does not rebuild.
 */
async function ensureNodeImages(
  cri: CriClient,
  paths: NodePaths,
  ctr: { address: string; snapshotter: string; ctrPath?: string },
  pauseImage: string,
  busyboxPath: string,
): Promise<ImportResult> {
  const start = performance.now();
  const extraPause = pauseImage === PAUSE_IMAGE ? [] : [pauseImage];
  const cacheFile = join(paths.containerdDir, 'node-images.json');
  let key = '';
  try {
    const st = statSync(busyboxPath);
    key = JSON.stringify([NODE_IMAGES_BUILD, st.size, st.mtimeMs, st.ino, extraPause]);
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key: string; images: { names: string[]; configDigest: string }[] };
    if (cache.key === key) {
      let all = true;
      for (const img of cache.images) if (all) all = await isImported(cri, img);
      if (all) return { imported: [], present: cache.images.flatMap((i) => i.names), ms: performance.now() - start };
    }
  } catch {
    /* no cache yet, or busybox missing (inspectBusybox says so below) */
  }
  let built;
  try {
    built = buildNodeImages(inspectBusybox(busyboxPath), extraPause);
  } catch (e) {
    throw new NodeRuntimeError((e as Error).message);
  }
  const result = await ensureBuiltImages(cri, [built.pause, built.busybox], ctr);
  if (key) {
    const images = [built.pause, built.busybox].map((b) => ({ names: b.names, configDigest: b.configDigest }));
    await writeFile(cacheFile, JSON.stringify({ key, images }));
  }
  return { ...result, ms: performance.now() - start };
}

/** The sandbox image an existing containerd is configured with (from its verbose status). */
async function runtimeSandboxImage(cri: CriClient): Promise<string | undefined> {
  try {
    const st = await cri.status(true);
    const config = JSON.parse(st.info.config ?? '{}') as { sandboxImage?: string };
    return config.sandboxImage || undefined;
  } catch {
    return undefined;
  }
}

/** MTU of the interface the default route uses (pods must not send bigger packets than it carries). */
export function defaultRouteMtu(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/route', 'utf8').trim().split('\n').slice(1);
    const dflt = lines.map((l) => l.split(/\s+/)).find((f) => f[1] === '00000000' && f[7] === '00000000');
    if (!dflt) return undefined;
    const mtu = Number(readFileSync(`/sys/class/net/${dflt[0]}/mtu`, 'utf8').trim());
    return mtu > 0 ? mtu : undefined;
  } catch {
    return undefined;
  }
}
