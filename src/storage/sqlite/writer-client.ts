// The main thread's handle on the SQLite writer thread (sqlite-writer.mjs): starts it, waits for it
// to lock and load the database (synchronously, so open() can fail with StoreLockedError at once),
// then turns requests into promises answered in order.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { StoreLockedError, readLockPid } from './lock.ts';

/** The state of the log at open, as the writer loaded it. */
export interface LoadedState {
  /** Latest revision (never lower than the compaction horizon). */
  revision: number;
  compacted: number;
  /** Live keys (the newest row of each, not a tombstone), column by column. */
  live: { names: string[]; createRevisions: number[]; modRevisions: number[]; values: string[] };
  /** history holds every row with an id above this. */
  historyFrom: number;
  history: HistoryRow[];
}

/** A log row with the value of the row it superseded (for MODIFIED events). */
export interface HistoryRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
  prev_value: string | null;
}

interface ErrorInfo {
  code?: string;
  message: string;
}

interface Reply {
  id: number;
  ok: boolean;
  error?: ErrorInfo;
}

type OpenReply = { type: 'opened'; state: LoadedState } | { type: 'open-failed'; error: ErrorInfo };

export interface WriterOptions {
  file: string;
  /** How many of the newest log rows to load for watch replay. */
  historyLimit: number;
  /** How long open may wait for the thread to start and lock the file. Default 60s. */
  startTimeoutMs?: number;
}

/** An error the writer thread reported, or its death. */
export class WriterError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'WriterError';
  }
}

// Evaluated as the thread's entry: loads the writer module and turns a load failure into an
// 'open-failed' reply, since the main thread is blocked and would never see an 'error' event.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.script).catch((e) => {
  workerData.port.postMessage({ type: 'open-failed', error: { message: 'storage writer failed to load: ' + (e && e.stack || e) } });
  Atomics.store(workerData.signal, 0, 2);
  Atomics.notify(workerData.signal, 0);
});`;

/**
 * The writer script: beside this module when running from source, beside the bundle when bundled
 * (bin/mizzen.js emits it there).
 */
function writerScript(): URL {
  return new URL('./sqlite-writer.mjs', import.meta.url);
}

export class SqliteWriter {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal: Int32Array;
  /** Replies handled so far (compared with the count the thread publishes). */
  private handled = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private dead: WriterError | undefined;

  private constructor(worker: Worker, port: MessagePort, signal: Int32Array) {
    this.worker = worker;
    this.port = port;
    this.signal = signal;
    port.on('message', (m: Reply) => this.onReply(m));
    // Only requests in flight keep the process alive (see track()).
    port.unref();
    worker.unref();
    worker.on('error', (e) => this.die(new WriterError(`storage writer crashed: ${e.message}`)));
    worker.on('exit', (code) => this.die(new WriterError(`storage writer exited (code ${code})`)));
  }

  /**
   * Start the writer thread and wait until it holds the lock and has loaded the log. Throws
   * StoreLockedError if another connection (this or another process) has the file.
   */
  static start(opts: WriterOptions): { writer: SqliteWriter; state: LoadedState } {
    const script = writerScript();
    if (!fs.existsSync(fileURLToPath(script))) throw new Error(`storage writer script is missing: ${fileURLToPath(script)}`);
    // [0]: open status (1 ok, 2 failed); [1]: replies posted so far.
    const signal = new Int32Array(new SharedArrayBuffer(8));
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { script: script.href, file: opts.file, historyLimit: opts.historyLimit, port: port2, signal },
      transferList: [port2],
      // The writer neither reads stdin nor needs the parent's loader flags.
      execArgv: [],
    });
    const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
    while (Atomics.load(signal, 0) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        void worker.terminate();
        port1.close();
        throw new Error(`storage writer for ${opts.file} did not start within ${opts.startTimeoutMs ?? 60_000}ms`);
      }
      Atomics.wait(signal, 0, 0, Math.min(left, 1000));
    }
    // postMessage queues on the receiving port before the signal flips, so the reply is there.
    const reply = receiveMessageOnPort(port1)?.message as OpenReply | undefined;
    if (!reply || reply.type !== 'opened') {
      void worker.terminate();
      port1.close();
      const err = reply?.error ?? { message: 'storage writer gave no reply' };
      if (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED') throw new StoreLockedError(opts.file, readLockPid(opts.file));
      throw new WriterError(`cannot open ${opts.file}: ${err.message}`, err.code);
    }
    return { writer: new SqliteWriter(worker, port1, signal), state: reply.state };
  }

  /**
   * Append log rows in one transaction; resolves after COMMIT. The rows are flattened, seven values
   * each: id, name, created (0/1), deleted (0/1), create_revision, prev_revision, value.
   */
  commit(rows: (string | number)[]): Promise<void> {
    return this.request({ type: 'commit', rows });
  }

  /** Record the horizon and delete history at or below it; resolves when the deletes are done. */
  compact(target: number): Promise<void> {
    return this.request({ type: 'compact', target });
  }

  /** Finish queued work, close the database (releasing the lock) and stop the thread. */
  async close(): Promise<void> {
    if (!this.dead) {
      try {
        await this.request({ type: 'close' });
      } finally {
        this.dead = new WriterError('storage writer is closed');
        await this.worker.terminate();
      }
    }
  }

  /**
   * True if the thread has answered something that was not handled yet. A cheap check that lets a
   * busy main thread pick up a COMMIT acknowledgement between two of its tasks (with takeReplies)
   * instead of after everything else that is ready to run.
   */
  hasReplies(): boolean {
    return Atomics.load(this.signal, 1) !== this.handled;
  }

  /** Handle every reply that has arrived, now (the same as the port's message events would). */
  takeReplies(): void {
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) this.onReply(m.message as Reply);
  }

  private request(msg: { type: string; [k: string]: unknown }): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.track();
      this.port.postMessage({ ...msg, id });
    });
  }

  private onReply(m: Reply): void {
    this.handled++;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.track();
    if (m.ok) p.resolve();
    else p.reject(new WriterError(m.error?.message ?? 'storage write failed', m.error?.code));
  }

  /** Keep the process alive exactly while a request is in flight (an idle store must not). */
  private track(): void {
    if (this.pending.size > 0) {
      this.worker.ref();
      this.port.ref();
    } else {
      this.worker.unref();
      this.port.unref();
    }
  }

  private die(e: WriterError): void {
    this.dead ??= e;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.track();
    for (const p of waiting) p.reject(this.dead);
  }
}
