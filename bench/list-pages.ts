// Paged LIST walks on `mizzen apiserver` holding N pods (the scale benchmark's pod, one namespace):
// each walk's page p50/p90/max at the client and the server's CPU per page (all its threads, from
// /proc), in JSON and Table form. Quicker than `scale --list-only` (no kubectl, no churn) for
// working on the page path; `--cpu-prof DIR` writes every thread's CPU profile of the walks only.
// `--writers N`: N clients renew a Lease each, back to back, all through the walks (as simulated
// nodes' heartbeats do, at the rate the server takes), so pages meet a queue of writes; the
// figures then include the writes per second.
// `npm run bench -- list-pages [--pods 30000] [--walks 3] [--page-size 500] [--table] [--cpu-prof DIR] [--writers 0]`

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request, startCluster, tlsCreds } from './lib/cluster.ts';
import { FastConnection } from './lib/fast-client.ts';
import { nativeCreates, buildNativeClients } from './lib/native-clients.ts';
import { processCpuMs } from './lib/proc-cpu.ts';
import { benchPod } from './scheduler.ts';
import { cpuProfileWindowPreload, PROFILE_SIGNAL } from './lib/cpu-profile-window.ts';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
const round = (x: number) => Math.round(x * 10) / 10;
const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pods: { type: 'string', default: '30000' }, walks: { type: 'string', default: '3' }, 'page-size': { type: 'string', default: '500' }, table: { type: 'boolean', default: false }, 'cpu-prof': { type: 'string' }, writers: { type: 'string', default: '0' } } });
  const pods = Number(values.pods);
  const limit = Number(values['page-size']);
  const problem = buildNativeClients();
  if (problem) throw new Error(problem);
  const profDir = values['cpu-prof'];
  const env: Record<string, string> = profDir ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${cpuProfileWindowPreload(path.resolve(profDir))}` } : {};
  const c = await startCluster([], 'apiserver', env);
  try {
    const ns = 'bench-list';
    await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await request(c, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } });
    const template = JSON.stringify(benchPod('basic', 0, 1)).replace('"pod-0"', '"{NAME}"');
    await nativeCreates(tlsCreds(c), c.dataDir, `/api/v1/namespaces/${ns}/pods`, 32, pods, 'pod', template);
    const walk = async (accept: string) => {
      const pages: number[] = [];
      let cont = '';
      const cpu0 = processCpuMs(c.proc.pid!);
      do {
        const t = performance.now();
        const r = await request(c, 'GET', `/api/v1/pods?limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, undefined, { Accept: accept });
        pages.push(performance.now() - t);
        if (r.status !== 200) throw new Error(`page: ${r.status} ${r.body.slice(0, 200)}`);
        cont = JSON.parse(r.body).metadata?.continue ?? '';
      } while (cont);
      const cpu = processCpuMs(c.proc.pid!) - cpu0;
      const s = [...pages].sort((a, b) => a - b);
      return { pages: pages.length, first: round(pages[0]!), p50: round(pct(s, 50)), p90: round(pct(s, 90)), max: round(s[s.length - 1]!), serverCpuMsPerPage: round(cpu / pages.length) };
    };
    // Heartbeat-like writers: each renews its own Lease with the object the last write returned.
    const writers = Number(values.writers);
    let stop = false;
    let writes = 0;
    const leases = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
    // The writers' sockets do not hold the process up (fast-client unrefs them): this does.
    const alive = setInterval(() => {}, 1000);
    const loops = await Promise.all(
      Array.from({ length: writers }, async (_, i) => {
        const conn = await FastConnection.open(tlsCreds(c));
        const r = await conn.request('POST', leases, JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `w-${i}` }, spec: { holderIdentity: `w-${i}`, leaseDurationSeconds: 40 } }));
        if (r.status !== 201) throw new Error(`lease: ${r.status} ${r.body.toString().slice(0, 200)}`);
        let lease = JSON.parse(r.body.toString());
        // In an object: an async function returning the loop's promise would wait for it.
        return { done: (async () => {
          while (!stop) {
            lease.spec.renewTime = new Date().toISOString().replace('Z', '000Z');
            const u = await conn.request('PUT', `${leases}/w-${i}`, JSON.stringify(lease));
            if (u.status !== 200) throw new Error(`lease update: ${u.status} ${u.body.toString().slice(0, 200)}`);
            lease = JSON.parse(u.body.toString());
            writes++;
          }
          conn.close();
        })() };
      }),
    );
    const w0 = performance.now();
    if (profDir) c.proc.kill(PROFILE_SIGNAL);
    const json = [];
    const table = [];
    for (let w = 0; w < Number(values.walks); w++) {
      json.push(await walk('application/json'));
      if (values.table) table.push(await walk(TABLE_ACCEPT));
    }
    if (profDir) {
      c.proc.kill(PROFILE_SIGNAL);
      await new Promise((r) => setTimeout(r, 2000));
    }
    stop = true;
    const writesPerSec = Math.round(writes / ((performance.now() - w0) / 1000));
    await Promise.all(loops.map((l) => l.done));
    clearInterval(alive);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(JSON.stringify({ bench: 'list-pages', pods, limit, json, ...(values.table ? { table } : {}), ...(writers ? { writers, writesPerSec } : {}), loadavg: load }));
  } finally {
    await c.stop();
  }
}
