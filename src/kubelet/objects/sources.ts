// What the kubelet's pod logic reads from the API besides the pod itself: the ConfigMaps and
// Secrets that env vars and volumes refer to, PVCs and their PVs, Services for the service env
// vars, and service account tokens for projected volumes. One interface so env, volumes and tests
// share it; api-sources.ts implements it over informers and the API client.

import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret, Service } from '../pods/api-types.ts';

/**
 * An object that does not exist. The message is what the kubelet reports upstream: its
 * ConfigMap and Secret managers name the resource in the singular (`configmap "x" not found`,
 * `secret "x" not found`); PVCs and PVs come from the API client (`persistentvolumeclaims "x" not found`).
 */
export class ObjectNotFoundError extends Error {
  readonly code = 'NotFound';
  constructor(
    readonly resource: string,
    readonly objectName: string,
  ) {
    super(`${resource} "${objectName}" not found`);
    this.name = 'ObjectNotFoundError';
  }
}

export function isObjectNotFound(e: unknown): e is ObjectNotFoundError {
  return e instanceof ObjectNotFoundError;
}

export interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { apiVersion: string; kind: string; name: string; uid: string };
}

export interface ServiceAccountToken {
  token: string;
  /** RFC 3339 */
  expirationTimestamp: string;
}

export interface ObjectSources {
  /** Throws ObjectNotFoundError('configmap', name) when missing. */
  getConfigMap(namespace: string, name: string): Promise<ConfigMap>;
  /** Throws ObjectNotFoundError('secret', name) when missing. */
  getSecret(namespace: string, name: string): Promise<Secret>;
  /** Throws ObjectNotFoundError('persistentvolumeclaims', name) when missing. */
  getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim>;
  /** Throws ObjectNotFoundError('persistentvolumes', name) when missing. */
  getPersistentVolume(name: string): Promise<PersistentVolume>;
  /** Every Service the kubelet knows (all namespaces), for the service env vars. */
  listServices(): Service[];
  /** False until the Services have been listed once (env vars must wait for that, as upstream). */
  servicesSynced?(): boolean;
  /** POST .../serviceaccounts/<name>/token (TokenRequest). */
  requestServiceAccountToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<ServiceAccountToken>;
}

/** A fixed set of objects (for tests, and for static pods without an API server). */
export class StaticObjectSources implements ObjectSources {
  configMaps = new Map<string, ConfigMap>();
  secrets = new Map<string, Secret>();
  claims = new Map<string, PersistentVolumeClaim>();
  volumes = new Map<string, PersistentVolume>();
  services: Service[] = [];
  tokenRequests: { namespace: string; serviceAccount: string; spec: TokenRequestSpec }[] = [];
  /** Answers token requests; by default they fail as on a server without the TokenRequest API. */
  issueToken?: (namespace: string, serviceAccount: string, spec: TokenRequestSpec) => ServiceAccountToken;

  addConfigMap(cm: ConfigMap): this {
    this.configMaps.set(`${cm.metadata.namespace}/${cm.metadata.name}`, cm);
    return this;
  }
  addSecret(s: Secret): this {
    this.secrets.set(`${s.metadata.namespace}/${s.metadata.name}`, s);
    return this;
  }
  addClaim(c: PersistentVolumeClaim): this {
    this.claims.set(`${c.metadata.namespace}/${c.metadata.name}`, c);
    return this;
  }
  addVolume(pv: PersistentVolume): this {
    this.volumes.set(pv.metadata.name!, pv);
    return this;
  }

  async getConfigMap(namespace: string, name: string): Promise<ConfigMap> {
    const o = this.configMaps.get(`${namespace}/${name}`);
    if (!o) throw new ObjectNotFoundError('configmap', name);
    return o;
  }
  async getSecret(namespace: string, name: string): Promise<Secret> {
    const o = this.secrets.get(`${namespace}/${name}`);
    if (!o) throw new ObjectNotFoundError('secret', name);
    return o;
  }
  async getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim> {
    const o = this.claims.get(`${namespace}/${name}`);
    if (!o) throw new ObjectNotFoundError('persistentvolumeclaims', name);
    return o;
  }
  async getPersistentVolume(name: string): Promise<PersistentVolume> {
    const o = this.volumes.get(name);
    if (!o) throw new ObjectNotFoundError('persistentvolumes', name);
    return o;
  }
  listServices(): Service[] {
    return this.services;
  }
  async requestServiceAccountToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<ServiceAccountToken> {
    this.tokenRequests.push({ namespace, serviceAccount, spec });
    if (!this.issueToken) throw new Error('the server could not find the requested resource (serviceaccounts/token)');
    return this.issueToken(namespace, serviceAccount, spec);
  }
}
