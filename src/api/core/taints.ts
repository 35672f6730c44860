// Taints and tolerations as core/v1 defines them (k8s.io/api/core/v1 toleration.go), shared by the
// scheduler (TaintToleration, NodeUnschedulable) and the node lifecycle controller (evictions).

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Toleration.ToleratesTaint: an empty effect matches all effects; an empty key with Exists matches all keys. */
export function toleratesTaint(t: Toleration | undefined, taint: Taint): boolean {
  if (t?.effect && t.effect !== taint.effect) return false;
  if (t?.key && t.key !== taint.key) return false;
  switch (t?.operator || 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (t?.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}
