// The PersistentVolume controller (upstream pkg/controller/volume/persistentvolume): binds claims to
// volumes and keeps both sides' phases, asks provisioners for volumes, and reclaims released ones.
//
// Claims: an unbound claim gets the smallest matching Available volume (or the one it names in
// spec.volumeName); with none, a claim of a WaitForFirstConsumer class waits for the scheduler to
// pick a node (annotation volume.kubernetes.io/selected-node), then, like any claim with a class,
// is annotated for its class's provisioner (volume.kubernetes.io/storage-provisioner), which
// creates a volume pre-bound to it; the next sync binds them. Volumes: Available without a claim,
// Bound with one, Released once their claim is gone, then reclaimed by policy (Retain: kept; Delete:
// left to the provisioner that made it; Recycle: not supported, marked Failed).

import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import type { Lister } from '../../client/cache.ts';
import { isDefaultStorageClass } from '../../api/storage/storage-class.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { ann, claimClass, claimKey, claimRefTo, findMatchingVolume, isClaimBindCompleted, isDelayBinding, isVolumeBoundToClaim, volumeClass, volumeMismatch, volumeModeMismatch } from './matching.ts';

const PVS = { version: 'v1', resource: 'persistentvolumes' };
const PVCS = { version: 'v1', resource: 'persistentvolumeclaims' };
const CLASSES = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

/** Upstream's syncPeriod: every claim and volume is looked at again this often. */
const RESYNC_MS = 15_000;

export const reasons = {
  waitForFirstConsumer: 'WaitForFirstConsumer',
  externalProvisioning: 'ExternalProvisioning',
  failedBinding: 'FailedBinding',
  volumeMismatch: 'VolumeMismatch',
  claimLost: 'ClaimLost',
  claimMisbound: 'ClaimMisbound',
  volumeFailedRecycle: 'VolumeFailedRecycle',
  volumeFailedDelete: 'VolumeFailedDelete',
} as const;

export const waitForFirstConsumerMessage = 'waiting for first consumer to be created before binding';

export function externalProvisioningMessage(provisioner: string): string {
  return `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`;
}

const ref = (res: typeof PVS | typeof PVCS, obj: KObject) => ({ ...res, namespace: obj.metadata.namespace, name: obj.metadata.name! });

class PersistentVolumeController implements Controller {
  readonly name = 'persistentvolume-binder';
  private readonly claimWorker: KeyWorker;
  private readonly volumeWorker: KeyWorker;
  private readonly volumes: Lister;
  private readonly claims: Lister;
  private readonly classes: Lister;
  private readonly recorder: EventRecorder;

  constructor(private readonly ctx: ControllerContext) {
    this.recorder = ctx.recorder('persistentvolume-controller');
    this.claimWorker = new KeyWorker('persistentvolume-binder(claims)', (k) => this.syncClaim(k), ctx.log);
    this.volumeWorker = new KeyWorker('persistentvolume-binder(volumes)', (k) => this.syncVolume(k), ctx.log);
    const pvInf = ctx.informers.informerFor(PVS);
    const pvcInf = ctx.informers.informerFor(PVCS);
    const classInf = ctx.informers.informerFor(CLASSES);
    this.volumes = pvInf.lister();
    this.claims = pvcInf.lister();
    this.classes = classInf.lister();
    const onVolume = (pv: KObject) => {
      this.volumeWorker.add(pv.metadata.name!);
      const c = pv.spec?.claimRef;
      if (c?.name) this.claimWorker.add(`${c.namespace}/${c.name}`);
      // A free volume may be what a waiting claim of its class needs (sooner than the resync).
      else if (!pv.metadata.deletionTimestamp) {
        const cls = volumeClass(pv);
        for (const claim of this.claims.list()) if (!isClaimBindCompleted(claim) && claimClass(claim) === cls) this.claimWorker.add(claimKey(claim));
      }
    };
    pvInf.addEventHandler({ onAdd: onVolume, onUpdate: (_o, n) => onVolume(n), onDelete: onVolume }, RESYNC_MS);
    const onClaim = (pvc: KObject) => {
      this.claimWorker.add(claimKey(pvc));
      if (pvc.spec?.volumeName) this.volumeWorker.add(pvc.spec.volumeName);
    };
    pvcInf.addEventHandler({ onAdd: onClaim, onUpdate: (_o, n) => onClaim(n), onDelete: onClaim }, RESYNC_MS);
    // A new class (or a new default) can make waiting claims bindable.
    const onClass = () => {
      for (const c of this.claims.list()) if (!isClaimBindCompleted(c)) this.claimWorker.add(claimKey(c));
    };
    classInf.addEventHandler({ onAdd: (_o, initial?: boolean) => !initial && onClass(), onUpdate: onClass });
  }

