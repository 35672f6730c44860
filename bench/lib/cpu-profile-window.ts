// CPU profiles of every thread of a benchmark's server over a window the benchmark chooses (e.g. from
// the first create to the last binding), not from start-up: a preload for NODE_OPTIONS=--import=...
// The first SIGWINCH starts V8's sampling profiler in every thread, the second stops it and writes
// DIR/<pid>-<n>-<threadId>-<name>.cpuprofile (n counting the windows from 1) (worker threads cannot receive signals, so the main thread
// passes them on through a BroadcastChannel). Summarise with bench/lib/cpuprofile-summary.ts.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PROFILE_SIGNAL = 'SIGWINCH';

export function cpuProfileWindowPreload(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mizzen-cpuwin-')), 'preload.mjs');
  writeFileSync(
    file,
    `import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { threadId, isMainThread, workerData } from 'node:worker_threads';
const dir = ${JSON.stringify(dir)};
const ch = new BroadcastChannel('mizzen-bench-cpuwin');
ch.unref();
let s;
let n = 0;
const toggle = () => {
  if (!s) {
    s = new Session();
    s.connect();
    s.post('Profiler.enable');
    s.post('Profiler.setSamplingInterval', { interval: 1000 });
    s.post('Profiler.start');
    return;
  }
  const names = (workerData && workerData.specs) ? workerData.specs.map((x) => x.name).join('+') : isMainThread ? 'main' : 'worker';
  n++;
  s.post('Profiler.stop', (err, r) => {
    if (!err) writeFileSync(dir + '/' + process.pid + '-' + n + '-' + threadId + '-' + names.replace(/[^\\w+.-]/g, '_').slice(0, 60) + '.cpuprofile', JSON.stringify(r.profile));
    s.disconnect();
    s = undefined;
  });
};
ch.onmessage = () => toggle();
if (isMainThread) process.on(${JSON.stringify(PROFILE_SIGNAL)}, () => { ch.postMessage(1); toggle(); });
`,
  );
  return file;
}
