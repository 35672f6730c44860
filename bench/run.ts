// `npm run bench -- <name> [flags]`: runs one benchmark; each prints one JSON line.

const benches: Record<string, () => Promise<{ main(argv: string[]): Promise<void> }>> = {
  admission: () => import('./admission.ts'),
  apiserver: () => import('./apiserver.ts'),
  console: () => import('./console.ts'),
  'console-requests': () => import('./console-requests.ts'),
  density: () => import('./density.ts'),
  dns: () => import('./dns.ts'),
  'list-index': () => import('./list-index.ts'),
  'list-snapshot': () => import('./list-snapshot.ts'),
  loadbalancer: () => import('./loadbalancer.ts'),
  proxy: () => import('./proxy.ts'),
  metrics: () => import('./metrics.ts'),
  scale: () => import('./scale.ts'),
  'port-transport': () => import('./port-transport.ts'),
  'port-watch': () => import('./port-watch.ts'),
  'request-costs': () => import('./request-costs.ts'),
  scheduler: () => import('./scheduler.ts'),
  'scheduling-cycle': () => import('./scheduling-cycle.ts'),
  store: () => import('./store.ts'),
  'store-cpu': () => import('./store-cpu.ts'),
  'sqlite-commit-cost': () => import('./sqlite-commit-cost.ts'),
  'tls-fanout': () => import('./tls-fanout.ts'),
  'watch-floor': () => import('./watch-floor.ts'),
  'wake-jitter': () => import('./wake-jitter.ts'),
  'pod-startup': () => import('./pod-startup.ts'),
  'protobuf-codecs': () => import('./protobuf-codecs.ts'),
  'sandbox-floor': () => import('./sandbox-floor.ts'),
  'kubelet-footprint': () => import('./kubelet-footprint.ts'),
  'list-wall': () => import('./list-wall.ts'),
  'list-floor': () => import('./list-floor.ts'),
  'list-ab': () => import('./list-ab.ts'),
  'list-pages': () => import('./list-pages.ts'),
  'page-build': () => import('./page-build.ts'),
};

const [name, ...rest] = process.argv.slice(2);
if (!name || !benches[name]) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [flags]`);
  process.exit(2);
}
await (await benches[name]()).main(rest);
