// The kubelet's volume manager for one node: prepares every volume a pod's containers mount under
// <root>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name> (or checks the host path for hostPath and
// PVC-backed volumes), keeps configMap/secret/downwardAPI/projected contents current on refresh,
// and tears it all down when the pod is gone. Failures come back as the FailedMount event messages
// upstream shows (`MountVolume.SetUp failed for volume "x" : configmap "y" not found`); the core
// retries on its next sync, as upstream's reconciler does.
//
// One operation per pod runs at a time (a promise chain per pod UID).
//
// A projected-type volume (configMap, secret, downwardAPI, projected) whose files would come out
// byte for byte as this process last wrote them is not touched again: the periodic refresh of
// every pod then costs no mount table read and no file comparison (it was 200-300 ms of CPU once
// a minute with 30 pods). The payload is still built from the current objects each time, so a
// changed ConfigMap/Secret, label, resource or renewed token is written as before.

import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { isObjectNotFound, type ObjectSources, type ServiceAccountToken } from '../objects/sources.ts';
import type { ConfigMap, Pod, ResourceList, Secret, Volume } from '../pods/api-types.ts';
import { podMemoryLimit } from '../pods/linux-resources.ts';
import { parseQuantity, quantityValue } from '../../machinery/quantity.ts';
import { atomicWrite, type Payload } from './atomic-writer.ts';
import { checkHostPathType } from './host-path.ts';
import type { Mounter } from './mounter.ts';
import { setVolumeOwnership } from './ownership.ts';
import {
  KubeletPaths,
  PLUGIN_CONFIGMAP,
  PLUGIN_DOWNWARD_API,
  PLUGIN_EMPTY_DIR,
  PLUGIN_HOST_PATH,
  PLUGIN_LOCAL_VOLUME,
  PLUGIN_PROJECTED,
  PLUGIN_SECRET,
} from './paths.ts';
import { DEFAULT_MODE, aggregateError, configMapPayload, downwardAPIPayload, secretPayload } from './projections.ts';
import { traceStep } from '../core/trace.ts';

/** A volume ready to be bind-mounted into containers. */
export interface PodVolume {
  name: string;
  /** e.g. kubernetes.io/empty-dir */
  plugin: string;
  /** What to bind-mount (a directory, or for hostPath/PVC volumes possibly a file or socket). */
  hostPath: string;
  /** The volume itself must be mounted read-only (configMap, secret, downwardAPI, projected, read-only claims). */
  readOnly: boolean;
}

export interface VolumeError {
  volume: string;
  /** Always FailedMount (the event reason upstream uses). */
  reason: 'FailedMount';
  message: string;
}

export interface SetUpResult {
  /** Volumes that are ready, by name. */
  volumes: Map<string, PodVolume>;
  /** Volumes that are not ready: the pod's containers must not start until this is empty. */
  errors: VolumeError[];
  /**
   * Volumes that were ready before and failed to update now (e.g. their ConfigMap was deleted):
   * they keep their previous contents and stay usable, as upstream; record the events only.
   */
  remountErrors: VolumeError[];
}

export interface VolumeManagerOptions {
  /** The kubelet's root directory, e.g. /var/lib/kubelet. */
  rootDir: string;
  sources: ObjectSources;
  /** The node's allocatable (downward API resource limits, tmpfs sizes). */
  nodeAllocatable?: () => ResourceList | undefined;
  /** null: no tmpfs (emptyDir medium Memory fails; secrets and projected volumes go on disk). */
  mounter: Mounter | null;
  /** Clock for token refresh decisions (ms). */
  now?: () => number;
}

/** The volume names some container (init or regular) mounts: upstream prepares only those. */
export function mountedVolumeNames(pod: Pod): Set<string> {
  const out = new Set<string>();
  for (const c of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? []), ...((pod.spec as any).ephemeralContainers ?? [])]) {
    for (const m of c.volumeMounts ?? []) out.add(m.name);
  }
  return out;
}

/** The ConfigMaps and Secrets a pod's volumes read, so the core knows which pods an event touches. */
export function volumeObjectRefs(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const v of pod.spec.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  return { configMaps, secrets };
}

interface CachedToken {
  token: ServiceAccountToken;
  expirationSeconds: number;
}

const MAX_TOKEN_TTL_MS = 24 * 3600 * 1000;

function failedMount(volume: string, err: unknown): VolumeError {
  return { volume, reason: 'FailedMount', message: `MountVolume.SetUp failed for volume "${volume}" : ${(err as Error).message}` };
}

