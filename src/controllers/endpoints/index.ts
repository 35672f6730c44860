// Endpoints controller: for every Service with a selector, an Endpoints object of the same name
// listing the matching pods' addresses (ready and not ready) on each resolved service port.

import { isDeepStrictEqual } from 'node:util';
import type { KObject } from '../../api/types.ts';
import { isNotFound } from '../../client/api-client.ts';
import { metaNamespaceKey, splitMetaNamespaceKey } from '../../client/cache.ts';
import { selectorFromSet } from '../../machinery/labels.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Informer } from '../../client/informer.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';
import { findPort, shouldPodBeInEndpoints } from './pod-helpers.ts';
import { isPodReady } from '../../api/core/pod-state.ts';
import { repackSubsets, type AddressOnPort, type EndpointAddress, type EndpointPort, type EndpointSubset } from './subsets.ts';
import { LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker } from './trigger-time.ts';

const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** The pods in the service's namespace its selector picks (none without a selector). */
export function servicePods(svc: KObject, podsInNamespace: KObject[]): KObject[] {
  if (svc.spec?.selector == null) return [];
  const sel = selectorFromSet(svc.spec.selector);
  return podsInNamespace.filter((p) => sel.matches(p.metadata.labels));
}

/** Services in the pod's namespace whose selector matches the pod's labels. */
export function servicesForPod(services: KObject[], pod: KObject): KObject[] {
  return services.filter((s) => s.spec?.selector != null && selectorFromSet(s.spec.selector).matches(pod.metadata.labels));
}

/**
 * Wire a service-keyed worker to its inputs: a service's own changes, and changes to the pods it
 * selects (under their new and, when the labels changed, their old labels). Returns the function
 * that enqueues the services of one pod.
 */
export function enqueueServicesOnChanges(services: Informer, pods: Informer, worker: KeyWorker): (pod: KObject) => void {
  const enqueueService = (s: KObject) => worker.add(metaNamespaceKey(s));
  const enqueueForPod = (pod: KObject) => {
    for (const s of servicesForPod(services.lister().namespace(pod.metadata.namespace!).list(), pod)) enqueueService(s);
  };
  services.addEventHandler({ onAdd: enqueueService, onUpdate: (_o, n) => enqueueService(n), onDelete: enqueueService });
  pods.addEventHandler({
    onAdd: enqueueForPod,
    onUpdate: (o, n) => {
      if (o.metadata.resourceVersion === n.metadata.resourceVersion) return;
      enqueueForPod(n);
      if (!isDeepStrictEqual(o.metadata.labels ?? {}, n.metadata.labels ?? {})) enqueueForPod(o);
    },
    onDelete: enqueueForPod,
  });
  return enqueueForPod;
}

/** Desired subsets for a service given its pods. */
export function buildSubsets(svc: KObject, pods: KObject[]): EndpointSubset[] {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const entries: AddressOnPort[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const ip: string | undefined = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
    if (!ip) continue;
    // Field order as upstream prints it: ip, hostname, nodeName, targetRef.
    const address: EndpointAddress = { ip };
    const hostname = pod.spec?.hostname;
    if (hostname && pod.spec?.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace) address.hostname = hostname;
    if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
    address.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
    const ready = tolerateUnready || isPodReady(pod);
    const svcPorts: any[] = svc.spec?.ports ?? [];
    if (svcPorts.length === 0) {
      if (svc.spec?.clusterIP === 'None') entries.push({ address, ready });
      continue;
    }
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue; // this pod does not serve that port
      const ep: EndpointPort = sp.name ? { name: sp.name, port, protocol: sp.protocol ?? 'TCP' } : { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      entries.push({ address, ready, port: ep });
    }
  }
  return repackSubsets(entries);
}

/** Labels an Endpoints object carries: the service's, plus the headless marker for clusterIP None. */
export function endpointsLabels(svc: KObject): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

export const endpointsController: ControllerFactory = (ctx: ControllerContext): Controller => {
  const recorder = ctx.recorder('endpoint-controller');
  const services = ctx.informers.informerFor({ version: 'v1', resource: 'services' });
  const pods = ctx.informers.informerFor({ version: 'v1', resource: 'pods' });
  const endpoints = ctx.informers.informerFor({ version: 'v1', resource: 'endpoints' });
  const tracker = new TriggerTimeTracker();
  const EP = { version: 'v1', resource: 'endpoints' } as const;

  const sync = async (key: string): Promise<void> => {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const ns = namespace!;
    const svc = services.indexer.getByKey(key);
    if (!svc) {
      tracker.forget(key);
      try {
        await ctx.client.delete({ ...EP, namespace: ns, name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    if (svc.spec?.selector == null) return; // endpoints of selector-less services are the user's
    const matched = servicePods(svc, pods.lister().namespace(ns).list());
    const subsets = buildSubsets(svc, matched);
    const trigger = tracker.compute(key, svc, matched);
    const labels = endpointsLabels(svc);
    const current = endpoints.indexer.getByKey(key);
    if (current && isDeepStrictEqual(current.subsets ?? [], subsets) && isDeepStrictEqual(current.metadata.labels ?? {}, labels)) return;

    const annotations: Record<string, string> = { ...(current?.metadata.annotations ?? {}) };
    if (trigger) annotations[LAST_CHANGE_TRIGGER_TIME] = trigger;
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    if (current) {
      const next: KObject = structuredClone(current);
      next.metadata.labels = labels;
      next.metadata.annotations = annotations;
      next.subsets = subsets;
      try {
        await ctx.client.update({ ...EP, namespace: ns, name }, next);
      } catch (e) {
        recorder.eventf(svc, 'Warning', 'FailedToUpdateEndpoint', 'Failed to update endpoint %s: %v', key, (e as Error).message);
        throw e;
      }
      return;
    }
    const obj: KObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns, labels }, subsets };
    if (Object.keys(annotations).length) obj.metadata.annotations = annotations;
    try {
      await ctx.client.create({ ...EP, namespace: ns }, obj);
    } catch (e) {
      recorder.eventf(svc, 'Warning', 'FailedToCreateEndpoint', 'Failed to create endpoint for service %s: %v', key, (e as Error).message);
      throw e;
    }
  };

  const worker = new KeyWorker('endpoints', sync, ctx.log);
  enqueueServicesOnChanges(services, pods, worker);
  // Someone deleted or edited our object: put it back as it should be.
  endpoints.addEventHandler({
    onUpdate: (_o, n) => {
      if (services.indexer.has(metaNamespaceKey(n))) worker.add(metaNamespaceKey(n));
    },
    onDelete: (e) => {
      if (services.indexer.has(metaNamespaceKey(e))) worker.add(metaNamespaceKey(e));
    },
  });

  return {
    name: 'endpoints-controller',
    run() {
      // Endpoints whose service is gone (deleted while we were down) are removed too.
      for (const e of endpoints.indexer.list()) {
        if (e.metadata.annotations?.[LEADER_ANNOTATION] !== undefined) continue; // an old-style leader lock
        const k = metaNamespaceKey(e);
        if (!services.indexer.has(k)) worker.add(k);
      }
      for (const s of services.indexer.list()) worker.add(metaNamespaceKey(s));
      worker.run(ctx.options.workers);
    },
    stop: () => worker.stop(),
  };
};
