// `mizzen up --join https://first:6443 --token T`: before starting, a new control-plane member
// takes the cluster's CA (so that its own serving and admin certificates, issued by ensurePki as
// on any start, are the cluster's), the aggregator's front-proxy CA and, unless given its own
// --datastore-endpoint, the etcd endpoints and client certificate the first member uses. The token
// is kept in DATA_DIR/token, so agents can join through this member too.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatastoreOptions } from '../storage/open.ts';
import { readFileIfExists } from '../machinery/files.ts';
import { fetchServerBootstrap, JoinError } from './bootstrap-client.ts';
import { writeToken, type JoinToken } from './token.ts';

export interface JoinResult {
  datastore: DatastoreOptions;
  serviceCIDR?: string;
}

export async function prepareJoin(dataDir: string, server: string, token: JoinToken, datastore: DatastoreOptions | undefined, log: (m: string) => void): Promise<JoinResult> {
  const b = await fetchServerBootstrap(server, token);
  const pki = join(dataDir, 'pki');
  await mkdir(pki, { recursive: true, mode: 0o700 });
  const existing = await readFileIfExists(join(pki, 'ca.crt'));
  if (existing !== undefined && existing !== b.ca.cert) {
    throw new JoinError(`${pki}/ca.crt is another cluster's CA: join with an empty --data-dir`);
  }
  if (existing === undefined) {
    await writeFile(join(pki, 'ca.key'), b.ca.key, { mode: 0o600 });
    await writeFile(join(pki, 'ca.crt'), b.ca.cert, { mode: 0o644 });
    log(`joined: took the cluster CA from ${server}`);
  }
  // The cluster's front-proxy CA, so aggregated servers trust this member's proxied requests too.
  if (b.frontProxyCA && (await readFileIfExists(join(pki, 'front-proxy-ca.crt'))) === undefined) {
    await writeFile(join(pki, 'front-proxy-ca.key'), b.frontProxyCA.key, { mode: 0o600 });
    await writeFile(join(pki, 'front-proxy-ca.crt'), b.frontProxyCA.cert, { mode: 0o644 });
  }
  // The ServiceAccount signing key: tokens any member issues are then valid on every member.
  if (b.serviceAccountKey && (await readFileIfExists(join(pki, 'service-account.key'))) === undefined) {
    await writeFile(join(pki, 'service-account.key'), b.serviceAccountKey, { mode: 0o600 });
  }
  await writeToken(dataDir, token);

  let ds = datastore;
  if (!ds?.endpoints?.length) {
    if (!b.datastore) throw new JoinError(`${server} keeps its state in SQLite, which one API server owns: a cluster that other members join runs on etcd (start it with --datastore-endpoint)`);
    const dir = join(dataDir, 'etcd');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    ds = { endpoints: b.datastore.endpoints };
    if (b.datastore.ca) await writeFile((ds.caFile = join(dir, 'ca.crt')), b.datastore.ca, { mode: 0o644 });
    if (b.datastore.cert) await writeFile((ds.certFile = join(dir, 'client.crt')), b.datastore.cert, { mode: 0o644 });
    if (b.datastore.key) await writeFile((ds.keyFile = join(dir, 'client.key')), b.datastore.key, { mode: 0o600 });
    log(`joined: using the cluster's etcd at ${ds.endpoints!.join(',')}`);
  }
  return { datastore: ds, serviceCIDR: b.serviceCIDR };
}