class VolumeSetupError extends Error {
  constructor(readonly event: VolumeError) {
    super(event.message);
  }
}

export class VolumeManager {
  readonly paths: KubeletPaths;
  private readonly opts: VolumeManagerOptions;
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly ready = new Map<string, Map<string, PodVolume>>();
  private readonly tokens = new Map<string, CachedToken>();
  /** `<uid>/<volume>` → digest of the payload (and fsGroup) last written there by this process. */
  private readonly written = new Map<string, string>();

  constructor(opts: VolumeManagerOptions) {
    this.opts = opts;
    this.paths = new KubeletPaths(opts.rootDir);
  }

  /** Prepare every volume the pod's containers mount. Idempotent: call it on every pod sync. */
  setUp(pod: Pod): Promise<SetUpResult> {
    return this.serialize(uidOf(pod), () => this.setUpNow(pod, false));
  }

  /**
   * Re-project configMap, secret, downwardAPI and projected volumes that are already set up, from
   * the current objects and this (possibly updated) pod. Call on ConfigMap/Secret events for pods
   * that refer to them, when the pod's labels or annotations change, and periodically (upstream
   * resyncs every minute or so). A failure leaves the previous contents in place.
   */
  refresh(pod: Pod): Promise<VolumeError[]> {
    return this.serialize(uidOf(pod), async () => (await this.setUpNow(pod, true)).remountErrors);
  }

  /** The volumes last set up for a pod (what makeContainerMounts needs), or undefined. */
  volumesFor(uid: string): Map<string, PodVolume> | undefined {
    return this.ready.get(uid);
  }

  /** Unmount this pod's tmpfs mounts and remove its directory. Safe to repeat. */
  tearDown(uid: string): Promise<void> {
    return this.serialize(uid, async () => {
      this.ready.delete(uid);
      for (const key of [...this.tokens.keys()]) if (key.startsWith(`${uid}/`)) this.tokens.delete(key);
      for (const key of [...this.written.keys()]) if (key.startsWith(`${uid}/`)) this.written.delete(key);
      const dir = this.paths.podDir(uid);
      if (this.opts.mounter) {
        for (const mp of await this.opts.mounter.mountPointsUnder(dir)) await this.opts.mounter.unmount(mp);
        const left = await this.opts.mounter.mountPointsUnder(dir);
        // Never delete through a mount that is still there (it could be a host path).
        if (left.length) throw new Error(`pod ${uid} still has mounts: ${left.join(', ')}`);
      }
      await rm(dir, { recursive: true, force: true });
    });
  }

