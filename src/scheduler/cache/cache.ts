// The scheduler's view of nodes and the pods on them. Pods the scheduler has just placed are
// "assumed" so they count against their node before the API server confirms the binding; an
// assumed pod whose binding finished but never showed up in the informer expires after a TTL.

import { NodeInfo, newPodInfo, podUID } from '../framework/node-info.ts';
import type { Node, Pod } from '../framework/types.ts';

interface PodState {
  pod: Pod;
  nodeName: string;
  /** Set once binding finished; expiry is measured from then. */
  deadline?: number;
  bindingFinished: boolean;
}

export interface CacheOptions {
  /** How long an assumed pod may wait for confirmation after binding (ms, default 30 s; 0 = forever). */
  assumedTTLMs?: number;
  now?: () => number;
}

export class SchedulerCache {
  readonly nodes = new Map<string, NodeInfo>();
  private podStates = new Map<string, PodState>();
  private assumed = new Set<string>();
  /** Monotonic change counter; every touched NodeInfo gets the new value. */
  private generation = 0;
  /** Node names changed since the snapshot last looked (added, updated or removed). */
  readonly dirty = new Set<string>();
  /** Node set or pods-with-affinity membership changed: the snapshot must rebuild its lists. */
  listsChanged = true;
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(opts: CacheOptions = {}) {
    this.ttl = opts.assumedTTLMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  private touch(name: string, ni: NodeInfo): void {
    ni.generation = ++this.generation;
    this.dirty.add(name);
  }

  private nodeInfoFor(name: string): NodeInfo {
    let ni = this.nodes.get(name);
    if (!ni) {
      // Pods can arrive before their node; keep a placeholder without a Node object.
      ni = new NodeInfo();
      this.nodes.set(name, ni);
    }
    return ni;
  }

  addNode(node: Node): void {
    const name = node.metadata.name!;
    const ni = this.nodeInfoFor(name);
    if (!ni.node) this.listsChanged = true;
    ni.setNode(node);
    this.touch(name, ni);
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  removeNode(node: Node): void {
    const name = node.metadata.name!;
    const ni = this.nodes.get(name);
    if (!ni) return;
    ni.node = undefined;
    // Keep the entry while pods still reference it; they are removed by their own deletes.
    if (ni.pods.length === 0) this.nodes.delete(name);
    this.listsChanged = true;
    this.touch(name, ni);
  }

  private addPodToNode(pod: Pod, nodeName: string): void {
    const ni = this.nodeInfoFor(nodeName);
    const pi = newPodInfo(pod);
    ni.addPodInfo(pi);
    if (ni.podsWithAffinity.includes(pi)) this.listsChanged = true;
    this.touch(nodeName, ni);
  }

  private removePodFromNode(pod: Pod, nodeName: string): void {
    const ni = this.nodes.get(nodeName);
    if (!ni) return;
    const hadAffinity = ni.podsWithAffinity.length;
    ni.removePod(pod);
    if (ni.podsWithAffinity.length !== hadAffinity) this.listsChanged = true;
    if (!ni.node && ni.pods.length === 0) {
      this.nodes.delete(nodeName);
      this.listsChanged = true;
    }
    this.touch(nodeName, ni);
  }

  isAssumed(pod: Pod): boolean {
    return this.assumed.has(podUID(pod));
  }

  /** Count a pod against spec.nodeName before the binding is confirmed. */
  assumePod(pod: Pod): void {
    const uid = podUID(pod);
    if (this.podStates.has(uid)) throw new Error(`pod ${pod.metadata.namespace}/${pod.metadata.name} is in the cache, so can't be assumed`);
    const nodeName = pod.spec.nodeName;
    this.addPodToNode(pod, nodeName);
    this.podStates.set(uid, { pod, nodeName, bindingFinished: false });
    this.assumed.add(uid);
  }

  /** Binding returned: start the expiry clock. */
  finishBinding(pod: Pod): void {
    const st = this.podStates.get(podUID(pod));
    if (!st || !this.assumed.has(podUID(pod))) return;
    st.bindingFinished = true;
    st.deadline = this.ttl > 0 ? this.now() + this.ttl : undefined;
  }

  /** Undo an assumption (binding failed). */
  forgetPod(pod: Pod): void {
    const uid = podUID(pod);
    const st = this.podStates.get(uid);
    if (!st || !this.assumed.has(uid)) return;
    this.removePodFromNode(st.pod, st.nodeName);
    this.podStates.delete(uid);
    this.assumed.delete(uid);
  }

  /** An assigned pod from the informer: confirms an assumption or adds it. */
  addPod(pod: Pod): void {
    const uid = podUID(pod);
    const st = this.podStates.get(uid);
    if (st && this.assumed.has(uid)) {
      // Confirmed; the API server's copy replaces ours (it may even name another node).
      this.removePodFromNode(st.pod, st.nodeName);
      this.addPodToNode(pod, pod.spec.nodeName);
      this.podStates.set(uid, { pod, nodeName: pod.spec.nodeName, bindingFinished: true });
      this.assumed.delete(uid);
      return;
    }
    if (st) {
      this.updatePod(st.pod, pod);
      return;
    }
    this.addPodToNode(pod, pod.spec.nodeName);
    this.podStates.set(uid, { pod, nodeName: pod.spec.nodeName, bindingFinished: true });
  }

  updatePod(_old: Pod, pod: Pod): void {
    const uid = podUID(pod);
    const st = this.podStates.get(uid);
    if (!st || this.assumed.has(uid)) {
      this.addPod(pod);
      return;
    }
    this.removePodFromNode(st.pod, st.nodeName);
    this.addPodToNode(pod, pod.spec.nodeName);
    this.podStates.set(uid, { pod, nodeName: pod.spec.nodeName, bindingFinished: true });
  }

  removePod(pod: Pod): void {
    const uid = podUID(pod);
    const st = this.podStates.get(uid);
    if (!st) return;
    this.removePodFromNode(st.pod, st.nodeName);
    this.podStates.delete(uid);
    this.assumed.delete(uid);
  }

  getPod(pod: Pod): Pod | undefined {
    return this.podStates.get(podUID(pod))?.pod;
  }

  /** Drop assumed pods whose binding finished more than the TTL ago without confirmation. */
  cleanupExpiredAssumedPods(): Pod[] {
    const now = this.now();
    const expired: Pod[] = [];
    for (const uid of this.assumed) {
      const st = this.podStates.get(uid)!;
      if (st.bindingFinished && st.deadline !== undefined && now >= st.deadline) expired.push(st.pod);
    }
    for (const p of expired) this.forgetPod(p);
    return expired;
  }

  nodeCount(): number {
    let n = 0;
    for (const ni of this.nodes.values()) if (ni.node) n++;
    return n;
  }

  podCount(): number {
    return this.podStates.size;
  }
}
