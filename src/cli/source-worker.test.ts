import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newWorker } from './source-worker.ts';

test('a worker on a .ts entry runs it (Node 20 ignores --import tsx in a worker\'s execArgv)', async () => {
  const w = newWorker(new URL('./source-worker.fixture.ts', import.meta.url), { workerData: { n: 20 } });
  const got = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  assert.equal(got, 'typescript ran: 21');
  await w.terminate();
});
