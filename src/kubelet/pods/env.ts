// A container's environment, as upstream's makeEnvironmentVariables builds it: envFrom first
// (ConfigMaps and Secrets, with prefix), then env in order (values with $(VAR) expansion against
// what is declared so far and the service env vars, or valueFrom sources), then the service env
// vars not already set. Failures are the CreateContainerConfigError messages upstream reports.

import { isObjectNotFound, type ObjectSources } from '../objects/sources.ts';
import type { ConfigMap, Container, Pod, ResourceList, Secret } from './api-types.ts';
import { expand, mappingFor } from './expansion.ts';
import { podFieldValue, resourceFieldValue } from './fieldpath.ts';
import { serviceEnvVarMap } from './service-env.ts';

export interface KeyValue {
  name: string;
  value: string;
}

/** Why a container could not be configured; the core reports it as waiting reason CreateContainerConfigError. */
export class CreateContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'CreateContainerConfigError';
  }
}

export interface EnvOptions {
  sources: ObjectSources;
  /** The node's allocatable, for resourceFieldRef limits the container leaves unset. */
  nodeAllocatable?: ResourceList;
  /** Pod IPs from the sandbox (primary first); defaults to pod.status. */
  podIPs?: string[];
  /** Node IPs (primary first); defaults to pod.status. */
  hostIPs?: string[];
  /** Static pods do not wait for the Services to be listed. */
  isStaticPod?: boolean;
  /** For the InvalidEnvironmentVariableNames warning event. */
  recordEvent?: (type: 'Normal' | 'Warning', reason: string, message: string) => void;
}

/** The relaxed rule the API server applies to env names: printable ASCII except '='. */
function isValidEnvVarName(name: string): boolean {
  return /^[\x20-\x7e]+$/.test(name) && !name.includes('=');
}

export function decodeSecretValue(v: string | undefined): string {
  return Buffer.from(v ?? '', 'base64').toString('utf8');
}

/** Wraps the object lookups: memoised per call, and failures turned into the upstream messages. */
class Lookups {
  private configMaps = new Map<string, ConfigMap | null>();
  private secrets = new Map<string, Secret | null>();
  constructor(
    private readonly sources: ObjectSources,
    private readonly namespace: string,
  ) {}

  /** The ConfigMap, or null when it is missing and optional (missing and required throws). */
  async configMap(name: string, optional: boolean): Promise<ConfigMap | null> {
    if (this.configMaps.has(name)) return this.configMaps.get(name)!;
    try {
      const cm = await this.sources.getConfigMap(this.namespace, name);
      this.configMaps.set(name, cm);
      return cm;
    } catch (e) {
      if (isObjectNotFound(e) && optional) return null;
      throw new CreateContainerConfigError((e as Error).message);
    }
  }

  async secret(name: string, optional: boolean): Promise<Secret | null> {
    if (this.secrets.has(name)) return this.secrets.get(name)!;
    try {
      const s = await this.sources.getSecret(this.namespace, name);
      this.secrets.set(name, s);
      return s;
    } catch (e) {
      if (isObjectNotFound(e) && optional) return null;
      throw new CreateContainerConfigError((e as Error).message);
    }
  }
}

export async function makeEnvironmentVariables(pod: Pod, container: Container, opts: EnvOptions): Promise<KeyValue[]> {
  const ns = pod.metadata.namespace ?? 'default';
  // KUBERNETES_SERVICE_HOST is what in-cluster clients rely on: never start without it by racing the Services list.
  if (!opts.isStaticPod && opts.sources.servicesSynced && !opts.sources.servicesSynced()) {
    throw new CreateContainerConfigError('services have not yet been read at least once, cannot construct envvars');
  }
  const serviceEnv = serviceEnvVarMap(opts.sources.listServices(), ns, pod.spec.enableServiceLinks ?? true);
  const lookups = new Lookups(opts.sources, ns);
  const env = new Map<string, string>();

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let data: Record<string, string> | undefined;
    let kind: string;
    let name: string;
    if (from.configMapRef) {
      kind = 'configMap';
      name = from.configMapRef.name ?? '';
      const cm = await lookups.configMap(name, !!from.configMapRef.optional);
      if (!cm) continue;
      data = cm.data ?? {};
    } else if (from.secretRef) {
      kind = 'secret';
      name = from.secretRef.name ?? '';
      const s = await lookups.secret(name, !!from.secretRef.optional);
      if (!s) continue;
      data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, decodeSecretValue(v)]));
    } else {
      continue;
    }
    const invalid: string[] = [];
    for (const [k, v] of Object.entries(data)) {
      const key = prefix + k;
      if (!isValidEnvVarName(key)) {
        invalid.push(key);
        continue;
      }
      env.set(key, v);
    }
    if (invalid.length) {
      opts.recordEvent?.(
        'Warning',
        'InvalidEnvironmentVariableNames',
        `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${kind} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
      );
    }
  }

  const mapping = mappingFor(env, serviceEnv);
  for (const e of container.env ?? []) {
    let value = e.value ?? '';
    if (value !== '') {
      value = expand(value, mapping);
    } else if (e.valueFrom) {
      const vf = e.valueFrom;
      try {
        if (vf.fieldRef) {
          value = podFieldValue(pod, vf.fieldRef, { podIPs: opts.podIPs, hostIPs: opts.hostIPs });
        } else if (vf.resourceFieldRef) {
          value = resourceFieldValue(vf.resourceFieldRef, pod, container, opts.nodeAllocatable);
        } else if (vf.configMapKeyRef) {
          const ref = vf.configMapKeyRef;
          const cm = await lookups.configMap(ref.name ?? '', !!ref.optional);
          if (!cm) continue;
          const v = cm.data?.[ref.key];
          if (v === undefined) {
            if (ref.optional) continue;
            throw new CreateContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name ?? ''}`);
          }
          value = v;
        } else if (vf.secretKeyRef) {
          const ref = vf.secretKeyRef;
          const s = await lookups.secret(ref.name ?? '', !!ref.optional);
          if (!s) continue;
          const v = s.data?.[ref.key];
          if (v === undefined) {
            if (ref.optional) continue;
            throw new CreateContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name ?? ''}`);
          }
          value = decodeSecretValue(v);
        }
      } catch (err) {
        if (err instanceof CreateContainerConfigError) throw err;
        throw new CreateContainerConfigError((err as Error).message);
      }
    }
    env.set(e.name, value);
  }

  const out: KeyValue[] = [...env].map(([name, value]) => ({ name, value }));
  for (const [name, value] of serviceEnv) if (!env.has(name)) out.push({ name, value });
  return out;
}
