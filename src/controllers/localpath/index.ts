// The built-in local-path provisioner, as k3s ships rancher's local-path-provisioner: the default
// StorageClass `local-path` (provisioner rancher.io/local-path, WaitForFirstConsumer, Delete), and
// for each claim the PersistentVolume controller hands it (volume.kubernetes.io/storage-provisioner)
// once the scheduler chose a node (volume.kubernetes.io/selected-node), a hostPath volume in
// `<dir>/<pv>_<namespace>_<claim>` with node affinity to that node, pre-bound to the claim.
//
// Directories: on the node this controller runs beside (`localNodeName`, a real node) it creates
// (mode 0777, as k3s) and removes them itself; on another real node the kubelet creates the
// directory when the pod mounts it (hostPath DirectoryOrCreate) and a helper pod removes it, as
// k3s does; on a simulated node nothing touches a disk. Released volumes with reclaimPolicy Delete
// are removed, directory first, then the PersistentVolume object.

import { nodeNameFromHost } from '../../kubelet/node/host-node-name.ts';
import type { KObject } from '../../api/types.ts';
import { isAlreadyExists, isNotFound } from '../../client/api-client.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import type { Lister } from '../../client/cache.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { ann, claimClass, claimKey, isClaimBindCompleted } from '../persistentvolume/matching.ts';
import { PROVISIONER, SELECTED_NODE_ANNOTATION, CONFIG_MAP, baseDirFor, defaultConfigMap, defaultStorageClass, newVolume, volumeName } from './paths.ts';
import { createVolumeDir, removeVolumeDir } from './local-dirs.ts';
import { HELPER_NAMESPACE, deleteHelperPod, helperPodName } from './helper-pod.ts';

const PVS = { version: 'v1', resource: 'persistentvolumes' };
const PVCS = { version: 'v1', resource: 'persistentvolumeclaims' };
const NODES = { version: 'v1', resource: 'nodes' };
const CLASSES = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };
const SIMULATED_LABEL = 'mizzen.dev/simulated';

export interface LocalPathOptions {
  /** Base directory for volumes on nodes the config does not name (default `/var/lib/mizzen/storage`). */
  dir: string;
  /** The real node this process runs on; its directories are made and removed directly. */
  localNodeName: string;
  /**
   * Image of the helper pod that deletes directories on other real nodes: plain `busybox`, which
   * every Mizzen node has without a registry (built from the host's busybox), so nothing is pulled.
   */
  helperImage: string;
  /** How often a remote deletion's helper pod is checked. */
  helperPollMs: number;
}

export function defaultLocalPathOptions(partial: Partial<LocalPathOptions> = {}): LocalPathOptions {
  return { dir: '/var/lib/mizzen/storage', localNodeName: nodeNameFromHost(), helperImage: 'busybox', helperPollMs: 2000, ...partial };
}

class LocalPathProvisioner implements Controller {
  readonly name = 'local-path-provisioner';
  private readonly claimWorker: KeyWorker;
  private readonly volumeWorker: KeyWorker;
  private readonly claims: Lister;
  private readonly volumes: Lister;
  private readonly nodes: Lister;
  private readonly classes: Lister;
  private readonly recorder: EventRecorder;
  private setup?: Promise<void>;

  constructor(private readonly ctx: ControllerContext, private readonly opts: LocalPathOptions) {
    this.recorder = ctx.recorder(`${PROVISIONER}_${opts.localNodeName}`);
    this.claimWorker = new KeyWorker('local-path-provisioner(claims)', (k) => this.syncClaim(k), ctx.log);
    this.volumeWorker = new KeyWorker('local-path-provisioner(volumes)', (k) => this.syncVolume(k), ctx.log);
    const pvcInf = ctx.informers.informerFor(PVCS);
    const pvInf = ctx.informers.informerFor(PVS);
    this.claims = pvcInf.lister();
    this.volumes = pvInf.lister();
    this.nodes = ctx.informers.informerFor(NODES).lister();
    this.classes = ctx.informers.informerFor(CLASSES).lister();
    pvcInf.addEventHandler({ onAdd: (c) => this.claimWorker.add(claimKey(c)), onUpdate: (_o, c) => this.claimWorker.add(claimKey(c)) });
    pvInf.addEventHandler({ onAdd: (v) => this.volumeWorker.add(v.metadata.name!), onUpdate: (_o, v) => this.volumeWorker.add(v.metadata.name!) }, 30_000);
  }

  run(): void {
    this.setup = this.ensureDefaults().catch((e) => this.ctx.log(`local-path-provisioner: creating defaults: ${(e as Error).message}`));
    this.claimWorker.run(2);
    this.volumeWorker.run(2);
  }

  async stop(): Promise<void> {
    await this.setup;
    await Promise.all([this.claimWorker.stop(), this.volumeWorker.stop()]);
  }

