// PATCH with `application/apply-patch+yaml` (server-side apply): creates the object when it is
// missing, else merges the configuration into it under the field manager's ownership rules.
// The status subresource applies status; the scale subresource applies an autoscaling/v1 Scale
// as the workload's replicas.

import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import type { KObject, ResourceDef } from '../api/types.ts';
import { errors, StatusError } from '../machinery/errors.ts';
import { findDuplicateFields } from '../machinery/json-duplicates.ts';
import { sendJSON } from './http-util.ts';
import type { RequestInfo } from './request-info.ts';
import { isTrue } from './request-info.ts';
import type { OutputForm } from './output.ts';
import { toTable, partialMetadata } from './output.ts';
import type { ResourceStore } from './registry/resource-store.ts';
import { CachedObject, writtenJSON } from './registry/cached-object.ts';
import { checkFieldManagerOptions, fieldManagerFor } from './fieldmanager/index.ts';
import { scaleOf } from './scale.ts';

export async function serverSideApply(
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
  def: ResourceDef,
  store: ResourceStore,
  q: URLSearchParams,
  raw: Buffer,
  form: OutputForm,
  ns: string | undefined,
): Promise<void> {
  checkFieldManagerOptions('PatchOptions', q, true);
  const sub = info.subresource;
  if (sub && sub !== 'status' && sub !== 'scale') throw errors.methodNotAllowed(`PATCH is not supported on ${def.plural}/${sub}`);
  const dryRun = dryRunOf(q);
  const force = isTrue(q.get('force'));
  const manager = q.get('fieldManager')!;
  const warnings: string[] = [];
  const config = decodeConfig(raw, fieldValidation(q), warnings);
  const name = info.name!;

  if (sub === 'scale') {
    const fm = fieldManagerFor(def, 'scale');
    const parent = parentConfigOfScale(def, store, config, name, ns);
    const updated = await store.update(ns, name, (cur) => fm.apply(cur, parent, manager, force), { dryRun, warnings, managedFields: 'applied' });
    return sendJSON(res, 200, scaleOf(def, updated), warningHeader(warnings));
  }

  const fm = fieldManagerFor(def, sub);
  // The object may appear or go between looking and writing: try the other way once more.
  for (let attempt = 0; ; attempt++) {
    if (!store.tryGet(ns, name)) {
      if (sub) throw errors.notFound(store.gr, name);
      const obj = fm.apply(undefined, config, manager, force);
      checkName(obj, name, ns);
      try {
        const created = await store.create(ns, obj, { dryRun, warnings, managedFields: 'applied' });
        return writeResult(res, 201, def, created, form, q, warnings);
      } catch (e) {
        if (attempt < 2 && e instanceof StatusError && e.reason === 'AlreadyExists') continue;
        throw e;
      }
    }
    try {
      const updated = await store.update(
        ns,
        name,
        (cur) => {
          const merged = fm.apply(cur, config, manager, force);
          checkName(merged, name, ns);
          return merged;
        },
        { dryRun, warnings, subresource: sub, managedFields: 'applied' },
      );
      return writeResult(res, 200, def, updated, form, q, warnings);
    } catch (e) {
      if (attempt < 2 && !sub && e instanceof StatusError && e.code === 404 && e.details?.name === name) continue;
      throw e;
    }
  }
}

function dryRunOf(q: URLSearchParams): boolean {
  const d = q.getAll('dryRun');
  for (const v of d) if (v !== 'All') throw errors.badRequest(`Invalid dry run value: unsupported dry run value "${v}"; only "All" is supported`);
  return d.length > 0;
}

function fieldValidation(q: URLSearchParams): 'Strict' | 'Warn' | 'Ignore' {
  const m = q.get('fieldValidation') ?? 'Warn';
  if (m !== 'Strict' && m !== 'Warn' && m !== 'Ignore') throw errors.badRequest(`fieldValidation parameter unsupported: ${JSON.stringify(m)}: must be one of Ignore, Warn, Strict`);
  return m;
}

