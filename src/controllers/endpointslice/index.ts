// EndpointSlice controller: for every Service with a selector, discovery.k8s.io/v1 EndpointSlices
// (IPv4) listing the matching pods, at most 100 endpoints per slice, owned by the Service.

import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { metaNamespaceKey, splitMetaNamespaceKey } from '../../client/cache.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { HEADLESS_LABEL, enqueueServicesOnChanges, servicePods } from '../endpoints/index.ts';
import { findPort, podIPv4, shouldPodBeInEndpoints } from '../endpoints/pod-helpers.ts';
import { isPodReady } from '../../api/core/pod-state.ts';
import { LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker } from '../endpoints/trigger-time.ts';
import { MAX_ENDPOINTS_PER_SLICE, planSlices, portSetKey, type PortSetGroup, type SliceEndpoint, type SlicePort } from './reconcile.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

const SLICES = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' } as const;
const SERVICE_INDEX = 'endpointslice:service';

/** Labels every slice of the service carries. */
export function sliceLabels(svc: KObject): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  delete labels[SERVICE_NAME_LABEL];
  delete labels[MANAGED_BY_LABEL];
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  labels[SERVICE_NAME_LABEL] = svc.metadata.name!;
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  return labels;
}

/** One endpoint for a pod, or undefined when the pod is not published. */
export function podToEndpoint(svc: KObject, pod: KObject, node: KObject | undefined): SliceEndpoint | undefined {
  if (!shouldPodBeInEndpoints(pod, true)) return undefined;
  const ip = podIPv4(pod);
  if (!ip) return undefined;
  const publish = svc.spec?.publishNotReadyAddresses === true;
  const serving = publish || isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  const ep: SliceEndpoint = { addresses: [ip], conditions: { ready: publish || (serving && !terminating), serving, terminating } };
  if (pod.spec?.hostname && pod.spec?.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace) ep.hostname = pod.spec.hostname;
  ep.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[ZONE_LABEL];
  if (zone) ep.zone = zone;
  return ep;
}

