// Reading a container's CRI log file for `kubectl logs`, as upstream's kuberuntime/logs does.
//
// The runtime writes one line per chunk of output: `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`
// (P = partial: the text continues in the next line, so its newline is dropped). The Docker JSON
// format ({"log","stream","time"}) is read too. Options: tail (counted in file lines from the end),
// since (lines older are skipped), timestamps (each line prefixed with its time, always with nine
// fractional digits), limitBytes (output cut after that many bytes), follow (wait for more until the
// container stops; a log file that is rotated or recreated is reopened by path).

import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';

export interface LogReadOptions {
  /** Only the last N lines (negative or undefined: all). */
  tail?: number;
  /** Stop after writing this many bytes. */
  limitBytes?: number;
  /** Skip lines older than this (milliseconds since the epoch). */
  sinceMs?: number;
  timestamps: boolean;
  follow: boolean;
  /** Which streams to write (default both). */
  streams?: { stdout: boolean; stderr: boolean };
}

export interface LogFollow {
  /** Whether the container still runs: following stops at the end of the file once it does not. */
  isRunning(): Promise<boolean>;
  /** How often to look for new lines when no file change is noticed (upstream: 1 s). */
  pollMs?: number;
}

export interface LogMessage {
  /** Milliseconds since the epoch, and the nanoseconds within that millisecond. */
  ms: number;
  subMsNanos: number;
  /** The time as it is printed with timestamps=true. */
  stamp: string;
  stream: 'stdout' | 'stderr';
  text: Buffer;
}

const TS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** A CRI or Docker log time, or undefined when it is not one. */
export function parseLogTime(s: string): { ms: number; subMsNanos: number; stamp: string } | undefined {
  const m = TS.exec(s);
  if (!m) return undefined;
  const frac = (m[2] ?? '').padEnd(9, '0');
  const zone = m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : m[3];
  const whole = Date.parse(`${m[1]}${zone}`);
  if (Number.isNaN(whole)) return undefined;
  return { ms: whole + Number(frac.slice(0, 3)), subMsNanos: Number(frac.slice(3)), stamp: `${m[1]}.${frac}${zone}` };
}

