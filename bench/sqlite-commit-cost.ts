// What a transaction costs the SQLite writer thread, by how many rows it holds:
// `npm run bench -- sqlite-commit-cost [--rows 2000] [--value-bytes 2200] [--sizes 1,2,4,8,16,32]`.
// The writer's own statements and settings (sqlite-writer.mjs: WAL, synchronous=FULL, the kine
// table and its index, a checkpoint every ~1,000 WAL pages), run here in one thread, so the CPU
// (user + system, from process.cpuUsage) is that of the commits alone. Each size runs twice,
// the sizes interleaved, and the lower figure is kept. A COMMIT's fsync and WAL writes cost about
// the same whatever the transaction holds, so the store's group commits (sqlite-store.ts) pay it
// once per group: this prints what a row costs at each group size.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { calibration, calibrationMs } from './lib/calibrate.ts';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { rows: { type: 'string', default: '2000' }, 'value-bytes': { type: 'string', default: '2200' }, sizes: { type: 'string', default: '1,2,4,8,16,32' } },
  });
  const total = Number(values.rows);
  const sizes = values.sizes!.split(',').map(Number);
  const value = 'x'.repeat(Number(values['value-bytes']));
  const calibrationBefore = calibrationMs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mizzen-commit-cost-'));
  const db = new Database(path.join(dir, 'state.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec(`CREATE TABLE kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, created INTEGER NOT NULL DEFAULT 0,
      deleted INTEGER NOT NULL DEFAULT 0, create_revision INTEGER NOT NULL, prev_revision INTEGER NOT NULL DEFAULT 0, value TEXT NOT NULL);
      CREATE INDEX kine_name_id ON kine (name, id);`);
    const insert = db.prepare('INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)');
    let id = 1;
    let walPages = 0;
    const run = (n: number) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let done = 0; done < total; done += n) {
        db.exec('BEGIN');
        for (let k = 0; k < n; k++, id++) insert.run(id, `/registry/pods/bench/pod-${id}`, 1, 0, id, 0, value);
        db.exec('COMMIT');
        walPages += 3 + Math.ceil((n * value.length) / 4096);
        if (walPages >= 1000) {
          db.pragma('wal_checkpoint(PASSIVE)');
          walPages = 0;
        }
      }
      const c = process.cpuUsage(c0);
      return { cpuUsPerRow: (c.user + c.system) / total, systemUsPerRow: c.system / total, wallUsPerRow: ((performance.now() - t0) * 1000) / total };
    };
    const best = new Map<number, ReturnType<typeof run>>();
    for (let round = 0; round < 2; round++) {
      for (const n of sizes) {
        const r = run(n);
        const b = best.get(n);
        if (!b || r.cpuUsPerRow < b.cpuUsPerRow) best.set(n, r);
      }
    }
    const r1 = (x: number) => Math.round(x);
    console.log(
      JSON.stringify({
        bench: 'sqlite-commit-cost',
        rows: total,
        valueBytes: value.length,
        byRowsPerCommit: Object.fromEntries([...best].map(([n, r]) => [n, { cpuUsPerRow: r1(r.cpuUsPerRow), systemUsPerRow: r1(r.systemUsPerRow), wallUsPerRow: r1(r.wallUsPerRow) }])),
        calibration: calibration(calibrationBefore),
        loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10),
        measuredAs: "the SQLite writer's statements and settings in one thread; CPU = user + system of this process",
      }),
    );
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
