// The ServiceAccount admission plugin (upstream plugin/pkg/admission/serviceaccount), on pod
// creation: every pod runs as a ServiceAccount (`default` unless named), which must exist; unless
// automounting is turned off (pod spec, else the ServiceAccount), the pod gets a projected
// `kube-api-access-<random>` volume (a bound token, the cluster CA from the kube-root-ca.crt
// ConfigMap, and the namespace) mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in
// every container; the ServiceAccount's imagePullSecrets are copied when the pod has none.

import { randomInt } from 'node:crypto';
import type { KObject } from '../../api/types.ts';
import { errors } from '../../machinery/errors.ts';

export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const API_ACCESS_VOLUME_PREFIX = 'kube-api-access-';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** Upstream utilrand's alphabet (no vowels, no confusable digits). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** The projected volume upstream's admission adds (token for 3607 s, CA, namespace; mode 0644). */
export function apiAccessVolume(name: string): Record<string, unknown> {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

export interface ServiceAccountLookup {
  serviceAccount(namespace: string, name: string): KObject | undefined;
  /** Wait this long in total for a missing `default` ServiceAccount (the controller makes it). */
  defaultWaitMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function findServiceAccount(deps: ServiceAccountLookup, ns: string, name: string): Promise<KObject | undefined> {
  let sa = deps.serviceAccount(ns, name);
  if (sa || name !== 'default') return sa;
  // As upstream: the default ServiceAccount of a new namespace may be moments away.
  const deadline = Date.now() + (deps.defaultWaitMs ?? 1500);
  while (!sa && Date.now() < deadline) {
    await sleep(100 + randomInt(100));
    sa = deps.serviceAccount(ns, name);
  }
  return sa;
}

/** Mutates the pod as upstream's plugin does; returns a promise only when it has to wait. */
export function admitPodServiceAccount(deps: ServiceAccountLookup, pod: KObject): void | Promise<void> {
  const spec = (pod.spec ??= {});
  // Admission runs before validation: a malformed pod is left for validation to refuse.
  if (!isObject(spec) || !wellFormed(spec)) return;
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || 'default';
  spec.serviceAccount = spec.serviceAccountName;
  if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
  const ns = pod.metadata.namespace!;
  const name = spec.serviceAccountName;
  const sa = deps.serviceAccount(ns, name);
  if (sa) return mount(pod, sa);
  return findServiceAccount(deps, ns, name).then((found) => {
    if (!found)
      throw errors.forbidden({ group: '', resource: 'pods' }, pod.metadata.name ?? '', `error looking up service account ${ns}/${name}: serviceaccount "${name}" not found`);
    mount(pod, found);
  });
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const listOf = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.every(isObject));

/** The parts this plugin reads and writes have the shapes it expects. */
function wellFormed(spec: Record<string, any>): boolean {
  if (spec.serviceAccountName !== undefined && typeof spec.serviceAccountName !== 'string') return false;
  if (spec.serviceAccount !== undefined && typeof spec.serviceAccount !== 'string') return false;
  if (!listOf(spec.volumes) || !listOf(spec.containers) || !listOf(spec.initContainers) || !listOf(spec.imagePullSecrets)) return false;
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].every((c: any) => listOf(c.volumeMounts));
}

function mount(pod: KObject, sa: KObject): void {
  const spec = pod.spec;
  if (!spec.imagePullSecrets?.length && Array.isArray(sa.imagePullSecrets) && sa.imagePullSecrets.length)
    spec.imagePullSecrets = sa.imagePullSecrets.map((s: any) => ({ name: s?.name }));
  const automount = spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
  if (!automount) return;
  const volumes: any[] = (spec.volumes ??= []);
  let volumeName = volumes.find((v) => typeof v?.name === 'string' && v.name.startsWith(API_ACCESS_VOLUME_PREFIX) && v.projected)?.name;
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const needs = containers.filter((c) => !(c?.volumeMounts ?? []).some((m: any) => m?.mountPath === TOKEN_MOUNT_PATH));
  if (!needs.length) return;
  if (!volumeName) {
    const names = new Set(volumes.map((v) => v?.name));
    do volumeName = `${API_ACCESS_VOLUME_PREFIX}${randomSuffix()}`;
    while (names.has(volumeName));
    volumes.push(apiAccessVolume(volumeName));
  }
  for (const c of needs) (c.volumeMounts ??= []).push({ name: volumeName, readOnly: true, mountPath: TOKEN_MOUNT_PATH });
}
