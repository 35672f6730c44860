// Every kind the API server serves, and lookups over them. Kinds live in one folder per group.

import type { ResourceDef } from './types.ts';
import { resources as core } from './core/index.ts';
import { resources as apps } from './apps/index.ts';
import { resources as batch } from './batch/index.ts';
import { resources as coordination } from './coordination/index.ts';
import { resources as discovery } from './discovery/index.ts';
import { resources as events } from './events/index.ts';
import { resources as scheduling } from './scheduling/index.ts';
import { resources as policy } from './policy/index.ts';
import { resources as rbac } from './rbac/index.ts';
import { resources as authentication } from './authentication/index.ts';
import { resources as authorization } from './authorization/index.ts';
import { resources as certificates } from './certificates/index.ts';
import { resources as apiextensions } from './apiextensions/index.ts';
import { resources as networking } from './networking/index.ts';
import { resources as storage } from './storage/index.ts';
import { resources as node } from './node/index.ts';
import { resources as autoscaling } from './autoscaling/index.ts';
import { resources as admissionregistration } from './admissionregistration/index.ts';
import { resources as apiregistration } from './apiregistration/index.ts';
import { resources as flowcontrol } from './flowcontrol/index.ts';
import { resources as metrics } from './metrics/index.ts';

export const allResources: ResourceDef[] = [...core, ...apps, ...batch, ...coordination, ...discovery, ...events, ...scheduling, ...policy, ...rbac, ...authentication, ...authorization, ...certificates, ...apiextensions, ...builtinGroups()];

/** The groups charts use (issue 13): networking, storage, node, autoscaling, admission, aggregation, flow control. */
function builtinGroups(): ResourceDef[] {
  return [...apiregistration, ...autoscaling, ...networking, ...storage, ...admissionregistration, ...node, ...flowcontrol, ...metrics];
}

export class ResourceRegistry {
  readonly resources: ResourceDef[];
  private byPath = new Map<string, ResourceDef>();
  private byKind = new Map<string, ResourceDef>();
  readonly groupVersions: { group: string; version: string }[] = [];

  constructor(resources: ResourceDef[] = allResources) {
    this.resources = resources;
    const seen = new Set<string>();
    for (const r of resources) {
      this.byPath.set(`${r.group}/${r.version}/${r.plural}`, r);
      this.byKind.set(`${r.group}/${r.version}/${r.kind}`, r);
      const gv = `${r.group}/${r.version}`;
      if (!seen.has(gv)) {
        seen.add(gv);
        this.groupVersions.push({ group: r.group, version: r.version });
      }
    }
  }

  /** By URL parts: group ('' for core), version and plural resource name. */
  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  byGroupVersionKind(group: string, version: string, kind: string): ResourceDef | undefined {
    return this.byKind.get(`${group}/${version}/${kind}`);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.groupVersions.some((gv) => gv.group === group && gv.version === version);
  }

  hasGroup(group: string): boolean {
    return this.groupVersions.some((gv) => gv.group === group);
  }
}

export { apiVersionOf, keyPrefix, objectKey } from './resource-keys.ts';
