// The cloud node controller (upstream "cloud-node-controller"): a node registered with the taint
// node.cloudprovider.kubernetes.io/uninitialized (a kubelet run with --cloud-provider=external)
// gets the cloud's providerID, instance-type / zone / region labels and addresses, then loses the
// taint; initialised nodes get their beta labels reconciled, and every
// nodeStatusUpdateFrequency their addresses refreshed.

import type { KObject } from '../../../api/types.ts';
import { isConflict, isNotFound } from '../../../client/api-client.ts';
import type { Controller, ControllerContext } from '../../../controllers/types.ts';
import {
  LABEL_INSTANCE_TYPE,
  LABEL_INSTANCE_TYPE_BETA,
  LABEL_REGION,
  LABEL_REGION_BETA,
  LABEL_ZONE,
  LABEL_ZONE_BETA,
  TAINT_UNINITIALIZED,
} from '../../labels.ts';
import type { CloudProvider, InstanceMetadata, InstancesV2, NodeAddress } from '../../provider.ts';
import type { CloudControllerOptions } from '../options.ts';
import { cloudWorker } from '../worker.ts';
import { addressesForProvidedNodeIP, nodeAddressesChanged, nodeAddressesToPublish } from './addresses.ts';

export const CLOUD_NODE_CONTROLLER = 'cloud-node-controller';

/** Beta label -> GA label: the GA one follows the beta one, which is the source of truth (as upstream). */
const LABEL_PAIRS: Array<[string, string]> = [
  [LABEL_ZONE_BETA, LABEL_ZONE],
  [LABEL_REGION_BETA, LABEL_REGION],
  [LABEL_INSTANCE_TYPE_BETA, LABEL_INSTANCE_TYPE],
];

const K8S_NAMESPACE = /(^|\.)(kubernetes|k8s)\.io\//;

const nodeRef = (name: string) => ({ version: 'v1', resource: 'nodes', name });

function hasCloudTaint(node: KObject): boolean {
  return ((node.spec?.taints ?? []) as any[]).some((t) => t?.key === TAINT_UNINITIALIZED);
}

/** Apply the cloud's facts to a copy of the node (idempotent: it may run again after a conflict). */
export function initializedNode(node: KObject, meta: InstanceMetadata, log: (m: string) => void = () => {}): KObject {
  const n: KObject = structuredClone(node);
  n.spec ??= {};
  if (!n.spec.providerID && meta.providerID) n.spec.providerID = meta.providerID;
  const labels: Record<string, string> = (n.metadata.labels ??= {});
  if (meta.instanceType) labels[LABEL_INSTANCE_TYPE_BETA] = labels[LABEL_INSTANCE_TYPE] = meta.instanceType;
  if (meta.zone) labels[LABEL_ZONE_BETA] = labels[LABEL_ZONE] = meta.zone;
  if (meta.region) labels[LABEL_REGION_BETA] = labels[LABEL_REGION] = meta.region;
  for (const [k, v] of Object.entries(meta.additionalLabels ?? {})) {
    if (K8S_NAMESPACE.test(k)) {
      log(`discarding node label ${k} with kubernetes namespace`);
      continue;
    }
    if (k in labels) {
      if (labels[k] !== v) log(`discarding node label ${k} that is already present`);
      continue;
    }
    labels[k] = v;
  }
  n.spec.taints = ((n.spec.taints ?? []) as any[]).filter((t) => t?.key !== TAINT_UNINITIALIZED);
  if (n.spec.taints.length === 0) delete n.spec.taints;
  return n;
}

