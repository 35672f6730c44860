// Periodic clean-up (upstream HandlePodCleanups and the container GC): what the runtime and the
// disk still hold for pods the kubelet no longer knows — after deletions it missed while down, or
// leftovers of a crash — is stopped and removed: sandboxes, containers, log directories, volume
// directories, pod cgroups. Finished containers of known pods are kept two per name (the current
// one and the previous one, for `kubectl logs --previous`); older ones and their logs go.

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container as CriContainer, PodSandbox } from '../cri/types.ts';
import { isNotFound } from '../cri/errors.ts';
import type { SyncContext } from './context.ts';
import { listByPod } from './runtime-state.ts';
import { podCgroupUids, removePodCgroups } from './cgroups.ts';

/** Finished instances kept per container name. */
const KEEP_PER_CONTAINER = 2;

/** `known()` is asked after the runtime was listed, so a pod added meanwhile is never taken for an orphan. */
export async function cleanupOrphans(ctx: SyncContext, known: () => Set<string>, busy: (uid: string) => boolean): Promise<void> {
  const runtime = await listByPod(ctx.cri);
  const knownNow = known();
  for (const [uid, e] of runtime) {
    if (busy(uid)) continue;
    if (knownNow.has(uid)) {
      await gcKnownPod(ctx, uid, e);
      continue;
    }
    ctx.log(`removing the containers of pod ${uid}, which is not bound to this node any more`);
    for (const c of e.containers) {
      if (c.state === 'CONTAINER_RUNNING') await ctx.cri.stopContainer(c.id, 2).catch(() => {});
      await ctx.cri.removeContainer(c.id).catch(() => {});
    }
    for (const sb of e.sandboxes) {
      await ctx.cri.stopPodSandbox(sb.id).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      await ctx.cri.removePodSandbox(sb.id).catch(() => {});
    }
    ctx.state.forget(
      e.containers.map((c) => c.id),
      e.sandboxes.map((s) => s.id),
    );
  }
  const inRuntime = (uid: string) => runtime.has(uid);
  // Log directories <ns>_<name>_<uid>.
  try {
    for (const d of await readdir(ctx.podLogsDir)) {
      const uid = d.slice(d.lastIndexOf('_') + 1);
      if (!knownNow.has(uid) && !inRuntime(uid)) await rm(join(ctx.podLogsDir, d), { recursive: true, force: true });
    }
  } catch {
    /* no logs directory yet */
  }
  const keep = new Set([...knownNow, ...runtime.keys()]);
  await ctx.volumes.cleanupOrphans(keep).catch((e) => ctx.log(`cleaning up orphaned pod volumes: ${(e as Error).message}`));
  for (const uid of podCgroupUids(ctx.cgroupRoot)) if (!keep.has(uid)) await removePodCgroups(ctx.cgroupRoot, uid);
}

async function gcKnownPod(ctx: SyncContext, uid: string, e: { sandboxes: PodSandbox[]; containers: CriContainer[] }): Promise<void> {
  const byName = new Map<string, CriContainer[]>();
  for (const c of e.containers) {
    const name = c.metadata?.name ?? '';
    byName.set(name, [...(byName.get(name) ?? []), c]);
  }
  const extra: CriContainer[] = [];
  for (const list of byName.values()) {
    list.sort((a, b) => b.createdAt - a.createdAt);
    extra.push(...list.slice(KEEP_PER_CONTAINER).filter((c) => c.state === 'CONTAINER_EXITED'));
  }
  if (extra.length) {
    const state = await ctx.state.podState(uid);
    for (const c of extra) {
      const d = state.containers.find((x) => x.id === c.id);
      await ctx.cri.removeContainer(c.id).catch(() => {});
      if (d?.logPath) await rm(d.logPath, { force: true }).catch(() => {});
    }
    ctx.state.forget(extra.map((c) => c.id));
  }
  // Old sandboxes that a newer one replaced.
  const sbs = [...e.sandboxes].sort((a, b) => b.createdAt - a.createdAt);
  for (const sb of sbs.slice(1)) {
    if (sb.state === 'SANDBOX_READY') continue;
    if (e.containers.some((c) => c.podSandboxId === sb.id)) continue;
    await ctx.cri.removePodSandbox(sb.id).catch(() => {});
  }
}