/** The configuration: YAML (JSON is YAML). Duplicate keys fail Strict, warn under Warn. */
function decodeConfig(raw: Buffer, mode: 'Strict' | 'Warn' | 'Ignore', warnings: string[]): KObject {
  const text = raw.toString('utf8');
  let value: unknown;
  let duplicates: string[] = [];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      value = JSON.parse(text);
      if (mode !== 'Ignore') duplicates = findDuplicateFields(text).map((d) => `duplicate field ${JSON.stringify(d)}`);
    } catch {
      value = undefined;
    }
  }
  if (value === undefined) {
    let doc: YAML.Document.Parsed;
    try {
      const docs = YAML.parseAllDocuments(text, { uniqueKeys: false });
      if (docs.length !== 1) throw new Error(`expected one YAML document, found ${docs.length}`);
      doc = docs[0] as YAML.Document.Parsed;
      if (doc.errors.length) throw doc.errors[0];
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // The YAML parser recurses per level and gives up long before upstream's 10,000 levels.
      if (/call stack/i.test((e as Error).message))
        throw errors.badRequest("error decoding patch: the configuration is nested too deeply for the server's YAML parser (it gives up after some hundreds of levels of [ and {); send it as JSON, which may nest up to 10000 levels");
      throw errors.badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    if (mode !== 'Ignore') {
      const strict = YAML.parseDocument(text, { uniqueKeys: true });
      duplicates = strict.errors.filter((e) => e.code === 'DUPLICATE_KEY').map((e) => e.message.split('\n')[0]);
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw errors.badRequest(`error decoding patch: json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type map[string]interface {}`);
  if (duplicates.length) {
    if (mode === 'Strict') throw errors.badRequest(`error strict decoding patch: ${duplicates.join(', ')}`);
    warnings.push(...duplicates);
  }
  return value as KObject;
}

/** Upstream's check of the applied object's name and namespace against the URL (a missing name is the URL's). */
function checkName(obj: KObject, name: string, ns: string | undefined): void {
  obj.metadata ??= {};
  const m = obj.metadata;
  if (m.name === undefined || m.name === '') m.name = name;
  else if (m.name !== name) throw errors.badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
  if (ns !== undefined && m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns)
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
}

/** A Scale configuration as the workload's: its replicas at the kind's replicas path. */
function parentConfigOfScale(def: ResourceDef, store: ResourceStore, config: KObject, name: string, ns: string | undefined): KObject {
  if (config.apiVersion !== 'autoscaling/v1' || config.kind !== 'Scale')
    throw errors.badRequest(`invalid object type: ${String(config.apiVersion ?? '').includes('/') ? config.apiVersion : `/${config.apiVersion ?? ''}`}, Kind=${config.kind ?? ''}`);
  const parent: KObject = { apiVersion: store.apiVersion, kind: def.kind, metadata: { name } };
  if (ns !== undefined) parent.metadata.namespace = ns;
  const replicas = config.spec?.replicas;
  if (replicas !== undefined) {
    const keys = def.scale!.specReplicasPath.replace(/^\./, '').split('.');
    let o: any = parent;
    for (const k of keys.slice(0, -1)) o = o[k] ??= {};
    o[keys[keys.length - 1]] = replicas;
  }
  return parent;
}

function warningHeader(warnings: string[]): Record<string, string> {
  return warnings.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') } : {};
}

function writeResult(res: ServerResponse, code: number, def: ResourceDef, obj: KObject, form: OutputForm, q: URLSearchParams, warnings: string[]): void {
  const headers = warningHeader(warnings);
  if (form.kind === 'table') return sendJSON(res, code, toTable(def, [obj], undefined, form.version, q.get('includeObject') ?? 'Metadata'), headers);
  if (form.kind === 'metadata') return sendJSON(res, code, partialMetadata(obj, form.version), headers);
  sendJSON(res, code, obj instanceof CachedObject ? obj.json : (writtenJSON.get(obj) ?? JSON.stringify(obj)), headers);
}
