// The per-cycle snapshot: private NodeInfo copies so that a cycle sees a stable cluster. Only nodes
// changed since the last update are copied, so a cycle costs O(changes), not O(nodes).

import { PACKED_STRIDE, podUID, type AffinityTerm, type NodeInfo, type PodInfo } from '../framework/node-info.ts';
import type { AntiAffinityGroup, PodRef, SnapshotLister } from '../framework/types.ts';
import type { SchedulerCache } from './cache.ts';

/** The snapshot's current copy of one node, shared by the index entries of its pods. */
interface NodeSlot {
  ni: NodeInfo;
}

/**
 * A pod in the label index. Its node is read through the node's slot, so a node copied again for
 * a new cycle (every pod bound to it, every confirmation) moves all its pods' entries with one
 * write instead of a removal and an insertion per pod and label.
 */
class IndexedPod implements PodRef {
  constructor(
    readonly pi: PodInfo,
    private readonly slot: NodeSlot,
  ) {}

  get ni(): NodeInfo {
    return this.slot.ni;
  }
}

export class Snapshot implements SnapshotLister {
  private map = new Map<string, NodeInfo>();
  private all: NodeInfo[] = [];
  private withAffinity: NodeInfo[] = [];
  private withAntiAffinity: NodeInfo[] = [];
  private pos = new Map<string, number>();
  /** namespace\0key\0value -> pods carrying that label. */
  private byLabel = new Map<string, Map<string, IndexedPod>>();
  private slots = new Map<string, NodeSlot>();
  private antiGroups = new Map<string, AntiAffinityGroup>();
  /**
   * The groups again, under one `key=value` their term's selector requires (terms that require no
   * single value are in antiUnindexed): only groups under a pod's own labels can select it.
   */
  private antiByLabel = new Map<string, Set<AntiAffinityGroup>>();
  private antiUnindexed = new Set<AntiAffinityGroup>();
  private version = 0;
  private affinityNodes = new Map<string, NodeInfo>();
  private antiNodes = new Map<string, NodeInfo>();
  /** The listed nodes' numbers, at their index in `all` (see PACKED_STRIDE). */
  private packed = new Float64Array(0);
  /** labelValues() results, for the node set and labels of `labelValuesVersion`. */
  private labelValueCache = new Map<string, (string | undefined)[]>();
  private labelValuesVersion = -1;

  /** Bring the snapshot up to date with the cache. */
  update(cache: SchedulerCache): void {
    // Node set changes rebuild everything; affinity membership changes only the two short lists.
    let rebuild = false;
    let affinityLists = cache.listsChanged;
    for (const name of cache.dirty) {
      const src = cache.nodes.get(name);
      const prev = this.map.get(name);
      if (prev) {
        this.bumpAnti(prev, -1);
        // Its slot goes to the copy below (or away): whoever still holds it reads its objects.
        prev.packed = undefined;
      }
      this.affinityNodes.delete(name);
      this.antiNodes.delete(name);
      if (!src || !src.node) {
        if (prev) this.unindexPods(prev.pods);
        this.slots.delete(name);
        if (this.map.delete(name)) rebuild = true;
        this.version++;
        continue;
      }
      const copy = src.clone();
      this.reindex(name, prev, copy);
      // Only the node set and node labels matter to the version's users (topology domains);
      // heartbeats and status updates replace the Node object without touching either.
      if (!prev || (prev.node !== copy.node && !sameLabels(prev.node?.metadata.labels, copy.node?.metadata.labels))) this.version++;
      if (copy.podsWithAffinity.length) this.affinityNodes.set(name, copy);
      if (copy.podsWithRequiredAntiAffinity.length) this.antiNodes.set(name, copy);
      this.map.set(name, copy);
      if (!prev) rebuild = true;
      else if (!rebuild) {
        // Swap the copy into the lists in place.
        const i = this.pos.get(name);
        if (i !== undefined) {
          this.all[i] = copy;
          copy.packInto(this.packed, i);
        } else rebuild = true;
        if (prev.podsWithAffinity.length || copy.podsWithAffinity.length || prev.podsWithRequiredAntiAffinity.length || copy.podsWithRequiredAntiAffinity.length) affinityLists = true;
      }
    }
    cache.dirty.clear();
    cache.listsChanged = false;
    if (rebuild) {
      this.all = [...this.map.values()];
      this.pos = new Map(this.all.map((n, i) => [n.name, i]));
      this.packed = new Float64Array(this.all.length * PACKED_STRIDE);
      for (let i = 0; i < this.all.length; i++) this.all[i].packInto(this.packed, i);
    }
    if (rebuild || affinityLists) {
      this.withAffinity = [...this.affinityNodes.values()];
      this.withAntiAffinity = [...this.antiNodes.values()];
    }
  }

