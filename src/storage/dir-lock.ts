// A data directory used with etcd is still one server's (its certificates, its private socket):
// DIR/server.pid names the process that has it. A file naming a dead process is taken over.

import fs from 'node:fs';
import path from 'node:path';
import { isProcessAlive, StoreLockedError } from './sqlite/lock.ts';

export function claimDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'server.pid');
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
      const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10) || 0;
      if (pid !== process.pid && isProcessAlive(pid)) throw new StoreLockedError(file, pid);
      fs.rmSync(file, { force: true });
    }
  }
  return () => {
    try {
      if (Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10) === process.pid) fs.rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}
