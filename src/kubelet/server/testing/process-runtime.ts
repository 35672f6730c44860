// A stand-in for a container runtime's streaming server, for tests where containerd cannot run:
// CRI Exec, Attach and PortForward answer single-use URLs of a local HTTP server that speaks the
// same wire format as containerd's (k8s.io/kubelet/pkg/cri/streaming): SPDY/3.1 with remotecommand
// v4..v1 for exec and attach, portforward.k8s.io for port-forward. "Containers" are plain host
// processes: exec runs the command with child_process (under `script` for a TTY), attach joins a
// long-running process started by addContainer, and port-forward connects to 127.0.0.1:<port>.

import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { SpdySession, type SpdyStream } from '../../../machinery/spdy/session.ts';
import { writeRawResponse } from '../../../machinery/http-upgrade.ts';
import type { AttachRequest, ExecRequest, PortForwardRequest, StreamingRuntime } from '../types.ts';

const REMOTE_COMMAND = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

interface Container {
  id: string;
  proc?: ChildProcess;
  /** Output of the attached process, fanned out to every attached client. */
  outputs: Set<(stream: 'stdout' | 'stderr', data: Buffer) => void>;
  exits: Set<(code: number | null) => void>;
}

type Pending = { kind: 'exec'; req: ExecRequest } | { kind: 'attach'; req: AttachRequest } | { kind: 'portforward'; req: PortForwardRequest };

export class ProcessRuntime implements StreamingRuntime {
  private readonly tokens = new Map<string, Pending>();
  private readonly containers = new Map<string, Container>();
  private readonly sockets = new Set<Duplex>();
  private readonly children = new Set<ChildProcess>();
  /** Terminal sizes received on resize streams, for tests to look at. */
  readonly resizes: Array<{ Width: number; Height: number }> = [];
  /** Every request as the runtime received it. */
  readonly calls: Pending[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly baseUrl: string,
  ) {}

