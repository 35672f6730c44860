// Objects of the issue-13 groups every cluster has at start: upstream's bootstrap API Priority and
// Fairness configuration, with the Dangling condition its config controller maintains.

import type { KObject } from '../api/types.ts';
import { bootstrapFlowSchemas, bootstrapPriorityLevels } from '../api/flowcontrol/index.ts';
import { nowRFC3339 } from '../machinery/time.ts';
import { StatusError } from '../machinery/errors.ts';
import type { ResourceStore } from './registry/resource-store.ts';

type Lookup = (group: string, plural: string) => ResourceStore | undefined;

async function createMissing(rs: ResourceStore, obj: KObject): Promise<void> {
  if (rs.tryGet(undefined, obj.metadata.name!)) return;
  try {
    await rs.create(undefined, structuredClone(obj));
  } catch (e) {
    if (!(e instanceof StatusError && e.code === 409)) throw e;
  }
}

export async function bootstrapFlowControl(lookup: Lookup): Promise<void> {
  const levels = lookup('flowcontrol.apiserver.k8s.io', 'prioritylevelconfigurations');
  const schemas = lookup('flowcontrol.apiserver.k8s.io', 'flowschemas');
  if (!levels || !schemas) return;
  // Concurrent writes share commits (the store batches them): a first start stays quick.
  await Promise.all([...bootstrapPriorityLevels.map((pl) => createMissing(levels, pl)), ...bootstrapFlowSchemas.map((fs) => createMissing(schemas, fs))]);
  // Dangling: False when the referenced level exists (the MISSINGPL column), as upstream's config
  // controller records it.
  await Promise.all(schemas.cache.list(schemas.listPrefix()).items.map(async (c) => {
    const fs = c.obj;
    const plName = fs.spec?.priorityLevelConfiguration?.name;
    const exists = !!levels.tryGet(undefined, plName);
    const cond = {
      type: 'Dangling',
      status: exists ? 'False' : 'True',
      lastTransitionTime: nowRFC3339(),
      reason: exists ? 'Found' : 'NotFound',
      message: exists
        ? `This FlowSchema references the PriorityLevelConfiguration object named ${JSON.stringify(plName)} and it exists`
        : `This FlowSchema references the PriorityLevelConfiguration object named ${JSON.stringify(plName)} but there is no such object`,
    };
    const current = (fs.status?.conditions ?? []).find((x: any) => x.type === 'Dangling');
    if (current?.status === cond.status) return;
    await schemas.update(undefined, fs.metadata.name!, (o) => {
      const others = (o.status?.conditions ?? []).filter((x: any) => x.type !== 'Dangling');
      o.status = { ...(o.status ?? {}), conditions: [...others, cond] };
      return o;
    }, { subresource: 'status' });
  }));
}
