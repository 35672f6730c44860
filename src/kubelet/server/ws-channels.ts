// Kubernetes' WebSocket channel protocols for exec, attach and the older port-forward: every message
// starts with the number of the channel it belongs to. Binary protocols carry that as a byte;
// the base64 ones send text messages starting with the channel's digit ('0' + n) followed by the
// data in base64. v5.channel.k8s.io adds the CLOSE signal (channel 255 with the closed channel's
// number), so that a client can end stdin; v4 carries the exit status as a JSON Status on the
// error channel, older versions a plain message.

export const Channel = { Stdin: 0, Stdout: 1, Stderr: 2, Error: 3, Resize: 4, Close: 255 } as const;

export interface ChannelProtocol {
  /** The Sec-WebSocket-Protocol value; '' when the client named none. */
  name: string;
  base64: boolean;
  /** 5: the CLOSE signal; 4+: Status JSON on the error channel; below: plain text errors. */
  version: number;
}

/** What exec and attach speak, as the kubelet (wsstream) and the API server's v5 translator do. */
export const remoteCommandProtocols: ChannelProtocol[] = [
  { name: 'v5.channel.k8s.io', base64: false, version: 5 },
  { name: 'v4.channel.k8s.io', base64: false, version: 4 },
  { name: 'v4.base64.channel.k8s.io', base64: true, version: 4 },
  { name: 'channel.k8s.io', base64: false, version: 1 },
  { name: 'base64.channel.k8s.io', base64: true, version: 1 },
];

/** The older WebSocket port-forward (one connection per forwarded connection, ?ports=...). */
export const portForwardProtocols: ChannelProtocol[] = [
  { name: 'v4.channel.k8s.io', base64: false, version: 4 },
  { name: 'v4.base64.channel.k8s.io', base64: true, version: 4 },
  { name: 'portforward.k8s.io', base64: false, version: 1 },
];

/** kubectl's port-forward: SPDY frames carried in binary WebSocket messages. */
export const SPDY_TUNNEL_PREFIX = 'SPDY/3.1+';

/** The Sec-WebSocket-Protocol values a request offers, in its order. */
export function offeredProtocols(header: string | string[] | undefined): string[] {
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * The first protocol the client offers that we speak (upstream's wsstream takes the client's
 * order). A client that offers none gets the binary channel protocol, named ''.
 */
export function negotiate(offered: string[], supported: ChannelProtocol[]): ChannelProtocol | undefined {
  if (offered.length === 0) return { name: '', base64: false, version: 1 };
  for (const o of offered) {
    const p = supported.find((s) => s.name === o);
    if (p) return p;
  }
  return undefined;
}

/** A message for `channel`: a Buffer for binary protocols, a string for base64 ones. */
export function encodeChannelMessage(p: ChannelProtocol, channel: number, data: Buffer): Buffer | string {
  if (p.base64) return String.fromCharCode(0x30 + channel) + data.toString('base64');
  const out = Buffer.allocUnsafe(data.length + 1);
  out[0] = channel;
  data.copy(out, 1);
  return out;
}

/** The channel and data of a received message, or undefined for an empty or malformed one. */
export function decodeChannelMessage(p: ChannelProtocol, raw: Buffer, isBinary: boolean): { channel: number; data: Buffer } | undefined {
  if (raw.length === 0) return undefined;
  if (p.base64) {
    if (isBinary) return undefined;
    const channel = raw[0] - 0x30;
    const text = raw.toString('latin1', 1);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
    return { channel, data: Buffer.from(text, 'base64') };
  }
  return { channel: raw[0], data: raw.subarray(1) };
}
