// What the container runtime holds for each pod, found by the labels the kubelet puts on sandboxes
// and containers (io.kubernetes.pod.uid, io.kubernetes.container.name): the pod's sandboxes and
// containers, newest first, with the details of each container's last known state. Container
// details (exit code, reason, times, termination message) are fetched once per state change and
// cached, so a sync costs two list calls plus a status call per changed container.
//
// `relist()` is the PLEG (upstream pleg/generic.go): one listing of everything every second;
// pods whose sandboxes or containers changed state are reported so their workers sync.

import type { CriClient } from '../cri/services.ts';
import { isNotFound } from '../cri/errors.ts';
import type { Container as CriContainer, ContainerState, PodSandbox, PodSandboxState } from '../cri/types.ts';
import {
  CONTAINER_HASH_ANNOTATION,
  CONTAINER_NAME_LABEL,
  CONTAINER_RESTART_COUNT_ANNOTATION,
  POD_UID_LABEL,
  TERMINATION_MESSAGE_PATH_ANNOTATION,
  TERMINATION_MESSAGE_POLICY_ANNOTATION,
} from '../pods/container-config.ts';
import { readTerminationMessage } from '../volumes/termination-message.ts';

export interface RuntimeSandbox {
  id: string;
  state: PodSandboxState;
  attempt: number;
  /** ms since the epoch */
  createdAt: number;
  /** Pod IPs (primary first) while the sandbox is ready. */
  ips: string[];
}

export interface RuntimeContainer {
  id: string;
  sandboxId: string;
  name: string;
  /** CRI attempt = the kubelet's restart count for this instance. */
  restartCount: number;
  hash: string;
  state: ContainerState;
  /** ms since the epoch; 0 when not (yet) */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  imageRef: string;
  logPath: string;
}

export interface PodRuntimeState {
  uid: string;
  /** Newest first. */
  sandboxes: RuntimeSandbox[];
  /** Newest first. */
  containers: RuntimeContainer[];
}

const ns2ms = (ns: number) => (ns > 0 ? Math.floor(ns / 1e6) : 0);

export type RuntimePods = Map<string, { sandboxes: PodSandbox[]; containers: CriContainer[] }>;

/** Every sandbox and container the runtime has, grouped by pod UID (from the labels the kubelet set). */
export async function listByPod(cri: Pick<CriClient, 'listPodSandbox' | 'listContainers'>): Promise<RuntimePods> {
  const [sandboxes, containers] = await Promise.all([cri.listPodSandbox(), cri.listContainers()]);
  return byPod(sandboxes, containers);
}

function byPod(sandboxes: PodSandbox[], containers: CriContainer[]): RuntimePods {
  const all: RuntimePods = new Map();
  const entry = (uid: string) => {
    let e = all.get(uid);
    if (!e) all.set(uid, (e = { sandboxes: [], containers: [] }));
    return e;
  };
  for (const s of sandboxes) {
    const uid = s.labels[POD_UID_LABEL] ?? s.metadata?.uid;
    if (uid) entry(uid).sandboxes.push(s);
  }
  for (const c of containers) {
    const uid = c.labels[POD_UID_LABEL];
    if (uid) entry(uid).containers.push(c);
  }
  return all;
}

export class RuntimeState {
  private readonly details = new Map<string, RuntimeContainer>();
  private readonly sandboxIPs = new Map<string, string[]>();
  private lastSignatures = new Map<string, string>();
  /** The items of the last relist's answers, and what it made of them. */
  private lastItems = new Set<object>();
  private lastCounts = [-1, -1];
  private lastAll: RuntimePods = new Map();

  constructor(private readonly cri: CriClient) {}

  /** The pod's sandboxes and containers as the runtime has them now. */
  async podState(uid: string): Promise<PodRuntimeState> {
    const labelSelector = { [POD_UID_LABEL]: uid };
    const [sandboxes, containers] = await Promise.all([this.cri.listPodSandbox({ labelSelector }), this.cri.listContainers({ labelSelector })]);
    return this.build(uid, sandboxes, containers);
  }

