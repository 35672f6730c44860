// Pod-network routes for the gcp provider, as the GCE provider keeps them: one global VPC route per
// node podCIDR, named `<cluster name cut to 26>-<node UID>` (63 characters at most, GCE's limit),
// destRange the podCIDR, next hop the node's instance, in the cloud-config's network, described
// `k8s-node-route`. Listing asks Compute Engine for this cluster's routes only (name prefix,
// network and description), so other clusters' and hand-made routes are never touched.

import { InstanceNotFoundError, RetryError } from '../../errors.ts';
import type { Route, Routes } from '../../provider.ts';
import type { NodeDirectory } from '../node-directory.ts';
import { isGcpNotFound, parseGceProviderID, type GcpClients, type GcpConfig, type GcpInstances } from './index.ts';

/** The description every route this provider makes carries (upstream's k8sNodeRouteTag). */
export const NODE_ROUTE_DESCRIPTION = 'k8s-node-route';
const COMPUTE_URL = 'https://www.googleapis.com/compute/v1';

/** Route names start with the cluster name, cut so that `-<uid>` still fits in 63 characters. */
export function routeNamePrefix(clusterName: string): string {
  return clusterName.slice(0, 26);
}

/** The network's URL from the cloud-config's name (or URL, or `projects/p/global/networks/n`). */
export function networkURL(config: GcpConfig): string {
  const n = config.network;
  if (n.startsWith('https://')) return n;
  if (n.startsWith('projects/')) return `${COMPUTE_URL}/${n}`;
  return `${COMPUTE_URL}/projects/${config.networkProjectId ?? config.projectId}/global/networks/${n}`;
}

/** Compute Engine's list filter matches `eq` operands as whole RE2 expressions: quote the dots. */
const reQuote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The node whose providerID is this instance; else the instance's name (the node's name on GCE). */
function nodeOf(byInstance: Map<string, string>, instanceURL: string): string {
  const m = /projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/.exec(instanceURL);
  if (!m) return instanceURL.split('/').pop() ?? '';
  return byInstance.get(`${m[1]}/${m[2]}/${m[3]}`) ?? m[3]!;
}

export class GcpRoutes implements Routes {
  constructor(
    private readonly config: GcpConfig,
    private readonly c: GcpClients,
    private readonly instances: GcpInstances,
    private readonly nodes: NodeDirectory,
  ) {}

  async listRoutes(clusterName: string): Promise<Route[]> {
    const filter = [`(name eq "${reQuote(routeNamePrefix(clusterName))}-.*")`, `(network eq "${reQuote(networkURL(this.config))}")`, `(description eq "${NODE_ROUTE_DESCRIPTION}")`].join(' ');
    // The SDK follows nextPageToken itself (autoPaginate).
    const [items] = await this.c.routes.list({ project: this.config.projectId, filter });
    const nodes = this.nodes.namesBy((pid) => {
      const id = parseGceProviderID(pid);
      return id && `${id.project}/${id.zone}/${id.name}`;
    });
    return (items ?? []).map((r) => ({
      name: String(r.name),
      targetNode: nodeOf(nodes, String(r.nextHopInstance ?? '')),
      destinationCIDR: String(r.destRange),
      // Compute Engine keeps a route whose instance was deleted and says so in a warning.
      blackhole: !r.nextHopInstance || (r.warnings ?? []).some((w) => w.code === 'NEXT_HOP_INSTANCE_NOT_FOUND'),
    }));
  }

  async createRoute(clusterName: string, nameHint: string, route: Route): Promise<void> {
    const found = await this.instances.find(this.nodes.node(route.targetNode));
    if (!found)
      throw new InstanceNotFoundError(`instance not found: no Compute Engine instance named ${route.targetNode}${this.config.zones.length ? ` in zones ${this.config.zones.join(', ')}` : ' (no zones in the cloud-config to look in)'}`);
    const name = `${routeNamePrefix(clusterName)}-${nameHint}`;
    const routeResource = {
      name,
      destRange: route.destinationCIDR,
      nextHopInstance: `${COMPUTE_URL}/projects/${found.project}/zones/${found.zone}/instances/${found.instance.name}`,
      network: networkURL(this.config),
      priority: 1000,
      description: NODE_ROUTE_DESCRIPTION,
    };
    let op;
    try {
      [op] = await this.c.routes.insert({ project: this.config.projectId, routeResource });
    } catch (e) {
      // A route of this name exists: an earlier create whose answer was lost. Upstream takes it as made.
      if ((e as { code?: number })?.code === 409 || (e as { code?: number })?.code === 6) return;
      throw e;
    }
    await this.wait(op.latestResponse, `create route ${name}`);
  }

  async deleteRoute(_clusterName: string, route: Route): Promise<void> {
    let op;
    try {
      [op] = await this.c.routes.delete({ project: this.config.projectId, route: route.name });
    } catch (e) {
      if (isGcpNotFound(e)) return;
      throw e;
    }
    await this.wait(op.latestResponse, `delete route ${route.name}`);
  }

  /** Routes are global resources: their operations are global operations. */
  private async wait(op: any, what: string): Promise<void> {
    const deadline = Date.now() + this.config.operationTimeoutMs;
    let cur = op;
    while (cur?.status !== 'DONE') {
      if (Date.now() > deadline) throw new RetryError(`operation ${cur?.name} (${what}) is still ${cur?.status ?? 'running'}`, 10_000);
      [cur] = await this.c.globalOperations.wait({ project: this.config.projectId, operation: String(cur?.name) });
    }
    const errs = (cur.error?.errors ?? []) as Array<{ code?: string; message?: string }>;
    if (errs.length) throw new Error(`${what}: ${errs.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
  }
}
