// The `local` cloud provider: the machine Mizzen runs on is the cloud. Instances are the nodes
// that run here (providerID local://<node>), and load balancers are real TCP/UDP listeners on
// local addresses (load-balancer.ts). No routes: the kubelet's bridge already reaches local pods.

import type { KObject } from '../../../api/types.ts';
import { InstanceNotFoundError } from '../../errors.ts';
import type { CloudProvider, InstanceMetadata, InstancesV2, LoadBalancer, NodeAddress, ProviderContext, Routes } from '../../provider.ts';
import type { ProviderOptions } from '../../registry.ts';
import { ANNOTATION_PROVIDED_NODE_IP } from '../../labels.ts';
import { parseLocalConfig, type LocalConfig } from './config.ts';
import { LocalLoadBalancer } from './load-balancer.ts';
import { LocalMachine, realMachine, type MachineFacts } from './machine.ts';

export const PROVIDER_ID_PREFIX = 'local://';

export class LocalInstances implements InstancesV2 {
  constructor(
    private readonly config: LocalConfig,
    private readonly machine: LocalMachine,
  ) {}

  async instanceExists(node: KObject): Promise<boolean> {
    if (this.machine.kindOf(node)) return true;
    // A node we once initialised that no longer runs here is gone; anything else is not ours to delete.
    return !String(node.spec?.providerID ?? '').startsWith(PROVIDER_ID_PREFIX);
  }

  async instanceShutdown(_node: KObject): Promise<boolean> {
    // This machine is running: a local instance is never shut down while we answer.
    return false;
  }

  async instanceMetadata(node: KObject): Promise<InstanceMetadata> {
    const name = String(node.metadata.name);
    const kind = this.machine.kindOf(node);
    if (!kind) throw new InstanceNotFoundError(`instance not found: node ${name} does not run on this machine (${this.machine.hostname()})`);
    const meta: InstanceMetadata = { providerID: `${PROVIDER_ID_PREFIX}${name}`, nodeAddresses: [] };
    if (kind === 'simulated') {
      // Its addresses are the simulator's data; keep them.
      meta.instanceType = 'simulated';
      meta.nodeAddresses = ((node.status?.addresses ?? []) as NodeAddress[]).map((a) => ({ type: a.type, address: a.address }));
    } else {
      meta.instanceType = this.config.instanceType;
      const provided = node.metadata.annotations?.[ANNOTATION_PROVIDED_NODE_IP];
      const reported = ((node.status?.addresses ?? []) as NodeAddress[]).find((a) => a.type === 'InternalIP' && this.machine.hasAddress(a.address))?.address;
      meta.nodeAddresses = [
        { type: 'InternalIP', address: provided ?? reported ?? this.machine.primaryIPv4() },
        { type: 'Hostname', address: this.machine.hostname() },
      ];
    }
    if (this.config.zone) meta.zone = this.config.zone;
    if (this.config.region) meta.region = this.config.region;
    return meta;
  }
}

export class LocalProvider implements CloudProvider {
  readonly name = 'local';
  readonly lb: LocalLoadBalancer;
  readonly instances: LocalInstances;

  constructor(
    readonly config: LocalConfig,
    readonly machine: LocalMachine,
  ) {
    this.lb = new LocalLoadBalancer(config, machine);
    this.instances = new LocalInstances(config, machine);
  }

  initialize(ctx: ProviderContext): void {
    this.lb.initialize(ctx);
  }

  async stop(): Promise<void> {
    await this.lb.stop();
  }

  loadBalancer(): LoadBalancer {
    return this.lb;
  }
  instancesV2(): InstancesV2 {
    return this.instances;
  }
  routes(): Routes | undefined {
    return undefined;
  }
  hasClusterID(): boolean {
    return true;
  }
}

/** overrides.machine (MachineFacts) replaces the real host name and interfaces in tests. */
export async function createProvider(opts: ProviderOptions): Promise<CloudProvider> {
  const config = parseLocalConfig(opts.config);
  const facts = (opts.overrides?.machine as MachineFacts | undefined) ?? realMachine();
  return new LocalProvider(config, new LocalMachine(facts, config.nodeNames));
}
