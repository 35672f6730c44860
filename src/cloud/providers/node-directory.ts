// Routes name their node only (upstream's Route.TargetNode), but a node's machine is best found by
// its providerID. A provider with routes keeps a view of the Node objects through the manager's
// shared informer (registered when its term starts) to go from name to Node and back; without one
// (or for a node not seen yet) the bare name is all there is, and machines are looked up by name.

import type { KObject } from '../../api/types.ts';
import type { Lister } from '../../client/cache.ts';
import type { ProviderContext } from '../provider.ts';

export class NodeDirectory {
  private nodes?: Lister<KObject>;

  attach(ctx: ProviderContext): void {
    this.nodes = ctx.informers.lister({ version: 'v1', resource: 'nodes' });
  }

  detach(): void {
    this.nodes = undefined;
  }

  /** The Node of that name (its providerID then finds the machine), or a bare one. */
  node(name: string): KObject {
    return this.nodes?.get(name) ?? { metadata: { name } };
  }

  /** Node names by a key the provider derives from their providerIDs (one pass, for a whole listing). */
  namesBy(keyOf: (providerID: string) => string | undefined): Map<string, string> {
    const out = new Map<string, string>();
    for (const n of this.nodes?.list() ?? []) {
      const key = n.spec?.providerID ? keyOf(String(n.spec.providerID)) : undefined;
      if (key !== undefined && !out.has(key)) out.set(key, n.metadata.name!);
    }
    return out;
  }
}