  /**
   * Points the node's slot at its new copy and indexes only the pods that changed. A NodeInfo
   * appends added pods and keeps the order of the rest when one is removed, so one walk of both
   * lists finds them; pods out of that order are taken out and put back, which is still right.
   */
  private reindex(name: string, prev: NodeInfo | undefined, copy: NodeInfo): void {
    let slot = this.slots.get(name);
    if (!slot) this.slots.set(name, (slot = { ni: copy }));
    slot.ni = copy;
    const before = prev?.pods ?? [];
    const now = copy.pods;
    let j = 0;
    let removed: PodInfo[] | undefined;
    for (let i = 0; i < before.length; i++) {
      if (j < now.length && before[i] === now[j]) j++;
      else (removed ??= []).push(before[i]);
    }
    if (removed) this.unindexPods(removed);
    for (; j < now.length; j++) this.indexPod(now[j], slot);
    this.bumpAnti(copy, 1);
  }

  private indexPod(pi: PodInfo, slot: NodeSlot): void {
    const labels = pi.pod.metadata.labels;
    if (!labels) return;
    const ns = pi.pod.metadata.namespace ?? '';
    const uid = podUID(pi.pod);
    for (const k in labels) {
      const key = `${ns}\u0000${k}\u0000${labels[k]}`;
      let m = this.byLabel.get(key);
      if (!m) this.byLabel.set(key, (m = new Map()));
      m.set(uid, new IndexedPod(pi, slot));
    }
  }

  /** Drops these pods' entries, unless their uid's entry is another pod's now (it moved). */
  private unindexPods(pods: PodInfo[]): void {
    for (let i = 0; i < pods.length; i++) {
      const pi = pods[i];
      const labels = pi.pod.metadata.labels;
      if (!labels) continue;
      const ns = pi.pod.metadata.namespace ?? '';
      const uid = podUID(pi.pod);
      for (const k in labels) {
        const key = `${ns}\u0000${k}\u0000${labels[k]}`;
        const m = this.byLabel.get(key);
        if (m?.get(uid)?.pi === pi) {
          m.delete(uid);
          if (m.size === 0) this.byLabel.delete(key);
        }
      }
    }
  }

  private bumpAnti(ni: NodeInfo, delta: number): void {
    const labels = ni.node?.metadata.labels ?? {};
    for (const pi of ni.podsWithRequiredAntiAffinity) {
      for (const t of pi.requiredAntiAffinity) {
        const v = labels[t.topologyKey];
        if (v === undefined) continue;
        const sig = termSignature(t);
        let g = this.antiGroups.get(sig);
        if (!g) {
          this.antiGroups.set(sig, (g = { term: t, counts: new Map() }));
          this.indexAntiGroup(g, true);
        }
        const n = (g.counts.get(v) ?? 0) + delta;
        if (n <= 0) g.counts.delete(v);
        else g.counts.set(v, n);
        if (g.counts.size === 0) {
          this.antiGroups.delete(sig);
          this.indexAntiGroup(g, false);
        }
      }
    }
  }

  podsWithLabel(namespace: string, key: string, value: string): Iterable<PodRef> {
    return this.byLabel.get(`${namespace}\u0000${key}\u0000${value}`)?.values() ?? [];
  }

  nodesVersion(): number {
    return this.version;
  }

  labelValues(key: string): (string | undefined)[] {
    // Slots and labels only change along with the version (a node added, removed or relabelled).
    if (this.labelValuesVersion !== this.version) {
      this.labelValueCache.clear();
      this.labelValuesVersion = this.version;
    }
    let values = this.labelValueCache.get(key);
    if (!values) {
      values = this.all.map((ni) => ni.node?.metadata.labels?.[key]);
      this.labelValueCache.set(key, values);
    }
    return values;
  }

  antiAffinityGroups(labels?: Record<string, string>): Iterable<AntiAffinityGroup> {
    if (!labels) return this.antiGroups.values();
    const out = [...this.antiUnindexed];
    for (const k in labels) {
      const groups = this.antiByLabel.get(`${k}\u0000${labels[k]}`);
      if (groups) for (const g of groups) out.push(g);
    }
    return out;
  }

  private indexAntiGroup(g: AntiAffinityGroup, add: boolean): void {
    const r = g.term.selector.requirements.find((q) => (q.operator === 'in' || q.operator === '=' || q.operator === '==') && q.values.length === 1);
    if (!r) {
      if (add) this.antiUnindexed.add(g);
      else this.antiUnindexed.delete(g);
      return;
    }
    const key = `${r.key}\u0000${r.values[0]}`;
    let set = this.antiByLabel.get(key);
    if (add) {
      if (!set) this.antiByLabel.set(key, (set = new Set()));
      set.add(g);
    } else if (set) {
      set.delete(g);
      if (set.size === 0) this.antiByLabel.delete(key);
    }
  }

  list(): NodeInfo[] {
    return this.all;
  }
  get(name: string): NodeInfo | undefined {
    return this.map.get(name);
  }
  havePodsWithAffinity(): NodeInfo[] {
    return this.withAffinity;
  }
  havePodsWithRequiredAntiAffinity(): NodeInfo[] {
    return this.withAntiAffinity;
  }
  numNodes(): number {
    return this.all.length;
  }
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/** Terms with the same namespaces, selectors and topology key behave identically. */
function termSignature(t: AffinityTerm): string {
  const ns = [...t.namespaces].sort().join(',');
  const nsSel = t.nsSelector.selectsNothing ? '<none>' : t.nsSelector.toString();
  return `${ns}|${nsSel}|${t.selector.selectsNothing ? '<none>' : t.selector.toString()}|${t.topologyKey}`;
}
