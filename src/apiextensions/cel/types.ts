// CEL types of schema nodes (upstream apiserver/pkg/cel/common/schemas.go): objects with
// properties become object types with those fields, maps become map<string, T>, lists list<T>,
// integer int, number double, boolean bool, string string (timestamp for date and date-time,
// duration for duration), and x-kubernetes-int-or-string or preserved unknown fields dyn. The
// types exist for type checking rules when a CRD is written; rules are then evaluated over plain
// values (see values.ts), so a missing field reads as "no such key" as upstream.

import type { Environment } from '@marcbachmann/cel-js';
import { additionalPropertiesOf, itemsOf, type JSONSchemaProps } from '../schema/types.ts';

const reserved = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/** Property names a rule can select with `.name` (others are not declared, as they would need escaping). */
export function isCelIdentifier(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !reserved.has(name);
}

export class TypeRegistrar {
  private count = 0;
  constructor(private env: Environment) {}

  /** The CEL type name of a schema node, registering the object types it needs. */
  typeOf(s: JSONSchemaProps | undefined, name: string, isResourceRoot = false): string {
    if (!s) return 'dyn';
    if (s['x-kubernetes-int-or-string']) return 'dyn';
    const embedded = isResourceRoot || s['x-kubernetes-embedded-resource'] === true;
    switch (s.type) {
      case 'integer':
        return 'int';
      case 'number':
        return 'double';
      case 'boolean':
        return 'bool';
      case 'string':
        if (s.format === 'date' || s.format === 'date-time') return 'google.protobuf.Timestamp';
        if (s.format === 'duration') return 'google.protobuf.Duration';
        return 'string';
      case 'array':
        return `list<${this.typeOf(itemsOf(s), `${name}_items`)}>`;
      case 'object': {
        const extra = additionalPropertiesOf(s);
        if (extra && !s.properties) return `map<string, ${this.typeOf(extra, `${name}_values`)}>`;
        if (!s.properties && !embedded) return s['x-kubernetes-preserve-unknown-fields'] || s.additionalProperties === true ? 'dyn' : 'map<string, dyn>';
        const fields: Record<string, string> = {};
        if (embedded) {
          fields.apiVersion = 'string';
          fields.kind = 'string';
          fields.metadata = this.metadataType(name);
        }
        for (const [k, ps] of Object.entries(s.properties ?? {})) {
          if (!isCelIdentifier(k)) continue;
          if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
          fields[k] = this.typeOf(ps, `${name}_${k}`);
        }
        const typeName = `${name.replace(/[^A-Za-z0-9_]/g, '_')}_${this.count++}`;
        this.env.registerType(typeName, { fields });
        return typeName;
      }
      default:
        return 'dyn';
    }
  }

  /** Rules see only name and generateName of an object's metadata, as upstream. */
  private metadataType(name: string): string {
    const typeName = `${name.replace(/[^A-Za-z0-9_]/g, '_')}_metadata_${this.count++}`;
    this.env.registerType(typeName, { fields: { name: 'string', generateName: 'string' } });
    return typeName;
  }
}
