// Join tokens, as k3s shapes them: `MZ10<sha256 of the cluster CA>::server:<secret>`. The hash lets
// a joining machine check that the server it reached holds the cluster's CA before it trusts it
// with anything (it fetches the CA unauthenticated and compares); the secret lets the server check
// the joiner. The first control-plane member writes DATA_DIR/token; members that join keep the
// same one, so agents can join through any of them.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const PREFIX = 'MZ10';

export interface JoinToken {
  /** sha256 (hex) of the CA bundle the servers publish at /cacerts. */
  caHash: string;
  secret: string;
}

export function caHash(caPem: string): string {
  return createHash('sha256').update(caPem).digest('hex');
}

export function formatToken(t: JoinToken): string {
  return `${PREFIX}${t.caHash}::server:${t.secret}`;
}

export class TokenError extends Error {}

export function parseToken(text: string): JoinToken {
  const m = /^MZ10([0-9a-f]{64})::server:([A-Za-z0-9._~-]{16,})$/.exec(text.trim());
  if (!m) {
    throw new TokenError(
      `not a mizzen join token (expected ${PREFIX}<64 hex digits>::server:<secret>, as the first server wrote to DATA_DIR/token); a bare secret is refused because it cannot prove which CA to trust`,
    );
  }
  return { caHash: m[1], secret: m[2] };
}

/** Constant-time comparison of a presented secret with ours. */
export function secretMatches(presented: string, ours: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(ours);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function tokenPath(dataDir: string): string {
  return join(dataDir, 'token');
}

/** DATA_DIR/token: read it, or create one for this CA. A token for another CA is an error. */
export async function ensureToken(dataDir: string, caPem: string): Promise<JoinToken> {
  const file = tokenPath(dataDir);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const hash = caHash(caPem);
  if (text !== undefined) {
    const t = parseToken(text);
    if (t.caHash !== hash) throw new TokenError(`${file} was made for another CA than ${dirname(file)}/pki/ca.crt; remove it to make a new one`);
    return t;
  }
  const t = { caHash: hash, secret: randomBytes(24).toString('hex') };
  await writeToken(dataDir, t);
  return t;
}

export async function writeToken(dataDir: string, t: JoinToken): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(tokenPath(dataDir), `${formatToken(t)}\n`, { mode: 0o600 });
}
