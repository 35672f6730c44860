// The files of configMap, secret, downwardAPI and projected volumes (upstream MakePayload /
// CollectData in pkg/volume/{configmap,secret,downwardapi,projected}). Pure: objects in, payload
// out; the volume manager fetches the objects and writes the payload atomically.

import type { ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, ResourceList, Secret } from '../pods/api-types.ts';
import { extractFieldPathAsString, resourceFieldValue } from '../pods/fieldpath.ts';
import type { FileProjection, Payload } from './atomic-writer.ts';

/** The API's default file mode for these volumes (0644). */
export const DEFAULT_MODE = 0o644;

/** Several errors reported as one, as upstream's utilerrors.NewAggregate prints them. */
export function aggregateError(errors: Error[]): Error | undefined {
  if (errors.length === 0) return undefined;
  if (errors.length === 1) return errors[0];
  return new Error(`[${errors.map((e) => e.message).join(', ')}]`);
}

/** configMap (or a projected configMap source) → files. A missing key is an error unless optional. */
export function configMapPayload(items: KeyToPath[] | undefined, cm: ConfigMap, defaultMode: number, optional: boolean): Payload {
  const out: Payload = new Map();
  const data = cm.data ?? {};
  const binary = cm.binaryData ?? {};
  if (!items?.length) {
    for (const [k, v] of Object.entries(data)) out.set(k, { data: Buffer.from(v), mode: defaultMode });
    for (const [k, v] of Object.entries(binary)) out.set(k, { data: Buffer.from(v, 'base64'), mode: defaultMode });
    return out;
  }
  for (const it of items) {
    let bytes: Buffer;
    if (Object.prototype.hasOwnProperty.call(data, it.key)) bytes = Buffer.from(data[it.key]);
    else if (Object.prototype.hasOwnProperty.call(binary, it.key)) bytes = Buffer.from(binary[it.key], 'base64');
    else {
      if (optional) continue;
      throw new Error(`configmap references non-existent config key: ${it.key}`);
    }
    out.set(it.path, { data: bytes, mode: it.mode ?? defaultMode });
  }
  return out;
}

/** secret (or a projected secret source) → files (data is base64 as served). */
export function secretPayload(items: KeyToPath[] | undefined, secret: Secret, defaultMode: number, optional: boolean): Payload {
  const out: Payload = new Map();
  const data = secret.data ?? {};
  if (!items?.length) {
    for (const [k, v] of Object.entries(data)) out.set(k, { data: Buffer.from(v, 'base64'), mode: defaultMode });
    return out;
  }
  for (const it of items) {
    if (!Object.prototype.hasOwnProperty.call(data, it.key)) {
      if (optional) continue;
      throw new Error(`references non-existent secret key: ${it.key}`);
    }
    out.set(it.path, { data: Buffer.from(data[it.key], 'base64'), mode: it.mode ?? defaultMode });
  }
  return out;
}

/**
 * downwardAPI items → files: fieldRef (metadata fields only, as in volumes upstream) and
 * resourceFieldRef (limits defaulted to node allocatable). Every item is tried; the errors are
 * aggregated, and the files that worked are still returned (empty content for the failed ones).
 */
export function downwardAPIPayload(items: DownwardAPIVolumeFile[] | undefined, pod: Pod, defaultMode: number, allocatable: ResourceList | undefined): { payload: Payload; error?: Error } {
  const payload: Payload = new Map();
  const errors: Error[] = [];
  for (const it of items ?? []) {
    const f: FileProjection = { data: Buffer.alloc(0), mode: it.mode ?? defaultMode };
    try {
      if (it.fieldRef) f.data = Buffer.from(extractFieldPathAsString(pod, it.fieldRef.fieldPath));
      else if (it.resourceFieldRef) f.data = Buffer.from(resourceFieldValue(it.resourceFieldRef, pod, undefined, allocatable));
    } catch (e) {
      errors.push(e as Error);
    }
    payload.set(it.path.replace(/\/+$/, ''), f);
  }
  return { payload, error: aggregateError(errors) };
}
