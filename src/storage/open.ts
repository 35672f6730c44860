// Which storage an API server uses: SQLite in its data directory (the default), or etcd when
// endpoints are given (`--datastore-endpoint`), with TLS files for https endpoints.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Store } from './store.ts';
import { claimDataDir } from './dir-lock.ts';

export interface DatastoreOptions {
  /** etcd client URLs; none means SQLite in the data directory. */
  endpoints?: string[];
  /** PEM files: the CA of etcd's serving certificates, and this client's certificate and key. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Prefix of every key in etcd (default: none; keys start with /registry/ as upstream's). */
  prefix?: string;
  /** etcd compaction period (default 5 minutes, as upstream; 0 disables). */
  compactIntervalMs?: number;
}

export function usesEtcd(ds: DatastoreOptions | undefined): boolean {
  return !!ds?.endpoints?.length;
}

/** Split a comma-separated endpoint list (`https://a:2379,https://b:2379`). */
export function parseEndpointList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function readPem(file: string | undefined, what: string): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the etcd ${what} ${file}: ${(e as Error).message}`);
  }
}

export async function openDatastore(dataDir: string, ds: DatastoreOptions | undefined, log: (msg: string) => void = () => {}): Promise<Store> {
  if (!usesEtcd(ds)) {
    const { SqliteStore } = await import('./sqlite/sqlite-store.ts');
    return SqliteStore.open({ file: path.join(dataDir, 'state.db') });
  }
  const { EtcdStore } = await import('./etcd/etcd-store.ts');
  const tls = { ca: readPem(ds!.caFile, 'CA file'), cert: readPem(ds!.certFile, 'certificate file'), key: readPem(ds!.keyFile, 'key file') };
  // The data dir (certificates, private socket) still belongs to one server at a time; SQLite's
  // lock says so for the SQLite store, a pid file does here.
  const release = claimDataDir(dataDir);
  try {
    const store = await EtcdStore.open({
      endpoints: ds!.endpoints!,
      tls: tls.ca || tls.cert || tls.key ? tls : undefined,
      namespace: ds!.prefix,
      compactIntervalMs: ds!.compactIntervalMs,
      log: (m) => log(`etcd: ${m}`),
    });
    const close = store.close.bind(store);
    store.close = () => close().finally(release);
    return store;
  } catch (e) {
    release();
    throw e;
  }
}
