// `mizzen images import FILE…` and `mizzen images ls`: the node's images without a registry.
// They talk to the node's running containerd (the one `mizzen up` supervises for the data dir,
// or --container-runtime-endpoint).

import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CliIO } from '../../cli/io.ts';
import { isUnavailable } from '../cri/errors.ts';
import { connectCri, endpointSocketPath, normalizeEndpoint } from '../cri/grpc-client.ts';
import type { Image } from '../cri/types.ts';
import { nodePaths } from '../containerd/paths.ts';
import { importArchives } from './import.ts';
import { familiarImageRef, parseImageRef } from './refs.ts';

export const IMAGES_USAGE = `Usage: mizzen images COMMAND [flags]

Manage the images of this machine's node (no registry needed).

Commands:
  import FILE…   import image archives: OCI image layouts or \`docker save\` tarballs (plain .tar)
  ls             list the node's images

Flags:
  --data-dir DIR                      the node's data dir (default ~/.mizzen); its containerd must be
                                      running (\`mizzen up\`)
  --container-runtime-endpoint URL    talk to this containerd instead, e.g. unix:///run/containerd/containerd.sock
  -q, --quiet                         ls: print image IDs only
  -h, --help                          show this help

Archives copied into DIR/images/ are imported each time the node starts.

Examples:
  docker save myapp:1 -o myapp.tar && mizzen images import myapp.tar
  mizzen images ls`;

const flags = {
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
  'data-dir': { type: 'string' },
  'container-runtime-endpoint': { type: 'string' },
} as const;

function usageError(io: CliIO, msg: string): number {
  io.err(`mizzen images: ${msg}\n\n${IMAGES_USAGE}`);
  return 2;
}

export async function runImagesCommand(argv: string[], io: CliIO): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: flags, strict: true, allowPositionals: true }));
  } catch (e) {
    const first = (e as Error).message.split('. ')[0]!.replace(/\.$/, '');
    return usageError(io, first.charAt(0).toLowerCase() + first.slice(1));
  }
  const [sub, ...rest] = positionals;
  if (values.help || sub === 'help') {
    io.out(IMAGES_USAGE);
    return 0;
  }
  if (sub === undefined) return usageError(io, 'missing command: import or ls');
  if (sub !== 'import' && sub !== 'ls') return usageError(io, `unknown command "${sub}"`);
  if (sub === 'import' && rest.length === 0) return usageError(io, 'import needs at least one FILE');
  if (sub === 'ls' && rest.length > 0) return usageError(io, `ls takes no arguments (got "${rest.join(' ')}")`);

  const dataDir = typeof values['data-dir'] === 'string' ? expandHome(values['data-dir']) : join(homedir(), '.mizzen');
  let endpoint: string;
  try {
    endpoint = normalizeEndpoint((values['container-runtime-endpoint'] as string | undefined) ?? `unix://${nodePaths(dataDir).socketPath}`);
  } catch (e) {
    return usageError(io, (e as Error).message);
  }
  const cri = connectCri(endpoint, { defaultTimeoutMs: 30_000 });
  try {
    try {
      await cri.version('v1', { timeoutMs: 5000 });
    } catch (e) {
      const hint = values['container-runtime-endpoint']
        ? ''
        : ` Is \`mizzen up --data-dir ${dataDir}\` running? Archives in ${nodePaths(dataDir).imagesDir} are imported when the node starts.`;
      io.err(`mizzen images: cannot reach the container runtime at ${endpoint}: ${isUnavailable(e) ? 'not running' : (e as Error).message}.${hint}`);
      return 1;
    }
    if (sub === 'ls') {
      const images = await cri.listImages();
      io.out(values.quiet ? images.map((i) => i.id).join('\n') : formatImageTable(images));
      return 0;
    }
    const files = rest.map((f) => resolve(expandHome(f)));
    const result = await importArchives(cri, files, { address: endpointSocketPath(endpoint) });
    for (const n of result.imported) io.out(`imported ${n}`);
    for (const n of result.present) io.out(`already present ${n}`);
    for (const f of result.failed) io.err(`mizzen images: ${f.error}`);
    return result.failed.length ? 1 : 0;
  } finally {
    cri.close();
  }
}

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** crictl-style table: IMAGE TAG IMAGE ID SIZE, one row per tag. */
export function formatImageTable(images: Image[]): string {
  const rows: string[][] = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']];
  const sorted: [string, string, Image][] = [];
  for (const img of images) {
    const tags = img.repoTags.length ? img.repoTags : ['<none>:<none>'];
    for (const t of tags) {
      let repo = '<none>';
      let tag = '<none>';
      if (t !== '<none>:<none>') {
        try {
          const r = parseImageRef(t);
          repo = familiarImageRef(`${r.domain}/${r.path}`).replace(/:latest$/, '');
          tag = r.tag ?? '<none>';
        } catch {
          repo = t;
        }
      }
      sorted.push([repo, tag, img]);
    }
  }
  sorted.sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  for (const [repo, tag, img] of sorted) rows.push([repo, tag, img.id.replace(/^sha256:/, '').slice(0, 13), humanSize(img.size)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('   ')).join('\n');
}

function humanSize(bytes: number): string {
  if (bytes < 1000) return `${bytes}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)}${units[u]}`;
}
