// /healthz, /livez and /readyz with upstream's shape: "ok" when every check passes, else status
// 500 and one line per check ("[+]ping ok", "[-]etcd failed: ..."); `?verbose` lists them always;
// /readyz/etcd runs one check. The storage check is the store's own (etcd: a quorum read with a
// short timeout, and its watch connected); SQLite has none and is always fine.

import type { ServerResponse } from 'node:http';
import type { Store } from '../storage/store.ts';

const HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };

export function isHealthPath(p: string): boolean {
  return p === '/healthz' || p === '/livez' || p === '/readyz' || p.startsWith('/healthz/') || p.startsWith('/livez/') || p.startsWith('/readyz/');
}

export function healthChecker(store: Store): (res: ServerResponse, p: string, q: URLSearchParams) => Promise<void> {
  // Probes come often (load balancers, kubelets): share one storage check per second.
  let last: { at: number; result: Promise<string | undefined> } | undefined;
  const storage = (): Promise<string | undefined> => {
    if (!store.checkHealth) return Promise.resolve(undefined);
    const now = Date.now();
    if (!last || now - last.at > 1000) last = { at: now, result: store.checkHealth().catch((e: Error) => e.message) };
    return last.result;
  };

  return async (res, p, q) => {
    const [endpoint, only] = p.slice(1).split('/');
    const checks: [string, string | undefined][] = [
      ['ping', undefined],
      ['etcd', await storage()],
    ];
    if (only) {
      const c = checks.find(([name]) => name === only);
      if (!c) {
        res.writeHead(404, HEADERS);
        res.end(`${endpoint} check "${only}" not found\n`);
        return;
      }
      res.writeHead(c[1] ? 500 : 200, HEADERS);
      res.end(c[1] ? `internal server error: ${c[1]}\n` : 'ok');
      return;
    }
    const failed = checks.some(([, why]) => why !== undefined);
    if (!failed && !q.has('verbose')) {
      res.writeHead(200, HEADERS);
      res.end('ok');
      return;
    }
    const lines = checks.map(([name, why]) => (why === undefined ? `[+]${name} ok` : `[-]${name} failed: ${why}`));
    res.writeHead(failed ? 500 : 200, HEADERS);
    res.end(`${lines.join('\n')}\n${endpoint} check ${failed ? 'failed' : 'passed'}\n`);
  };
}
