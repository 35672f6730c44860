// A minimal HTTP/1.1-over-TLS client for load generation: one request at a time per keep-alive
// connection, responses framed by Content-Length. Node's https module costs as much CPU per request
// as the server does, which on a 2-core machine would make the benchmark measure the client.

import tls from 'node:tls';

export interface TlsCreds {
  host: string;
  port: number;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** Authenticate with this bearer token instead of the client certificate. */
  token?: string;
}

export class FastConnection {
  private socket!: tls.TLSSocket;
  private buf: Buffer = Buffer.alloc(0);
  private pending?: { resolve: (r: { status: number; body: Buffer }) => void; reject: (e: Error) => void };
  private auth = '';

  static async open(c: TlsCreds): Promise<FastConnection> {
    const fc = new FastConnection();
    await new Promise<void>((resolve, reject) => {
      const cred = c.token ? {} : { cert: c.cert, key: c.key };
      fc.socket = tls.connect({ host: c.host, port: c.port, ca: c.ca, ...cred, servername: 'localhost' }, resolve);
      fc.socket.once('error', reject);
    });
    fc.socket.setNoDelay(true);
    if (c.token) fc.auth = `Authorization: Bearer ${c.token}\r\n`;
    fc.socket.on('data', (d: Buffer) => fc.onData(d));
    fc.socket.on('error', (e) => fc.pending?.reject(e));
    return fc;
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.subarray(0, end).toString('latin1');
    const m = /content-length:\s*(\d+)/i.exec(head);
    const len = m ? Number(m[1]) : 0;
    if (this.buf.length < end + 4 + len) return;
    const status = Number(head.slice(9, 12));
    const body = this.buf.subarray(end + 4, end + 4 + len);
    this.buf = this.buf.subarray(end + 4 + len);
    const p = this.pending;
    this.pending = undefined;
    p?.resolve({ status, body });
  }

  request(method: string, path: string, body?: string): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      const len = body ? Buffer.byteLength(body) : 0;
      this.socket.write(`${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${this.auth}Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: ${len}\r\n\r\n${body ?? ''}`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