/** One line of the CRI format (with its newline), or undefined when it is not one. */
export function parseCriLine(line: Buffer): LogMessage | undefined {
  const sp1 = line.indexOf(0x20);
  if (sp1 < 0) return undefined;
  const t = parseLogTime(line.toString('latin1', 0, sp1));
  if (!t) return undefined;
  const sp2 = line.indexOf(0x20, sp1 + 1);
  if (sp2 < 0) return undefined;
  const stream = line.toString('latin1', sp1 + 1, sp2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const sp3 = line.indexOf(0x20, sp2 + 1);
  if (sp3 < 0) return undefined;
  // The tag may carry more fields after a ':' (forward compatible); only the first matters.
  const partial = line.toString('latin1', sp2 + 1, sp3).split(':')[0] === 'P';
  let text = line.subarray(sp3 + 1);
  if (partial && text.length && text[text.length - 1] === 0x0a) text = text.subarray(0, text.length - 1);
  return { ...t, stream, text };
}

/** One line of the Docker JSON log format, or undefined. */
export function parseDockerJsonLine(line: Buffer): LogMessage | undefined {
  try {
    const v = JSON.parse(line.toString('utf8'));
    if (!v || typeof v !== 'object' || typeof v.time !== 'string') return undefined;
    const t = parseLogTime(v.time);
    if (!t || (v.stream !== 'stdout' && v.stream !== 'stderr')) return undefined;
    return { ...t, stream: v.stream, text: Buffer.from(typeof v.log === 'string' ? v.log : '', 'utf8') };
  } catch {
    return undefined;
  }
}

/**
 * Where the last `n` lines of a file start: the offset after which exactly `n` newlines remain
 * (upstream's tail.FindTailLineStartIndex). Negative `n`: the whole file.
 */
export async function tailStart(f: FileHandle, n: number): Promise<number> {
  if (n < 0) return 0;
  const size = (await f.stat()).size;
  const block = 64 * 1024;
  let count = 0;
  let left = size;
  let buf = Buffer.alloc(0);
  for (let right = size; right > 0 && count <= n; right -= block) {
    left = Math.max(0, right - block);
    buf = Buffer.alloc(right - left);
    await f.read(buf, 0, buf.length, left);
    for (const b of buf) if (b === 0x0a) count++;
  }
  let start = left;
  let at = 0;
  for (; count > n; count--) {
    const i = buf.indexOf(0x0a, at);
    at = i + 1;
    start = left + at;
  }
  return start;
}

class LogLimit extends Error {}

/**
 * Copy a container's log to `write` (which resolves once the output can take more). Resolves when
 * done: at the end of the file, or with follow when the container has stopped and everything was
 * read, or when `signal` aborts. Rejects with a message for the user when the file cannot be read.
 */
export async function readContainerLog(path: string, opts: LogReadOptions, write: (chunk: Buffer) => Promise<void>, follow?: LogFollow, signal?: AbortSignal): Promise<void> {
  let resolved: string;
  try {
    resolved = await realpath(path);
  } catch (e) {
    throw new Error(`failed to try resolving symlinks in path ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
  let f: FileHandle;
  try {
    f = await open(resolved, 'r');
  } catch (e) {
    throw new Error(`failed to open log file ${JSON.stringify(resolved)}: ${(e as Error).message}`);
  }
  const streams = opts.streams ?? { stdout: true, stderr: true };
  let remain = opts.limitBytes !== undefined && opts.limitBytes >= 0 ? opts.limitBytes : Infinity;
  const tail = opts.tail ?? -1;
  const limited = tail >= 0 && !opts.follow;
  let linesLeft = tail;
  let parse: ((l: Buffer) => LogMessage | undefined) | undefined;
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);

  const emit = async (line: Buffer) => {
    if (!parse) parse = parseCriLine(line) ? parseCriLine : parseDockerJsonLine(line) ? parseDockerJsonLine : undefined;
    const msg = parse?.(line);
    if (!msg) return; // upstream logs and skips lines it cannot parse
    if (opts.sinceMs !== undefined && msg.ms < opts.sinceMs) return;
    if (!streams[msg.stream]) return;
    let out = opts.timestamps ? Buffer.concat([Buffer.from(`${msg.stamp} `, 'latin1'), msg.text]) : msg.text;
    if (out.length > remain) out = out.subarray(0, remain);
    remain -= out.length;
    if (out.length) await write(out);
    if (remain <= 0) throw new LogLimit();
  };

  try {
    let pos = await tailStart(f, tail);
    let pending = Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(64 * 1024);
    let ino = (await f.stat()).ino;
    for (;;) {
      if (signal?.aborted) return;
      if (limited && linesLeft === 0) return;
      const { bytesRead } = await f.read(buf, 0, buf.length, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        let data = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
        let at = 0;
        for (;;) {
          if (limited && linesLeft === 0) return;
          const nl = data.indexOf(0x0a, at);
          if (nl < 0) break;
          await emit(data.subarray(at, nl + 1));
          if (limited) linesLeft--;
          at = nl + 1;
        }
        pending = data.subarray(at);
        data = Buffer.alloc(0);
        continue;
      }
      // End of the file.
      if (!opts.follow || !follow) {
        if (pending.length) await emit(pending); // an incomplete last line is still shown
        return;
      }
      // Following: a file replaced at the same path (rotation, a restarted container's new file)
      // is reopened once this one is read to its end.
      const now = await stat(resolved).catch(() => undefined);
      if (now && now.ino !== ino) {
        await f.close();
        f = await open(resolved, 'r');
        ino = (await f.stat()).ino;
        pos = 0;
        pending = Buffer.alloc(0);
        watcher?.close();
        watcher = undefined;
        continue;
      }
      if (!(await follow.isRunning())) {
        // One last look: lines written just before the container stopped.
        const again = await f.read(buf, 0, buf.length, pos);
        if (again.bytesRead > 0) continue;
        if (pending.length) await emit(pending);
        return;
      }
      if (!watcher) {
        try {
          watcher = watch(resolved, () => wake?.());
          watcher.on('error', () => {});
        } catch {
          // No inotify here: the poll below still finds new lines.
        }
        continue; // a write may have happened before the watch began
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, follow.pollMs ?? 1000);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  } catch (e) {
    if (e instanceof LogLimit) return;
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    watcher?.close();
    await f.close().catch(() => {});
  }
}
