// A provider test double for the cloud controllers' tests: instances and balancers kept in maps,
// every call recorded, and errors injected per call name (upstream's fake cloud in spirit).

import type { KObject } from '../../api/types.ts';
import { InstanceNotFoundError } from '../errors.ts';
import {
  defaultLoadBalancerName,
  objectKey,
  type CloudProvider,
  type InstanceMetadata,
  type InstancesV2,
  type LoadBalancer,
  type LoadBalancerStatus,
  type Route,
  type Routes,
} from '../provider.ts';

export interface FakeInstance {
  metadata: InstanceMetadata;
  shutdown?: boolean;
}

export interface FakeCall {
  method: string;
  service?: string;
  node?: string;
  nodes?: string[];
  route?: Route;
}

export class FakeCloud implements CloudProvider {
  readonly name = 'fake';
  /** Machines by node name. */
  readonly instances = new Map<string, FakeInstance>();
  /** Balancers by service key. */
  readonly balancers = new Map<string, { status: LoadBalancerStatus; nodes: string[] }>();
  readonly cloudRoutes = new Map<string, Route>();
  readonly calls: FakeCall[] = [];
  /** Errors to throw, by method name: each entry is used once, in order. */
  readonly errors = new Map<string, Error[]>();
  supports = { instances: true, loadBalancer: true, routes: true };
  private nextIP = 1;

  failNext(method: string, ...errs: Error[]): void {
    this.errors.set(method, [...(this.errors.get(method) ?? []), ...errs]);
  }

  private call(c: FakeCall): void {
    this.calls.push(c);
    const q = this.errors.get(c.method);
    const e = q?.shift();
    if (e) throw e;
  }

  callsOf(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  private readonly instancesImpl: InstancesV2 = {
    instanceExists: async (node) => {
      this.call({ method: 'instanceExists', node: node.metadata.name });
      return this.instances.has(node.metadata.name!);
    },
    instanceShutdown: async (node) => {
      this.call({ method: 'instanceShutdown', node: node.metadata.name });
      const i = this.instances.get(node.metadata.name!);
      if (!i) throw new InstanceNotFoundError();
      return !!i.shutdown;
    },
    instanceMetadata: async (node) => {
      this.call({ method: 'instanceMetadata', node: node.metadata.name });
      const i = this.instances.get(node.metadata.name!);
      if (!i) throw new InstanceNotFoundError();
      return structuredClone(i.metadata);
    },
  };

  private readonly lbImpl: LoadBalancer = {
    getLoadBalancer: async (_cluster, svc) => {
      this.call({ method: 'getLoadBalancer', service: objectKey(svc) });
      const b = this.balancers.get(objectKey(svc));
      return b ? { status: b.status, exists: true } : { exists: false };
    },
    getLoadBalancerName: (_cluster, svc) => defaultLoadBalancerName(svc),
    ensureLoadBalancer: async (_cluster, svc: KObject, nodes) => {
      const names = nodes.map((n) => n.metadata.name!);
      this.call({ method: 'ensureLoadBalancer', service: objectKey(svc), nodes: names });
      let b = this.balancers.get(objectKey(svc));
      if (!b) {
        b = { status: { ingress: [{ ip: `192.0.2.${this.nextIP++}` }] }, nodes: names };
        this.balancers.set(objectKey(svc), b);
      }
      b.nodes = names;
      return structuredClone(b.status);
    },
    updateLoadBalancer: async (_cluster, svc, nodes) => {
      const names = nodes.map((n) => n.metadata.name!);
      this.call({ method: 'updateLoadBalancer', service: objectKey(svc), nodes: names });
      const b = this.balancers.get(objectKey(svc));
      if (b) b.nodes = names;
    },
    ensureLoadBalancerDeleted: async (_cluster, svc) => {
      this.call({ method: 'ensureLoadBalancerDeleted', service: objectKey(svc) });
      this.balancers.delete(objectKey(svc));
    },
  };

  private readonly routesImpl: Routes = {
    listRoutes: async () => {
      this.call({ method: 'listRoutes' });
      return [...this.cloudRoutes.values()].map((r) => ({ ...r }));
    },
    createRoute: async (_cluster, nameHint, route) => {
      this.call({ method: 'createRoute', node: route.targetNode, route });
      this.cloudRoutes.set(route.destinationCIDR, { ...route, name: `route-${nameHint}` });
    },
    deleteRoute: async (_cluster, route) => {
      this.call({ method: 'deleteRoute', node: route.targetNode, route });
      this.cloudRoutes.delete(route.destinationCIDR);
    },
  };

  instancesV2(): InstancesV2 | undefined {
    return this.supports.instances ? this.instancesImpl : undefined;
  }
  loadBalancer(): LoadBalancer | undefined {
    return this.supports.loadBalancer ? this.lbImpl : undefined;
  }
  routes(): Routes | undefined {
    return this.supports.routes ? this.routesImpl : undefined;
  }
  hasClusterID(): boolean {
    return true;
  }
}