  run(): void {
    this.claimWorker.run(this.ctx.options.workers);
    this.volumeWorker.run(this.ctx.options.workers);
  }

  async stop(): Promise<void> {
    await Promise.all([this.claimWorker.stop(), this.volumeWorker.stop()]);
  }

  private classByName = (name: string) => this.classes.get(name);

  // ---- claims ----------------------------------------------------------------------------------

  private async syncClaim(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const claim = this.claims.namespace(ns).get(name);
    if (!claim) return;
    if (isClaimBindCompleted(claim)) return this.syncBoundClaim(claim);
    return this.syncUnboundClaim(claim);
  }

  private async syncUnboundClaim(claim: KObject): Promise<void> {
    // Retroactive default class (upstream 1.28+): a claim that never named a class gets the default.
    if ((claim.spec?.storageClassName === undefined || claim.spec?.storageClassName === null) && !claim.spec?.volumeName && claim.metadata.annotations?.[ann.betaStorageClass] === undefined) {
      const def = this.classes.list().filter(isDefaultStorageClass).sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))[0];
      if (def) {
        const next = structuredClone(claim);
        next.spec.storageClassName = def.metadata.name;
        await this.ctx.client.update(ref(PVCS, claim), next);
        return;
      }
    }
    if (!claim.spec?.volumeName) {
      const delay = isDelayBinding(claim, this.classByName);
      const pv = findMatchingVolume(claim, this.volumes.list(), { delayBinding: delay });
      if (pv) return this.bind(pv, claim);
      const className = claimClass(claim);
      if (delay && claim.metadata.annotations?.[ann.selectedNode] === undefined) {
        this.recorder.event(claim, 'Normal', reasons.waitForFirstConsumer, waitForFirstConsumerMessage);
      } else if (className) {
        await this.provisionClaim(claim, className);
      } else {
        this.recorder.event(claim, 'Normal', reasons.failedBinding, 'no persistent volumes available for this claim and no storage class is set');
      }
      return this.setClaimPhase(claim, 'Pending');
    }
    // The user named a volume.
    const pv = this.volumes.get(claim.spec.volumeName);
    if (!pv) return this.setClaimPhase(claim, 'Pending');
    if (!pv.spec?.claimRef) {
      const why = volumeMismatch(claim, pv);
      if (why) {
        this.recorder.event(claim, 'Warning', reasons.volumeMismatch, `Cannot bind to requested volume "${pv.metadata.name}": ${why}`);
        return this.setClaimPhase(claim, 'Pending');
      }
      return this.bind(pv, claim);
    }
    if (isVolumeBoundToClaim(pv, claim)) return this.bind(pv, claim);
    this.recorder.event(claim, 'Warning', reasons.failedBinding, `volume "${pv.metadata.name}" already bound to a different claim.`);
    return this.setClaimPhase(claim, 'Pending');
  }

  private async syncBoundClaim(claim: KObject): Promise<void> {
    if (!claim.spec?.volumeName) {
      this.recorder.event(claim, 'Warning', reasons.claimLost, 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return this.setClaimPhase(claim, 'Lost');
    }
    const pv = this.volumes.get(claim.spec.volumeName);
    if (!pv) {
      this.recorder.event(claim, 'Warning', reasons.claimLost, 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      return this.setClaimPhase(claim, 'Lost');
    }
    if (!pv.spec?.claimRef || isVolumeBoundToClaim(pv, claim)) return this.bind(pv, claim);
    this.recorder.event(claim, 'Warning', reasons.claimMisbound, 'Two claims are bound to the same volume, this one is bound incorrectly');
    return this.setClaimPhase(claim, 'Lost');
  }

  /** Ask the class's provisioner for a volume (upstream provisionClaim for an external provisioner). */
  private async provisionClaim(claim: KObject, className: string): Promise<void> {
    const sc = this.classByName(className);
    if (!sc) {
      this.recorder.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      return;
    }
    const provisioner: string = sc.provisioner;
    const a = claim.metadata.annotations ?? {};
    if (a[ann.storageProvisioner] !== provisioner || a[ann.betaStorageProvisioner] !== provisioner) {
      const next = structuredClone(claim);
      next.metadata.annotations = { ...a, [ann.storageProvisioner]: provisioner, [ann.betaStorageProvisioner]: provisioner };
      await this.ctx.client.update(ref(PVCS, claim), next);
    }
    this.recorder.event(claim, 'Normal', reasons.externalProvisioning, externalProvisioningMessage(provisioner));
  }

  /** Both sides of a binding, each written only when it differs (upstream bind()). */
  private async bind(pvIn: KObject, claimIn: KObject): Promise<void> {
    let pv = pvIn;
    let claim = claimIn;
    const c = pv.spec?.claimRef;
    if (!c || c.uid !== claim.metadata.uid || c.name !== claim.metadata.name || c.namespace !== claim.metadata.namespace) {
      const next = structuredClone(pv);
      // A binding the controller makes is marked so; filling in the uid of a user's pre-binding is not.
      if (!c) next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [ann.boundByController]: 'yes' };
      next.spec.claimRef = claimRefTo(claim);
      pv = await this.ctx.client.update<KObject>(ref(PVS, pv), next);
    }
    if (pv.status?.phase !== 'Bound') pv = await this.setVolumePhase(pv, 'Bound');
    const a = claim.metadata.annotations ?? {};
    if (claim.spec?.volumeName !== pv.metadata.name || a[ann.bindCompleted] === undefined) {
      const next = structuredClone(claim);
      const annotations: Record<string, string> = { ...a, [ann.bindCompleted]: 'yes' };
      if (!claim.spec?.volumeName) annotations[ann.boundByController] = 'yes';
      next.metadata.annotations = annotations;
      next.spec.volumeName = pv.metadata.name;
      claim = await this.ctx.client.update<KObject>(ref(PVCS, claim), next);
    }
    const status = claim.status ?? {};
    const capacity = pv.spec?.capacity ?? {};
    const modes = pv.spec?.accessModes ?? [];
    if (status.phase !== 'Bound' || JSON.stringify(status.capacity ?? {}) !== JSON.stringify(capacity) || JSON.stringify(status.accessModes ?? []) !== JSON.stringify(modes)) {
      const next = structuredClone(claim);
      next.status = { ...status, phase: 'Bound', accessModes: modes, capacity };
      await this.ctx.client.updateStatus(ref(PVCS, claim), next);
    }
  }

  private async setClaimPhase(claim: KObject, phase: string): Promise<void> {
    if (claim.status?.phase === phase) return;
    const next = structuredClone(claim);
    next.status = { ...(next.status ?? {}), phase };
    if (phase !== 'Bound') {
      delete next.status.capacity;
      delete next.status.accessModes;
    }
    await this.ctx.client.updateStatus(ref(PVCS, claim), next);
  }

  // ---- volumes ---------------------------------------------------------------------------------

  private async setVolumePhase(pv: KObject, phase: string, message?: string): Promise<KObject> {
    if (pv.status?.phase === phase && (message === undefined || pv.status?.message === message)) return pv;
    const next = structuredClone(pv);
    next.status = { ...(next.status ?? {}), phase, lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    if (message) next.status.message = message;
    else delete next.status.message;
    return this.ctx.client.updateStatus<KObject>(ref(PVS, pv), next);
  }

  private async syncVolume(name: string): Promise<void> {
    const pv = this.volumes.get(name);
    if (!pv) return;
    const c = pv.spec?.claimRef;
    if (!c) {
      if (pv.status?.phase !== 'Available') await this.setVolumePhase(pv, 'Available');
      return;
    }
    if (!c.uid) {
      // Pre-bound by the user to a claim that may not exist yet; the claim's sync binds it.
      if (pv.status?.phase !== 'Available') await this.setVolumePhase(pv, 'Available');
      return;
    }
    let claim = this.claims.namespace(c.namespace ?? '').get(c.name);
    if (!claim) {
      // The cache may be behind a claim just created: look at the API before releasing anything.
      try {
        claim = await this.ctx.client.get<KObject>({ ...PVCS, namespace: c.namespace, name: c.name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    if (claim && claim.metadata.uid !== c.uid) claim = undefined;
    if (!claim) return this.release(pv);
    if (!claim.spec?.volumeName) {
      if (volumeModeMismatch(claim, pv)) {
        this.recorder.event(pv, 'Warning', reasons.volumeMismatch, `Cannot bind PersistentVolume to requested PersistentVolumeClaim "${claim.metadata.name}" due to incompatible volumeMode.`);
        this.recorder.event(claim, 'Warning', reasons.volumeMismatch, `Cannot bind PersistentVolume "${pv.metadata.name}" to requested PersistentVolumeClaim due to incompatible volumeMode.`);
        return;
      }
      // The claim's side is not done yet (a provisioner just made this volume): its sync finishes it.
      this.claimWorker.add(claimKey(claim));
      return;
    }
    if (claim.spec.volumeName === pv.metadata.name) {
      if (pv.status?.phase !== 'Bound') await this.setVolumePhase(pv, 'Bound');
      return;
    }
    // The claim is bound to another volume.
    if (pv.metadata.annotations?.[ann.provisionedBy] !== undefined && pv.spec?.persistentVolumeReclaimPolicy === 'Delete') return this.release(pv);
    if (pv.metadata.annotations?.[ann.boundByController] !== undefined) return this.unbind(pv);
    // The user pre-bound it: keep the name, forget the uid so another claim of that name can bind.
    const next = structuredClone(pv);
    delete next.spec.claimRef.uid;
    const updated = await this.ctx.client.update<KObject>(ref(PVS, pv), next);
    await this.setVolumePhase(updated, 'Available');
  }

  private async unbind(pv: KObject): Promise<void> {
    const next = structuredClone(pv);
    delete next.spec.claimRef;
    if (next.metadata.annotations) delete next.metadata.annotations[ann.boundByController];
    const updated = await this.ctx.client.update<KObject>(ref(PVS, pv), next);
    await this.setVolumePhase(updated, 'Available');
  }

  /** The claim is gone: Released, then the reclaim policy. */
  private async release(pvIn: KObject): Promise<void> {
    let pv = pvIn;
    const phase = pv.status?.phase;
    if (phase !== 'Released' && phase !== 'Failed') pv = await this.setVolumePhase(pv, 'Released');
    switch (pv.spec?.persistentVolumeReclaimPolicy) {
      case 'Recycle': {
        // Deprecated upstream (scrubbing by a recycler pod); Mizzen does not implement it.
        if (pv.status?.phase === 'Failed') return;
        const msg = 'Recycle is deprecated upstream and not supported by Mizzen; use a StorageClass with reclaimPolicy Delete (local-path) instead';
        this.recorder.event(pv, 'Warning', reasons.volumeFailedRecycle, msg);
        await this.setVolumePhase(pv, 'Failed', msg);
        return;
      }
      case 'Delete': {
        // A provisioner's volume is deleted by that provisioner, which watches for Released ones.
        if (pv.metadata.annotations?.[ann.provisionedBy] !== undefined || pv.metadata.annotations?.[ann.betaProvisionedBy] !== undefined) return;
        if (pv.status?.phase === 'Failed') return;
        const msg = `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched`;
        this.recorder.event(pv, 'Warning', reasons.volumeFailedDelete, msg);
        await this.setVolumePhase(pv, 'Failed', msg);
        return;
      }
      default:
        // Retain: the data stays for an administrator.
        return;
    }
  }
}

export const persistentVolumeController: ControllerFactory = (ctx) => new PersistentVolumeController(ctx);
