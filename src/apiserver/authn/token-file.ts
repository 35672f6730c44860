// Static bearer tokens (`--token-auth-file`), upstream's CSV: `token,user,uid[,"group1,group2"]`,
// at least three columns, further columns ignored. Tokens are compared in constant time after a
// hash lookup, so the time taken does not say how much of a guess was right.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { UserInfo } from './user.ts';

export class TokenFileError extends Error {}

/** One CSV record per line, with upstream's quoting (double quotes, "" for a quote, leading spaces trimmed). */
export function parseCSV(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const rec: string[] = [];
    for (;;) {
      while (text[i] === ' ' || text[i] === '\t') i++;
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new TokenFileError('unterminated quoted field');
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          field += text[i++];
        }
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] !== ' ') throw new TokenFileError('extraneous text after a quoted field');
          i++;
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      }
      rec.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    if (!(rec.length === 1 && rec[0] === '')) records.push(rec);
  }
  return records;
}

const hash = (t: string) => createHash('sha256').update(t).digest('base64');

export class TokenFile {
  private byHash = new Map<string, { token: Buffer; user: UserInfo }>();
  readonly warnings: string[] = [];

  constructor(text: string, source = 'token file') {
    const records = parseCSV(text);
    records.forEach((r, idx) => {
      if (r.length < 3) throw new TokenFileError(`token file '${source}' must have at least 3 columns (token, user name, user uid), found ${r.length}`);
      const [token, name, uid] = r as [string, string, string];
      if (token === '') {
        this.warnings.push(`empty token has been found in token file '${source}', record number '${idx + 1}'`);
        return;
      }
      const user: UserInfo = Object.freeze({ name, uid, groups: Object.freeze(r.length >= 4 && r[3] !== '' ? r[3]!.split(',') : []) as string[] });
      const h = hash(token);
      if (this.byHash.has(h)) this.warnings.push(`duplicate token has been found in token file '${source}', record number '${idx + 1}'`);
      this.byHash.set(h, { token: Buffer.from(token), user });
    });
  }

  static load(file: string): TokenFile {
    return new TokenFile(readFileSync(file, 'utf8'), file);
  }

  get size(): number {
    return this.byHash.size;
  }

  authenticate(token: string): UserInfo | undefined {
    const hit = this.byHash.get(hash(token));
    if (!hit) return undefined;
    const t = Buffer.from(token);
    if (t.length !== hit.token.length || !timingSafeEqual(t, hit.token)) return undefined;
    // The same object every time, so per-user caches downstream hit by identity (callers must not change it).
    return hit.user;
  }
}
