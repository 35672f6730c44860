// Termination messages (upstream kuberuntime_container.go): before creating a container the
// kubelet creates an empty, world-writable file under <pod dir>/containers/<name>/ and mounts it at
// terminationMessagePath; after the container exits it reads it back (at most 4 KiB, the end of
// it), or with terminationMessagePolicy FallbackToLogsOnError and a failed, silent container, the
// last 80 lines (at most 2 KiB) of its log.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container } from '../pods/api-types.ts';
import type { Mount, StatusMount } from '../pods/cri-types.ts';

export const MAX_TERMINATION_MESSAGE_LENGTH = 4 * 1024;
export const MAX_TERMINATION_MESSAGE_LOG_LENGTH = 2 * 1024;
export const MAX_TERMINATION_MESSAGE_LOG_LINES = 80;

/**
 * Create the file for one container instance under podContainerDir and return its mount, or
 * undefined when the container sets no terminationMessagePath (or the file cannot be made:
 * upstream then runs the container without it).
 */
export async function prepareTerminationMessageFile(podContainerDir: string, container: Container): Promise<Mount | undefined> {
  if (!container.terminationMessagePath) return undefined;
  try {
    await mkdir(podContainerDir, { recursive: true, mode: 0o750 });
    const hostPath = join(podContainerDir, randomBytes(4).toString('hex'));
    await writeFile(hostPath, '');
    await chmod(hostPath, 0o666);
    return { containerPath: container.terminationMessagePath, hostPath };
  } catch {
    return undefined;
  }
}

/** The last `max` bytes of a file, and whether that is less than the whole file. */
async function readTail(path: string, max: number): Promise<{ data: Buffer; cut: boolean }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, max);
    const data = Buffer.alloc(len);
    await fh.read(data, 0, len, size - len);
    return { data, cut: len < size };
  } finally {
    await fh.close();
  }
}

/**
 * The message for an exited container: the file mounted at terminationMessagePath (found through
 * the runtime's report of the container's mounts), with FallbackToLogsOnError the log's tail when
 * the file is empty and the exit code is not 0. `logPath` is the container's CRI log file.
 */
export async function readTerminationMessage(opts: {
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
  exitCode: number;
  mounts: StatusMount[];
  logPath?: string;
}): Promise<string> {
  const fallback = opts.terminationMessagePolicy === 'FallbackToLogsOnError' && opts.exitCode !== 0;
  let message = '';
  let checkLogs = fallback;
  if (opts.terminationMessagePath) {
    const m = opts.mounts.find((x) => x.containerPath === opts.terminationMessagePath);
    if (m) {
      try {
        message = (await readTail(m.hostPath, MAX_TERMINATION_MESSAGE_LENGTH)).data.toString('utf8');
        checkLogs = fallback && message.length === 0;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return `Error on reading termination log ${m.hostPath}: ${(e as Error).message}`;
      }
    }
  }
  if (checkLogs && opts.logPath) return readLastLogText(opts.logPath);
  return message;
}

/**
 * The container's output in its CRI log file (`<time> <stream> <P|F> <text>` lines, P being a
 * partial line continued by the next), last MAX_TERMINATION_MESSAGE_LOG_LINES lines, at most
 * MAX_TERMINATION_MESSAGE_LOG_LENGTH bytes.
 */
export async function readLastLogText(logPath: string, lines = MAX_TERMINATION_MESSAGE_LOG_LINES, maxBytes = MAX_TERMINATION_MESSAGE_LOG_LENGTH): Promise<string> {
  let tail: { data: Buffer; cut: boolean };
  try {
    // Enough of the file's end for `lines` lines of output plus their CRI prefixes.
    tail = await readTail(logPath, 64 * 1024);
  } catch (e) {
    return `Error on reading termination message from logs: ${(e as Error).message}`;
  }
  const records = tail.data.toString('utf8').split('\n');
  if (tail.cut) records.shift(); // the first record is probably cut
  let text = '';
  for (const rec of records) {
    if (!rec) continue;
    const m = /^(\S+) (stdout|stderr) ([PF]) ?(.*)$/s.exec(rec);
    if (!m) continue;
    text += m[4] + (m[3] === 'F' ? '\n' : '');
  }
  const outLines = text.split('\n');
  if (outLines[outLines.length - 1] === '') outLines.pop();
  let out = outLines.slice(-lines).map((l) => l + '\n').join('');
  const bytes = Buffer.from(out);
  if (bytes.length > maxBytes) out = bytes.subarray(bytes.length - maxBytes).toString('utf8');
  return out;
}
