import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { WriteTurns } from './write-turns.ts';

test('writes start in order, after the I/O callbacks of their turn', async () => {
  const turns = new WriteTurns(1000);
  const order: string[] = [];
  // A socket read that is ready in the same turn as the writes are queued.
  const server = createServer((s) => s.on('data', () => order.push('read')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  await new Promise((r) => setTimeout(r, 50));
  const writes = Array.from({ length: 5 }, (_, i) => turns.wait().then(() => order.push(`write ${i}`)));
  client.write('x');
  // Wait for the bytes to be in the server's socket before the loop polls.
  const t = Date.now();
  while (Date.now() - t < 50);
  await Promise.all(writes);
  client.destroy();
  server.close();
  assert.deepEqual(order, ['read', 'write 0', 'write 1', 'write 2', 'write 3', 'write 4']);
});

test('the writes of one turn stop at the budget; the rest go on in the next turn, after what was queued meanwhile', async () => {
  const run = async (budgetMs: number) => {
    const turns = new WriteTurns(budgetMs);
    const log: string[] = [];
    await Promise.all([
      turns.wait().then(() => {
        log.push('write 0');
        // Work queued by the first write for the next turn (as a socket read would come in).
        setImmediate(() => log.push('next turn'));
      }),
      turns.wait().then(() => log.push('write 1')),
    ]);
    return log;
  };
  assert.deepEqual(await run(1000), ['write 0', 'write 1']);
  // Budget spent by the first write: the second waits for the next turn.
  assert.deepEqual(await run(0), ['write 0', 'next turn', 'write 1']);
});
