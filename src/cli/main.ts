// Entry point of the `mizzen` command: parse the command line and dispatch.
// Returns the process exit status: 0 ok, 1 runtime failure, 2 bad usage.

import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, findCommand, mainUsage, type CommandSpec } from './commands.ts';
import { stdio, type CliIO } from './io.ts';
import { UsageError, serveOptions, expandPath, upOptions, agentOptions, defaultDataDir, durationOption } from './options.ts';
import path from 'node:path';
import { versionText } from './version.ts';

/** parseArgs' own errors carry codes like ERR_PARSE_ARGS_UNKNOWN_OPTION; turn them into usage errors. */
function parseFlags(spec: CommandSpec, args: string[]) {
  try {
    return parseArgs({ args, options: spec.flags, strict: true, allowPositionals: spec.name === 'help' });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      // Node's message adds advice about '--' that does not apply to us; keep the first sentence.
      const first = (err as Error).message.split('. ')[0]!.replace(/\.$/, '');
      throw new UsageError(first.charAt(0).toLowerCase() + first.slice(1), spec.name);
    }
    throw err;
  }
}

async function dispatch(argv: string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    io.out(mainUsage());
    return 0;
  }
  if (first === '--version') {
    io.out(versionText());
    return 0;
  }
  // Commands that parse their own flags.
  if (first === 'simulate') {
    const { runSimulateCommand } = await import('../kubelet/simulated/command.ts');
    return runSimulateCommand(rest);
  }
  if (first === 'images') {
    const { runImagesCommand } = await import('../kubelet/images/command.ts');
    return runImagesCommand(rest, io);
  }
  if (first === 'controller-manager') {
    const { runControllerManagerCommand } = await import('../controllers/manager.ts');
    return runControllerManagerCommand(rest);
  }
  if (first === 'cloud-controller-manager') {
    const { runCloudControllerManagerCommand } = await import('../cloud/manager.ts');
    return runCloudControllerManagerCommand(rest);
  }
  if (first === 'scheduler' && !rest.includes('-h') && !rest.includes('--help')) {
    const { runSchedulerCommand } = await import('./scheduler.ts');
    return runSchedulerCommand(rest);
  }
  const spec = findCommand(first);
  if (!spec) {
    throw new UsageError(first.startsWith('-') ? `unknown flag "${first}"` : `unknown command "${first}"`);
  }
  const { values, positionals } = parseFlags(spec, rest);
  if (values.help) {
    io.out(spec.usage);
    return 0;
  }
  const str = (k: string) => values[k] as string | undefined;

  switch (spec.name) {
    case 'help': {
      if (positionals.length === 0) {
        io.out(mainUsage());
        return 0;
      }
      const target = findCommand(positionals[0]!);
      if (!target || positionals.length > 1) throw new UsageError(`unknown command "${positionals.join(' ')}"`, 'help');
      io.out(target.usage);
      return 0;
    }
    case 'version':
      io.out(versionText());
      return 0;
    case 'up': {
      const { runUp } = await import('./up.ts');
      return runUp(upOptions(values as Record<string, string | boolean | undefined>), io);
    }
    case 'ui-url': {
      const { runUiUrl } = await import('./ui-url.ts');
      const dataDir = str('data-dir') !== undefined ? expandPath(str('data-dir')!) : defaultDataDir();
      return runUiUrl({ kubeconfig: str('kubeconfig') !== undefined ? expandPath(str('kubeconfig')!) : path.join(dataDir, 'kubeconfig') }, io);
    }
    case 'apiserver': {
      const { runApiServer } = await import('./apiserver.ts');
      const file = (k: string) => (str(k) !== undefined ? expandPath(str(k)!) : undefined);
      return runApiServer(
        {
          ...serveOptions(values as Record<string, string | boolean | undefined>, 'apiserver'),
          tlsCertFile: file('tls-cert-file'),
          tlsPrivateKeyFile: file('tls-private-key-file'),
          clientCAFile: file('client-ca-file'),
          ...durationOption(str('metric-resolution'), '--metric-resolution', 'metricResolutionMs', 1, 'apiserver'),
        },
        io,
      );
    }
    case 'kubelet': {
      const { runKubelet, kubeletOptions } = await import('../kubelet/command.ts');
      return runKubelet(kubeletOptions(values as Record<string, string | boolean | undefined>), io);
    }
    case 'agent': {
      const { runAgent } = await import('../agent/agent.ts');
      return runAgent(agentOptions(values as Record<string, unknown>), io);
    }
    case 'migrate': {
      const { runMigrate } = await import('./migrate.ts');
      const o = serveOptions(values as Record<string, unknown>, 'migrate');
      if (!o.datastore) throw new UsageError('migrate needs --datastore-endpoint: the etcd to copy into', 'migrate');
      const sqliteFile = join(o.dataDir, 'state.db');
      if (!existsSync(sqliteFile)) {
        io.err(`mizzen migrate: ${sqliteFile} does not exist: nothing to migrate`);
        return 1;
      }
      return runMigrate({ sqliteFile, datastore: o.datastore }, io);
    }
  }
  throw new Error(`command ${spec.name} has no implementation`);
}

export async function main(argv: string[], io: CliIO = stdio): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`mizzen: ${err.message}`);
      io.err('');
      const spec = err.command ? findCommand(err.command) : undefined;
      io.err(spec ? spec.usage : mainUsage());
      return 2;
    }
    io.err(`mizzen: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}

export { COMMANDS };
