// A LIST in Table form (what kubectl get asks for) written as text, the way a JSON list is: each
// row's PartialObjectMetadata is cut from the object's stored text (no parse, no re-serialising),
// and its cells are kept per cached object version, so a page costs about what a JSON page of the
// same objects costs. (Parsing every object for its cells and metadata made `kubectl get pods -A`
// parse and re-serialise all 150,000 pods; at that size a Table page cost several JSON pages.)

import type { ServerResponse } from 'node:http';
import type { KObject, ResourceDef, TableColumn } from '../api/types.ts';
import { humanAge, humanDuration } from '../api/types.ts';
import { stringifyJSON } from '../machinery/json-values.ts';
import { sendJSONList, type ListItem } from './list-body.ts';
import type { ListMeta } from './output.ts';
import type { CachedObject } from './registry/cached-object.ts';

const defaultColumns: TableColumn[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
  { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
];

/**
 * An object version's cells as JSON text without its Age cell (whose value goes at `at`; -1: the
 * table has no Age column) and its creation time (ms; NaN when it has none). About 150-200 bytes
 * a pod (the text, this record and the WeakMap's entry), held as long as the cached version is: a
 * cached object never changes, so its cells are made once (which parses it) and only the age is
 * redone.
 */
interface KeptCells {
  text: string;
  at: number;
  created: number;
  /** Where metadata ends in the object's stored text (-1: not known), so a later row skips the scan for it. */
  metaEnd: number;
}

const keptCells = new WeakMap<CachedObject, KeptCells>();

function columnsOf(def: ResourceDef): TableColumn[] {
  return def.table?.columns ?? defaultColumns;
}

function rowCells(def: ResourceDef, obj: KObject, now: number): unknown[] {
  if (def.table) return def.table.row(obj, now);
  return [obj.metadata.name, humanAge(obj.metadata.creationTimestamp, now)];
}

/** Whether the object's cells depend on the time only through its age (then they can be kept). */
function agesOnly(def: ResourceDef, obj: KObject): boolean {
  const a = def.table ? def.table.agesOnly : true;
  return typeof a === 'function' ? a(obj) : a === true;
}

/** humanAge of a creation time already parsed (NaN: none). */
function ageAt(created: number, now: number): string {
  return Number.isNaN(created) ? '<unknown>' : humanDuration(Math.max(0, now - created));
}

/** A stored text and where its metadata ends (CachedObject.storedWithMetadata). */
type Stored = { text: string; metaEnd: number } | undefined;

/**
 * The cells of one cached object as JSON text, from its kept cells where it may; `stored` is
 * the object's stored text when the row needs it anyway (one join and one scan serve both).
 */
function cellsJSON(def: ResourceDef, c: CachedObject, ageCell: number, now: number, stored: () => Stored): string {
  const k = keptCells.get(c);
  if (k) return k.at < 0 ? k.text : `${k.text.slice(0, k.at)}${JSON.stringify(ageAt(k.created, now))}${k.text.slice(k.at)}`;
  const s = stored();
  const o = s ? c.forCellsIn(s) : c.forCells;
  const cells = rowCells(def, o, now);
  const text = stringifyJSON(cells);
  const metaEnd = s ? s.metaEnd : -1;
  if (ageCell === -2 || !agesOnly(def, o)) return text;
  if (ageCell === -1) {
    keptCells.set(c, { text, at: -1, created: NaN, metaEnd });
    return text;
  }
  const ts = o.metadata.creationTimestamp;
  const created = ts ? Date.parse(ts) : NaN;
  // An unparsable timestamp ("<invalid>") is not kept: rare, and NaN already means "none".
  if (ts && Number.isNaN(created)) return text;
  const cell = (x: unknown) => JSON.stringify(x) ?? 'null';
  const head = `[${cells.slice(0, ageCell).map(cell).join(',')}${ageCell > 0 ? ',' : ''}`;
  const tail = `${ageCell < cells.length - 1 ? ',' : ''}${cells.slice(ageCell + 1).map(cell).join(',')}]`;
  // Joined, not concatenated: one flat string, not a rope holding both halves.
  keptCells.set(c, { text: [head, tail].join(''), at: head.length, created, metaEnd });
  return text;
}

/**
 * The rows of a Table of cached objects as JSON text, at `now`: cells, and with
 * includeObject=Metadata (the default) each object's PartialObjectMetadata, with Object the
 * object itself, with None nothing more.
 */
export function tableRows(def: ResourceDef, objs: readonly CachedObject[], version: string, includeObject: string, now: number): string[] {
  const ages = columnsOf(def).flatMap((col, i) => (col.name === 'Age' ? [i] : []));
  // Cells are kept for tables with no more than one Age column (-1: none, -2: several, not kept).
  const ageCell = ages.length === 0 ? -1 : ages.length === 1 ? ages[0] : -2;
  const partialHead = `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/${version}","metadata":`;
  const metadata = includeObject !== 'None' && includeObject !== 'Object';
  return objs.map((c) => {
    // The stored text is joined (packed pieces) and its metadata found once per row, for the
    // cells (if not kept) and the metadata both; a kept row knows where metadata ends.
    let stored: Stored | null = null;
    const get = (): Stored => {
      if (stored === null) stored = c.storedWithMetadata(keptCells.get(c)?.metaEnd);
      return stored;
    };
    const cells = cellsJSON(def, c, ageCell, now, metadata ? get : () => undefined);
    if (!metadata) return includeObject === 'None' ? `{"cells":${cells}}` : `{"cells":${cells},"object":${c.json}}`;
    const s = get();
    return `{"cells":${cells},"object":${partialHead}${s ? c.metadataJSONIn(s) : stringifyJSON(c.obj.metadata)}}}`;
  });
}

/**
 * Whole rows of `includeObject=None` Tables (the console's first request, the nodes' Table), kept
 * per cached object version with the Age they were made at, for lists of at most KEEP_ROWS_MAX
 * objects: a row whose Age reads the same (a node minutes old changes it once a minute) is
 * reused as it is, its byte length with it. Making 5,000 node rows from their kept cells took the
 * API server's main thread ~10 ms on a quiet machine and 60-150 ms on a loaded one, on the
 * console's first load. Larger lists (150,000 pods) are not kept: a second string per object.
 */
const keptRows = new WeakMap<CachedObject, { age: string; item: ListItem }>();
const KEEP_ROWS_MAX = 10_000;

/** The rows of an includeObject=None Table with their byte lengths (kept, see keptRows). */
export function noneRows(def: ResourceDef, objs: readonly CachedObject[], version: string, now: number): ListItem[] {
  const keep = objs.length <= KEEP_ROWS_MAX;
  const out: ListItem[] = new Array(objs.length);
  for (let i = 0; i < objs.length; i++) {
    const c = objs[i]!;
    const k = keep ? keptCells.get(c) : undefined;
    // The Age as the row prints it ('' for a table without one); undefined: cells not kept.
    const age = k ? (k.at < 0 ? '' : ageAt(k.created, now)) : undefined;
    const r = age !== undefined ? keptRows.get(c) : undefined;
    if (r && r.age === age) {
      out[i] = r.item;
      continue;
    }
    const json = tableRows(def, [c], version, 'None', now)[0]!;
    const item = { json, jsonBytes: Buffer.byteLength(json) };
    out[i] = item;
    // Kept once its cells are (the first row made of a version keeps its cells, the next its row).
    if (age !== undefined) keptRows.set(c, { age, item });
  }
  return out;
}

/** Sends a list of cached objects as a meta.k8s.io Table (see tableRows), written as a JSON list is. */
export function sendTableList(res: ServerResponse, def: ResourceDef, objs: readonly CachedObject[], meta: ListMeta, version: string, includeObject: string): void {
  const now = Date.now();
  const rows: ListItem[] =
    includeObject === 'None' ? noneRows(def, objs, version, now) : tableRows(def, objs, version, includeObject, now).map((json) => ({ json, jsonBytes: Buffer.byteLength(json) }));
  const columnDefinitions = columnsOf(def).map((col) => ({ name: col.name, type: col.type, format: col.format ?? '', description: col.description ?? '', priority: col.priority }));
  const head = `{"kind":"Table","apiVersion":"meta.k8s.io/${version}","metadata":${JSON.stringify(meta)},"columnDefinitions":${JSON.stringify(columnDefinitions)},"rows":[`;
  sendJSONList(res, 200, head, rows, ']}');
}
