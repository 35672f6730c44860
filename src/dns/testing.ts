// Test helpers for cluster DNS: a stub upstream resolver on a loopback address (forwarding tests
// never reach a real resolver), and a free loopback address to listen on.

import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';

export interface StubUpstream {
  address: string;
  port: number;
  /** Questions it was asked, as `name TYPE`. */
  asked: string[];
  close(): Promise<void>;
}

/** A loopback address in 127.0.0.0/8 other than 127.0.0.1, picked at random to keep tests apart. */
export function randomLoopback(): string {
  return `127.0.${Math.floor(Math.random() * 200) + 20}.${Math.floor(Math.random() * 250) + 2}`;
}

/**
 * A resolver that knows a fixed table of A records (name → address) and answers NXDOMAIN for
 * everything else, over UDP and TCP on one port.
 */
export async function startStubUpstream(address: string, records: Record<string, string>): Promise<StubUpstream> {
  const asked: string[] = [];
  const answer = (msg: Buffer): Buffer | undefined => {
    let q: packet.DecodedPacket;
    try {
      q = packet.decode(msg);
    } catch {
      return undefined;
    }
    const question = q.questions?.[0];
    if (!question) return undefined;
    asked.push(`${question.name} ${question.type}`);
    const ip = records[question.name.toLowerCase().replace(/\.$/, '')];
    const answers = ip && question.type === 'A' ? [{ type: 'A' as const, name: question.name, ttl: 60, data: ip }] : [];
    return packet.encode({ type: 'response', id: q.id, flags: packet.RECURSION_AVAILABLE | (q.flags! & packet.RECURSION_DESIRED) | (ip ? 0 : 3), questions: q.questions, answers });
  };
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, address, () => r()));
  udp.on('message', (msg, rinfo) => {
    const a = answer(msg);
    if (a) udp.send(a, rinfo.port, rinfo.address);
  });
  const port = udp.address().port;
  const tcp = net.createServer((c) => {
    let buf = Buffer.alloc(0);
    c.on('error', () => {});
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const a = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        if (!a) continue;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(a.length);
        c.write(Buffer.concat([len, a]));
      }
    });
  });
  await new Promise<void>((r) => tcp.listen(port, address, () => r()));
  let closed = false;
  return {
    address,
    port,
    asked,
    close: async () => {
      if (closed) return;
      closed = true;
      udp.close();
      await new Promise((r) => tcp.close(r));
    },
  };
}
