// Loads api.proto (Mizzen's CRI subset) once, from the sources or from the esbuild bundle.
//
// From the sources this module sits beside api.proto. In the bundle (dist/cli/main.mjs, see
// bin/mizzen.js) `import.meta.url` is the bundle's, so the file is found through the repository
// layout instead: dist/ and src/ are siblings in every checkout and package (the bundle keeps npm
// packages external, so it only ever runs inside the repository anyway).

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSync, type PackageDefinition, type MethodDefinition } from '@grpc/proto-loader';

const CANDIDATES = [
  new URL('./api.proto', import.meta.url), // sources (tsx)
  new URL('../../src/kubelet/cri/api.proto', import.meta.url), // dist/cli/*.mjs
];

export function criProtoPath(): string {
  for (const url of CANDIDATES) {
    const p = fileURLToPath(url);
    if (existsSync(p)) return p;
  }
  throw new Error(`CRI api.proto not found (looked at ${CANDIDATES.map((u) => fileURLToPath(u)).join(', ')})`);
}

let cached: PackageDefinition | undefined;

/** The package definition: camelCase fields, enums as names, int64 as numbers, defaults filled. */
export function criPackageDefinition(): PackageDefinition {
  cached ??= loadSync(criProtoPath(), { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
  return cached;
}

export type CriMethod = MethodDefinition<object, object>;

/** Method definitions of one service, by method name ('Version', 'ListImages', ...). */
export function criService(name: 'RuntimeService' | 'ImageService'): Record<string, CriMethod> {
  const def = criPackageDefinition()[`runtime.v1.${name}`];
  if (!def || !('Version' in def || 'ListImages' in def)) throw new Error(`runtime.v1.${name} missing from api.proto`);
  return def as unknown as Record<string, CriMethod>;
}
