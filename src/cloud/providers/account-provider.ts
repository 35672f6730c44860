// The CloudProvider of a cloud account (aws, gcp, azure): the parts each cloud builds on its SDK
// (instances, load balancer, routes) and the view of the Node objects its routes need, attached
// for each leadership term.

import type { CloudProvider, InstancesV2, LoadBalancer, ProviderContext, Routes } from '../provider.ts';
import type { NodeDirectory } from './node-directory.ts';

export interface AccountParts {
  instances: InstancesV2;
  loadBalancer: LoadBalancer;
  /** Absent where the account has nowhere to put pod routes (azure without a route table). */
  routes?: Routes;
  nodes: NodeDirectory;
}

export class AccountProvider implements CloudProvider {
  constructor(
    readonly name: string,
    private readonly parts: AccountParts,
  ) {}
  initialize(ctx: ProviderContext): void {
    this.parts.nodes.attach(ctx);
  }
  async stop(): Promise<void> {
    this.parts.nodes.detach();
  }
  instancesV2(): InstancesV2 {
    return this.parts.instances;
  }
  loadBalancer(): LoadBalancer {
    return this.parts.loadBalancer;
  }
  routes(): Routes | undefined {
    return this.parts.routes;
  }
  /** Their resources carry the cluster's name in tags or names. */
  hasClusterID(): boolean {
    return true;
  }
}