  static async start(): Promise<ProcessRuntime> {
    const server = http.createServer((_req, res) => {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('Upgrade request required');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const rt = new ProcessRuntime(server, `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    server.on('upgrade', (req, socket, head) => rt.onUpgrade(req, socket, head));
    return rt;
  }

  /** A container: its ID, and for attach a process that runs as its main process. */
  addContainer(id: string, command?: string[]): void {
    const c: Container = { id, outputs: new Set(), exits: new Set() };
    if (command) {
      const proc = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      this.children.add(proc);
      proc.stdin!.on('error', () => {});
      proc.stdout!.on('data', (d: Buffer) => c.outputs.forEach((o) => o('stdout', d)));
      proc.stderr!.on('data', (d: Buffer) => c.outputs.forEach((o) => o('stderr', d)));
      proc.on('close', (code) => {
        this.children.delete(proc);
        c.proc = undefined;
        c.exits.forEach((e) => e(code));
      });
      c.proc = proc;
    }
    this.containers.set(id, c);
  }

  async exec(req: ExecRequest): Promise<{ url: string }> {
    this.checkContainer(req.containerId);
    if (req.tty && req.stderr) throw new Error('tty and stderr cannot both be true');
    if (!req.stdin && !req.stdout && !req.stderr) throw new Error('one of stdin, stdout, or stderr must be set');
    return { url: this.issue({ kind: 'exec', req }) };
  }

  async attach(req: AttachRequest): Promise<{ url: string }> {
    const c = this.checkContainer(req.containerId);
    if (!c.proc) throw Object.assign(new Error(`container ${req.containerId} is not running`), { code: 9 });
    return { url: this.issue({ kind: 'attach', req }) };
  }

  async portForward(req: PortForwardRequest): Promise<{ url: string }> {
    return { url: this.issue({ kind: 'portforward', req }) };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const c of this.children) c.kill('SIGKILL');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private checkContainer(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw Object.assign(new Error(`container "${id}" not found`), { code: 5 });
    return c;
  }

  private issue(p: Pending): string {
    const token = randomBytes(6).toString('base64url');
    this.tokens.set(token, p);
    this.calls.push(p);
    // Tokens are single-use and short-lived, as containerd's request cache.
    setTimeout(() => this.tokens.delete(token), 60_000).unref();
    return `${this.baseUrl}/${p.kind}/${token}`;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const m = /^\/(exec|attach|portforward)\/([^/?]+)/.exec(req.url ?? '');
    const pending = m ? this.tokens.get(m[2]) : undefined;
    if (!m || !pending || pending.kind !== m[1]) return writeRawResponse(socket, 404, { 'Content-Type': 'text/plain' }, 'not found');
    this.tokens.delete(m[2]);
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'spdy/3.1') return writeRawResponse(socket, 400, { 'Content-Type': 'text/plain' }, 'unable to upgrade: missing upgrade headers in request');
    const offered = String(req.headers['x-stream-protocol-version'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const supported = pending.kind === 'portforward' ? ['portforward.k8s.io'] : REMOTE_COMMAND;
    const protocol = offered.length === 0 ? (pending.kind === 'portforward' ? undefined : '') : offered.find((o) => supported.includes(o));
    if (protocol === undefined) {
      return writeRawResponse(socket, 403, { 'Content-Type': 'text/plain' }, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${supported.join(' ')}]`);
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : ''}\r\n`);
    const session = new SpdySession(socket, { server: true, head });
    if (pending.kind === 'portforward') this.servePortForward(session);
    else this.serveRemoteCommand(session, pending, protocol || 'channel.k8s.io');
  }

  // ---- exec and attach ----

  private serveRemoteCommand(session: SpdySession, p: Exclude<Pending, { kind: 'portforward' }>, protocol: string): void {
    const o = p.req;
    const v = protocol === 'channel.k8s.io' ? 1 : Number(protocol[1]);
    const expected = 1 + Number(o.stdin) + Number(o.stdout) + Number(o.stderr) + Number(o.tty && v >= 3);
    const streams: Record<string, SpdyStream> = {};
    let count = 0;
    const timer = setTimeout(() => session.close(), 30_000);
    session.on('stream', (s: SpdyStream) => {
      streams[s.header('streamtype') ?? ''] = s;
      if (++count !== expected) return;
      clearTimeout(timer);
      const writeStatus = (status: Record<string, unknown>) => {
        const err = streams.error;
        if (!err) return;
        if (v >= 4) err.write(JSON.stringify({ metadata: {}, ...status }));
        else if (status.status !== 'Success') err.write(String(status.message));
      };
      streams.resize?.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n').filter(Boolean)) {
          try {
            this.resizes.push(JSON.parse(line));
          } catch {
            // not a terminal size
          }
        }
      });
      if (p.kind === 'exec') this.runExec(p.req, streams, writeStatus, () => session.close());
      else this.runAttach(p.req, streams, writeStatus, () => session.close());
    });
  }

  private runExec(o: ExecRequest, s: Record<string, SpdyStream>, writeStatus: (st: Record<string, unknown>) => void, done: () => void): void {
    const [file, ...args] = o.tty ? ['script', '-qfec', o.cmd.map(shellQuote).join(' '), '/dev/null'] : o.cmd;
    let proc: ChildProcess;
    try {
      proc = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm' } });
    } catch (e) {
      writeStatus(internal(e as Error));
      return done();
    }
    this.children.add(proc);
    proc.stdin!.on('error', () => {});
    if (s.stdin) s.stdin.pipe(proc.stdin!);
    else proc.stdin!.end();
    if (s.stdout) proc.stdout!.on('data', (d: Buffer) => s.stdout.write(d));
    else proc.stdout!.resume();
    const errOut = s.stderr ?? (o.tty ? s.stdout : undefined);
    if (errOut) proc.stderr!.on('data', (d: Buffer) => errOut.write(d));
    else proc.stderr!.resume();
    proc.on('error', (e) => {
      this.children.delete(proc);
      writeStatus(internal(e));
      done();
    });
    proc.on('close', (code, signal) => {
      this.children.delete(proc);
      if (code === 0) writeStatus({ status: 'Success' });
      else {
        const rc = code ?? 128 + (signal ? 9 : 0);
        writeStatus({
          status: 'Failure',
          message: `command terminated with non-zero exit code: error executing command ${goList(o.cmd)}, exit code ${rc}`,
          reason: 'NonZeroExitCode',
          details: { causes: [{ reason: 'ExitCode', message: String(rc) }] },
        });
      }
      done();
    });
  }

  private runAttach(o: AttachRequest, s: Record<string, SpdyStream>, writeStatus: (st: Record<string, unknown>) => void, done: () => void): void {
    const c = this.containers.get(o.containerId);
    if (!c?.proc) {
      writeStatus(internal(new Error(`container ${o.containerId} is not running`)));
      return done();
    }
    const out = (stream: 'stdout' | 'stderr', d: Buffer) => {
      const target = stream === 'stderr' && s.stderr ? s.stderr : s.stdout;
      target?.write(d);
    };
    const exit = () => {
      cleanup();
      writeStatus({ status: 'Success' });
      done();
    };
    const cleanup = () => {
      c.outputs.delete(out);
      c.exits.delete(exit);
    };
    c.outputs.add(out);
    c.exits.add(exit);
    // The client's stdin goes to the container; its end does not close the container's stdin.
    s.stdin?.on('data', (d: Buffer) => c.proc?.stdin?.write(d));
    s.stdout?.on('close', cleanup);
  }

  // ---- port-forward ----

  private servePortForward(session: SpdySession): void {
    const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream }>();
    session.on('stream', (s: SpdyStream) => {
      const id = s.header('requestid') ?? '';
      const pair = pairs.get(id) ?? {};
      pairs.set(id, pair);
      if (s.header('streamtype') === 'error') pair.error = s;
      else pair.data = s;
      if (!pair.data || !pair.error) return;
      pairs.delete(id);
      this.forward(Number(pair.data.header('port')), pair.data, pair.error);
    });
  }

  private forward(port: number, data: SpdyStream, error: SpdyStream): void {
    const conn = net.connect(port, '127.0.0.1');
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      if (err) error.write(`error forwarding port ${port} to pod, uid : ${err.message}`);
      error.end();
      data.end();
      conn.destroy();
    };
    conn.on('error', (e) => finish(e));
    data.on('data', (d: Buffer) => conn.write(d));
    data.on('end', () => conn.end());
    conn.on('data', (d: Buffer) => data.write(d));
    conn.on('end', () => finish());
    conn.on('close', () => finish());
  }
}

/** A Go-style %v of a string slice: [sh -c exit 3]. */
function goList(a: string[]): string {
  return `[${a.join(' ')}]`;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function internal(e: Error): Record<string, unknown> {
  const message = `error executing command in container: ${e.message}`;
  return { status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 };
}
