// `--service-node-port-range`: the NodePort allocator hands out ports from it and refuses others
// with upstream's message; the flag's bad values are usage errors.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient } from '../client/api-client.ts';
import type { KObject } from '../api/types.ts';
import { parseNodePortRange } from '../cli/options.ts';

let api: TestApiServer;
let client: ApiClient;

before(async () => {
  api = await startTestApiServer({ name: 'node-port-range', unixSocket: true, nodePortRange: [31000, 31001] });
  client = new ApiClient({ socketPath: api.socketPath, maxSockets: 2 });
});

after(async () => {
  client?.close();
  await api?.close();
});

const services = { version: 'v1', resource: 'services', namespace: 'default' };
const nodePort = (name: string, port?: number): KObject => ({
  metadata: { name },
  spec: { type: 'NodePort', ports: [{ port: 80, ...(port ? { nodePort: port } : {}) }], selector: { app: name } },
});

test('node ports come from the configured range, and one outside it is refused', async () => {
  const a = await client.create<KObject>(services, nodePort('a'));
  const b = await client.create<KObject>(services, nodePort('b'));
  const got = [a, b].map((s) => (s.spec as any).ports[0].nodePort).sort();
  assert.deepEqual(got, [31000, 31001]);
  await assert.rejects(client.create(services, nodePort('full')), (e: any) => /range is full|no available|allocat/i.test(e.message));
  await assert.rejects(client.create(services, nodePort('outside', 30080)), (e: any) => e.code === 422 && /provided port is not in the valid range\. The range of valid ports is 31000-31001/.test(e.message));
});

test('--service-node-port-range takes A-B and says what is wrong otherwise', () => {
  assert.deepEqual(parseNodePortRange('30000-32767', 'up'), [30000, 32767]);
  assert.equal(parseNodePortRange(undefined, 'up'), undefined);
  for (const bad of ['30000', '32767-30000', '0-10', '1-70000', 'a-b']) assert.throws(() => parseNodePortRange(bad, 'up'), /invalid --service-node-port-range/);
});
