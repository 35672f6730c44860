// port-forward to the container runtime's streaming server, which speaks SPDY (portforward.k8s.io):
// a data and an error stream per forwarded connection, named by `port` and `requestid` headers.
//
// - kubectl (1.31+) tunnels its SPDY connection through WebSocket (subprotocol
//   `SPDY/3.1+portforward.k8s.io`, SPDY frames in binary messages). The kubelet unwraps the
//   messages and pipes the bytes to the runtime: the client's SPDY session runs end to end, so
//   nothing here needs to parse it.
// - Older WebSocket clients (@kubernetes/client-node's PortForward) use the channel protocol, one
//   WebSocket per forwarded connection: channels 2i and 2i+1 are the data and error of the i-th
//   `ports` value, each starting with the port as two little-endian bytes. The kubelet opens the
//   matching SPDY streams to the runtime.
// - SPDY clients are proxied to the runtime unchanged (see server.ts).

import type WebSocket from 'ws';
import type { Duplex } from 'node:stream';
import { dialUpgrade, type UpgradedConnection } from '../../machinery/http-upgrade.ts';
import { SpdySession } from '../../machinery/spdy/session.ts';
import { decodeChannelMessage, encodeChannelMessage, type ChannelProtocol } from './ws-channels.ts';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/** Open the runtime's port-forward URL as a raw upgraded connection (SPDY follows). */
export function dialPortForward(url: string, timeoutMs = 30_000): Promise<UpgradedConnection> {
  return dialUpgrade(url, {
    method: 'POST',
    headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': PORT_FORWARD_PROTOCOL },
    timeoutMs,
  });
}

/** Pipe a WebSocket carrying SPDY frames to the runtime's connection, both ways. */
export function bridgeSpdyTunnel(ws: WebSocket, runtime: UpgradedConnection): void {
  const sock: Duplex = runtime.socket;
  if (runtime.head.length) ws.send(runtime.head, { binary: true });
  sock.on('data', (d: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    // Hold the runtime back while the client is slow to take what was sent.
    if (ws.bufferedAmount > 1 << 20) {
      sock.pause();
      ws.send(d, { binary: true }, () => sock.resume());
    } else ws.send(d, { binary: true });
  });
  ws.on('message', (d: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    if (!sock.write(d)) {
      ws.pause();
      sock.once('drain', () => ws.resume());
    }
  });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (ws.readyState === ws.OPEN) ws.close(1000);
    sock.destroy();
  };
  ws.on('close', close);
  ws.on('error', close);
  sock.on('end', close);
  sock.on('close', close);
  sock.on('error', close);
}

/** The older channel protocol (see the header comment) over a SPDY session to the runtime. */
export function bridgeChannelPortForward(ws: WebSocket, p: ChannelProtocol, session: SpdySession, ports: number[]): void {
  const send = (channel: number, data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(encodeChannelMessage(p, channel, data), { binary: !p.base64 });
  };
  const pairs = ports.map((port, i) => {
    const headers = (type: string) => ({ streamtype: type, port: String(port), requestid: String(i) });
    const error = session.createStream(headers('error'));
    const data = session.createStream(headers('data'));
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(2 * i, portBytes);
    send(2 * i + 1, portBytes);
    data.on('data', (d: Buffer) => send(2 * i, d));
    error.on('data', (d: Buffer) => send(2 * i + 1, d));
    return { data, error };
  });
  let open = pairs.length;
  for (const { data } of pairs) {
    data.on('end', () => {
      if (--open === 0) {
        if (ws.readyState === ws.OPEN) ws.close(1000);
        session.close();
      }
    });
  }
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    const m = decodeChannelMessage(p, raw, isBinary);
    if (!m || m.channel % 2 !== 0) return;
    const pair = pairs[m.channel / 2];
    if (pair && !pair.data.writableEnded) pair.data.write(m.data);
  });
  ws.on('close', () => session.close());
  ws.on('error', () => ws.terminate());
  session.on('close', () => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
}
