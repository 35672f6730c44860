// Public surface of the scheduler.

import { loadSchedulerConfiguration } from './config.ts';
import { startScheduler } from './scheduler.ts';
import type { ApiClient } from '../client/api-client.ts';
import type { SharedInformerFactory } from '../client/informer.ts';

export { startScheduler, Scheduler, type SchedulerOptions, type RunningScheduler } from './scheduler.ts';
export { parseSchedulerConfiguration, loadSchedulerConfiguration, type SchedulerConfiguration } from './config.ts';

/** For `mizzen up` / `mizzen scheduler --kubeconfig FILE [--config FILE]`. */
export const schedulerComponent = {
  name: 'scheduler' as const,
  /** With ctx.client the kubeconfig is not read (the caller owns and closes that client). */
  start(ctx: {
    kubeconfig: string;
    client?: ApiClient;
    log: (m: string) => void;
    config?: string;
    leaderElect?: boolean;
    informers?: SharedInformerFactory;
    leaderElection?: { leaseDurationSeconds?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  }): Promise<{ close(): Promise<void> }> {
    const config = ctx.config ? loadSchedulerConfiguration(ctx.config) : undefined;
    return startScheduler({ kubeconfig: ctx.kubeconfig, client: ctx.client, log: ctx.log, config, leaderElect: ctx.leaderElect ?? true, informers: ctx.informers, ...ctx.leaderElection });
  },
};
