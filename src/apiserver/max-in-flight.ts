// Upstream's max-in-flight filter (--max-requests-inflight, --max-mutating-requests-inflight): at
// most N reads and M writes are served at once; one more is answered at once with 429 Too Many
// Requests and `Retry-After: 1`, so that one busy client cannot take the server from the others
// (client-go waits and retries). Long-running requests (watches, logs, exec, proxy) are not
// counted, and neither are `system:masters` (upstream exempts them so that an administrator can
// always get in).

import type { ServerResponse } from 'node:http';
import { StatusError } from '../machinery/errors.ts';
import { SYSTEM_MASTERS, type UserInfo } from './authn/user.ts';
import type { RequestInfo } from './request-info.ts';

const mutatingVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const longRunningSubresources = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

export function isMutating(info: RequestInfo): boolean {
  return mutatingVerbs.has(info.verb);
}

export function isLongRunning(info: RequestInfo, q: URLSearchParams): boolean {
  if (info.verb === 'watch') return true;
  if (info.verb === 'list' && /^(1|true)$/i.test(q.get('watch') ?? '')) return true;
  if (info.subresource && longRunningSubresources.has(info.subresource)) return true;
  return info.isResourceRequest && info.resource === 'pods' && info.subresource === 'log';
}

export class MaxInFlight {
  private reads = 0;
  private writes = 0;

  constructor(
    /** 0 = no limit. */
    private readonly maxReads = 400,
    private readonly maxWrites = 200,
  ) {}

  /** Counts the request until its response closes; throws 429 when the limit is reached. */
  admit(res: ServerResponse, user: UserInfo, info: RequestInfo, longRunning: boolean): void {
    if (longRunning) return;
    const mutating = mutatingVerbs.has(info.verb);
    const max = mutating ? this.maxWrites : this.maxReads;
    if (max <= 0 || user.groups.includes(SYSTEM_MASTERS)) return;
    if ((mutating ? this.writes : this.reads) >= max)
      throw new StatusError(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 }, { 'Retry-After': '1' });
    if (mutating) this.writes++;
    else this.reads++;
    res.once('close', () => {
      if (mutating) this.writes--;
      else this.reads--;
    });
  }
}
