// /openapi/v2 as protobuf: kubectl fetches the swagger document in gnostic's `openapi.v2.Document`
// wire format (for client-side validation of `kind: List` manifests). We convert our swagger JSON
// object field by field; field numbers follow gnostic's OpenAPIv2 message definitions. Values that
// gnostic keeps as free-form (vendor extensions, default, enum, example) travel as YAML text in
// `Any.yaml`, which is how kube-openapi reads them back (x-kubernetes-group-version-kind etc.).

import YAML from 'yaml';
import type { ResourceDef } from '../api/types.ts';
import { openAPIV2, openAPIV2Document, type ServedDocument } from './openapi.ts';
import { ProtoWriter } from '../machinery/protobuf-writer.ts';

type Json = Record<string, any>;

/** What kubectl sends, and the spelling upstream answers with (and also accepts). */
export const openAPIV2ProtobufAccept = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
export const openAPIV2ProtobufContentType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

// --- the protobuf writer, with gnostic's field helpers ----------------------------------------

/** One message's fields; proto3 rules: zero scalars are omitted, set messages are not. Values are free-form JSON, checked here. */
class GnosticWriter extends ProtoWriter {
  string(field: number, s: unknown): this {
    return typeof s === 'string' ? this.bytes(field, s) : this;
  }

  strings(field: number, list: unknown): this {
    const items = Array.isArray(list) ? list : typeof list === 'string' ? [list] : [];
    // Repeated strings keep empty entries (they are elements, not defaults).
    for (const s of items) if (typeof s === 'string') this.bytes(field, s, true);
    return this;
  }

  override bool(field: number, v: unknown, keepFalse = false): this {
    if (v === true || (keepFalse && v === false)) {
      this.tag(field, 0);
      this.varint(v ? 1 : 0);
    }
    return this;
  }

  int64(field: number, v: unknown): this {
    if (typeof v === 'number' && Number.isFinite(v) && v !== 0) {
      this.tag(field, 0);
      this.varint(Math.trunc(v));
    }
    return this;
  }

  double(field: number, v: unknown): this {
    if (typeof v === 'number' && v !== 0) {
      this.tag(field, 1);
      this.room(8);
      this.pos = this.buf.writeDoubleLE(v, this.pos);
    }
    return this;
  }

  override message(field: number, m: ProtoWriter | undefined): this {
    return m ? super.message(field, m) : this;
  }

  messages(field: number, list: Array<GnosticWriter | undefined>): this {
    for (const m of list) this.message(field, m);
    return this;
  }
}

const w = () => new GnosticWriter();
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// --- free-form values -------------------------------------------------------------------------

/** YAML text as gnostic produces it; YAML 1.1 quoting so Go's YAML readers never see `yes` as a bool. */
function yamlText(v: unknown): string {
  return YAML.stringify(v, { version: '1.1', lineWidth: 0, minContentWidth: 0 });
}

/** openapi.v2.Any { value = 1 (google.protobuf.Any, unused); yaml = 2 } */
const anyValue = (v: unknown) => w().string(2, yamlText(v));

/** NamedAny { name = 1; value = 2 } for every `x-` key of an object (vendor_extension fields). */
function vendorExtensions(o: Json): GnosticWriter[] {
  return Object.keys(o)
    .filter((k) => k.startsWith('x-') && o[k] !== undefined)
    .map((k) => w().string(1, k).message(2, anyValue(o[k])));
}

// --- schemas ----------------------------------------------------------------------------------

/** NamedSchema { name = 1; value = 2 } lists, used by Definitions and Properties. */
function namedSchemas(o: Json): GnosticWriter {
  return w().messages(
    1,
    Object.keys(o).map((name) => w().string(1, name).message(2, schema(o[name]))),
  );
}

/**
 * The ten validation keywords maximum … uniqueItems, which Schema, the non-body parameters and
 * PrimitivesItems all number consecutively from `first`.
 */