  private async build(uid: string, sandboxes: PodSandbox[], containers: CriContainer[]): Promise<PodRuntimeState> {
    const sbs: RuntimeSandbox[] = [];
    for (const s of sandboxes) {
      let ips: string[] = [];
      if (s.state === 'SANDBOX_READY') {
        ips = this.sandboxIPs.get(s.id) ?? [];
        if (!this.sandboxIPs.has(s.id)) {
          try {
            const st = (await this.cri.podSandboxStatus(s.id)).status;
            const net = st?.network;
            ips = net?.ip ? [net.ip, ...net.additionalIps.map((a) => a.ip)] : [];
            this.sandboxIPs.set(s.id, ips);
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
        }
      }
      sbs.push({ id: s.id, state: s.state, attempt: s.metadata?.attempt ?? 0, createdAt: ns2ms(s.createdAt), ips });
    }
    sbs.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
    const cs: RuntimeContainer[] = [];
    for (const c of containers) {
      const d = await this.containerDetails(c);
      if (d) cs.push(d);
    }
    cs.sort((a, b) => b.createdAt - a.createdAt || b.restartCount - a.restartCount);
    return { uid, sandboxes: sbs, containers: cs };
  }

  private async containerDetails(c: CriContainer): Promise<RuntimeContainer | undefined> {
    const cached = this.details.get(c.id);
    if (cached && cached.state === c.state) return cached;
    let st;
    try {
      st = (await this.cri.containerStatus(c.id)).status;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    if (!st) return undefined;
    const ann = c.annotations ?? {};
    const d: RuntimeContainer = {
      id: c.id,
      sandboxId: c.podSandboxId,
      name: c.labels[CONTAINER_NAME_LABEL] ?? c.metadata?.name ?? '',
      restartCount: Number(ann[CONTAINER_RESTART_COUNT_ANNOTATION] ?? c.metadata?.attempt ?? 0) || 0,
      hash: ann[CONTAINER_HASH_ANNOTATION] ?? '',
      state: st.state,
      createdAt: ns2ms(st.createdAt),
      startedAt: ns2ms(st.startedAt),
      finishedAt: ns2ms(st.finishedAt),
      exitCode: st.exitCode,
      reason: st.reason,
      message: st.message,
      imageRef: st.imageRef,
      logPath: st.logPath,
    };
    if (st.state === 'CONTAINER_EXITED' && !d.message) {
      d.message = await readTerminationMessage({
        terminationMessagePath: ann[TERMINATION_MESSAGE_PATH_ANNOTATION],
        terminationMessagePolicy: ann[TERMINATION_MESSAGE_POLICY_ANNOTATION],
        exitCode: st.exitCode,
        mounts: st.mounts,
        logPath: st.logPath,
      }).catch(() => '');
    }
    this.details.set(c.id, d);
    return d;
  }

  /** Forget cached details of containers and sandboxes that are gone. */
  forget(containerIds: string[], sandboxIds: string[] = []): void {
    for (const id of containerIds) this.details.delete(id);
    for (const id of sandboxIds) this.sandboxIPs.delete(id);
  }

  /**
   * One listing of every sandbox and container: the UIDs whose runtime state changed since the
   * last relist, and every UID the runtime has (for orphan clean-up).
   */
  async relist(): Promise<{ changed: string[]; all: RuntimePods }> {
    const [sandboxes, containers] = await Promise.all([this.cri.listPodSandbox(), this.cri.listContainers()]);
    // The CRI client gives the same objects for items whose bytes did not change (ItemCache):
    // the same items as last time means nothing changed, without grouping or signatures.
    if (sandboxes.length === this.lastCounts[0] && containers.length === this.lastCounts[1] && sandboxes.every((s) => this.lastItems.has(s)) && containers.every((c) => this.lastItems.has(c))) {
      return { changed: [], all: this.lastAll };
    }
    const all = byPod(sandboxes, containers);
    const signatures = new Map<string, string>();
    for (const [uid, e] of all) {
      const sig = [...e.sandboxes.map((s) => `${s.id}:${s.state}`), ...e.containers.map((c) => `${c.id}:${c.state}`)].sort().join(',');
      signatures.set(uid, sig);
    }
    const changed: string[] = [];
    for (const [uid, sig] of signatures) if (this.lastSignatures.get(uid) !== sig) changed.push(uid);
    for (const uid of this.lastSignatures.keys()) if (!signatures.has(uid)) changed.push(uid);
    this.lastSignatures = signatures;
    this.lastItems = new Set<object>([...sandboxes, ...containers]);
    this.lastCounts = [sandboxes.length, containers.length];
    this.lastAll = all;
    // Cached details of containers the runtime no longer has.
    const live = new Set([...all.values()].flatMap((e) => e.containers.map((c) => c.id)));
    for (const id of this.details.keys()) if (!live.has(id)) this.details.delete(id);
    const liveSb = new Set([...all.values()].flatMap((e) => e.sandboxes.map((s) => s.id)));
    for (const id of this.sandboxIPs.keys()) if (!liveSb.has(id)) this.sandboxIPs.delete(id);
    return { changed, all };
  }
}
