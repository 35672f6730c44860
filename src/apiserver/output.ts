// Response forms: plain JSON, meta.k8s.io Table (kubectl get), PartialObjectMetadata.

import type { KObject, ResourceDef, TableColumn } from '../api/types.ts';
import { humanAge } from '../api/types.ts';
import { errors } from '../machinery/errors.ts';
import { parseAccept } from './http-util.ts';

export type OutputForm = { kind: 'json' } | { kind: 'table'; version: string } | { kind: 'metadata'; version: string; list: boolean };

const plainJSON: OutputForm = { kind: 'json' };

export function negotiateOutput(accept: string | undefined): OutputForm {
  if (accept === undefined || accept === 'application/json' || accept === '*/*') return plainJSON;
  const ranges = parseAccept(accept);
  for (const r of ranges) {
    const jsonish = r.type === 'application/json' || r.type === '*/*' || r.type === 'application/*';
    if (!jsonish) continue;
    const as = r.params.as;
    if (!as) return { kind: 'json' };
    if (r.params.g === 'meta.k8s.io' && (r.params.v === 'v1' || r.params.v === 'v1beta1')) {
      if (as === 'Table') return { kind: 'table', version: r.params.v };
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList')
        return { kind: 'metadata', version: r.params.v, list: as === 'PartialObjectMetadataList' };
    }
  }
  if (ranges.some((r) => r.type === 'application/yaml')) return { kind: 'json' };
  throw errors.notAcceptable(`only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io (requested: ${accept})`);
}

const defaultColumns: TableColumn[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
  { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
];

function columns(def: ResourceDef): TableColumn[] {
  return def.table?.columns ?? defaultColumns;
}

function cells(def: ResourceDef, obj: KObject, now: number): unknown[] {
  if (def.table) return def.table.row(obj, now);
  return [obj.metadata.name, humanAge(obj.metadata.creationTimestamp, now)];
}

export function partialMetadata(obj: KObject, version = 'v1'): KObject {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

function rowObject(obj: KObject, include: string, version: string): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return partialMetadata(obj, version);
}

export interface ListMeta {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** A Table for one object or a list. */
export function toTable(def: ResourceDef, objs: KObject[], meta: ListMeta | undefined, version: string, includeObject: string, noHeaders = false): object {
  const now = Date.now();
  const table: any = {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: meta ?? {},
    columnDefinitions: noHeaders ? null : columns(def).map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority })),
    rows: objs.map((o) => {
      const row: any = { cells: cells(def, o, now) };
      const ob = rowObject(o, includeObject, version);
      if (ob !== undefined) row.object = ob;
      return row;
    }),
  };
  return table;
}

/** A list's JSON around its items: the items' cached JSON goes between head and tail, comma-separated. */
export function listEnvelope(def: ResourceDef, apiVersion: string, meta: ListMeta): { head: string; tail: string } {
  return { head: `{"kind":${JSON.stringify(def.listKind ?? `${def.kind}List`)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":${JSON.stringify(meta)},"items":[`, tail: ']}' };
}

