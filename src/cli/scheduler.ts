// `mizzen scheduler --kubeconfig FILE [--config FILE] [--leader-elect=false]`: the scheduler alone.

import { parseArgs } from 'node:util';
import { findCommand } from './commands.ts';
import { listenForStop } from './lifecycle.ts';
import { stdio } from './io.ts';
import { leaderElectionTiming } from './leader-election-flags.ts';

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
  const kubeconfig = (values.kubeconfig as string | undefined) ?? process.env.KUBECONFIG;
  const { startScheduler, loadSchedulerConfiguration } = await import('../scheduler/index.ts');
  const stop = listenForStop(io);
  try {
    const config = values.config ? loadSchedulerConfiguration(values.config as string) : undefined;
    const running = await startScheduler({ kubeconfig, config, leaderElect: le !== 'false', ...timing, log: (m) => io.out(`scheduler: ${m}`) });
    io.out('scheduler: running (Ctrl-C to stop)');
    await stop.promise;
    stop.dispose();
    await running.close();
    return 0;
  } catch (e) {
    io.err(`mizzen scheduler: ${(e as Error).message}`);
    return 1;
  }
}
