// The console's built files (dist/console, made by `npm install`'s prepare step): read once, kept
// in memory with their gzip form, served with caching headers that fit Vite's output (hashed
// names under assets/ never change; index.html always revalidates).

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptsGzip } from '../http-util.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * What the pages may load: only this origin (the API is on it too), no framing. Inline styles are
 * allowed because components set computed sizes and colours with style attributes.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * The policy for a page with inline scripts: each allowed by its SHA-256 (index.html starts the
 * map's first request inline, before its script files arrive).
 */
export function policyFor(html: string): string {
  const hashes: string[] = [];
  for (const m of html.matchAll(/<script>([\s\S]*?)<\/script>/g)) hashes.push(`'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
  return hashes.length ? CONTENT_SECURITY_POLICY.replace("script-src 'self'", `script-src 'self' ${hashes.join(' ')}`) : CONTENT_SECURITY_POLICY;
}

interface Asset {
  body: Buffer;
  /** The Content-Security-Policy it is served with. */
  policy: string;
  gzip?: Buffer;
  type: string;
  etag: string;
  mtimeMs: number;
}

export class StaticFiles {
  private readonly cache = new Map<string, Asset>();

  constructor(readonly dir: string) {}

  /** Whether the console was built (its index.html exists). */
  built(): boolean {
    try {
      return statSync(path.join(this.dir, 'index.html')).isFile();
    } catch {
      return false;
    }
  }

  /**
   * Serve `rel` (a path below /ui/, already stripped of it). Returns false when there is no such
   * file, so the caller answers 404.
   */
  serve(req: IncomingMessage, res: ServerResponse, rel: string, once?: Record<string, string>): boolean {
    const asset = this.load(rel);
    if (!asset) return false;
    const immutable = rel.startsWith('assets/');
    const headers: Record<string, string | number> = {
      'Content-Type': asset.type,
      ETag: asset.etag,
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Content-Security-Policy': asset.policy,
      Vary: 'Accept-Encoding',
    };
    // `once`: an answer that must not be kept or revalidated (the login's, with its cookie).
    if (once) {
      delete headers.ETag;
      Object.assign(headers, once, { 'Cache-Control': 'no-store' });
    } else if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    let body = asset.body;
    if (asset.body.length > 1024 && acceptsGzip(req)) {
      asset.gzip ??= zlib.gzipSync(asset.body, { level: 9 });
      body = asset.gzip;
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  private load(rel: string): Asset | undefined {
    // Only plain relative names: no empty, dot or dot-dot segments, no backslashes or NULs.
    const parts = rel.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0'))) return undefined;
    const file = path.join(this.dir, ...parts);
    let st;
    try {
      st = statSync(file);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const cached = this.cache.get(rel);
    // A rebuild (npm run build:console) replaces the files: notice it without restarting.
    if (cached && cached.mtimeMs === st.mtimeMs) return cached;
    const body = readFileSync(file);
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    const asset: Asset = {
      body,
      policy: type.startsWith('text/html') ? policyFor(body.toString('utf8')) : CONTENT_SECURITY_POLICY,
      type,
      etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
      mtimeMs: st.mtimeMs,
    };
    this.cache.set(rel, asset);
    return asset;
  }
}