/** The service ports as resolved on one pod (unresolvable named ports are left out). */
export function podPorts(svc: KObject, pod: KObject): SlicePort[] {
  const out: SlicePort[] = [];
  for (const sp of (svc.spec?.ports ?? []) as any[]) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

/** Resource versions as numbers when they are numeric (ours are), for "is the cache caught up". */
function rvAtLeast(have: string | undefined, want: string): boolean {
  if (have === undefined) return false;
  if (/^\d+$/.test(have) && /^\d+$/.test(want)) return BigInt(have) >= BigInt(want);
  return have === want;
}

export const endpointSliceController: ControllerFactory = (ctx: ControllerContext): Controller => {
  const recorder = ctx.recorder('endpoint-slice-controller');
  const services = ctx.informers.informerFor({ version: 'v1', resource: 'services' });
  const pods = ctx.informers.informerFor({ version: 'v1', resource: 'pods' });
  const nodes = ctx.informers.informerFor({ version: 'v1', resource: 'nodes' });
  const slices = ctx.informers.informerFor<KObject>({
    ...SLICES,
    indexers: {
      [SERVICE_INDEX]: (s) => {
        const l = s.metadata.labels ?? {};
        return l[MANAGED_BY_LABEL] === CONTROLLER_NAME && l[SERVICE_NAME_LABEL] ? [`${s.metadata.namespace}/${l[SERVICE_NAME_LABEL]}`] : [];
      },
    },
  });
  const tracker = new TriggerTimeTracker();
  // Our own writes the cache has not shown yet, per service: slice name -> resourceVersion, or null for a delete.
  const expected = new Map<string, Map<string, string | null>>();

  const cacheIsStale = (key: string): boolean => {
    const exp = expected.get(key);
    if (!exp) return false;
    for (const [name, rv] of exp) {
      const cached = slices.indexer.getByKey(`${splitMetaNamespaceKey(key).namespace}/${name}`);
      const caughtUp = rv === null ? !cached : rvAtLeast(cached?.metadata.resourceVersion, rv);
      if (caughtUp) exp.delete(name);
    }
    if (exp.size === 0) expected.delete(key);
    return exp.size > 0;
  };

  const expect = (key: string, name: string, rv: string | null) => {
    let exp = expected.get(key);
    if (!exp) expected.set(key, (exp = new Map()));
    exp.set(name, rv);
  };

  const sync = async (key: string): Promise<void> => {
    const { namespace } = splitMetaNamespaceKey(key);
    const ns = namespace!;
    const svc = services.indexer.getByKey(key);
    const existing = slices.indexer.byIndex(SERVICE_INDEX, key);
    if (!svc || svc.spec?.selector == null || svc.spec?.type === 'ExternalName') {
      // Slices of a deleted service go with it (the garbage collector would too, via ownerReferences).
      if (!svc) tracker.forget(key);
      if (!svc || svc.spec?.type !== 'ExternalName') {
        for (const s of existing) {
          await ctx.client.delete({ ...SLICES, namespace: ns, name: s.metadata.name! }).catch((e) => {
            if (!isNotFound(e)) throw e;
          });
        }
      }
      return;
    }
    if (cacheIsStale(key)) {
      // Our last writes are not in the cache yet; planning now would duplicate slices.
      worker.addAfter(key, 100);
      return;
    }
    const matched = servicePods(svc, pods.lister().namespace(ns).list());
    const groups = new Map<string, PortSetGroup>();
    let missingNode = false;
    for (const pod of matched) {
      const nodeName = pod.spec?.nodeName;
      const node = nodeName ? nodes.indexer.getByKey(nodeName) : undefined;
      if (nodeName && !node) {
        missingNode = true; // publish without it now, retry once the node shows up
        continue;
      }
      const ep = podToEndpoint(svc, pod, node);
      if (!ep) continue;
      const ports = podPorts(svc, pod);
      const pk = portSetKey(ports);
      let g = groups.get(pk);
      if (!g) groups.set(pk, (g = { ports, endpoints: [] }));
      g.endpoints.push(ep);
    }
    const labels = sliceLabels(svc);
    const trigger = tracker.compute(key, svc, matched);
    const owner = { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name!, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true };
    const plan = planSlices({
      groups: [...groups.values()],
      existing: existing.filter((s) => s.addressType === 'IPv4'),
      labels,
      max: MAX_ENDPOINTS_PER_SLICE,
      newSlice: (ports, endpoints) => ({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { generateName: `${svc.metadata.name}-`, namespace: ns, labels: { ...labels }, ownerReferences: [owner] },
        addressType: 'IPv4',
        endpoints,
        ports,
      }),
    });
    const stamp = (s: KObject) => {
      const ann = { ...(s.metadata.annotations ?? {}) };
      if (trigger) ann[LAST_CHANGE_TRIGGER_TIME] = trigger;
      else delete ann[LAST_CHANGE_TRIGGER_TIME];
      if (Object.keys(ann).length) s.metadata.annotations = ann;
      else delete s.metadata.annotations;
    };
    try {
      for (const s of plan.create) {
        stamp(s);
        const made = await ctx.client.create<KObject>({ ...SLICES, namespace: ns }, s);
        expect(key, made.metadata.name!, made.metadata.resourceVersion!);
      }
      for (const s of plan.update) {
        stamp(s);
        const done = await ctx.client.update<KObject>({ ...SLICES, namespace: ns, name: s.metadata.name! }, s);
        expect(key, done.metadata.name!, done.metadata.resourceVersion!);
      }
      for (const s of plan.delete) {
        try {
          await ctx.client.delete({ ...SLICES, namespace: ns, name: s.metadata.name! });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        expect(key, s.metadata.name!, null);
      }
    } catch (e) {
      recorder.eventf(svc, 'Warning', 'FailedToUpdateEndpointSlices', 'Error updating Endpoint Slices for Service %s: %v', key, (e as Error).message);
      throw e;
    }
    if (missingNode) worker.addAfter(key, 1000);
  };

  const worker = new KeyWorker('endpointslice', sync, ctx.log);
  const enqueueForPod = enqueueServicesOnChanges(services, pods, worker);
  // A node's zone label feeds the endpoints of the pods on it.
  nodes.addEventHandler({
    onAdd: (n) => {
      for (const p of pods.indexer.list()) if (p.spec?.nodeName === n.metadata.name) enqueueForPod(p);
    },
    onUpdate: (o, n) => {
      if (o.metadata.labels?.[ZONE_LABEL] === n.metadata.labels?.[ZONE_LABEL]) return;
      for (const p of pods.indexer.list()) if (p.spec?.nodeName === n.metadata.name) enqueueForPod(p);
    },
  });
  // Slices changed or deleted by someone else are put right.
  const enqueueForSlice = (s: KObject) => {
    const l = s.metadata.labels ?? {};
    if (l[MANAGED_BY_LABEL] === CONTROLLER_NAME && l[SERVICE_NAME_LABEL]) worker.add(`${s.metadata.namespace}/${l[SERVICE_NAME_LABEL]}`);
  };
  slices.addEventHandler({ onAdd: enqueueForSlice, onUpdate: (_o, n) => enqueueForSlice(n), onDelete: enqueueForSlice });

  return {
    name: 'endpointslice-controller',
    run() {
      worker.run(ctx.options.workers);
    },
    stop: () => worker.stop(),
  };
};
