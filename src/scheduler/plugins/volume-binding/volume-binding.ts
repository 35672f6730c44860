// VolumeBinding (upstream pkg/scheduler/framework/plugins/volumebinding): a pod whose claims are
// unbound is placed where its volumes can be. Claims of an Immediate class must be bound before the
// pod is scheduled at all; claims of a WaitForFirstConsumer class are matched per node to an
// Available volume whose node affinity admits the node, or else to the class's provisioner. The
// chosen node is then written before binding the pod: volumes' claimRefs for matched volumes, the
// claim's volume.kubernetes.io/selected-node for provisioned ones, and the pod is bound only once
// every claim is (the PersistentVolume controller and the provisioner finish that).

import type { KObject } from '../../../api/types.ts';
import { ann, claimClass, claimRefTo, findMatchingVolume, isClaimBindCompleted, isDelayBinding, noProvisioner, volumeAdmitsNode } from '../../../controllers/persistentvolume/matching.ts';
import { nodeMatchesSelectorTerms } from '../../../controllers/daemonset/node-eligibility.ts';
import { Code, Status, asStatus, skip, unresolvable, type MaybeStatus } from '../../framework/status.ts';
import type { ClusterEvent, CycleState, EnqueueExtensions, FilterPlugin, Handle, NodeInfo, Pod, PluginFactory, PreBindPlugin, PreFilterPlugin, PreFilterResult, ReservePlugin, VolumeListers } from '../../framework/types.ts';

export const NAME = 'VolumeBinding';
export const ERR_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const ERR_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_PV_NOT_EXIST = 'pvc(s) bound to non-existent pv(s)';
const KEY = 'PreFilter' + NAME;
/** Upstream's bindTimeoutSeconds default. */
const DEFAULT_BIND_TIMEOUT_MS = 600_000;
const POLL_MS = 100;

interface PodVolumes {
  /** Available volumes chosen for claims (static binding). */
  bindings: Array<{ pv: KObject; claim: KObject }>;
  /** Claims the provisioner is to make volumes for on this node. */
  provisions: KObject[];
}

class CycleData {
  podVolumesByNode = new Map<string, PodVolumes>();
  chosen?: PodVolumes;
  constructor(readonly bound: KObject[], readonly toBind: KObject[]) {}
  clone(): CycleData {
    const c = new CycleData(this.bound, this.toBind);
    c.podVolumesByNode = new Map(this.podVolumesByNode);
    c.chosen = this.chosen;
    return c;
  }
}

