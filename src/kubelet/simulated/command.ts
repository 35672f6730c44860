// `mizzen simulate`: run simulated nodes as their own process against any API server, so that
// killing the process stops their heartbeats the way a dead machine would.

import { parseArgs } from 'node:util';
import { defaultKubeconfigPath } from '../../client/kubeconfig.ts';
import { parseCapacity, parseLabels } from './capacity.ts';
import type { SimulatedNodesOptions, SimulatedNodes } from './simulator.ts';

export const SIMULATE_USAGE = `Usage: mizzen simulate --nodes N [flags]

Register N simulated nodes named PREFIX-0 … PREFIX-<N-1> and act as their kubelet: keep their
Leases in kube-node-lease renewed and their Ready condition true, and report pods bound to them as
Running with an IP from the node's range. Ctrl-C or SIGTERM stops the heartbeats (the nodes stay
registered and go NotReady, like a machine that went away).

Flags:
  --kubeconfig FILE       kubeconfig of the cluster (default $KUBECONFIG, else ~/.kube/config):
                          an identity that may impersonate the nodes (the admin), or one that
                          reads pods and nodes and is a bootstrapper (mizzen up's
                          DATA_DIR/cred/simulated-nodes.kubeconfig): each node then asks for its
                          own client certificate (needs the controller manager running)
  --nodes N               how many nodes to simulate (required)
  --prefix NAME           node name prefix (default sim)
  --first-index I         number of the first node (default 0), to run several simulators
  --capacity LIST         node capacity, e.g. cpu=32,memory=256Gi,pods=110 (the default);
                          resources not named keep their default
  --labels LIST           extra node labels, e.g. topology.kubernetes.io/zone=zone-a
  --heartbeat-seconds S   lease renewal interval (default 10)
  --heartbeat-only        only register and heartbeat: pods bound to the nodes stay Pending
                          (as the fake nodes of upstream's scheduler benchmarks)
  --delete-nodes-on-exit  delete the nodes on a clean stop
  -h, --help              show this help

A Job's pods succeed after running for a second. Pods with restartPolicy Never or OnFailure and
the annotation mizzen.dev/simulate-duration (e.g. "2s") finish after that long instead: Succeeded,
or Failed when mizzen.dev/simulate-exit-code is non-zero.

Example:
  mizzen simulate --kubeconfig ~/.mizzen/kubeconfig --nodes 100 --prefix rack1`;

export const simulateFlags = {
  help: { type: 'boolean', short: 'h' },
  kubeconfig: { type: 'string' },
  nodes: { type: 'string' },
  prefix: { type: 'string' },
  'first-index': { type: 'string' },
  capacity: { type: 'string' },
  labels: { type: 'string' },
  'heartbeat-seconds': { type: 'string' },
  'delete-nodes-on-exit': { type: 'boolean' },
  'heartbeat-only': { type: 'boolean' },
} as const;

export class SimulateUsageError extends Error {}

export type SimulateArgs = { help: true } | ({ help: false } & Required<Pick<SimulatedNodesOptions, 'kubeconfig' | 'count' | 'prefix'>> & SimulatedNodesOptions);

function wholeNumber(flag: string, v: string, min: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min) throw new SimulateUsageError(`invalid --${flag} "${v}": must be a whole number >= ${min}`);
  return Number(v);
}

function flagValue<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new SimulateUsageError(`--${flag}: ${(e as Error).message}`);
  }
}

/** Turn the command line into simulator options; throws SimulateUsageError with a one-line reason. */
export function parseSimulateArgs(argv: string[]): SimulateArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: simulateFlags, strict: true, allowPositionals: false }));
  } catch (e) {
    const first = (e as Error).message.split('. ')[0].replace(/\.$/, '');
    throw new SimulateUsageError(first.charAt(0).toLowerCase() + first.slice(1));
  }
  if (values.help) return { help: true };
  if (values.nodes === undefined) throw new SimulateUsageError('--nodes is required');
  const count = wholeNumber('nodes', values.nodes as string, 1);
  const prefix = (values.prefix as string | undefined) ?? 'sim';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(prefix) || prefix.length > 50)
    throw new SimulateUsageError(`invalid --prefix "${prefix}": must be lower case letters, digits and '-', starting and ending with a letter or digit`);
  const out: SimulateArgs = {
    help: false,
    kubeconfig: (values.kubeconfig as string | undefined) ?? defaultKubeconfigPath(),
    count,
    prefix,
  };
  if (values['first-index'] !== undefined) out.firstIndex = wholeNumber('first-index', values['first-index'] as string, 0);
  if (values['heartbeat-seconds'] !== undefined) out.heartbeatSeconds = wholeNumber('heartbeat-seconds', values['heartbeat-seconds'] as string, 1);
  if (values.capacity !== undefined) out.capacity = flagValue('capacity', () => parseCapacity(values.capacity as string));
  if (values.labels !== undefined) out.labels = flagValue('labels', () => parseLabels(values.labels as string));
  if (values['delete-nodes-on-exit']) out.deleteNodesOnClose = true;
  if (values['heartbeat-only']) out.heartbeatOnly = true;
  return out;
}

export interface SimulateIO {
  out(text: string): void;
  err(text: string): void;
}

export interface SimulateDeps {
  io?: SimulateIO;
  /** Resolves when the command should stop (default: the first SIGINT or SIGTERM). */
  stop?: Promise<unknown>;
  start?: (opts: SimulatedNodesOptions) => Promise<SimulatedNodes>;
}

function signalStop(): { promise: Promise<string>; dispose(): void } {
  let resolve!: (s: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  const on = (sig: NodeJS.Signals) => resolve(sig);
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
  return { promise, dispose: () => (process.off('SIGINT', on), process.off('SIGTERM', on)) };
}

/** Run `mizzen simulate ARGS` until stopped. Exit status: 0 ok, 1 runtime failure, 2 bad usage. */
export async function runSimulateCommand(argv: string[], deps: SimulateDeps = {}): Promise<number> {
  const io: SimulateIO = deps.io ?? {
    out: (t) => void process.stdout.write(`${t}\n`),
    err: (t) => void process.stderr.write(`${t}\n`),
  };
  let args: SimulateArgs;
  try {
    args = parseSimulateArgs(argv);
  } catch (e) {
    if (!(e instanceof SimulateUsageError)) throw e;
    io.err(`mizzen simulate: ${e.message}\n\n${SIMULATE_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(SIMULATE_USAGE);
    return 0;
  }
  const { help: _help, ...opts } = args;
  const signals = deps.stop ? undefined : signalStop();
  const stop = deps.stop ?? signals!.promise;
  const start = deps.start ?? (await import('./simulator.ts')).startSimulatedNodes;
  let sim: SimulatedNodes;
  try {
    sim = await start({ ...opts, log: (m) => io.out(`simulate: ${m}`) });
  } catch (e) {
    signals?.dispose();
    io.err(`mizzen simulate: ${(e as Error).message}`);
    return 1;
  }
  io.out(`simulate: ${sim.nodes.length} node(s) running; Ctrl-C stops their heartbeats`);
  await stop;
  signals?.dispose();
  try {
    await sim.close();
  } catch (e) {
    io.err(`mizzen simulate: error while stopping: ${(e as Error).message}`);
    return 1;
  }
  io.out('simulate: stopped');
  return 0;
}
