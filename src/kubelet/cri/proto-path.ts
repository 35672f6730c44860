// Where api.proto (Mizzen's CRI subset) is, from the sources or from the esbuild bundle.
//
// From the sources this module sits beside api.proto. In the bundle (dist/cli/main.mjs, see
// bin/mizzen.js) `import.meta.url` is the bundle's, so the file is found through the repository
// layout instead: dist/ and src/ are siblings in every checkout and package (the bundle keeps npm
// packages external, so it only ever runs inside the repository anyway).

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
