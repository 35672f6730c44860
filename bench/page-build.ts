// What writing a LIST page costs the API server's main thread, in-process: N pods held as the
// watch cache holds them (packed stored text in a key index, bench/scheduler.ts's pod as bound and
// stored, ~2.1 KB each), every page of 500 walked from its continue key and written by
// `sendJSONList` into a sink that takes what a socket takes (strings encoded to UTF-8). Per
// variant: CPU per page, and the young-generation collections (scavenges) per page and their
// mean pause, from a GC observer: the garbage a page leaves is what makes a page meet a scavenge.
// `--base DIR` runs another checkout's list writer and cached objects (e.g. a worktree of an
// older commit) in the same process, alternated with this one's, on the same pods.
// `npm run bench -- page-build [--pods 150000] [--limit 500] [--walks 3] [--rounds 2] [--base DIR]`
// Run it with the server's young generation: NODE_OPTIONS="--max-semi-space-size=16 --v8-pool-size=1".

import path from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { PerformanceObserver } from 'node:perf_hooks';
import { calibration, calibrationMs } from './lib/calibrate.ts';

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** A bound pod's stored text (apiVersion, kind, metadata first, no resourceVersion), as the API server stores the scale bench's pods. */
function storedPod(i: number): string {
  const t = `2026-12-07T23:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}Z`;
  const vol = `kube-api-access-${((i * 7919) % 99991).toString(36)}x`;
  return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod-${i}","namespace":"sched-bench","uid":"${crypto.randomUUID()}","creationTimestamp":"${t}","labels":{"app":"sched-bench"},"managedFields":[{"manager":"bench","operation":"Update","apiVersion":"v1","time":"${t}","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"pause\\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{".":{},"f:requests":{".":{},"f:cpu":{},"f:memory":{}}},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}]},"spec":{"volumes":[{"name":"${vol}","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}}],"defaultMode":420}}],"containers":[{"name":"pause","image":"registry.k8s.io/pause:3.10","resources":{"requests":{"cpu":"100m","memory":"500Mi"}},"volumeMounts":[{"name":"${vol}","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default","nodeName":"node-${i % 5000}","securityContext":{},"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"${t}"}],"qosClass":"Burstable"}}`;
}

interface Side {
  name: string;
  send: (res: unknown, code: number, head: string, items: unknown[], tail: string) => void;
  pods: { key: string; obj: unknown }[];
}

async function side(name: string, root: string, n: number): Promise<Side> {
  const { PackedKeyValue } = await import(path.join(root, 'src/storage/packed-text.ts'));
  const { CachedObject } = await import(path.join(root, 'src/apiserver/registry/cached-object.ts'));
  const { sendJSONList } = await import(path.join(root, 'src/apiserver/list-body.ts'));
  const pods: { key: string; obj: unknown }[] = [];
  for (let i = 0; i < n; i++) {
    const key = `/registry/pods/sched-bench/pod-${String(i).padStart(6, '0')}`;
    const kv = new PackedKeyValue(key, storedPod(i), i + 10, i + 10);
    kv.pack();
    pods.push({ key, obj: CachedObject.fromStored(kv.value, kv.modRevision, undefined, kv) });
  }
  return { name, send: sendJSONList, pods };
}

/** A sink that takes what a socket takes: strings are encoded to UTF-8 on write. */
function sink(): Writable & { bytes: number } {
  const s = new Writable({
    decodeStrings: true,
    write(c: Buffer, _e, cb) {
      s.bytes += c.length;
      cb();
    },
  }) as Writable & { bytes: number };
  s.bytes = 0;
  Object.assign(s, { req: { headers: {}, url: '/api/v1/pods?limit=500' }, writeHead: () => s });
  return s;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pods: { type: 'string', default: '150000' }, walks: { type: 'string', default: '3' }, rounds: { type: 'string', default: '2' }, base: { type: 'string' }, limit: { type: 'string', default: '500' } } });
  const limit = Number(values.limit);
  const n = Number(values.pods);
  const before = calibrationMs();
  const here = path.resolve(import.meta.dirname, '..');
  const sides = [await side('this', here, n)];
  if (values.base) sides.push(await side('base', path.resolve(values.base), n));
  let scavenges = 0;
  let scavengeMs = 0;
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === 1) (scavenges++, (scavengeMs += e.duration));
  }).observe({ entryTypes: ['gc'] });
  const results: Record<string, unknown>[] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    // Alternated: A B, then B A.
    for (const s of r % 2 ? [...sides].reverse() : sides) {
      await new Promise((res) => setTimeout(res, 200));
      const s0 = scavenges;
      const ms0 = scavengeMs;
      let pages = 0;
      let bytes = 0;
      const cpu0 = process.cpuUsage();
      for (let w = 0; w < Number(values.walks); w++) {
        for (let at = 0; at < s.pods.length; at += limit) {
          const out = sink();
          s.send(out, 200, '{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[', s.pods.slice(at, at + limit).map((p) => p.obj), ']}');
          bytes += out.bytes;
          pages++;
          // A turn of the loop per page, as the server's pages have: GC records come in.
          await new Promise((res) => setImmediate(res));
        }
      }
      const cpu = process.cpuUsage(cpu0);
      await new Promise((res) => setTimeout(res, 50));
      results.push({ side: s.name, pages, mbPerPage: round(bytes / pages / 1048576, 3), cpuMsPerPage: round((cpu.user + cpu.system) / 1000 / pages), scavengesPerPage: round((scavenges - s0) / pages, 3), scavengeMeanMs: scavenges > s0 ? round((scavengeMs - ms0) / (scavenges - s0)) : 0 });
    }
  }
  console.log(JSON.stringify({ bench: 'page-build', pods: n, limit, results, calibration: calibration(before), loadAverage: (await import('node:os')).loadavg().map((x) => round(x, 1)) }));
}
