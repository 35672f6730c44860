import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lifecycle, listenForStop } from './lifecycle.ts';
import { memoryIO } from './io.ts';

test('Lifecycle closes in reverse order and reports failures without stopping', async () => {
  const io = memoryIO();
  const life = new Lifecycle(io);
  const closed: string[] = [];
  life.add('a', async () => void closed.push('a'));
  life.add('b', async () => {
    closed.push('b');
    throw new Error('stuck');
  });
  life.add('c', async () => void closed.push('c'));
  assert.equal(await life.shutdown(), false);
  assert.deepEqual(closed, ['c', 'b', 'a']);
  assert.match(io.stderr.join('\n'), /error stopping b: stuck/);
  assert.equal(await life.shutdown(), true, 'a second shutdown has nothing left to close');
});

test('first signal requests a stop, a second one exits at once', async () => {
  const io = memoryIO();
  const exits: number[] = [];
  const stop = listenForStop(io, (code) => void exits.push(code));
  try {
    assert.equal(stop.received, undefined);
    process.emit('SIGTERM', 'SIGTERM');
    assert.equal(await stop.promise, 'SIGTERM');
    assert.equal(stop.received, 'SIGTERM');
    assert.deepEqual(exits, []);
    process.emit('SIGINT', 'SIGINT');
    assert.deepEqual(exits, [1]);
    assert.match(io.stderr.join('\n'), /received SIGINT again, exiting immediately/);
  } finally {
    stop.dispose();
  }
  assert.equal(process.listenerCount('SIGTERM'), 0);
});
