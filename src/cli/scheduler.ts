// `mizzen scheduler --kubeconfig FILE [--config FILE] [--leader-elect=false]`: the scheduler alone.

import { parseArgs } from 'node:util';
import { findCommand } from './commands.ts';
import { listenForStop } from './lifecycle.ts';
import { stdio } from './io.ts';
import { leaderElectionTiming } from './leader-election-flags.ts';
import { maybeStartComponentServer, securePortFlags } from '../metrics/component-server.ts';

export async function runSchedulerCommand(argv: string[]): Promise<number> {
  const io = stdio;
  const spec = findCommand('scheduler')!;
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, options: spec.flags, strict: true }));
  } catch (e) {
    io.err(`mizzen scheduler: ${(e as Error).message.split('. ')[0]}\n\n${spec.usage}`);
    return 2;
  }
  const le = values['leader-elect'] as string | undefined;
  if (le !== undefined && le !== 'true' && le !== 'false') {
    io.err(`mizzen scheduler: invalid --leader-elect "${le}": must be true or false\n\n${spec.usage}`);
    return 2;
  }
  let timing;
  try {
    timing = leaderElectionTiming(values);
  } catch (e) {
    io.err(`mizzen scheduler: ${(e as Error).message}\n\n${spec.usage}`);
    return 2;
  }
  let secure: { port: number; bindAddress: string };
  try {
    secure = securePortFlags(values, 10259);
  } catch (e) {
    io.err(`mizzen scheduler: ${(e as Error).message}\n\n${spec.usage}`);
    return 2;
  }
  const kubeconfig = (values.kubeconfig as string | undefined) ?? process.env.KUBECONFIG;
  const { startScheduler, loadSchedulerConfiguration } = await import('../scheduler/index.ts');
  const { ApiClient } = await import('../client/api-client.ts');
  const { loadKubeconfig } = await import('../client/kubeconfig.ts');
  const stop = listenForStop(io);
  let portClient: InstanceType<typeof ApiClient> | undefined;
  let securePort: Awaited<ReturnType<typeof maybeStartComponentServer>>;
  try {
    const config = values.config ? loadSchedulerConfiguration(values.config as string) : undefined;
    const log = (m: string) => io.out(`scheduler: ${m}`);
    // The secure port asks the API server about each scrape with the scheduler's own credentials.
    portClient = new ApiClient({ ...loadKubeconfig(kubeconfig), maxSockets: 4, userAgent: 'mizzen-scheduler' });
    securePort = await maybeStartComponentServer({ name: 'kube-scheduler', client: portClient, ...secure, log });
    const running = await startScheduler({ kubeconfig, config, leaderElect: le !== 'false', ...timing, log });
    io.out('scheduler: running (Ctrl-C to stop)');
    await stop.promise;
    stop.dispose();
    await running.close();
    await securePort?.close();
    portClient.close();
    return 0;
  } catch (e) {
    io.err(`mizzen scheduler: ${(e as Error).message}`);
    await securePort?.close();
    portClient?.close();
    return 1;
  }
}
