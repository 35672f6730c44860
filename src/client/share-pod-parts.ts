// One copy of the parts that pods made from one template repeat. 150,000 parsed pods of one
// Deployment (or one benchmark) hold 150,000 equal copies of their tolerations, their
// service-account volume's projected sources, their containers' resources, their labels and owner
// references: about 1 KB of a 1.6 KB cached pod (bench/lib/components-footprint.ts). An informer's
// transform passes each pod through share(), after its strings are shared, so equal parts become
// one object.
//
// A shared part is frozen (deeply): informer objects are never to be changed in place (client-go's
// rule too; controllers copy before they write), and a shared part changed in place would change
// every pod that holds it. Frozen, such a change throws at the line that makes it instead.

import { TwoGenerations } from '../machinery/shared-strings.ts';

/** Fields of a pod's spec that come from its template whole, when set. */
const SPEC_PARTS = ['tolerations', 'affinity', 'nodeSelector', 'securityContext', 'topologySpreadConstraints', 'dnsConfig', 'readinessGates', 'imagePullSecrets', 'hostAliases', 'schedulingGates', 'resourceClaims', 'overhead', 'os', 'resources'] as const;
/**
 * A container's fields that are not shared: its mounts name the pod's own service-account volume
 * (`kube-api-access-xxxxx`, a random name per pod), so they would only churn the table.
 */
const CONTAINER_SKIP = new Set(['volumeMounts']);
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

type Json = Record<string, unknown>;

function deepFreeze(v: object): void {
  Object.freeze(v);
  for (const x of Object.values(v)) if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) deepFreeze(x);
}

export class PodPartSharer extends TwoGenerations<object> {
  // Two generations (TwoGenerations): parts still in use carry over when a full table turns old;
  // parts no longer seen (a rolled-out template's) are let go. Keys are the parts' JSON.
  constructor(maxEntries = 10_000) {
    super(maxEntries);
  }

  /** The shared (frozen) copy of a part equal to v. */
  part<V extends object>(v: V): V {
    return this.lookup(JSON.stringify(v), () => {
      deepFreeze(v);
      return v;
    }) as V;
  }

  /** Replace, in place, a pod's template parts by their shared copies; other objects are returned as they are. */
  share<T extends object>(obj: T): T {
    const o = obj as { metadata?: Json; spec?: Json; status?: Json };
    const spec = o.spec;
    // A pod is what has containers at the top of its spec (a template has them under spec.template).
    if (!spec || !Array.isArray(spec.containers)) return obj;
    const meta = o.metadata;
    if (meta) this.fields(meta, ['labels', 'ownerReferences']);
    this.fields(spec, SPEC_PARTS);
    for (const list of CONTAINER_LISTS) this.elementFields(spec[list], CONTAINER_SKIP);
    // A volume's name is the pod's own (the service-account volume's); its source is the template's.
    this.elementFields(spec.volumes);
    // Conditions written in the same second, and the node's addresses, repeat across pods.
    if (o.status) this.fields(o.status, ['conditions', 'hostIPs']);
    return obj;
  }

  /** In each object of a list, every object-valued field but those in skip. */
  private elementFields(list: unknown, skip?: ReadonlySet<string>): void {
    if (!Array.isArray(list)) return;
    for (const el of list) {
      if (el === null || typeof el !== 'object') continue;
      const ej = el as Json;
      for (const k in ej) {
        const v = ej[k];
        if (v !== null && typeof v === 'object' && !skip?.has(k)) ej[k] = this.part(v);
      }
    }
  }

  private fields(o: Json, keys: readonly string[]): void {
    for (const k of keys) {
      const v = o[k];
      if (v !== null && typeof v === 'object') o[k] = this.part(v);
    }
  }
}
