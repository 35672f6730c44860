// The console's login state on the server: one-time login codes and the browser sessions they
// turn into. Both are random 32-byte secrets; only their SHA-256 is kept, so the sessions file
// (written so that a restart of the API server does not log everyone out) holds nothing a browser
// could present.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { UserInfo } from '../authn.ts';

export interface SessionOptions {
  /** Where sessions are kept across restarts; undefined keeps them in memory only. */
  file?: string;
  /** How long a login code may wait to be used (default 10 minutes). */
  codeTtlMs?: number;
  /** How long a session lasts from its login (default 12 hours). */
  sessionTtlMs?: number;
  now?: () => number;
  log?: (m: string) => void;
}

interface Grant {
  user: UserInfo;
  expires: number;
}

/** Why a login code or a session was not accepted, in words for the login page. */
export type Refusal = 'unknown' | 'expired' | 'used';

const MAX_CODES = 1000;

function secret(): string {
  return randomBytes(32).toString('base64url');
}

function digest(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export class ConsoleSessions {
  private readonly codes = new Map<string, Grant>();
  /** Codes already exchanged, until they would have expired: a second use is told apart from a typo. */
  private readonly usedCodes = new Map<string, number>();
  private readonly sessions = new Map<string, Grant>();
  private readonly now: () => number;
  readonly codeTtlMs: number;
  readonly sessionTtlMs: number;

  constructor(private readonly o: SessionOptions = {}) {
    this.now = o.now ?? Date.now;
    this.codeTtlMs = o.codeTtlMs ?? 10 * 60_000;
    this.sessionTtlMs = o.sessionTtlMs ?? 12 * 3600_000;
    this.load();
  }

  /** A new one-time login code that logs a browser in as `user`. */
  newCode(user: UserInfo): { code: string; expires: number } {
    this.prune();
    if (this.codes.size >= MAX_CODES) {
      // Oldest first: Map iteration order is insertion order.
      const oldest = this.codes.keys().next().value;
      if (oldest !== undefined) this.codes.delete(oldest);
    }
    const code = secret();
    const expires = this.now() + this.codeTtlMs;
    this.codes.set(digest(code), { user: copyUser(user), expires });
    return { code, expires };
  }

  /** Exchange a login code for a new session (the code is spent either way). */
  redeem(code: string): { session: string; expires: number } | Refusal {
    const key = digest(code);
    const grant = this.codes.get(key);
    if (!grant) return this.usedCodes.has(key) ? 'used' : 'unknown';
    this.codes.delete(key);
    this.usedCodes.set(key, grant.expires);
    if (grant.expires <= this.now()) return 'expired';
    const session = secret();
    const expires = this.now() + this.sessionTtlMs;
    this.sessions.set(digest(session), { user: grant.user, expires });
    this.save();
    return { session, expires };
  }

  /** The user of a session cookie's value, or why it is not accepted. */
  user(session: string): UserInfo | Refusal {
    const key = digest(session);
    const grant = this.sessions.get(key);
    if (!grant) return 'unknown';
    if (grant.expires <= this.now()) {
      this.sessions.delete(key);
      this.save();
      return 'expired';
    }
    return grant.user;
  }

  /** Log a session out. */
  end(session: string): void {
    if (this.sessions.delete(digest(session))) this.save();
  }

  private prune(): void {
    const now = this.now();
    for (const [k, g] of this.codes) if (g.expires <= now) this.codes.delete(k);
    for (const [k, exp] of this.usedCodes) if (exp <= now) this.usedCodes.delete(k);
  }

  private load(): void {
    if (!this.o.file) return;
    let text: string;
    try {
      text = readFileSync(this.o.file, 'utf8');
    } catch {
      return; // none yet
    }
    try {
      const data = JSON.parse(text) as { sessions?: Record<string, Grant> };
      const now = this.now();
      for (const [k, g] of Object.entries(data.sessions ?? {})) {
        if (typeof g?.expires === 'number' && g.expires > now && typeof g.user?.name === 'string' && Array.isArray(g.user.groups)) this.sessions.set(k, { user: copyUser(g.user), expires: g.expires });
      }
    } catch (e) {
      this.o.log?.(`console: ignoring unreadable sessions file ${this.o.file}: ${(e as Error).message}`);
    }
  }

  private save(): void {
    if (!this.o.file) return;
    const now = this.now();
    const sessions: Record<string, Grant> = {};
    for (const [k, g] of this.sessions) if (g.expires > now) sessions[k] = g;
    const tmp = `${this.o.file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify({ sessions }), { mode: 0o600 });
      renameSync(tmp, this.o.file);
    } catch (e) {
      // Sessions still work in memory; they will not survive a restart.
      this.o.log?.(`console: cannot save sessions to ${this.o.file}: ${(e as Error).message}`);
    }
  }
}

function copyUser(u: UserInfo): UserInfo {
  return { ...u, groups: [...u.groups] };
}
