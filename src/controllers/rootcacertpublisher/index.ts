// Root CA publisher: a `kube-root-ca.crt` ConfigMap holding the cluster CA (`ca.crt`) in every
// namespace, created when missing and restored when its data is changed.

import type { KObject } from '../../api/types.ts';
import { isAlreadyExists, isNotFound } from '../../client/api-client.ts';
import { KeyWorker } from '../key-worker.ts';
import { isActive, isTerminatingNamespaceError } from '../serviceaccount/index.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usage is guaranteed across distributions of Kubernetes clusters.';
const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';

export function createRootCACertPublisher(ctx: ControllerContext): Controller {
  const caPem = ctx.options.rootCAPem;
  const nsInformer = ctx.informers.informerFor({ version: 'v1', resource: 'namespaces' });
  const cmInformer = ctx.informers.informerFor({ version: 'v1', resource: 'configmaps' });
  const worker = new KeyWorker('root-ca-cert-publisher', sync, ctx.log);
  if (caPem !== undefined) {
    nsInformer.addEventHandler({ onAdd: (ns) => worker.add(ns.metadata.name!), onUpdate: (_o, ns) => worker.add(ns.metadata.name!) });
    const onCM = (cm: KObject) => {
      if (cm.metadata.name === ROOT_CA_CONFIGMAP) worker.add(cm.metadata.namespace!);
    };
    cmInformer.addEventHandler({ onAdd: onCM, onUpdate: (_o, cm) => onCM(cm), onDelete: onCM });
  }

  async function sync(namespace: string): Promise<void> {
    const ns = nsInformer.indexer.getByKey(namespace);
    if (!ns || !isActive(ns) || caPem === undefined) return;
    const data = { 'ca.crt': caPem };
    const ref = { version: 'v1', resource: 'configmaps', namespace };
    const cm = cmInformer.lister().namespace(namespace).get(ROOT_CA_CONFIGMAP);
    try {
      if (!cm) {
        await ctx.client.create(ref, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIGMAP, annotations: { [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION } },
          data,
        });
        return;
      }
      const sameData = JSON.stringify(cm.data ?? {}) === JSON.stringify(data) && !cm.binaryData;
      if (sameData && cm.metadata.annotations?.[DESCRIPTION_ANNOTATION] === ROOT_CA_DESCRIPTION) return;
      // Keep the rest of the object (labels, other annotations); an update on a stale copy conflicts and retries.
      const next = structuredClone(cm);
      next.data = data;
      delete next.binaryData;
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION };
      await ctx.client.update({ ...ref, name: ROOT_CA_CONFIGMAP }, next);
    } catch (e) {
      if (isAlreadyExists(e) || isNotFound(e) || isTerminatingNamespaceError(e)) return;
      throw e;
    }
  }

  return {
    name: 'root-ca-cert-publisher',
    run: () => worker.run(ctx.options.workers),
    stop: () => worker.stop(),
  };
}

export const rootCACertPublisherController: ControllerFactory = (ctx) => createRootCACertPublisher(ctx);
