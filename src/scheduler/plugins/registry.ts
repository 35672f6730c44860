// Every in-tree plugin by name. The config names plugins; this map builds them.

import type { PluginFactory } from '../framework/types.ts';
import * as defaultBinder from './default-binder/default-binder.ts';
import * as defaultPreemption from './default-preemption/default-preemption.ts';
import * as interPodAffinity from './inter-pod-affinity/inter-pod-affinity.ts';
import * as nodeAffinity from './node-affinity/node-affinity.ts';
import * as nodeName from './node-name/node-name.ts';
import * as nodePorts from './node-ports/node-ports.ts';
import * as balanced from './node-resources-balanced-allocation/node-resources-balanced-allocation.ts';
import * as fit from './node-resources-fit/node-resources-fit.ts';
import * as nodeUnschedulable from './node-unschedulable/node-unschedulable.ts';
import * as spread from './pod-topology-spread/pod-topology-spread.ts';
import * as taints from './taint-toleration/taint-toleration.ts';
import * as volumeBinding from './volume-binding/volume-binding.ts';

export const REGISTRY: Record<string, PluginFactory> = {
  [nodeUnschedulable.NAME]: nodeUnschedulable.factory,
  [nodeName.NAME]: nodeName.factory,
  [taints.NAME]: taints.factory,
  [nodeAffinity.NAME]: nodeAffinity.factory,
  [nodePorts.NAME]: nodePorts.factory,
  [fit.NAME]: fit.factory,
  [volumeBinding.NAME]: volumeBinding.factory,
  [spread.NAME]: spread.factory,
  [interPodAffinity.NAME]: interPodAffinity.factory,
  [defaultPreemption.NAME]: defaultPreemption.factory,
  [balanced.NAME]: balanced.factory,
  [defaultBinder.NAME]: defaultBinder.factory,
};

/** Upstream's default profile (multiPoint), in order, with score weights. */
export const DEFAULT_PLUGINS: Array<{ name: string; weight?: number }> = [
  { name: nodeUnschedulable.NAME },
  { name: nodeName.NAME },
  { name: taints.NAME, weight: 3 },
  { name: nodeAffinity.NAME, weight: 2 },
  { name: nodePorts.NAME },
  { name: fit.NAME, weight: 1 },
  { name: volumeBinding.NAME },
  { name: spread.NAME, weight: 2 },
  { name: interPodAffinity.NAME, weight: 2 },
  { name: defaultPreemption.NAME },
  { name: balanced.NAME, weight: 1 },
  { name: defaultBinder.NAME },
];
