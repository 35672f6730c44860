// exec and attach for WebSocket clients: the kubelet speaks the client's channel protocol (v5, v4,
// v1, binary or base64) and SPDY remotecommand v4 to the container runtime's streaming server,
// which knows only SPDY and, over WebSocket, nothing newer than v4 (it cannot end stdin). Upstream's
// kubelet does the same (ExtendWebSocketsToKubelet); SPDY clients are proxied to the runtime as is.

import type WebSocket from 'ws';
import { dialUpgrade } from '../../machinery/http-upgrade.ts';
import { SpdySession, type SpdyStream } from '../../machinery/spdy/session.ts';
import { Channel, decodeChannelMessage, encodeChannelMessage, type ChannelProtocol } from './ws-channels.ts';

export interface StreamFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export const REMOTE_COMMAND_V4 = 'v4.channel.k8s.io';

/** Open the runtime's streaming URL for exec or attach with SPDY remotecommand v4. */
export async function dialRemoteCommand(url: string, timeoutMs = 30_000): Promise<SpdySession> {
  const up = await dialUpgrade(url, {
    method: 'POST',
    headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': REMOTE_COMMAND_V4 },
    timeoutMs,
  });
  const chosen = up.response.headers['x-stream-protocol-version'];
  if (chosen !== REMOTE_COMMAND_V4) {
    up.socket.destroy();
    throw new Error(`the container runtime's streaming server chose protocol ${JSON.stringify(chosen ?? '')}; the kubelet needs ${REMOTE_COMMAND_V4}`);
  }
  return new SpdySession(up.socket, { server: false, head: up.head });
}

/** Bytes queued towards the WebSocket client beyond which the runtime's streams are paused. */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 * 1024;

/**
 * Carry an exec or attach session between a WebSocket client and the runtime. Ends with a normal
 * WebSocket close once the runtime has sent everything (the error channel carries the exit
 * status); a client that goes away closes the runtime's connection.
 */
export function bridgeRemoteCommand(ws: WebSocket, p: ChannelProtocol, session: SpdySession, flags: StreamFlags): void {
  if (session.closed) {
    // The runtime hung up before the client's handshake completed.
    const message = "Internal error occurred: the container runtime's streaming server closed the connection";
    const status = { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
    ws.send(encodeChannelMessage(p, Channel.Error, Buffer.from(p.version >= 4 ? JSON.stringify(status) : message)), { binary: !p.base64 });
    ws.close(1000);
    return;
  }
  const open = (type: string) => session.createStream({ streamtype: type });
  const errorS = open('error');
  const stdinS = flags.stdin ? open('stdin') : undefined;
  const stdoutS = flags.stdout ? open('stdout') : undefined;
  const stderrS = flags.stderr && !flags.tty ? open('stderr') : undefined;
  const resizeS = flags.tty ? open('resize') : undefined;
  const readers = [errorS, stdoutS, stderrS].filter((s): s is SpdyStream => s !== undefined);

  let queued = 0;
  let paused = false;
  const send = (channel: number, data: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    queued += data.length;
    ws.send(encodeChannelMessage(p, channel, data), { binary: !p.base64 }, () => {
      queued -= data.length;
      if (paused && queued < LOW_WATER) {
        paused = false;
        for (const r of readers) r.resume();
      }
    });
    if (!paused && queued > HIGH_WATER) {
      paused = true;
      for (const r of readers) r.pause();
    }
  };

  // Tell the client the connection is established: an empty message on the first channel it
  // reads, as upstream's wsstream does.
  send(flags.stdout ? Channel.Stdout : flags.stderr && !flags.tty ? Channel.Stderr : Channel.Error, Buffer.alloc(0));

  stdoutS?.on('data', (d: Buffer) => send(Channel.Stdout, d));
  stderrS?.on('data', (d: Buffer) => send(Channel.Stderr, d));
  const errorData: Buffer[] = [];
  errorS.on('data', (d: Buffer) => {
    if (p.version >= 4) send(Channel.Error, d);
    else errorData.push(d);
  });

  let ended = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    if (p.version < 4) {
      const text = plainError(Buffer.concat(errorData));
      if (text) send(Channel.Error, Buffer.from(text));
    }
    if (ws.readyState === ws.OPEN) ws.close(1000);
    session.close();
  };
  for (const r of readers) {
    r.on('end', () => {
      if (++ended === readers.length) finish();
    });
  }

  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    const m = decodeChannelMessage(p, raw, isBinary);
    if (!m) return;
    if (m.channel === Channel.Stdin && stdinS && !stdinS.writableEnded) {
      if (!stdinS.write(m.data)) {
        ws.pause();
        stdinS.once('drain', () => ws.resume());
      }
    } else if (m.channel === Channel.Resize && resizeS) {
      resizeS.write(m.data);
    } else if (m.channel === Channel.Close && p.version >= 5 && m.data[0] === Channel.Stdin) {
      stdinS?.end();
    }
  });
  ws.on('close', () => {
    if (!finished) {
      finished = true;
      session.close();
    }
  });
  ws.on('error', () => ws.terminate());
}

/**
 * What clients of the v1-v3 channel protocols read on the error channel: the failure's message
 * as plain text (nothing on success), from the runtime's v4 Status.
 */
export function plainError(statusJson: Buffer): string {
  if (statusJson.length === 0) return '';
  try {
    const s = JSON.parse(statusJson.toString('utf8'));
    if (s?.status === 'Success') return '';
    return typeof s?.message === 'string' ? s.message : statusJson.toString('utf8');
  } catch {
    return statusJson.toString('utf8');
  }
}
