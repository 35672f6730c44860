// Small resource lists for the schema/OpenAPI/discovery tests (no strategies needed).

import type { ResourceDef } from '../types.ts';

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function testResources(): ResourceDef[] {
  return [
    {
      group: '',
      version: 'v1',
      kind: 'Pod',
      plural: 'pods',
      singular: 'pod',
      namespaced: true,
      shortNames: ['po'],
      categories: ['all'],
      verbs: allVerbs,
      strategy: {},
      status: {},
      model: 'V1Pod',
    },
    {
      group: '',
      version: 'v1',
      kind: 'Namespace',
      plural: 'namespaces',
      singular: 'namespace',
      namespaced: false,
      shortNames: ['ns'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      strategy: {},
      status: {},
      model: 'V1Namespace',
    },
    {
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      plural: 'deployments',
      singular: 'deployment',
      namespaced: true,
      shortNames: ['deploy'],
      categories: ['all'],
      verbs: allVerbs,
      strategy: {},
      status: {},
      scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', selector: () => '' },
      model: 'V1Deployment',
    },
  ];
}
