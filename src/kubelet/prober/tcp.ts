// tcpSocket probe (upstream pkg/probe/tcp): success if a TCP connection opens within the timeout.

import { Socket } from 'node:net';
import { goNetError, joinHostPort, type ProbeResult } from './probe-result.ts';

export function probeTCP(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const addr = joinHostPort(host, port);
  return new Promise((resolve) => {
    const sock = new Socket();
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ result: 'failure', output: `dial tcp ${addr}: i/o timeout` }), timeoutMs);
    sock.once('connect', () => finish({ result: 'success', output: '' }));
    sock.once('error', (e: NodeJS.ErrnoException) => finish({ result: 'failure', output: goNetError('dial', 'tcp', addr, e) }));
    sock.connect({ host, port });
  });
}
