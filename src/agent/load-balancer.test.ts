import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startLoadBalancer } from './load-balancer.ts';

/** A TCP server that answers every connection with its name. */
async function namedServer(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    c.end(name);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    port: (s.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy();
        s.close(() => r());
      }),
  };
}

function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port });
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('close', () => resolve(got));
    c.on('error', reject);
  });
}

describe('API server load balancer', () => {
  it('spreads connections over live servers and skips one that is gone', async () => {
    const a = await namedServer('a');
    const b = await namedServer('b');
    const lb = await startLoadBalancer({ servers: [`https://127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], holdOffMs: 60_000 });
    try {
      assert.match(lb.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const answers = new Set<string>();
      for (let i = 0; i < 4; i++) answers.add(await ask(lb.port));
      assert.deepEqual([...answers].sort(), ['a', 'b']);
      await a.close();
      for (let i = 0; i < 4; i++) assert.equal(await ask(lb.port), 'b');
      // With every server gone the client's connection is closed, not left hanging.
      await b.close();
      assert.equal(await ask(lb.port), '');
    } finally {
      await lb.close();
    }
  });
});
