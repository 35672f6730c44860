// ObjectSources over the API: ConfigMaps and Secrets from informers started per object the
// first time a pod needs it (so the node caches only what its pods use), with a direct
// GET on a cache miss so an object created just before the pod is not reported missing; Services
// from one informer (all namespaces, for the service env vars); PVCs and PVs by direct GET;
// service account tokens by TokenRequest. Changes to cached ConfigMaps and Secrets are reported
// through onChange, so the kubelet can refresh the volumes of the pods that use them.

import { ApiClient, isNotFound, ApiError } from '../../client/api-client.ts';
import { dropManagedFields, Informer } from '../../client/informer.ts';
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret, Service } from '../pods/api-types.ts';
import { ObjectNotFoundError, type ObjectSources, type ServiceAccountToken, type TokenRequestSpec } from './sources.ts';

export type ObjectKind = 'ConfigMap' | 'Secret';

export interface ApiObjectSourcesOptions {
  /** A cached ConfigMap or Secret was added, changed or deleted. */
  onChange?: (kind: ObjectKind, namespace: string, name: string) => void;
  /** Where informers report trouble (default console.warn). */
  log?: (msg: string) => void;
}

const SYNC_WAIT_MS = 10_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms)))]).finally(() => clearTimeout(timer));
}

const RESOURCE: Record<ObjectKind, string> = { ConfigMap: 'configmaps', Secret: 'secrets' };
const SINGULAR: Record<ObjectKind, string> = { ConfigMap: 'configmap', Secret: 'secret' };

export class ApiObjectSources implements ObjectSources {
  private readonly client: ApiClient;
  private readonly opts: ApiObjectSourcesOptions;
  private readonly informers = new Map<string, Informer<any>>();
  private services?: Informer<Service>;
  private stopped = false;

  constructor(client: ApiClient, opts: ApiObjectSourcesOptions = {}) {
    this.client = client;
    this.opts = opts;
  }

  /** Start the Services informer (the core should do this at start-up, before building env vars). */
  start(): void {
    if (this.services || this.stopped) return;
    this.services = new Informer<Service>(this.client, { version: 'v1', resource: 'services' }, { log: this.opts.log, transform: dropManagedFields });
    this.services.start();
  }

  servicesSynced(): boolean {
    return !!this.services?.hasSynced();
  }

  waitForServices(): Promise<void> {
    this.start();
    return this.services!.waitForSync();
  }

  listServices(): Service[] {
    return this.services?.indexer.list() ?? [];
  }

  getConfigMap(namespace: string, name: string): Promise<ConfigMap> {
    return this.get<ConfigMap>('ConfigMap', namespace, name);
  }

  getSecret(namespace: string, name: string): Promise<Secret> {
    return this.get<Secret>('Secret', namespace, name);
  }

  async getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim> {
    try {
      return await this.client.get<PersistentVolumeClaim>({ version: 'v1', resource: 'persistentvolumeclaims', namespace, name });
    } catch (e) {
      if (isNotFound(e)) throw new ObjectNotFoundError('persistentvolumeclaims', name);
      throw e;
    }
  }

  async getPersistentVolume(name: string): Promise<PersistentVolume> {
    try {
      return await this.client.get<PersistentVolume>({ version: 'v1', resource: 'persistentvolumes', name });
    } catch (e) {
      if (isNotFound(e)) throw new ObjectNotFoundError('persistentvolumes', name);
      throw e;
    }
  }

  async requestServiceAccountToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<ServiceAccountToken> {
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: serviceAccount, namespace }, spec };
    const res = await this.client.request<any>('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`, body);
    const token = res?.status?.token;
    if (typeof token !== 'string' || !token) throw new Error('the TokenRequest answer carried no token');
    return { token, expirationTimestamp: res.status.expirationTimestamp ?? '' };
  }

  /** Stop the ConfigMap/Secret informers of namespaces where no pod of this node runs any more. */
  async retainNamespaces(keep: Set<string>): Promise<void> {
    for (const [key, inf] of [...this.informers]) {
      const ns = key.split('/')[1]!;
      if (keep.has(ns)) continue;
      this.informers.delete(key);
      await inf.stop();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.informers.values(), ...(this.services ? [this.services] : [])];
    this.informers.clear();
    await Promise.all(all.map((i) => i.stop()));
  }

  // One informer per object (fieldSelector metadata.name=<name>), as upstream's watch-based
  // manager: a node may list and watch only the ConfigMaps and Secrets its pods use (the node
  // authorizer refuses a namespace-wide list), and it caches nothing else.
  private informerFor<T extends ConfigMap | Secret>(kind: ObjectKind, namespace: string, name: string): Informer<T> {
    const key = `${kind}/${namespace}/${name}`;
    let inf = this.informers.get(key) as Informer<T> | undefined;
    if (!inf) {
      inf = new Informer<T>(this.client, { version: 'v1', resource: RESOURCE[kind] }, { namespace, fieldSelector: `metadata.name=${name}`, log: this.opts.log, transform: dropManagedFields });
      const changed = (o: T) => this.opts.onChange?.(kind, o.metadata.namespace ?? namespace, o.metadata.name ?? '');
      inf.addEventHandler({
        onAdd: (o, initial) => {
          if (!initial) changed(o);
        },
        onUpdate: (old, o) => {
          if (old.metadata.resourceVersion !== o.metadata.resourceVersion) changed(o);
        },
        onDelete: (o) => changed(o),
      });
      this.informers.set(key, inf);
      if (!this.stopped) inf.start();
    }
    return inf;
  }

  private async get<T extends ConfigMap | Secret>(kind: ObjectKind, namespace: string, name: string): Promise<T> {
    const inf = this.informerFor<T>(kind, namespace, name);
    // A first list that does not come back soon (API server down) must not hang the pod's sync:
    // fall through to a direct GET, which has its own timeout.
    await withTimeout(inf.waitForSync(), SYNC_WAIT_MS).catch(() => undefined);
    const cached = inf.indexer.getByKey(`${namespace}/${name}`);
    if (cached) return cached;
    try {
      return await this.client.get<T>({ version: 'v1', resource: RESOURCE[kind], namespace, name });
    } catch (e) {
      if (isNotFound(e)) throw new ObjectNotFoundError(SINGULAR[kind], name);
      if (e instanceof ApiError) throw new Error(`failed to get ${SINGULAR[kind]} "${name}": ${e.message}`);
      throw e;
    }
  }
}
