// Where local-path volumes live: `<dir>/<pv>_<namespace>_<claim>` on the chosen node, as k3s's
// local-path-provisioner names them. The base directory per node comes from, in order: the node's
// `mizzen.dev/local-path-dir` annotation (a kubelet may advertise its own data dir), the
// `local-path-config` ConfigMap in kube-system (k3s's format: a JSON nodePathMap under
// config.json, with DEFAULT_PATH_FOR_NON_LISTED_NODES), and the controller's default.

import path from 'node:path';
import type { KObject } from '../../api/types.ts';
import { claimRefTo } from '../persistentvolume/matching.ts';

export const PROVISIONER = 'rancher.io/local-path';
export const STORAGE_CLASS = 'local-path';
export const CONFIG_MAP = 'local-path-config';
export const NODE_DIR_ANNOTATION = 'mizzen.dev/local-path-dir';
/** Recorded on each volume (as k3s's provisioner does) so deletion knows the node without parsing affinity. */
export const SELECTED_NODE_ANNOTATION = 'local.path.provisioner/selected-node';
const DEFAULT_NODE = 'DEFAULT_PATH_FOR_NON_LISTED_NODES';

export function volumeName(claim: KObject): string {
  return `pvc-${claim.metadata.uid}`;
}

export function volumeDirName(pvName: string, claim: { namespace?: string; name?: string }): string {
  return `${pvName}_${claim.namespace}_${claim.name}`;
}

/** The base directory for a node, or undefined when the config names none for it. */
export function baseDirFor(node: KObject | undefined, nodeName: string, configMap: KObject | undefined, fallback: string): string {
  const annotated = node?.metadata.annotations?.[NODE_DIR_ANNOTATION];
  if (annotated && path.isAbsolute(annotated)) return annotated;
  const raw = configMap?.data?.['config.json'];
  if (typeof raw === 'string') {
    try {
      const cfg = JSON.parse(raw);
      const entries: any[] = Array.isArray(cfg?.nodePathMap) ? cfg.nodePathMap : [];
      const pick = (n: string) => entries.find((e) => e?.node === n)?.paths?.find((p: unknown) => typeof p === 'string' && path.isAbsolute(p));
      const found = pick(nodeName) ?? pick(DEFAULT_NODE);
      if (found) return found;
    } catch {
      // A broken config falls back to the default directory.
    }
  }
  return fallback;
}

/** The ConfigMap the provisioner creates when missing, naming `dir` for every node. */
export function defaultConfigMap(dir: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CONFIG_MAP, namespace: 'kube-system' },
    data: { 'config.json': JSON.stringify({ nodePathMap: [{ node: DEFAULT_NODE, paths: [dir] }] }, null, 2) },
  };
}

/** k3s's default StorageClass. */
export function defaultStorageClass(): KObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** The hostPath PersistentVolume for a claim on a node (k3s's shape: hostPath DirectoryOrCreate, node affinity by hostname). */
export function newVolume(claim: KObject, sc: KObject, node: KObject | undefined, nodeName: string, dir: string): KObject {
  const name = volumeName(claim);
  const hostname = node?.metadata.labels?.['kubernetes.io/hostname'] ?? nodeName;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER, [SELECTED_NODE_ANNOTATION]: nodeName },
    },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.storage },
      accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      hostPath: { path: path.join(dir, volumeDirName(name, claim.metadata)), type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [hostname] }] }] } },
      claimRef: claimRefTo(claim),
    },
  };
}