function limits(m: GnosticWriter, first: number, o: Json): GnosticWriter {
  return m
    .double(first, o.maximum)
    .bool(first + 1, o.exclusiveMaximum)
    .double(first + 2, o.minimum)
    .bool(first + 3, o.exclusiveMinimum)
    .int64(first + 4, o.maxLength)
    .int64(first + 5, o.minLength)
    .string(first + 6, o.pattern)
    .int64(first + 7, o.maxItems)
    .int64(first + 8, o.minItems)
    .bool(first + 9, o.uniqueItems);
}

/** openapi.v2.Schema */
export function schema(s: Json): GnosticWriter {
  const m = w()
    .string(1, s.$ref)
    .string(2, s.format)
    .string(3, s.title)
    .string(4, s.description);
  if (s.default !== undefined) m.message(5, anyValue(s.default));
  limits(m.double(6, s.multipleOf), 7, s)
    .int64(17, s.maxProperties)
    .int64(18, s.minProperties)
    .strings(19, s.required);
  if (Array.isArray(s.enum)) m.messages(20, s.enum.map(anyValue));
  // AdditionalPropertiesItem is a oneof { Schema schema = 1; bool boolean = 2 }: false is meaningful.
  if (isObject(s.additionalProperties)) m.message(21, w().message(1, schema(s.additionalProperties)));
  else if (typeof s.additionalProperties === 'boolean') m.message(21, w().bool(2, s.additionalProperties, true));
  if (s.type !== undefined) m.message(22, w().strings(1, s.type));
  // ItemsItem { repeated Schema schema = 1 }: one schema or a tuple of them.
  if (Array.isArray(s.items)) m.message(23, w().messages(1, s.items.filter(isObject).map(schema)));
  else if (isObject(s.items)) m.message(23, w().message(1, schema(s.items)));
  if (Array.isArray(s.allOf)) m.messages(24, s.allOf.filter(isObject).map(schema));
  if (isObject(s.properties)) m.message(25, namedSchemas(s.properties));
  m.string(26, s.discriminator).bool(27, s.readOnly);
  if (isObject(s.externalDocs)) m.message(29, externalDocs(s.externalDocs));
  if (s.example !== undefined) m.message(30, anyValue(s.example));
  return m.messages(31, vendorExtensions(s));
}

/** ExternalDocs { description = 1; url = 2; vendor_extension = 3 } */
const externalDocs = (d: Json) => w().string(1, d.description).string(2, d.url).messages(3, vendorExtensions(d));

// --- paths ------------------------------------------------------------------------------------

/**
 * Query and formData parameter messages share one layout; path and header parameters share
 * another without `allow_empty_value`, so every later field sits one number lower.
 */
function nonBodyParameter(p: Json): GnosticWriter | undefined {
  const which = ({ header: 1, formData: 2, query: 3, path: 4 } as Record<string, number>)[p.in];
  if (!which) return undefined;
  const hasAllowEmpty = which === 2 || which === 3;
  const n = (f: number) => (hasAllowEmpty || f < 5 ? f : f - 1);
  const m = w().bool(1, p.required).string(2, p.in).string(3, p.description).string(4, p.name);
  if (hasAllowEmpty) m.bool(5, p.allowEmptyValue);
  m.string(n(6), p.type).string(n(7), p.format);
  if (isObject(p.items)) m.message(n(8), primitivesItems(p.items));
  m.string(n(9), p.collectionFormat);
  if (p.default !== undefined) m.message(n(10), anyValue(p.default));
  limits(m, n(11), p);
  if (Array.isArray(p.enum)) m.messages(n(21), p.enum.map(anyValue));
  m.double(n(22), p.multipleOf).messages(n(23), vendorExtensions(p));
  return w().message(which, m);
}

/** PrimitivesItems (the `items` of a non-body parameter). */
function primitivesItems(i: Json): GnosticWriter {
  const m = w().string(1, i.type).string(2, i.format);
  if (isObject(i.items)) m.message(3, primitivesItems(i.items));
  m.string(4, i.collectionFormat);
  if (i.default !== undefined) m.message(5, anyValue(i.default));
  limits(m, 6, i);
  if (Array.isArray(i.enum)) m.messages(16, i.enum.map(anyValue));
  return m.double(17, i.multipleOf).messages(18, vendorExtensions(i));
}

