// Side-by-side A/B of pod creates between checkouts (e.g. this one and a temporary worktree of
// main): one `mizzen apiserver` per checkout, each on its own etcd member (or SQLite), all started
// before anything is timed, then creates in alternating segments (a warm-up round not counted,
// the order rotated each round) so that load from other work on the machine hits every checkout
// alike. Prints CPU per create by process (the API server's main thread and other threads, etcd,
// the native client) per checkout: the figures `bench apiserver` prints, but comparable.
// `node --import tsx bench/lib/creates-ab.ts /tmp/base,/work/wt/x etcd|sqlite [ROUNDS] [SEGMENT]`
// (each path a checkout with node_modules; segments of SEGMENT creates, 32 clients).
const [repoList, ds, roundsStr, segStr] = process.argv.slice(2);
const repos = repoList.split(',');
const repoA = repos[0];
if (!repoList || (ds !== 'etcd' && ds !== 'sqlite')) throw new Error('usage: creates-ab.ts REPO_A,REPO_B[,...] etcd|sqlite [ROUNDS] [SEGMENT]');
const rounds = Number(roundsStr ?? 9), seg = Number(segStr ?? 1500);
const { nativeCreates, pickClient } = await import(`${repoA}/bench/lib/native-clients.ts`);
const { startEtcd } = await import(`${repoA}/src/testing/etcd.ts`);
const { processCpuMs, reapedChildrenCpuMs, threadCpuMs } = await import(`${repoA}/bench/lib/proc-cpu.ts`);
const os = await import('node:os');
pickClient('native');
const body = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: '{NAME}', labels: { app: 'bench', tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'registry.local/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } });
async function start(repo: string) {
  const { startCluster, request, tlsCreds } = await import(`${repo}/bench/lib/cluster.ts`);
  const etcd = ds === 'etcd' ? await startEtcd({ name: 'creates-ab' }) : undefined;
  const c = await startCluster(etcd ? ['--datastore-endpoint', etcd.endpoints.join(',')] : [], 'apiserver');
  await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
  await request(c, 'POST', `/api/v1/namespaces/bench/serviceaccounts`, { metadata: { name: 'default' } });
  const creds = tlsCreds(c);
  await nativeCreates(creds, c.dataDir, '/api/v1/namespaces/bench/pods', 32, 500, 'warm', body);
  return { repo, etcd, c, creds, n: 0, cpu: [] as { main: number; other: number; etcd: number; client: number; sum: number; rate: number; load: number }[] };
}
const all: Awaited<ReturnType<typeof start>>[] = [];
for (const r of repos) all.push(await start(r));
try {
  for (let r = 0; r < rounds; r++) {
    // A warm-up round first (not counted), then rotations of the order.
    const order = all.map((_, i) => all[(i + r) % all.length]);
    for (const s of r % 2 ? order.reverse() : order) {
      const etcdPid = s.etcd?.members[0].proc?.pid;
      const sample = () => ({ main: threadCpuMs(s.c.proc.pid).main ?? 0, all: processCpuMs(s.c.proc.pid), etcd: etcdPid ? processCpuMs(etcdPid) : 0, client: reapedChildrenCpuMs() });
      const a = sample();
      const rate = await nativeCreates(s.creds, s.c.dataDir, '/api/v1/namespaces/bench/pods', 32, seg, `r${r}`, body);
      const b = sample();
      const per = (x: number) => x / seg;
      const main = per(b.main - a.main), all = per(b.all - a.all), e = per(b.etcd - a.etcd), cl = per(b.client - a.client);
      if (r > 0) s.cpu.push({ main, other: all - main, etcd: e, client: cl, sum: all + e + cl, rate, load: os.loadavg()[0] });
    }
  }
  const mean = (xs: number[]) => +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3);
  for (const s of all) {
    const f = (k: 'main' | 'other' | 'etcd' | 'client' | 'sum') => mean(s.cpu.map((x) => x[k]));
    console.log(JSON.stringify({ repo: s.repo, ds, segments: s.cpu.length, seg, main: f('main'), other: f('other'), etcd: f('etcd'), client: f('client'), sum: f('sum'), twoCores: Math.round(2000 / f('sum')), sums: s.cpu.map((x) => +x.sum.toFixed(3)), mains: s.cpu.map((x) => +x.main.toFixed(3)), rates: s.cpu.map((x) => Math.round(x.rate)), loads: s.cpu.map((x) => +x.load.toFixed(1)) }));
  }
} finally {
  for (const s of all) { await s.c.stop(); await s.etcd?.stop(); }
}
