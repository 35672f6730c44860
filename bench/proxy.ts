// `npm run bench -- proxy [--services 1000] [--endpoints 10] [--changes 20]`: the service proxy
// driven by a real API server holding N Services × M endpoints (one EndpointSlice each), its
// iptables inside a network namespace of its own (never the machine's tables). Prints:
// - full sync: startServiceProxy() until the first sync is in the kernel (lists, render, read-back,
//   one iptables-restore of everything, host routes), and that sync's render/write split;
// - one endpoint change: from the EndpointSlice update sent to the API server until the rules are
//   written (watch event + render + restore of the changed chain), p50/p95/max over --changes;
// - rule and chain counts read back from the kernel;
// - for comparison, upstream kube-proxy's layout (one KUBE-SEP chain per endpoint, same rules
//   otherwise) loaded into a second namespace with the same iptables-restore.
// Targets (issue 11): full sync ≤ 2 s, one change ≤ 100 ms.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startTestApiServer } from '../src/testing/api-server.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { ApiClient } from '../src/client/api-client.ts';
import { startServiceProxy, type SyncResult } from '../src/proxy/proxy.ts';
import { makeExec } from '../src/proxy/iptables/exec.ts';
import { makeShellExec } from '../src/proxy/iptables/shell-exec.ts';
import { calibration, calibrationMs } from './lib/calibrate.ts';
import { percentile } from './lib/cluster.ts';

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

const epIP = (s: number, e: number) => `10.42.${Math.floor(s / 25)}.${(s % 25) * 10 + e + 1}`;

