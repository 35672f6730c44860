// A worker thread on a TypeScript entry, for when `mizzen` runs from its sources (tsx) instead of
// the bundle (bin/mizzen.js falls back to them when dist/ cannot be written, e.g. a non-root user
// on a root's checkout). Node 20 ignores `--import tsx` in a Worker's execArgv, so the thread
// first registers tsx's loader itself, then imports the entry.

import { Worker, type WorkerOptions } from 'node:worker_threads';

export function newWorker(entry: URL, opts: WorkerOptions): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, opts);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { ...opts, eval: true });
}
