// metrics.k8s.io/v1beta1: NodeMetrics and PodMetrics, read-only views of the resource metrics
// pipeline (src/metrics/), never stored. Upstream serves them from metrics-server behind an
// APIService; Mizzen answers them itself (src/metrics/metrics-api.ts), so the group gets a Local
// APIService like every built-in group.

import type { ResourceDef } from '../types.ts';

const view = (kind: string, plural: string, namespaced: boolean): ResourceDef => ({
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  kind,
  plural,
  singular: '',
  namespaced,
  verbs: ['get', 'list'],
  virtual: true,
  model: `V1beta1${kind}`,
  strategy: {},
});

export const resources: ResourceDef[] = [view('NodeMetrics', 'nodes', false), view('PodMetrics', 'pods', true)];
