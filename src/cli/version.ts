// The mizzen version, read from package.json so there is one source of truth.

import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function mizzenVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    cached = pkg.version ?? '0.0.0';
  }
  return cached;
}

export function versionText(): string {
  return `mizzen v${mizzenVersion()} (node ${process.version}, ${process.platform}/${process.arch})`;
}
