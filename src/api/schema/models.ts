// Reads the model classes generated into @kubernetes/client-node at runtime: the
// `attributeTypeMap` of each dist/gen/models/<Model>.js and the JSDoc descriptions and
// required-ness from the matching .d.ts. Nothing is copied into the repository; each model is
// read from node_modules the first time it is needed and memoised for the process lifetime.

import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ModelAttr {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

export interface ModelField extends ModelAttr {
  description?: string;
  required: boolean;
  parsed: TypeRef;
}

export interface ModelInfo {
  name: string;
  description?: string;
  fields: ModelField[];
  /** JSON field name -> field */
  byJSONName: Map<string, ModelField>;
}

/** A client-node attribute type, parsed. */
export type TypeRef =
  | { kind: 'primitive'; type: 'string' | 'number' | 'boolean'; format: string }
  | { kind: 'date'; format: string }
  | { kind: 'intOrString' }
  | { kind: 'any' }
  | { kind: 'array'; items: TypeRef }
  | { kind: 'map'; values: TypeRef }
  | { kind: 'model'; name: string };

let modelsDir: string | undefined;

function modelsDirectory(): string {
  if (modelsDir) return modelsDir;
  // import.meta.resolve gives dist/index.js; the generated models live beside it.
  const entry = fileURLToPath(import.meta.resolve('@kubernetes/client-node'));
  modelsDir = join(dirname(entry), 'gen', 'models');
  return modelsDir;
}

export function parseType(type: string, format = ''): TypeRef {
  const t = type.trim();
  const arr = /^Array<(.+)>$/.exec(t);
  if (arr) return { kind: 'array', items: parseType(arr[1]) };
  const map = /^\{\s*\[key: string\]:\s*(.+?);\s*\}$/.exec(t);
  if (map) return { kind: 'map', values: parseType(map[1]) };
  if (t === 'string' || t === 'number' || t === 'boolean') return { kind: 'primitive', type: t, format };
  if (t === 'Date') return { kind: 'date', format: format || 'date-time' };
  if (t === 'IntOrString') return { kind: 'intOrString' };
  if (t === 'any' || t === 'object') return { kind: 'any' };
  return { kind: 'model', name: t };
}

const cache = new Map<string, ModelInfo | null>();

export function modelExists(name: string): boolean {
  return loadModel(name) !== undefined;
}

/** The model's fields and docs, or undefined if client-node has no such model. */
export function loadModel(name: string): ModelInfo | undefined {
  const hit = cache.get(name);
  if (hit !== undefined) return hit ?? undefined;
  const info = readModel(name);
  cache.set(name, info ?? null);
  return info;
}

function readModel(name: string): ModelInfo | undefined {
  if (!/^[A-Za-z0-9]+$/.test(name)) return undefined;
  const dir = modelsDirectory();
  const jsPath = join(dir, `${name}.js`);
  if (!existsSync(jsPath)) return undefined;
  const js = readFileSync(jsPath, 'utf8');
  const marker = `${name}.attributeTypeMap = `;
  const start = js.indexOf(marker);
  if (start < 0) return undefined; // enums and helpers have no attribute map
  const end = js.indexOf('];', start);
  const attrs = JSON.parse(js.slice(start + marker.length, end + 1)) as ModelAttr[];
  const docs = readDocs(join(dir, `${name}.d.ts`), name);
  const fields: ModelField[] = attrs.map((a) => ({
    ...a,
    description: docs.fields.get(a.name)?.description,
    required: docs.fields.get(a.name)?.required ?? false,
    parsed: parseType(a.type, a.format),
  }));
  return { name, description: docs.description, fields, byJSONName: new Map(fields.map((f) => [f.baseName, f])) };
}

interface Docs {
  description?: string;
  fields: Map<string, { description?: string; required: boolean }>;
}

/** The generator writes single-line JS string escapes into the comments (\" and \'). */
function unescapeDoc(s: string): string {
  return s.replace(/\\(["'\\`])/g, '$1');
}

function readDocs(path: string, name: string): Docs {
  const out: Docs = { fields: new Map() };
  if (!existsSync(path)) return out;
  const lines = readFileSync(path, 'utf8').split('\n');
  let comment: string[] | undefined;
  let pending: string | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith('/**')) {
      comment = [];
      continue;
    }
    if (comment && line.startsWith('*/')) {
      pending = comment.join(' ').trim();
      comment = undefined;
      continue;
    }
    if (comment) {
      comment.push(line.replace(/^\*\s?/, ''));
      continue;
    }
    if (line.startsWith(`export declare class ${name}`)) {
      if (pending) out.description = unescapeDoc(pending);
      pending = undefined;
      continue;
    }
    const prop = /^'([^']+)'(\?)?:/.exec(line);
    if (prop) {
      out.fields.set(prop[1], { description: pending ? unescapeDoc(pending) : undefined, required: prop[2] !== '?' });
    }
    if (line) pending = undefined;
  }
  return out;
}