export function cloudNodeController(ctx: ControllerContext, cloud: CloudProvider, opts: CloudControllerOptions): Controller {
  const maybeInstances = cloud.instancesV2();
  if (!maybeInstances) throw new Error('cloud provider does not support instances');
  const instances: InstancesV2 = maybeInstances;
  const recorder = ctx.recorder('cloud-node-controller');
  const nodes = ctx.informers.informerFor({ version: 'v1', resource: 'nodes' });
  const worker = cloudWorker(CLOUD_NODE_CONTROLLER, (name) => syncNode(name), ctx.log, { minMs: opts.nodeRetryMinMs, maxMs: opts.nodeRetryMaxMs });
  let statusTimer: NodeJS.Timeout | undefined;
  let statusRun: Promise<void> | undefined;
  let stopped = false;

  nodes.addEventHandler({
    onAdd: (n) => worker.add(n.metadata.name!),
    onUpdate: (_o, n) => worker.add(n.metadata.name!),
  });

  async function instanceMetadata(node: KObject): Promise<InstanceMetadata> {
    const meta = await instances.instanceMetadata(node);
    // providerID is what balancers and routes key on: never untaint without one.
    if (!meta.providerID) {
      if (!node.spec?.providerID) throw new Error(`cloud provider does not set node provider ID for node ${node.metadata.name}`);
      meta.providerID = node.spec.providerID;
    }
    return meta;
  }

  async function syncNode(name: string): Promise<void> {
    const cur = nodes.indexer.getByKey(name);
    if (!cur) return;
    if (!hasCloudTaint(cur)) return reconcileNodeLabels(cur);
    ctx.log(`${CLOUD_NODE_CONTROLLER}: initializing node ${name} with cloud provider`);
    let meta: InstanceMetadata;
    try {
      meta = await instanceMetadata(cur);
    } catch (e) {
      throw new Error(`failed to get instance metadata for node ${name}: ${(e as Error).message}`);
    }
    // A --node-ip the cloud does not know keeps the node tainted (retried).
    try {
      addressesForProvidedNodeIP(cur, meta.nodeAddresses);
    } catch (e) {
      throw new Error(`provided node ip for node "${name}" is not valid: ${(e as Error).message}`);
    }
    let node = cur;
    let updated: KObject | undefined;
    for (let attempt = 0; !updated; attempt++) {
      try {
        updated = await ctx.client.update<KObject>(nodeRef(name), initializedNode(node, meta, (m) => ctx.log(`${CLOUD_NODE_CONTROLLER}: ${m}`)));
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e) || attempt >= 19) throw e;
        node = await ctx.client.get<KObject>(nodeRef(name));
        if (!hasCloudTaint(node)) return;
      }
    }
    // Addresses right away, so users do not wait a status period for them.
    await updateNodeAddress(updated, meta.nodeAddresses);
    ctx.log(`${CLOUD_NODE_CONTROLLER}: successfully initialized node ${name} with cloud provider`);
    recorder.event(cur, 'Normal', 'Synced', 'Node synced successfully');
  }

  async function reconcileNodeLabels(node: KObject): Promise<void> {
    const labels = node.metadata.labels ?? {};
    const patch: Record<string, string> = {};
    for (const [primary, secondary] of LABEL_PAIRS) {
      if (!(primary in labels)) continue;
      if (labels[secondary] !== labels[primary]) patch[secondary] = labels[primary]!;
    }
    if (Object.keys(patch).length === 0) return;
    await ctx.client.patch(nodeRef(node.metadata.name!), 'merge', { metadata: { labels: patch } });
  }

  async function updateNodeAddress(node: KObject, cloudAddresses: NodeAddress[]): Promise<void> {
    if (hasCloudTaint(node) || cloudAddresses.length === 0) return;
    let next: NodeAddress[];
    try {
      next = nodeAddressesToPublish(node, cloudAddresses);
    } catch (e) {
      ctx.log(`${CLOUD_NODE_CONTROLLER}: failed to update node addresses for node "${node.metadata.name}": ${(e as Error).message}`);
      return;
    }
    if (!nodeAddressesChanged((node.status?.addresses ?? []) as NodeAddress[], next)) return;
    try {
      await ctx.client.patch({ ...nodeRef(node.metadata.name!), subresource: 'status' }, 'merge', { status: { addresses: next } });
    } catch (e) {
      ctx.log(`${CLOUD_NODE_CONTROLLER}: error patching node with cloud ip addresses = [${(e as Error).message}]`);
    }
  }

  /** The periodic address refresh of initialised nodes. */
  async function updateNodeStatus(): Promise<void> {
    for (const node of nodes.indexer.list()) {
      if (stopped) return;
      if (hasCloudTaint(node)) continue;
      try {
        const meta = await instances.instanceMetadata(node);
        await updateNodeAddress(node, meta.nodeAddresses);
      } catch (e) {
        ctx.log(`${CLOUD_NODE_CONTROLLER}: error getting instance metadata for node addresses: ${(e as Error).message}`);
      }
    }
  }

  return {
    name: CLOUD_NODE_CONTROLLER,
    run() {
      worker.run(opts.concurrentNodeSyncs);
      const tick = () => {
        if (stopped || statusRun) return;
        statusRun = updateNodeStatus().finally(() => (statusRun = undefined));
      };
      statusTimer = setInterval(tick, opts.nodeStatusUpdateFrequencyMs);
      statusTimer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(statusTimer);
      await worker.stop();
      await statusRun;
    },
  };
}
