// The OpenAPI definitions a CRD version publishes (upstream controller/openapi/builder): the
// version's schema under `<reversed group>.<version>.<Kind>` with apiVersion, kind and metadata
// (a reference to ObjectMeta) filled in, and the `<Kind>List` around it. OpenAPI v3 gets the
// schema as written; swagger 2.0 gets it without what v2 cannot say (nullable, anyOf/oneOf/allOf/
// not, int-or-string types), as upstream strips them.

import type { JSONSchemaProps } from './schema/types.ts';
import { additionalPropertiesOf, itemsOf } from './schema/types.ts';

type Def = Record<string, unknown>;

const metaRefV2 = (name: string) => `#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.${name}`;
const metaRefV3 = (name: string) => `#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.${name}`;

const apiVersionDescription =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const kindDescription =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const metadataDescription = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const listMetadataDescription = 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

export interface CRDOpenAPI {
  v2: Record<string, Def>;
  v3: Record<string, Def>;
}

/** Definitions of one CRD version, named `model` and `${model}List`. */
export function crdOpenAPI(model: string, group: string, version: string, kind: string, listKind: string, plural: string, schema: JSONSchemaProps | undefined): CRDOpenAPI {
  const base: JSONSchemaProps = schema ? structuredClone(schema) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const gvk = [{ group, kind, version }];
  const listGvk = [{ group, kind: listKind, version }];
  const withMeta = (s: JSONSchemaProps, v3: boolean): Def => {
    const props = { ...(s.properties ?? {}) } as Record<string, unknown>;
    props.apiVersion = { description: apiVersionDescription, type: 'string' };
    props.kind = { description: kindDescription, type: 'string' };
    props.metadata = v3 ? { description: metadataDescription, allOf: [{ $ref: metaRefV3('ObjectMeta') }] } : { description: metadataDescription, $ref: metaRefV2('ObjectMeta') };
    return { ...s, type: 'object', properties: props, 'x-kubernetes-group-version-kind': gvk };
  };
  const list = (v3: boolean): Def => ({
    description: `${listKind} is a list of ${kind}`,
    required: ['items'],
    type: 'object',
    properties: {
      apiVersion: { description: apiVersionDescription, type: 'string' },
      items: { description: `List of ${plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, type: 'array', items: { $ref: v3 ? `#/components/schemas/${model}` : `#/definitions/${model}` } },
      kind: { description: kindDescription, type: 'string' },
      metadata: v3 ? { description: listMetadataDescription, allOf: [{ $ref: metaRefV3('ListMeta') }] } : { description: listMetadataDescription, $ref: metaRefV2('ListMeta') },
    },
    'x-kubernetes-group-version-kind': listGvk,
  });
  return {
    v2: { [model]: withMeta(toV2(base), false), [`${model}List`]: list(false) },
    v3: { [model]: withMeta(base, true), [`${model}List`]: list(true) },
  };
}

/** What swagger 2.0 cannot express is left out, as upstream's v2 publishing does. */
function toV2(s: JSONSchemaProps): JSONSchemaProps {
  const out: JSONSchemaProps = { ...s };
  delete out.nullable;
  delete out.anyOf;
  delete out.oneOf;
  delete out.allOf;
  delete out.not;
  if (s.nullable || s['x-kubernetes-int-or-string']) delete out.type;
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, toV2(v)]));
  const items = itemsOf(s);
  if (items) out.items = toV2(items);
  const extra = additionalPropertiesOf(s);
  if (extra) out.additionalProperties = toV2(extra);
  return out;
}
