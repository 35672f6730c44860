import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSimulateArgs, runSimulateCommand, SIMULATE_USAGE } from './command.ts';
import { simulatedNodesComponent } from './component.ts';
import type { SimulatedNodesOptions } from './simulator.ts';

function memIO() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) } };
}

test('parseSimulateArgs reads every flag', () => {
  const a = parseSimulateArgs(['--kubeconfig', '/k', '--nodes', '5', '--prefix', 'rack1', '--capacity', 'cpu=4', '--labels', 'zone=a', '--first-index', '10', '--heartbeat-seconds', '2', '--delete-nodes-on-exit', '--heartbeat-only']);
  assert.deepEqual(a, {
    help: false,
    kubeconfig: '/k',
    count: 5,
    prefix: 'rack1',
    capacity: { cpu: '4', memory: '256Gi', pods: '110' },
    labels: { zone: 'a' },
    firstIndex: 10,
    heartbeatSeconds: 2,
    deleteNodesOnClose: true,
    heartbeatOnly: true,
  });
  assert.deepEqual(parseSimulateArgs(['-h']), { help: true });
});

test('parseSimulateArgs explains bad command lines', () => {
  assert.throws(() => parseSimulateArgs([]), /--nodes is required/);
  assert.throws(() => parseSimulateArgs(['--nodes', 'many']), /invalid --nodes "many": must be a whole number >= 1/);
  assert.throws(() => parseSimulateArgs(['--nodes', '0']), /must be a whole number >= 1/);
  assert.throws(() => parseSimulateArgs(['--nodes', '1', '--prefix', 'Bad_Name']), /invalid --prefix "Bad_Name"/);
  assert.throws(() => parseSimulateArgs(['--nodes', '1', '--capacity', 'cpu=x']), /--capacity: invalid capacity for "cpu"/);
  assert.throws(() => parseSimulateArgs(['--nodes', '1', '--bogus']), /unknown option '--bogus'/);
});

test('runSimulateCommand prints usage on errors and runs until stopped', async () => {
  const bad = memIO();
  assert.equal(await runSimulateCommand(['--nodes', 'x'], { io: bad.io }), 2);
  assert.match(bad.err[0], /^mizzen simulate: invalid --nodes/);
  assert.ok(bad.err[0].includes(SIMULATE_USAGE));

  const help = memIO();
  assert.equal(await runSimulateCommand(['--help'], { io: help.io }), 0);
  assert.equal(help.out[0], SIMULATE_USAGE);

  const ok = memIO();
  let got: SimulatedNodesOptions | undefined;
  let closed = false;
  const code = await runSimulateCommand(['--kubeconfig', '/k', '--nodes', '2'], {
    io: ok.io,
    stop: Promise.resolve(),
    start: async (o) => {
      got = o;
      return { nodes: ['sim-0', 'sim-1'], stats: () => ({ tracked: 0, started: 0, completed: 0, deleted: 0, writeErrors: 0, laggingHeartbeats: 0 }), close: async () => void (closed = true) };
    },
  });
  assert.equal(code, 0);
  assert.equal(got?.count, 2);
  assert.equal(got?.kubeconfig, '/k');
  assert.ok(closed);

  const failing = memIO();
  assert.equal(await runSimulateCommand(['--nodes', '1'], { io: failing.io, stop: Promise.resolve(), start: async () => { throw new Error('no cluster'); } }), 1);
  assert.deepEqual(failing.err, ['mizzen simulate: no cluster']);
});

test('simulatedNodesComponent validates its capacity flag up front', () => {
  assert.equal(simulatedNodesComponent({ count: 3 }).name, 'simulated-nodes');
  assert.throws(() => simulatedNodesComponent({ count: 3, capacity: 'cpu' }), /expected NAME=VALUE/);
});
