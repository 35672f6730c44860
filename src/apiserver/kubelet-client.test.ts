import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/types.ts';
import { StatusError } from '../machinery/errors.ts';
import { isSimulatedNode, kubeletError, kubeletLocation } from './kubelet-client.ts';

function node(name: string, addresses: Array<[string, string]>, port?: number, labels: Record<string, string> = {}): KObject {
  return {
    metadata: { name, labels },
    status: { addresses: addresses.map(([type, address]) => ({ type, address })), daemonEndpoints: { kubeletEndpoint: { Port: port ?? 0 } } },
  };
}

const statusOf = (fn: () => unknown): { code: number; message: string } => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError);
    return { code: e.code, message: e.message };
  }
  assert.fail('expected a Status error');
};

test('the kubelet is found at the preferred address type and its daemon endpoint port', () => {
  // 192.0.2.0/24 is TEST-NET-1: never this machine's address.
  const n = node('w1', [['Hostname', 'w1'], ['ExternalIP', '192.0.2.9'], ['InternalIP', '192.0.2.8']], 10255);
  assert.deepEqual(kubeletLocation(n, {}), { nodeName: 'w1', address: '192.0.2.8', port: 10255, connectHost: '192.0.2.8', baseUrl: 'https://192.0.2.8:10255' });
  assert.equal(kubeletLocation(n, { preferredAddressTypes: ['Hostname'] }).address, 'w1');
  assert.equal(kubeletLocation(node('w2', [['InternalIP', '192.0.2.1']]), {}).port, 10250, 'port 0 means the default');
  assert.equal(kubeletLocation(n, {}, 4194).port, 4194, 'nodes/NAME:PORT/proxy');
  const v6 = kubeletLocation(node('w3', [['InternalIP', '2001:db8::5']], 10250), {});
  assert.equal(v6.baseUrl, 'https://[2001:db8::5]:10250');
});

test('a node that is this machine is dialled on loopback; its certificate is still checked for the address', () => {
  const here = kubeletLocation(node('me', [['InternalIP', '127.0.0.1']], 12345), {});
  assert.equal(here.connectHost, '127.0.0.1');
  const v6 = kubeletLocation(node('me6', [['InternalIP', '::1']], 12345), {});
  assert.equal(v6.connectHost, '::1');
});

test('simulated nodes and nodes without addresses answer a Status', () => {
  const sim = node('sim-0', [['InternalIP', '10.0.0.2']], 10250, { 'mizzen.dev/simulated': 'true' });
  assert.equal(isSimulatedNode(sim), true);
  assert.deepEqual(statusOf(() => kubeletLocation(sim, {})), { code: 400, message: 'node sim-0 is simulated and runs no containers' });
  const runtime = { metadata: { name: 's' }, status: { nodeInfo: { containerRuntimeVersion: 'simulated://1.0' } } };
  assert.equal(isSimulatedNode(runtime), true);
  const none = statusOf(() => kubeletLocation(node('bare', []), {}));
  assert.equal(none.code, 503);
  assert.match(none.message, /no address to reach the kubelet of node "bare"/);
});

test('kubelet error answers keep their Status or map plain text as upstream', () => {
  const st = kubeletError(400, Buffer.from(JSON.stringify({ kind: 'Status', code: 400, reason: 'BadRequest', message: 'container "a" in pod "p" is waiting to start: ContainerCreating' })), { resource: 'pods/log', name: 'p' });
  assert.deepEqual([st.code, st.reason, st.message], [400, 'BadRequest', 'container "a" in pod "p" is waiting to start: ContainerCreating']);
  assert.deepEqual([kubeletError(400, Buffer.from('bad thing\n'), { resource: 'pods/log', name: 'p' }).message], ['bad thing']);
  assert.equal(kubeletError(404, Buffer.alloc(0), { resource: 'pods/log', name: 'p' }).reason, 'NotFound');
  assert.equal(kubeletError(500, Buffer.from('boom'), { resource: 'pods/log', name: 'p' }).message, 'Internal error occurred: boom');
});