/** ParametersItem { oneof { Parameter parameter = 1; JsonReference json_reference = 2 } } */
function parametersItem(p: Json): GnosticWriter | undefined {
  if (typeof p.$ref === 'string') return w().message(2, w().string(1, p.$ref).string(2, p.description));
  if (p.in === 'body') {
    const body = w().string(1, p.description).string(2, p.name).string(3, p.in).bool(4, p.required);
    if (isObject(p.schema)) body.message(5, schema(p.schema));
    return w().message(1, w().message(1, body.messages(6, vendorExtensions(p))));
  }
  const nb = nonBodyParameter(p);
  return nb && w().message(1, w().message(2, nb));
}

const parameterList = (list: unknown) => (Array.isArray(list) ? list.filter(isObject).map(parametersItem) : []);

/** Responses { repeated NamedResponseValue response_code = 1; vendor_extension = 2 } */
function responses(r: Json): GnosticWriter {
  const codes = Object.keys(r).filter((k) => !k.startsWith('x-') && isObject(r[k]));
  return w()
    .messages(
      1,
      codes.map((code) => {
        const v = r[code];
        // ResponseValue { oneof { Response response = 1; JsonReference json_reference = 2 } }
        const value =
          typeof v.$ref === 'string'
            ? w().message(2, w().string(1, v.$ref))
            : w().message(1, w().string(1, v.description).message(2, isObject(v.schema) ? w().message(1, schema(v.schema)) : undefined).messages(5, vendorExtensions(v)));
        return w().string(1, code).message(2, value);
      }),
    )
    .messages(2, vendorExtensions(r));
}

/** SecurityRequirement { repeated NamedStringArray additional_properties = 1 } */
const securityRequirement = (s: Json) =>
  w().messages(
    1,
    Object.keys(s).map((name) => w().string(1, name).message(2, w().strings(1, s[name]))),
  );

function operation(op: Json): GnosticWriter {
  const m = w().strings(1, op.tags).string(2, op.summary).string(3, op.description);
  if (isObject(op.externalDocs)) m.message(4, externalDocs(op.externalDocs));
  m.string(5, op.operationId).strings(6, op.produces).strings(7, op.consumes).messages(8, parameterList(op.parameters));
  if (isObject(op.responses)) m.message(9, responses(op.responses));
  m.strings(10, op.schemes).bool(11, op.deprecated);
  if (Array.isArray(op.security)) m.messages(12, op.security.filter(isObject).map(securityRequirement));
  return m.messages(13, vendorExtensions(op));
}

const methodFields: Array<[string, number]> = [
  ['get', 2],
  ['put', 3],
  ['post', 4],
  ['delete', 5],
  ['options', 6],
  ['head', 7],
  ['patch', 8],
];

function pathItem(item: Json): GnosticWriter {
  const m = w().string(1, item.$ref);
  for (const [method, field] of methodFields) if (isObject(item[method])) m.message(field, operation(item[method]));
  return m.messages(9, parameterList(item.parameters)).messages(10, vendorExtensions(item));
}

/** Paths { vendor_extension = 1; repeated NamedPathItem path = 2 } */
function paths(p: Json): GnosticWriter {
  const names = Object.keys(p).filter((k) => k.startsWith('/') && isObject(p[k]));
  return w()
    .messages(1, vendorExtensions(p))
    .messages(
      2,
      names.map((name) => w().string(1, name).message(2, pathItem(p[name]))),
    );
}

/** SecurityDefinitionsItem: only the apiKey and basic variants occur in Kubernetes documents. */
function securityDefinition(d: Json): GnosticWriter | undefined {
  if (d.type === 'apiKey')
    return w().message(2, w().string(1, d.type).string(2, d.name).string(3, d.in).string(4, d.description).messages(5, vendorExtensions(d)));
  if (d.type === 'basic') return w().message(1, w().string(1, d.type).string(2, d.description).messages(3, vendorExtensions(d)));
  return undefined;
}

// --- the document -----------------------------------------------------------------------------

