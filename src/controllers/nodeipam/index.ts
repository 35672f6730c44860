// Node IPAM (upstream's range allocator): every node gets spec.podCIDR/podCIDRs, the lowest free
// block of the cluster CIDR. Allocations are rebuilt from the nodes at start and released when a
// node goes away.

import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerFactory } from '../types.ts';
import { CIDRSet } from './cidr-set.ts';

export { CIDRSet } from './cidr-set.ts';

/** Node reference as upstream's node events use it (UID doubles as the name's identity). */
export function nodeRef(node: KObject): { kind: string; name: string; uid?: string } {
  return { kind: 'Node', name: node.metadata.name!, uid: node.metadata.uid };
}

function nodeCIDRs(node: KObject): string[] {
  const list: unknown = node.spec?.podCIDRs;
  if (Array.isArray(list) && list.length) return list.filter((c): c is string => typeof c === 'string');
  return typeof node.spec?.podCIDR === 'string' && node.spec.podCIDR ? [node.spec.podCIDR] : [];
}

export const nodeIpamController: ControllerFactory = (ctx) => {
  const recorder = ctx.recorder('node-controller');
  const cidrs = new CIDRSet(ctx.options.clusterCIDR, ctx.options.nodeCIDRMaskSize);
  const nodes = ctx.informers.informerFor({ version: 'v1', resource: 'nodes' });
  // Blocks we handed out whose write has not come back through the watch yet (node name -> cidr),
  // so a second sync before the informer catches up reuses the block instead of taking another.
  const pending = new Map<string, { uid?: string; cidr: string }>();
  let started = false;

  const sync = async (name: string): Promise<void> => {
    const node = nodes.indexer.getByKey(name);
    if (!node) return;
    const have = nodeCIDRs(node);
    if (have.length) {
      for (const c of have) cidrs.occupy(c);
      pending.delete(name);
      return;
    }
    let p = pending.get(name);
    if (p && p.uid !== node.metadata.uid) {
      cidrs.release(p.cidr);
      pending.delete(name);
      p = undefined;
    }
    if (!p) {
      const cidr = cidrs.allocateNext();
      if (!cidr) {
        recorder.eventf(nodeRef(node), 'Normal', 'CIDRNotAvailable', 'Node %s status is now: %s', name, 'CIDRNotAvailable');
        throw new Error(`failed to allocate cidr from cluster cidr ${ctx.options.clusterCIDR} for node ${name}: CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range`);
      }
      p = { uid: node.metadata.uid, cidr };
      pending.set(name, p);
    }
    try {
      await ctx.client.patch({ version: 'v1', resource: 'nodes', name }, 'merge', {
        metadata: { uid: node.metadata.uid },
        spec: { podCIDR: p.cidr, podCIDRs: [p.cidr] },
      });
    } catch (e) {
      if (isNotFound(e)) {
        cidrs.release(p.cidr);
        pending.delete(name);
        return;
      }
      throw e;
    }
  };

  const worker = new KeyWorker('nodeipam', sync, ctx.log);
  const enqueue = (n: KObject) => {
    if (started) worker.add(n.metadata.name!);
  };
  nodes.addEventHandler({
    onAdd: enqueue,
    onUpdate: (_o, n) => {
      if (!nodeCIDRs(n).length) enqueue(n);
    },
    onDelete: (n) => {
      const name = n.metadata.name!;
      const p = pending.get(name);
      if (p) {
        cidrs.release(p.cidr);
        pending.delete(name);
      }
      // Only free a block no other node still carries (a hand-edited duplicate stays taken).
      for (const c of nodeCIDRs(n)) {
        const stillUsed = nodes.indexer.list().some((o) => nodeCIDRs(o).includes(c));
        if (!stillUsed) cidrs.release(c);
      }
    },
  });

  return {
    name: 'node-ipam-controller',
    run() {
      // Take every block already on a node before allocating anything new.
      for (const n of nodes.indexer.list()) for (const c of nodeCIDRs(n)) cidrs.occupy(c);
      started = true;
      for (const n of nodes.indexer.list()) if (!nodeCIDRs(n).length) worker.add(n.metadata.name!);
      worker.run(1);
    },
    stop: () => worker.stop(),
  };
};
