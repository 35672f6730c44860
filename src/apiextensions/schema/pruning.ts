// Pruning: fields a structural schema does not specify are dropped, unless the node says
// x-kubernetes-preserve-unknown-fields (upstream apiextensions-apiserver schema/pruning). At
// the root and in embedded resources, apiVersion, kind and metadata are kept (metadata is
// handled by objectmeta.ts). The dropped paths are returned for fieldValidation.

import { additionalPropertiesOf, isObject, itemsOf, preservesUnknown, type JSONSchemaProps } from './types.ts';

/**
 * Removes unknown fields from `obj` in place. Returns their paths as strict decoding names them
 * (`spec.foo`, `spec.list[0].bar`), in document order.
 */
export function prune(obj: unknown, schema: JSONSchemaProps, isResourceRoot = true): string[] {
  const pruned: string[] = [];
  walk(obj, schema, isResourceRoot, '', pruned);
  return pruned;
}

function walk(x: unknown, s: JSONSchemaProps | undefined, isResourceRoot: boolean, path: string, pruned: string[]): void {
  if (Array.isArray(x)) {
    const items = itemsOf(s);
    if (!items && preservesUnknown(s)) return;
    x.forEach((v, i) => walk(v, items, false, `${path}[${i}]`, pruned));
    return;
  }
  if (!isObject(x)) return;
  const embedded = isResourceRoot || s?.['x-kubernetes-embedded-resource'] === true;
  const props = s?.properties;
  const extra = additionalPropertiesOf(s);
  const keepAll = preservesUnknown(s) || s?.additionalProperties === true;
  for (const k of Object.keys(x)) {
    const p = path ? `${path}.${k}` : k;
    if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) {
      // metadata's own unknown fields are dropped by objectmeta coercion
      if (k !== 'metadata' && props?.[k]) walk(x[k], props[k], false, p, pruned);
      continue;
    }
    const ps = props?.[k];
    if (ps) walk(x[k], ps, false, p, pruned);
    else if (extra) walk(x[k], extra, false, p, pruned);
    else if (keepAll) continue; // preserved as it came: no schema to prune by
    else {
      delete x[k];
      pruned.push(p);
    }
  }
}