/** Upstream kube-proxy's nat layout for the same Services (KUBE-SVC + one KUBE-SEP per endpoint). */
function upstreamLayout(services: { ip: string; port: number }[], endpoints: number): string {
  const decl = ['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
  const rules: string[] = ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'];
  services.forEach((svc, s) => {
    const chain = `KUBE-SVC-${s.toString(16).padStart(16, '0').toUpperCase()}`;
    decl.push(`:${chain} - [0:0]`);
    rules.push(`-A KUBE-SERVICES -d ${svc.ip}/32 -p tcp -m comment --comment "bench/s${s}:http cluster IP" -m tcp --dport ${svc.port} -j ${chain}`);
    rules.push(`-A ${chain} ! -s 10.42.0.0/16 -d ${svc.ip}/32 -p tcp -m tcp --dport ${svc.port} -j KUBE-MARK-MASQ`);
    for (let e = 0; e < endpoints; e++) {
      const sep = `KUBE-SEP-${s.toString(16).padStart(12, '0').toUpperCase()}${e.toString(16).padStart(4, '0')}`;
      decl.push(`:${sep} - [0:0]`);
      const ip = epIP(s, e);
      const stat = e < endpoints - 1 ? ` -m statistic --mode random --probability ${(1 / (endpoints - e)).toFixed(10)}` : '';
      rules.push(`-A ${chain} -m comment --comment "bench/s${s}:http -> ${ip}:8080"${stat} -j ${sep}`);
      rules.push(`-A ${sep} -s ${ip}/32 -j KUBE-MARK-MASQ`);
      rules.push(`-A ${sep} -p tcp -m tcp -j DNAT --to-destination ${ip}:8080`);
    }
  });
  return [...decl, ...rules, 'COMMIT', ''].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { services: { type: 'string', default: '1000' }, endpoints: { type: 'string', default: '10' }, changes: { type: 'string', default: '20' } } });
  const nServices = Number(values.services);
  const nEndpoints = Number(values.endpoints);
  const nChanges = Number(values.changes);
  if (process.getuid?.() !== 0) throw new Error('bench proxy needs root (network namespaces)');
  const before = calibrationMs();
  const id = `pxyb${randomBytes(3).toString('hex')}`;
  const netns = `${id}-node`;
  const upstreamNs = `${id}-kp`;
  const api = await startTestApiServer({ name: 'bench-proxy' });
  const client = new ApiClient({ ...loadKubeconfig(api.kubeconfig), maxSockets: 16 });
  try {
    for (const ns of [netns, upstreamNs]) execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', netns, 'link', 'add', 'pxybr0', 'type', 'bridge']);
    execFileSync('ip', ['-n', netns, 'link', 'set', 'pxybr0', 'up']);
    execFileSync('ip', ['-n', netns, 'route', 'add', 'unreachable', '10.43.0.0/16']);

    await client.create({ version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const tCreate = performance.now();
    const idx = Array.from({ length: nServices }, (_, i) => i);
    const services: { ip: string; port: number }[] = new Array(nServices);
    await pool(idx, 16, async (s) => {
      const svc = await client.create({ version: 'v1', resource: 'services', namespace: 'bench' }, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `s${s}` },
        spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      });
      services[s] = { ip: svc.spec.clusterIP, port: 80 };
      await client.create({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'bench' }, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `s${s}-1`, labels: { 'kubernetes.io/service-name': `s${s}` } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: Array.from({ length: nEndpoints }, (_, e) => ({ addresses: [epIP(s, e)], conditions: { ready: true }, nodeName: e % 2 ? 'bench-node' : 'other' })),
      });
    });
    const createMs = performance.now() - tCreate;

    const syncs: SyncResult[] = [];
    let onWritten: ((r: SyncResult) => void) | undefined;
    const t0 = performance.now();
    const proxy = await startServiceProxy({
      client,
      nodeName: 'bench-node',
      clusterCIDR: '10.42.0.0/16',
      serviceCIDR: '10.43.0.0/16',
      podBridge: 'pxybr0',
      netns,
      log: (m) => console.error(m),
      onSync: (r) => {
        syncs.push(r);
        if (r.stats && r.stats.written > 0) onWritten?.(r);
      },
    });
    const fullMs = performance.now() - t0;
    const first = syncs.find((r) => r.ok && r.stats && r.stats.written > 0);

    // One endpoint change at a time: API write → watch → render → restore of one chain.
    const changeMs: number[] = [];
    const changeSyncMs: number[] = [];
    const changeRenderMs: number[] = [];
    const sliceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'bench' };
    for (let c = 0; c < nChanges; c++) {
      const s = (c * 37) % nServices;
      const cur = await client.get({ ...sliceRef, name: `s${s}-1` });
      const eps = [...cur.endpoints];
      eps[0] = { ...eps[0], addresses: [`10.42.250.${(c % 250) + 1}`] };
      const written = new Promise<SyncResult>((resolve) => (onWritten = resolve));
      const t = performance.now();
      await client.update({ ...sliceRef, name: `s${s}-1` }, { ...cur, endpoints: eps });
      const r = await written;
      changeMs.push(performance.now() - t);
      changeSyncMs.push(r.buildMs + r.writeMs);
      changeRenderMs.push(r.buildMs);
      await new Promise((res) => setTimeout(res, 60)); // past the min sync period: one change per sync
    }
    onWritten = undefined;

    const save = execFileSync('ip', ['netns', 'exec', netns, 'iptables-save'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    const ourRules = save.split('\n').filter((l) => /^-A MZ-/.test(l)).length;
    const ourChains = save.split('\n').filter((l) => /^:MZ-/.test(l)).length;
    const routes = execFileSync('ip', ['-n', netns, 'route', 'show', 'proto', '201'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    await proxy.close();

    // The restore of one changed chain alone (same table, same shell runner), without the API
    // server and informers of this process competing for the event loop.
    const sh = makeShellExec(netns);
    const chain = /^:(MZ-SVC-[A-Z0-9]+)/m.exec(save)![1]!;
    const chainRules = save.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
    const isolated: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await sh(['iptables-restore', '--noflush', '-w', '5'], ['*nat', `:${chain} - [0:0]`, ...chainRules, 'COMMIT', ''].join('\n'));
      isolated.push(performance.now() - t);
    }
    sh.close();
    isolated.sort((a, b) => a - b);

    // Upstream's layout, same iptables-restore, fresh namespace.
    const text = upstreamLayout(services, nEndpoints);
    const exec = makeExec(upstreamNs);
    const tu = performance.now();
    await exec(['iptables-restore', '--noflush', '-w', '5'], text);
    const upstreamMs = performance.now() - tu;
    const upstreamChains = text.split('\n').filter((l) => l.startsWith(':')).length;
    const upstreamRules = text.split('\n').filter((l) => l.startsWith('-A')).length;

    const sorted = [...changeMs].sort((a, b) => a - b);
    const sortedSync = [...changeSyncMs].sort((a, b) => a - b);
    const r1 = (n: number) => Math.round(n * 10) / 10;
    console.log(
      JSON.stringify({
        bench: 'proxy',
        services: nServices,
        endpointsPerService: nEndpoints,
        iptables: execFileSync('iptables-restore', ['--version'], { encoding: 'utf8' }).trim(),
        fullSync: {
          startToRulesMs: r1(fullMs),
          renderMs: r1(first?.buildMs ?? NaN),
          readBackAndRestoreMs: r1(first?.writeMs ?? NaN),
          target: '≤ 2000 ms',
        },
        oneEndpointChange: {
          apiWriteToRulesMs: { p50: r1(percentile(sorted, 50)), p95: r1(percentile(sorted, 95)), max: r1(sorted[sorted.length - 1]!) },
          renderAndRestoreMs: { p50: r1(percentile(sortedSync, 50)), max: r1(sortedSync[sortedSync.length - 1]!) },
          renderMs: { p50: r1(percentile([...changeRenderMs].sort((a, b) => a - b), 50)) },
          restoreOneChainAloneMs: { p50: r1(percentile(isolated, 50)), max: r1(isolated[isolated.length - 1]!) },
          changes: nChanges,
          target: '≤ 100 ms',
        },
        kernel: { rules: ourRules, chains: ourChains, hostRoutes: routes },
        upstreamLayoutSameIptables: { restoreMs: r1(upstreamMs), chains: upstreamChains, natRules: upstreamRules, about: 'one KUBE-SEP chain per endpoint, loaded with the same iptables-restore into an empty namespace' },
        setup: { createObjectsMs: Math.round(createMs) },
        loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
        calibration: calibration(before),
      }),
    );
  } finally {
    client.close();
    await api.close();
    for (const ns of [netns, upstreamNs]) spawnSync('ip', ['netns', 'del', ns]);
  }
}
