// Which objects each node's pods use, as upstream's node authorizer graph records them: for every
// pod bound to a node, the secrets, configmaps, persistent volume claims and service account it
// references. Kept up to date from the pods watch cache, one event at a time; a node may read an
// object while any of its pods uses it.

import type { KObject } from '../../api/types.ts';

export type VertexKind = 'secret' | 'configmap' | 'pvc' | 'serviceaccount';

/** Every object a pod references, by kind, as `namespace/name` keys. */
export function podReferences(pod: KObject): { kind: VertexKind; name: string }[] {
  const out: { kind: VertexKind; name: string }[] = [];
  const spec = pod.spec ?? {};
  const add = (kind: VertexKind, name: unknown) => {
    if (typeof name === 'string' && name) out.push({ kind, name });
  };
  add('serviceaccount', spec.serviceAccountName || spec.serviceAccount);
  for (const s of spec.imagePullSecrets ?? []) add('secret', s?.name);
  for (const v of spec.volumes ?? []) {
    if (!v) continue;
    add('secret', v.secret?.secretName);
    add('configmap', v.configMap?.name);
    add('pvc', v.persistentVolumeClaim?.claimName);
    if (v.ephemeral) add('pvc', `${pod.metadata.name}-${v.name}`);
    for (const src of v.projected?.sources ?? []) {
      add('secret', src?.secret?.name);
      add('configmap', src?.configMap?.name);
    }
    add('secret', v.csi?.nodePublishSecretRef?.name);
    add('secret', v.azureFile?.secretName);
    for (const k of ['cephfs', 'rbd', 'flexVolume', 'iscsi', 'scaleIO', 'storageos']) add('secret', v[k]?.secretRef?.name);
  }
  for (const list of [spec.containers, spec.initContainers, spec.ephemeralContainers]) {
    for (const c of list ?? []) {
      for (const e of c?.env ?? []) {
        add('secret', e?.valueFrom?.secretKeyRef?.name);
        add('configmap', e?.valueFrom?.configMapKeyRef?.name);
      }
      for (const e of c?.envFrom ?? []) {
        add('secret', e?.secretRef?.name);
        add('configmap', e?.configMapRef?.name);
      }
    }
  }
  return out;
}

export class NodeGraph {
  /** `kind/ns/name` → node → number of that node's pods using it. */
  private edges = new Map<string, Map<string, number>>();
  /** What each pod contributed, so an update or delete can take it back. */
  private byPod = new Map<string, { node: string; keys: string[] }>();

  podChanged(key: string, pod: KObject | undefined): void {
    const old = this.byPod.get(key);
    if (old) {
      for (const k of old.keys) this.unref(k, old.node);
      this.byPod.delete(key);
    }
    const node = pod?.spec?.nodeName;
    if (!pod || typeof node !== 'string' || !node) return;
    const ns = pod.metadata.namespace ?? '';
    const keys = [...new Set(podReferences(pod).map((r) => `${r.kind}/${ns}/${r.name}`))];
    for (const k of keys) this.ref(k, node);
    this.byPod.set(key, { node, keys });
  }

  private ref(k: string, node: string): void {
    let m = this.edges.get(k);
    if (!m) this.edges.set(k, (m = new Map()));
    m.set(node, (m.get(node) ?? 0) + 1);
  }

  private unref(k: string, node: string): void {
    const m = this.edges.get(k);
    if (!m) return;
    const n = (m.get(node) ?? 0) - 1;
    if (n > 0) m.set(node, n);
    else m.delete(node);
    if (m.size === 0) this.edges.delete(k);
  }

  /** Does any pod bound to `node` use this object? */
  hasPath(node: string, kind: VertexKind, namespace: string, name: string): boolean {
    return (this.edges.get(`${kind}/${namespace}/${name}`)?.get(node) ?? 0) > 0;
  }

  /** The `ns/name` of every PVC the node's pods use (for PersistentVolume access). */
  claimsOf(node: string): string[] {
    const out: string[] = [];
    for (const [k, m] of this.edges) if (k.startsWith('pvc/') && m.has(node)) out.push(k.slice(4));
    return out;
  }
}