/** The claims a pod's volumes name: persistentVolumeClaim volumes and generic ephemeral volumes. */
export function podClaimNames(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v?.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
    else if (v?.ephemeral) out.push(`${pod.metadata.name}-${v.name}`);
  }
  return out;
}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin, EnqueueExtensions {
  readonly name = NAME;
  /** Volumes promised to a claim by a reserved pod whose binding is not written yet. */
  private readonly assumed = new Map<string, string>();

  constructor(
    private readonly handle: Handle,
    private readonly bindTimeoutMs = DEFAULT_BIND_TIMEOUT_MS,
  ) {}

  private listers(): VolumeListers | undefined {
    return this.handle.volumeListers?.();
  }

  preFilter(state: CycleState, pod: Pod): [PreFilterResult | undefined, MaybeStatus] {
    const names = podClaimNames(pod);
    const L = this.listers();
    if (!names.length || !L) return [undefined, skip()];
    const ns = pod.metadata.namespace ?? 'default';
    const bound: KObject[] = [];
    const toBind: KObject[] = [];
    let immediate = false;
    for (const name of names) {
      const claim = L.claim(ns, name);
      if (!claim) return [undefined, unresolvable(`persistentvolumeclaim "${name}" not found`)];
      if (claim.metadata.deletionTimestamp) return [undefined, unresolvable(`persistentvolumeclaim "${name}" is being deleted`)];
      if (claim.spec?.volumeName) bound.push(claim);
      else if (isDelayBinding(claim, L.storageClass)) toBind.push(claim);
      else immediate = true;
    }
    if (immediate) return [undefined, unresolvable(ERR_UNBOUND_IMMEDIATE)];
    state.write(KEY, new CycleData(bound, toBind));
    return [undefined, undefined];
  }

  filter(state: CycleState, _pod: Pod, ni: NodeInfo): MaybeStatus {
    const data = state.read<CycleData>(KEY);
    const L = this.listers();
    const node = ni.node;
    if (!data || !L || !node) return undefined;
    const reasons = new Set<string>();
    for (const claim of data.bound) {
      const pv = L.volume(claim.spec.volumeName);
      if (!pv) return unresolvable(ERR_PV_NOT_EXIST);
      if (!volumeAdmitsNode(pv, node)) reasons.add(ERR_NODE_CONFLICT);
    }
    const chosen = new Set<string>(this.assumed.keys());
    const result: PodVolumes = { bindings: [], provisions: [] };
    for (const claim of data.toBind) {
      const selected = claim.metadata.annotations?.[ann.selectedNode];
      if (selected !== undefined) {
        // Provisioning already started for a node: only that node will do.
        if (selected !== node.metadata.name) reasons.add(ERR_BIND_CONFLICT);
        else result.provisions.push(claim);
        continue;
      }
      const pv = findMatchingVolume(claim, L.volumes(), { node, exclude: chosen });
      if (pv) {
        chosen.add(pv.metadata.name!);
        result.bindings.push({ pv, claim });
        continue;
      }
      const sc = L.storageClass(claimClass(claim));
      const provisioner = sc?.provisioner;
      const topologyOk = !Array.isArray(sc?.allowedTopologies) || sc.allowedTopologies.length === 0 || nodeMatchesSelectorTerms(node, topologyTerms(sc.allowedTopologies));
      if (!provisioner || provisioner === noProvisioner || !topologyOk) reasons.add(ERR_BIND_CONFLICT);
      else result.provisions.push(claim);
    }
    if (reasons.size) return unresolvable(...reasons);
    data.podVolumesByNode.set(node.metadata.name!, result);
    return undefined;
  }

  reserve(state: CycleState, _pod: Pod, nodeName: string): MaybeStatus {
    const data = state.read<CycleData>(KEY);
    if (!data) return undefined;
    data.chosen = data.podVolumesByNode.get(nodeName);
    for (const b of data.chosen?.bindings ?? []) this.assumed.set(b.pv.metadata.name!, b.claim.metadata.uid!);
    return undefined;
  }

  unreserve(state: CycleState): void {
    const data = state.read<CycleData>(KEY);
    for (const b of data?.chosen?.bindings ?? []) this.assumed.delete(b.pv.metadata.name!);
  }

  async preBind(state: CycleState, pod: Pod, nodeName: string): Promise<MaybeStatus> {
    const data = state.read<CycleData>(KEY);
    const chosen = data?.chosen;
    if (!data || (!chosen && data.bound.every(isClaimBindCompleted))) return undefined;
    const client = this.handle.apiClient?.();
    if (!client) return new Status(Code.Error, [], new Error('VolumeBinding: no API client to bind volumes'));
    try {
      for (const { pv, claim } of chosen?.bindings ?? []) {
        const ref = { version: 'v1', resource: 'persistentvolumes', name: pv.metadata.name! };
        const fresh = await client.get<KObject>(ref);
        fresh.spec.claimRef = claimRefTo(claim);
        fresh.metadata.annotations = { ...(fresh.metadata.annotations ?? {}), [ann.boundByController]: 'yes' };
        await client.update(ref, fresh);
      }
      for (const claim of chosen?.provisions ?? []) {
        if (claim.metadata.annotations?.[ann.selectedNode] === nodeName) continue;
        const ref = { version: 'v1', resource: 'persistentvolumeclaims', namespace: claim.metadata.namespace, name: claim.metadata.name! };
        const fresh = await client.get<KObject>(ref);
        fresh.metadata.annotations = { ...(fresh.metadata.annotations ?? {}), [ann.selectedNode]: nodeName };
        await client.update(ref, fresh);
      }
      await this.waitBound(pod, [...data.bound, ...data.toBind], new Set((chosen?.provisions ?? []).map((c) => c.metadata.name!)), nodeName);
      return undefined;
    } catch (e) {
      return asStatus(e);
    } finally {
      for (const b of chosen?.bindings ?? []) this.assumed.delete(b.pv.metadata.name!);
    }
  }

  /** Upstream checkBindings: every claim bound to an existing volume, or a clear failure. */
  private async waitBound(pod: Pod, claims: KObject[], provisioned: Set<string>, nodeName: string): Promise<void> {
    const deadline = Date.now() + this.bindTimeoutMs;
    // The cache may not show our own annotation yet: only its removal after it showed is a failure.
    const seen = new Set<string>();
    for (;;) {
      const L = this.listers();
      if (!L) return;
      let done = true;
      for (const c of claims) {
        const cur = L.claim(c.metadata.namespace!, c.metadata.name!);
        if (!cur || cur.metadata.uid !== c.metadata.uid) throw new Error(`PVC ${c.metadata.namespace}/${c.metadata.name} was deleted`);
        if (cur.spec?.volumeName && isClaimBindCompleted(cur) && L.volume(cur.spec.volumeName)) continue;
        // A provisioner that gives up removes the annotation, asking for another node.
        const selected = cur.metadata.annotations?.[ann.selectedNode] === nodeName;
        if (selected) seen.add(cur.metadata.name!);
        else if (provisioned.has(cur.metadata.name!) && seen.has(cur.metadata.name!)) throw new Error(`provisioning failed for PVC "${cur.metadata.name}"`);
        done = false;
        break;
      }
      if (done) return;
      if (Date.now() > deadline) throw new Error(`binding volumes: timed out waiting for the condition (pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${nodeName})`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  eventsToRegister(): ClusterEvent[] {
    return ['NodeAdd', 'NodeUpdate', 'PvcChange', 'PvChange', 'StorageClassChange'];
  }
}

/** StorageClass allowedTopologies (label expressions) as node selector terms. */
function topologyTerms(terms: any[]): any[] {
  return terms.map((t) => ({ matchExpressions: (t?.matchLabelExpressions ?? []).map((e: any) => ({ key: e.key, operator: 'In', values: e.values ?? [] })) }));
}

export const factory: PluginFactory = ({ handle, args }) => new VolumeBinding(handle, args?.bindTimeoutSeconds !== undefined ? args.bindTimeoutSeconds * 1000 : undefined);
