// On-disk layout of the SQLite backend: a kine-style append-only log whose autoincrement id is
// the global revision, plus a tiny key/value table for bookkeeping (the compacted revision).

import type Database from 'better-sqlite3';

export const LOG_TABLE = 'kine';

export function ensureSchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS kine (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL,
      created INTEGER NOT NULL DEFAULT 0,
      deleted INTEGER NOT NULL DEFAULT 0,
      create_revision INTEGER NOT NULL,
      prev_revision INTEGER NOT NULL DEFAULT 0,
      value TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS kine_name_id ON kine (name, id);
    CREATE TABLE IF NOT EXISTS kine_meta (
      name TEXT PRIMARY KEY,
      value INTEGER NOT NULL
    );
  `);
}

/** One row of the log as the queries below return it. */
export interface LogRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
  /** Value of the row named by prev_revision (replay queries only). */
  prev_value?: string | null;
}
