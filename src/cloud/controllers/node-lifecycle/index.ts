// The cloud node lifecycle controller (upstream "cloud-node-lifecycle-controller"): every
// nodeMonitorPeriod, a node that is not Ready is deleted when the cloud says its machine is gone,
// and gets the taint node.cloudprovider.kubernetes.io/shutdown when the machine is shut down; a
// Ready node loses that taint. Nodes labelled node.kubernetes.io/exclude-from-lifecycle-management
// are left alone.

import type { KObject } from '../../../api/types.ts';
import { isNotFound } from '../../../client/api-client.ts';
import type { Controller, ControllerContext } from '../../../controllers/types.ts';
import { isNotImplemented } from '../../errors.ts';
import { LABEL_EXCLUDE_FROM_LIFECYCLE, TAINT_SHUTDOWN } from '../../labels.ts';
import type { CloudProvider, InstancesV2 } from '../../provider.ts';
import type { CloudControllerOptions } from '../options.ts';

export const CLOUD_NODE_LIFECYCLE_CONTROLLER = 'cloud-node-lifecycle-controller';

const nodeRef = (name: string) => ({ version: 'v1', resource: 'nodes', name });

function readyStatus(node: KObject): string {
  const c = ((node.status?.conditions ?? []) as any[]).find((x) => x?.type === 'Ready');
  return c?.status ?? 'Unknown';
}

function hasShutdownTaint(node: KObject): boolean {
  return ((node.spec?.taints ?? []) as any[]).some((t) => t?.key === TAINT_SHUTDOWN && t?.effect === 'NoSchedule');
}

export function cloudNodeLifecycleController(ctx: ControllerContext, cloud: CloudProvider, opts: CloudControllerOptions): Controller {
  const maybeInstances = cloud.instancesV2();
  if (!maybeInstances) throw new Error('cloud provider does not support instances');
  const instances: InstancesV2 = maybeInstances;
  const recorder = ctx.recorder('cloud-node-lifecycle-controller');
  const nodes = ctx.informers.informerFor({ version: 'v1', resource: 'nodes' });
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let stopped = false;
  const log = (m: string) => ctx.log(`${CLOUD_NODE_LIFECYCLE_CONTROLLER}: ${m}`);

  /** Add or remove the shutdown taint, re-reading the node (taints are one list: a stale write would drop others'). */
  async function setShutdownTaint(name: string, present: boolean): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const node = await ctx.client.get<KObject>(nodeRef(name));
      const taints: any[] = node.spec?.taints ?? [];
      if (hasShutdownTaint(node) === present) return;
      const next = present ? [...taints, { key: TAINT_SHUTDOWN, effect: 'NoSchedule' }] : taints.filter((t) => !(t?.key === TAINT_SHUTDOWN && t?.effect === 'NoSchedule'));
      try {
        await ctx.client.patch(nodeRef(name), 'merge', { metadata: { resourceVersion: node.metadata.resourceVersion }, spec: { taints: next.length ? next : null } });
        return;
      } catch (e) {
        if ((e as { code?: number }).code !== 409) throw e;
      }
    }
  }

  async function monitorNodes(): Promise<void> {
    for (const node of nodes.indexer.list()) {
      if (stopped) return;
      const name = node.metadata.name!;
      if (LABEL_EXCLUDE_FROM_LIFECYCLE in (node.metadata.labels ?? {})) continue;
      if (readyStatus(node) === 'True') {
        if (hasShutdownTaint(node)) await setShutdownTaint(name, false).catch((e) => log(`error patching node taints: ${(e as Error).message}`));
        continue;
      }
      let exists: boolean;
      try {
        exists = await instances.instanceExists(node);
      } catch (e) {
        log(`error checking if node ${name} exists: ${(e as Error).message}`);
        continue;
      }
      if (!exists) {
        // The machine is gone: the node object goes too, its taints no longer matter.
        log(`deleting node since it is no longer present in cloud provider: ${name}`);
        const ref = { apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid };
        recorder.event(ref, 'Normal', 'DeletingNode', `Deleting node ${name} because it does not exist in the cloud provider`);
        try {
          await ctx.client.delete(nodeRef(name));
        } catch (e) {
          if (isNotFound(e)) continue;
          log(`unable to delete node "${name}": ${(e as Error).message}`);
          recorder.event(ref, 'Warning', 'DeletingNodeFailed', `Failed deleting node ${name}: ${(e as Error).message}`);
        }
        continue;
      }
      let shutdown: boolean;
      try {
        shutdown = await instances.instanceShutdown(node);
      } catch (e) {
        // A provider that cannot tell shut-down machines apart: as upstream, not shut down.
        if (isNotImplemented(e)) continue;
        log(`error checking if node ${name} is shutdown: ${(e as Error).message}`);
        continue;
      }
      if (shutdown && !hasShutdownTaint(node)) {
        await setShutdownTaint(name, true).catch((e) => log(`failed to apply shutdown taint to node ${name}, it may have been deleted: ${(e as Error).message}`));
      }
    }
  }

  return {
    name: CLOUD_NODE_LIFECYCLE_CONTROLLER,
    run() {
      const tick = () => {
        if (stopped || current) return;
        current = monitorNodes()
          .catch((e) => log(`${(e as Error).message}`))
          .finally(() => (current = undefined));
      };
      tick();
      timer = setInterval(tick, opts.nodeMonitorPeriodMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