  /**
   * UIDs of pods that have a directory on disk (for the core's orphan cleanup after a restart).
   * Names with '_' are skipped: those are pod log directories (<ns>_<name>_<uid>) should a log
   * directory share this parent.
   */
  async podsOnDisk(): Promise<string[]> {
    try {
      return (await readdir(this.paths.podsDir(), { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.includes('_')).map((e) => e.name);
    } catch {
      return [];
    }
  }

  /** Tear down every pod directory whose UID is not in `keep`. */
  async cleanupOrphans(keep: Set<string>): Promise<void> {
    for (const uid of await this.podsOnDisk()) if (!keep.has(uid)) await this.tearDown(uid);
  }

  private serialize<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(uid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(uid, tail);
    void tail.then(() => {
      if (this.chains.get(uid) === tail) this.chains.delete(uid);
    });
    return next;
  }

  private async setUpNow(pod: Pod, refreshOnly: boolean): Promise<SetUpResult> {
    const uid = uidOf(pod);
    const volumes = this.ready.get(uid) ?? new Map<string, PodVolume>();
    const errors: VolumeError[] = [];
    const remountErrors: VolumeError[] = [];
    const used = mountedVolumeNames(pod);
    // A refresh only rewrites volumes that were set up, so their directories exist.
    if (!(refreshOnly && this.ready.has(uid))) {
      await mkdir(this.paths.podVolumesDir(uid), { recursive: true, mode: 0o750 });
      await mkdir(this.paths.podPluginsDir(uid), { recursive: true, mode: 0o750 });
    }
    for (const v of pod.spec.volumes ?? []) {
      if (!used.has(v.name)) continue;
      const projected = !!(v.configMap || v.secret || v.downwardAPI || v.projected);
      if (refreshOnly && !(projected && volumes.has(v.name))) continue;
      try {
        volumes.set(v.name, await this.setUpVolume(pod, v));
      } catch (e) {
        const event = e instanceof VolumeSetupError ? e.event : failedMount(v.name, e);
        (volumes.has(v.name) ? remountErrors : errors).push(event);
      }
    }
    this.ready.set(uid, volumes);
    return { volumes: new Map([...volumes].filter(([name]) => used.has(name))), errors, remountErrors };
  }

  private async setUpVolume(pod: Pod, v: Volume): Promise<PodVolume> {
    const uid = uidOf(pod);
    const fsGroup = pod.spec.securityContext?.fsGroup;
    if (v.emptyDir) {
      const dir = this.paths.volumeDir(uid, PLUGIN_EMPTY_DIR, v.name);
      const medium = v.emptyDir.medium ?? '';
      if (medium === 'Memory') await this.ensureTmpfs(dir, pod, v.emptyDir.sizeLimit, true);
      else if (medium === '') await ensureDir(dir, 0o777);
      else throw new Error(`unsupported emptyDir medium "${medium}"`);
      if (fsGroup !== undefined) await setVolumeOwnership(dir, fsGroup, false);
      return { name: v.name, plugin: PLUGIN_EMPTY_DIR, hostPath: dir, readOnly: false };
    }
    if (v.configMap) {
      const src = v.configMap;
      const optional = !!src.optional;
      const cm = await this.configMap(pod, src.name ?? '', optional);
      const payload = configMapPayload(src.items, cm, src.defaultMode ?? DEFAULT_MODE, optional);
      const dir = this.paths.volumeDir(uid, PLUGIN_CONFIGMAP, v.name);
      await this.projectVolume(uid, v.name, dir, payload, fsGroup, undefined);
      return { name: v.name, plugin: PLUGIN_CONFIGMAP, hostPath: dir, readOnly: true };
    }
    if (v.secret) {
      const src = v.secret;
      const optional = !!src.optional;
      const secret = await this.secret(pod, src.secretName ?? '', optional);
      const payload = secretPayload(src.items, secret, src.defaultMode ?? DEFAULT_MODE, optional);
      const dir = this.paths.volumeDir(uid, PLUGIN_SECRET, v.name);
      await this.projectVolume(uid, v.name, dir, payload, fsGroup, pod);
      return { name: v.name, plugin: PLUGIN_SECRET, hostPath: dir, readOnly: true };
    }
    if (v.downwardAPI) {
      const { payload, error } = downwardAPIPayload(v.downwardAPI.items, pod, v.downwardAPI.defaultMode ?? DEFAULT_MODE, this.opts.nodeAllocatable?.());
      if (error) throw error;
      const dir = this.paths.volumeDir(uid, PLUGIN_DOWNWARD_API, v.name);
      await this.projectVolume(uid, v.name, dir, payload, fsGroup, undefined);
      return { name: v.name, plugin: PLUGIN_DOWNWARD_API, hostPath: dir, readOnly: true };
    }
    if (v.projected) {
      const payload = await this.projectedPayload(pod, v);
      traceStep(pod, 'volume-payload');
      const dir = this.paths.volumeDir(uid, PLUGIN_PROJECTED, v.name);
      await this.projectVolume(uid, v.name, dir, payload, fsGroup, pod);
      return { name: v.name, plugin: PLUGIN_PROJECTED, hostPath: dir, readOnly: true };
    }
    if (v.hostPath) {
      await checkHostPathType(v.hostPath.path, v.hostPath.type);
      return { name: v.name, plugin: PLUGIN_HOST_PATH, hostPath: v.hostPath.path, readOnly: false };
    }
    if (v.persistentVolumeClaim) return this.claimVolume(pod, v);
    throw new Error('no volume plugin matched');
  }

  private async claimVolume(pod: Pod, v: Volume): Promise<PodVolume> {
    const ns = pod.metadata.namespace ?? 'default';
    const claimName = v.persistentVolumeClaim!.claimName;
    const processing = (msg: string) => new VolumeSetupError({ volume: v.name, reason: 'FailedMount', message: `error processing PVC ${ns}/${claimName}: ${msg}` });
    let claim;
    try {
      claim = await this.opts.sources.getPersistentVolumeClaim(ns, claimName);
    } catch (e) {
      throw processing(`failed to fetch PVC from API server: ${(e as Error).message}`);
    }
    if (claim.metadata.deletionTimestamp && !(claim.metadata.finalizers ?? []).includes('kubernetes.io/pvc-protection')) throw processing('PVC is being deleted');
    if (claim.status?.phase !== 'Bound') throw processing('PVC is not bound');
    const pvName = claim.spec?.volumeName;
    if (!pvName) throw processing('PVC has empty pvc.Spec.VolumeName');
    let pv;
    try {
      pv = await this.opts.sources.getPersistentVolume(pvName);
    } catch (e) {
      throw processing(`failed to fetch PV ${pvName} from API server: ${(e as Error).message}`);
    }
    if (!pv.spec?.claimRef) throw processing(`found PV object ${pvName} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`);
    if (claim.metadata.uid && pv.spec.claimRef.uid !== claim.metadata.uid) {
      throw processing(`found PV object ${pvName} but its pv.Spec.ClaimRef.UID ${pv.spec.claimRef.uid ?? ''} does not point to claim.UID ${claim.metadata.uid}`);
    }
    const readOnly = !!v.persistentVolumeClaim!.readOnly;
    if (pv.spec.hostPath) {
      await checkHostPathType(pv.spec.hostPath.path, pv.spec.hostPath.type);
      return { name: v.name, plugin: PLUGIN_HOST_PATH, hostPath: pv.spec.hostPath.path, readOnly };
    }
    if (pv.spec.local) {
      const st = await stat(pv.spec.local.path).catch(() => undefined);
      if (!st) throw new Error(`path "${pv.spec.local.path}" does not exist`);
      return { name: v.name, plugin: PLUGIN_LOCAL_VOLUME, hostPath: pv.spec.local.path, readOnly };
    }
    throw new Error('no volume plugin matched');
  }

  private async projectedPayload(pod: Pod, v: Volume): Promise<Payload> {
    const src = v.projected!;
    const defaultMode = src.defaultMode ?? DEFAULT_MODE;
    const payload: Payload = new Map();
    const errors: Error[] = [];
    for (const s of src.sources ?? []) {
      try {
        let part: Payload | undefined;
        if (s.configMap) {
          const optional = !!s.configMap.optional;
          part = configMapPayload(s.configMap.items, await this.configMap(pod, s.configMap.name ?? '', optional), defaultMode, optional);
          traceStep(pod, 'volume-configmap');
        } else if (s.secret) {
          const optional = !!s.secret.optional;
          part = secretPayload(s.secret.items, await this.secret(pod, s.secret.name ?? '', optional), defaultMode, optional);
        } else if (s.downwardAPI) {
          const r = downwardAPIPayload(s.downwardAPI.items, pod, defaultMode, this.opts.nodeAllocatable?.());
          if (r.error) throw r.error;
          part = r.payload;
        } else if (s.serviceAccountToken) {
          const tp = s.serviceAccountToken;
          const token = await this.serviceAccountToken(pod, tp.audience, tp.expirationSeconds ?? 3600);
          traceStep(pod, 'volume-token');
          // With an fsGroup the token is 0600 and group-readable after the ownership change (0640), as upstream.
          const mode = pod.spec.securityContext?.fsGroup !== undefined ? 0o600 : defaultMode;
          part = new Map([[tp.path, { data: Buffer.from(token), mode }]]);
        } else if (s.clusterTrustBundle) {
          throw new Error('clusterTrustBundle projections are not supported');
        }
        for (const [k, f] of part ?? []) payload.set(k, f);
      } catch (e) {
        errors.push(e as Error);
      }
    }
    const err = aggregateError(errors);
    if (err) throw err;
    return payload;
  }

  /** A bound token for the pod's service account, reused until 80% of its lifetime (or 24 h) has passed. */
  private async serviceAccountToken(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<string> {
    const ns = pod.metadata.namespace ?? 'default';
    const sa = pod.spec.serviceAccountName || 'default';
    const key = `${uidOf(pod)}/${sa}/${audience ?? ''}/${expirationSeconds}`;
    const now = (this.opts.now ?? Date.now)();
    const cached = this.tokens.get(key);
    if (cached && !tokenNeedsRefresh(cached, now)) return cached.token.token;
    try {
      const token = await this.opts.sources.requestServiceAccountToken(ns, sa, {
        audiences: audience ? [audience] : undefined,
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name ?? '', uid: uidOf(pod) },
      });
      this.tokens.set(key, { token, expirationSeconds });
      return token.token;
    } catch (e) {
      if (cached && Date.parse(cached.token.expirationTimestamp) > now) return cached.token.token; // keep using it until it expires
      let msg = (e as Error).message;
      if ((e as { code?: number }).code === 404 || /could not find the requested resource \(serviceaccounts\/token\)/.test(msg)) {
        msg += ' (this API server does not serve the TokenRequest API, serviceaccounts/token)';
      }
      throw new Error(cached ? `token ${key} expired and refresh failed: ${msg}` : `failed to fetch token: ${msg}`);
    }
  }

  private async configMap(pod: Pod, name: string, optional: boolean): Promise<ConfigMap> {
    try {
      return await this.opts.sources.getConfigMap(pod.metadata.namespace ?? 'default', name);
    } catch (e) {
      if (isObjectNotFound(e) && optional) return { metadata: { name, namespace: pod.metadata.namespace } };
      throw e;
    }
  }

  private async secret(pod: Pod, name: string, optional: boolean): Promise<Secret> {
    try {
      return await this.opts.sources.getSecret(pod.metadata.namespace ?? 'default', name);
    } catch (e) {
      if (isObjectNotFound(e) && optional) return { metadata: { name, namespace: pod.metadata.namespace } };
      throw e;
    }
  }

  /**
   * Write a projected-type volume's files, on a tmpfs first when `tmpfsFor` (secret and projected
   * volumes), unless this process already wrote exactly this payload there (see the top).
   */
  private async projectVolume(uid: string, name: string, dir: string, payload: Payload, fsGroup: number | undefined, tmpfsFor: Pod | undefined): Promise<void> {
    const key = `${uid}/${name}`;
    const digest = payloadDigest(payload, fsGroup);
    if (this.written.get(key) === digest && this.ready.get(uid)?.has(name)) return;
    this.written.delete(key);
    if (tmpfsFor) {
      await this.ensureTmpfs(dir, tmpfsFor, undefined, false);
      traceStep(tmpfsFor, 'volume-tmpfs');
    }
    await ensureDir(dir, 0o777);
    const changed = await atomicWrite(dir, payload);
    if (changed && fsGroup !== undefined) await setVolumeOwnership(dir, fsGroup, true);
    this.written.set(key, digest);
  }

  /**
   * A tmpfs at dir: for emptyDir medium Memory (required: fails without a mounter) and under
   * secret/projected volumes (preferred: on disk without a mounter). The size is the smallest of
   * the node's allocatable memory, the pod's memory limit and the volume's sizeLimit.
   */
  private async ensureTmpfs(dir: string, pod: Pod, sizeLimit: string | number | undefined, required: boolean): Promise<void> {
    await ensureDir(dir, 0o777);
    const m = this.opts.mounter;
    if (!m) {
      if (required) throw new Error('memory-backed emptyDir needs tmpfs mounts, which this kubelet cannot make (not running as root)');
      return;
    }
    if ((await m.mountPointsUnder(dir)).includes(dir)) return;
    let size = memoryBytes(this.opts.nodeAllocatable?.()?.memory);
    const podLimit = podMemoryLimit(pod);
    if (podLimit && podLimit > 0 && (!size || podLimit <= size)) size = podLimit;
    const volLimit = memoryBytes(sizeLimit);
    if (volLimit && volLimit > 0 && (!size || volLimit <= size)) size = volLimit;
    await m.mountTmpfs(dir, size);
    await chmod(dir, 0o777);
  }
}

/** What decides a projected volume's files: paths, modes and contents, and the group owning them. */
function payloadDigest(payload: Payload, fsGroup: number | undefined): string {
  const h = createHash('sha256');
  h.update(`${fsGroup ?? ''}\n`);
  for (const p of [...payload.keys()].sort()) {
    const f = payload.get(p)!;
    h.update(`${p}\n${f.mode}\n${f.data.length}\n`);
    h.update(f.data);
  }
  return h.digest('base64');
}

function tokenNeedsRefresh(c: CachedToken, now: number): boolean {
  const exp = Date.parse(c.token.expirationTimestamp);
  if (!Number.isFinite(exp)) return true;
  const issued = exp - c.expirationSeconds * 1000;
  if (now > issued + MAX_TOKEN_TTL_MS) return true;
  return now > exp - c.expirationSeconds * 200; // within the last 20% of its life
}

function memoryBytes(v: string | number | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  try {
    return quantityValue(parseQuantity(String(v)));
  } catch {
    return undefined;
  }
}

async function ensureDir(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  const st = await stat(dir);
  if ((st.mode & 0o777) !== mode) await chmod(dir, mode);
}

function uidOf(pod: Pod): string {
  const uid = pod.metadata.uid;
  if (!uid) throw new Error(`pod ${pod.metadata.namespace}/${pod.metadata.name} has no uid`);
  return uid;
}