  /** The StorageClass and ConfigMap k3s deploys, created when missing (never overwritten). */
  private async ensureDefaults(): Promise<void> {
    const create = async (res: { group?: string; version: string; resource: string }, obj: KObject) => {
      try {
        await this.ctx.client.create({ ...res, namespace: obj.metadata.namespace }, obj);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    };
    await create({ version: 'v1', resource: 'configmaps' }, defaultConfigMap(this.opts.dir));
    if (!this.classes.get(defaultStorageClass().metadata.name!)) await create(CLASSES, defaultStorageClass());
  }

  private async configMap(): Promise<KObject | undefined> {
    try {
      return await this.ctx.client.get<KObject>({ version: 'v1', resource: 'configmaps', namespace: 'kube-system', name: CONFIG_MAP });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private isLocal(node: KObject | undefined, name: string): boolean {
    return !!node && node.metadata.labels?.[SIMULATED_LABEL] !== 'true' && name === this.opts.localNodeName;
  }

  // ---- provisioning ----------------------------------------------------------------------------

  private async syncClaim(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const claim = this.claims.namespace(ns).get(name);
    if (!claim || claim.metadata.deletionTimestamp || isClaimBindCompleted(claim) || claim.spec?.volumeName) return;
    const a = claim.metadata.annotations ?? {};
    if (a[ann.storageProvisioner] !== PROVISIONER && a[ann.betaStorageProvisioner] !== PROVISIONER) return;
    const className = claimClass(claim);
    const sc = this.classes.get(className);
    if (!sc || sc.provisioner !== PROVISIONER) return;
    const pvName = volumeName(claim);
    if (this.volumes.get(pvName)) return;
    const nodeName = a[ann.selectedNode];
    if (!nodeName) {
      // Immediate binding gives no node to put the directory on (k3s's provisioner refuses too).
      if (sc.volumeBindingMode !== 'WaitForFirstConsumer')
        this.recorder.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${className}": configuration error, no node was specified`);
      return;
    }
    const node = this.nodes.get(nodeName);
    if (!node) {
      this.recorder.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${className}": node "${nodeName}" not found`);
      return;
    }
    this.recorder.event(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${ns}/${name}"`);
    const base = baseDirFor(node, nodeName, await this.configMap(), this.opts.dir);
    const pv = newVolume(claim, sc, node, nodeName, base);
    if (this.isLocal(node, nodeName)) await createVolumeDir(pv.spec.hostPath.path);
    try {
      await this.ctx.client.create(PVS, pv);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      return;
    }
    this.recorder.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
  }

  // ---- deletion --------------------------------------------------------------------------------

  private async syncVolume(name: string): Promise<void> {
    const pv = this.volumes.get(name);
    if (!pv || pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] !== PROVISIONER) return;
    if (pv.status?.phase !== 'Released' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    const nodeName: string | undefined =
      pv.metadata.annotations?.[SELECTED_NODE_ANNOTATION] ?? pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values?.[0];
    const dir: string | undefined = pv.spec?.hostPath?.path;
    const node = nodeName ? this.nodes.get(nodeName) : undefined;
    if (dir && node && node.metadata.labels?.[SIMULATED_LABEL] !== 'true') {
      const base = dir.slice(0, dir.lastIndexOf('/')) || '/';
      if (this.isLocal(node, nodeName!)) await removeVolumeDir(dir, base, name);
      else if (!(await this.removeRemote(pv, nodeName!, dir))) return;
    }
    try {
      await this.ctx.client.delete({ ...PVS, name }, { preconditions: { uid: pv.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** True once a helper pod on the volume's node has removed its directory. */
  private async removeRemote(pv: KObject, nodeName: string, dir: string): Promise<boolean> {
    const podRef = { version: 'v1', resource: 'pods', namespace: HELPER_NAMESPACE, name: helperPodName(pv.metadata.name!) };
    let pod: KObject | undefined;
    try {
      pod = await this.ctx.client.get<KObject>(podRef);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!pod) {
      await this.ctx.client.create({ version: 'v1', resource: 'pods', namespace: HELPER_NAMESPACE }, deleteHelperPod(pv.metadata.name!, nodeName, dir, this.opts.helperImage));
      this.volumeWorker.addAfter(pv.metadata.name!, this.opts.helperPollMs);
      return false;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') await this.ctx.client.delete(podRef, { gracePeriodSeconds: 0 }).catch(() => {});
    if (phase === 'Succeeded') return true;
    if (phase === 'Failed') {
      this.recorder.event(pv, 'Warning', 'VolumeFailedDelete', `helper pod on node ${nodeName} could not remove ${dir}; retrying`);
      throw new Error(`helper pod for ${pv.metadata.name} failed`);
    }
    this.volumeWorker.addAfter(pv.metadata.name!, this.opts.helperPollMs);
    return false;
  }
}

export const localPathProvisionerController: ControllerFactory = (ctx) =>
  new LocalPathProvisioner(ctx, defaultLocalPathOptions({ ...(ctx.options.localPathDir ? { dir: ctx.options.localPathDir } : {}), ...(ctx.options.localNodeName ? { localNodeName: ctx.options.localNodeName } : {}) }));

export function newLocalPathProvisioner(opts: Partial<LocalPathOptions>): ControllerFactory {
  return (ctx) => new LocalPathProvisioner(ctx, defaultLocalPathOptions(opts));
}
