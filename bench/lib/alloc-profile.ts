// Where the API server's allocations during pod creates come from: V8's sampling heap profiler
// over the inspector protocol, counting objects that were collected too (so it is allocation, not
// what stays), attributed to the allocating function and, with --callers, to its caller chain.
// `node --import tsx bench/lib/alloc-profile.ts [etcd|sqlite] [CREATES] [TOP]`

import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const [ds = 'etcd', nStr = '5000', topStr = '30'] = process.argv.slice(2);
const n = Number(nStr);
const { nativeCreates, pickClient } = await import('./native-clients.ts');
const { startEtcd } = await import('../../src/testing/etcd.ts');
const { startCluster, request, tlsCreds } = await import('./cluster.ts');
pickClient('native');
const body = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: '{NAME}', labels: { app: 'bench', tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'registry.local/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } });

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const log = path.join(os.tmpdir(), `mizzen-alloc-profile-${process.pid}.log`);
process.env.BENCH_SERVER_NODE_ARGS = `${process.env.BENCH_SERVER_NODE_ARGS ?? ''} --inspect=127.0.0.1:0`;
process.env.BENCH_SERVER_LOG = log;
const etcd = ds === 'etcd' ? await startEtcd({ name: 'allocprof' }) : undefined;
const c = await startCluster(etcd ? ['--datastore-endpoint', etcd.endpoints.join(',')] : [], 'apiserver');
try {
  await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
  await request(c, 'POST', '/api/v1/namespaces/bench/serviceaccounts', { metadata: { name: 'default' } });
  const creds = tlsCreds(c);
  await nativeCreates(creds, c.dataDir, '/api/v1/namespaces/bench/pods', 32, 1000, 'warm', body);
  const url = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(readFileSync(log, 'utf8'))?.[0];
  if (!url) throw new Error('no inspector URL in the server log');
  const ws = new WebSocket(url);
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<any>((resolve, reject) => {
      const my = ++id;
      const on = (d: Buffer) => {
        const m = JSON.parse(d.toString());
        if (m.id !== my) return;
        ws.off('message', on);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result);
      };
      ws.on('message', on);
      ws.send(JSON.stringify({ id: my, method, params }));
    });
  await call('HeapProfiler.enable');
  await call('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await nativeCreates(creds, c.dataDir, '/api/v1/namespaces/bench/pods', 32, n, 'prof', body);
  const { profile } = await call('HeapProfiler.stopSampling');
  ws.close();
  // ALLOC_PROFILE_OUT=FILE keeps the raw profile (a .heapprofile Chrome's DevTools opens).
  if (process.env.ALLOC_PROFILE_OUT) (await import('node:fs')).writeFileSync(process.env.ALLOC_PROFILE_OUT, JSON.stringify(profile));
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  const name = (x: Node) => `${x.callFrame.functionName || '(anonymous)'} ${path.basename(x.callFrame.url)}:${x.callFrame.lineNumber + 1}`;
  const walk = (x: Node, stack: Set<string>): number => {
    const k = name(x);
    let sum = x.selfSize;
    self.set(k, (self.get(k) ?? 0) + x.selfSize);
    total += x.selfSize;
    const had = stack.has(k);
    stack.add(k);
    for (const ch of x.children) sum += walk(ch, stack);
    if (!had) {
      stack.delete(k);
      incl.set(k, (incl.get(k) ?? 0) + sum);
    }
    return sum;
  };
  walk(profile.head as Node, new Set());
  const top = Number(topStr);
  const kb = (b: number) => +(b / n / 1024).toFixed(2);
  console.log(`sampled allocation: ${kb(total)} KB per create over ${n} creates (${ds})`);
  console.log('by allocating function (KB per create):');
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${String(kb(v)).padStart(7)}  ${k}`);
  console.log('inclusive (KB per create):');
  for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${String(kb(v)).padStart(7)}  ${k}`);
} finally {
  await c.stop();
  await etcd?.stop();
}