/** Encodes a swagger 2.0 JSON object as a gnostic `openapi.v2.Document`. */
export function encodeOpenAPIV2Protobuf(doc: Json): Uint8Array {
  const m = w().string(1, doc.swagger);
  if (isObject(doc.info)) {
    const i = doc.info;
    m.message(2, w().string(1, i.title).string(2, i.version).string(3, i.description).string(4, i.termsOfService).messages(7, vendorExtensions(i)));
  }
  m.string(3, doc.host).string(4, doc.basePath).strings(5, doc.schemes).strings(6, doc.consumes).strings(7, doc.produces);
  if (isObject(doc.paths)) m.message(8, paths(doc.paths));
  if (isObject(doc.definitions)) m.message(9, namedSchemas(doc.definitions));
  if (Array.isArray(doc.security)) m.messages(12, doc.security.filter(isObject).map(securityRequirement));
  if (isObject(doc.securityDefinitions)) {
    const defs = doc.securityDefinitions;
    const named = Object.keys(defs)
      .filter((k) => isObject(defs[k]))
      .map((name) => {
        const item = securityDefinition(defs[name]);
        return item && w().string(1, name).message(2, item);
      });
    m.message(13, w().messages(1, named));
  }
  if (Array.isArray(doc.tags))
    m.messages(
      14,
      doc.tags.filter(isObject).map((t: Json) => w().string(1, t.name).string(2, t.description).messages(4, vendorExtensions(t))),
    );
  if (isObject(doc.externalDocs)) m.message(15, externalDocs(doc.externalDocs));
  return m.messages(16, vendorExtensions(doc)).finish();
}

// --- serving ----------------------------------------------------------------------------------

const served = new WeakMap<ResourceDef[], ServedDocument>();

/**
 * The protobuf form of /openapi/v2, encoded once per resource list. Like upstream, it carries the
 * JSON document's hash and ETag (both forms describe the same spec; responses vary on Accept).
 */
export function openAPIV2ProtobufDocument(resources: ResourceDef[]): ServedDocument {
  let d = served.get(resources);
  if (!d) {
    const json = openAPIV2Document(resources);
    d = { body: Buffer.from(encodeOpenAPIV2Protobuf(openAPIV2(resources) as Json)), hash: json.hash, etag: json.etag };
    served.set(resources, d);
  }
  return d;
}

interface AcceptClause {
  type: string;
  subtype: string;
  q: number;
  index: number;
}

function parseAccept(header: string): AcceptClause[] {
  const out: AcceptClause[] = [];
  header.split(',').forEach((part, index) => {
    const [range, ...params] = part.split(';').map((s) => s.trim());
    if (!range) return;
    const slash = range.indexOf('/');
    const type = (slash < 0 ? range : range.slice(0, slash)).toLowerCase();
    const subtype = (slash < 0 ? '*' : range.slice(slash + 1)).toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k === 'q' && v !== undefined && !Number.isNaN(Number(v))) q = Number(v);
    }
    if (q > 0) out.push({ type, subtype, q, index });
  });
  // Highest q first; at equal q, concrete types before wildcards; otherwise keep header order.
  const rank = (c: AcceptClause) => (c.type === '*' ? 2 : c.subtype === '*' ? 1 : 0);
  return out.sort((a, b) => b.q - a.q || rank(a) - rank(b) || a.index - b.index);
}

const offered: Array<{ subtype: string; form: 'json' | 'protobuf' }> = [
  { subtype: 'json', form: 'json' },
  { subtype: 'com.github.proto-openapi.spec.v2@v1.0+protobuf', form: 'protobuf' },
  { subtype: 'com.github.proto-openapi.spec.v2.v1.0+protobuf', form: 'protobuf' },
];

/**
 * Which form of /openapi/v2 an Accept header asks for, as upstream chooses: the first clause (by
 * preference) that matches JSON or either protobuf spelling; undefined means 406.
 */
export function negotiateOpenAPIV2(accept: string | undefined): 'json' | 'protobuf' | undefined {
  for (const c of parseAccept(accept?.trim() ? accept : '*/*')) {
    if (c.type !== 'application' && c.type !== '*') continue;
    for (const o of offered) if (c.subtype === '*' || c.subtype === o.subtype) return o.form;
  }
  return undefined;
}
