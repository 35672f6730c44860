// The leader-election timing flags of kube-scheduler and kube-controller-manager, shared by
// `mizzen scheduler`, `mizzen controller-manager` and `mizzen up` (whose components run inside).

import type { ParseArgsConfig } from 'node:util';
import { parseDuration } from '../machinery/duration.ts';

export interface LeaderElectionTiming {
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export const leaderElectionFlags: NonNullable<ParseArgsConfig['options']> = {
  'leader-elect-lease-duration': { type: 'string' },
  'leader-elect-renew-deadline': { type: 'string' },
  'leader-elect-retry-period': { type: 'string' },
};

export const leaderElectionFlagHelp = `  --leader-elect-lease-duration DURATION
                          how long a standby waits after the leader's last renewal before it
                          takes over (default 15s)
  --leader-elect-renew-deadline DURATION
                          how long the leader keeps trying to renew before it steps down (default 10s)
  --leader-elect-retry-period DURATION
                          how often candidates try to take or renew the lease (default 2s)`;

/** Parse the flags; throws Error with a message naming the bad flag. */
export function leaderElectionTiming(values: Record<string, unknown>): LeaderElectionTiming | undefined {
  const dur = (flag: string): number | undefined => {
    const v = values[flag];
    if (v === undefined) return undefined;
    let ms: number;
    try {
      ms = parseDuration(String(v));
    } catch {
      throw new Error(`invalid --${flag} "${String(v)}": use a duration such as 15s or 500ms`);
    }
    if (!(ms > 0)) throw new Error(`invalid --${flag} "${String(v)}": must be more than 0`);
    return ms;
  };
  const lease = dur('leader-elect-lease-duration');
  const renew = dur('leader-elect-renew-deadline');
  const retry = dur('leader-elect-retry-period');
  if (lease === undefined && renew === undefined && retry === undefined) return undefined;
  const t: LeaderElectionTiming = {};
  if (lease !== undefined) t.leaseDurationSeconds = lease / 1000;
  if (renew !== undefined) t.renewDeadlineMs = renew;
  if (retry !== undefined) t.retryPeriodMs = retry;
  // The same rules as upstream (and LeaderElector), checked here to name the flags.
  const l = (t.leaseDurationSeconds ?? 15) * 1000;
  const r = t.renewDeadlineMs ?? 10_000;
  const p = t.retryPeriodMs ?? 2_000;
  if (l <= r) throw new Error('--leader-elect-lease-duration must be longer than --leader-elect-renew-deadline');
  if (r <= p * 1.2) throw new Error('--leader-elect-renew-deadline must be longer than 1.2 × --leader-elect-retry-period');
  return t;
}
