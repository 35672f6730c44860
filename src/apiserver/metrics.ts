// The API server's request metrics (upstream's apiserver_request_total,
// apiserver_request_duration_seconds and apiserver_longrunning_requests) through prom-client; the
// label objects are cached per distinct request shape, so a request costs a string key, a Map
// lookup and two updates once its response is finished.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo } from './request-info.ts';
import { apiserverLongrunningRequests, apiserverRequestDuration, apiserverRequestTotal, exposition } from '../metrics/prometheus.ts';
import type { ThreadPortClient } from '../metrics/thread-port.ts';

/** Upstream's reported verbs: the HTTP method, except LIST, WATCH and APPLY. */
const VERBS: Record<string, string> = { get: 'GET', list: 'LIST', watch: 'WATCH', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE' };

type Labels = Record<string, string>;
const labelCache = new Map<string, Labels>();

function labelsFor(info: RequestInfo, verb: string, dryRun: string): Labels {
  const scope = info.name !== undefined ? 'resource' : info.namespace !== undefined ? 'namespace' : 'cluster';
  const key = `${verb}|${dryRun}|${info.group}|${info.version}|${info.resource ?? ''}|${info.subresource ?? ''}|${scope}`;
  let l = labelCache.get(key);
  if (!l) {
    l = { verb, dry_run: dryRun, group: info.group, version: info.version, resource: info.resource ?? '', subresource: info.subresource ?? '', scope, component: 'apiserver' };
    // Bounded by the served resources times verbs; a flood of unknown paths is cut off.
    if (labelCache.size < 10_000) labelCache.set(key, l);
  }
  return l;
}

/** Count and time this request once its response is finished. */
export function countRequest(res: ServerResponse, info: RequestInfo, req?: IncomingMessage): void {
  const started = performance.now();
  let verb = VERBS[info.verb] ?? info.verb.toUpperCase();
  if (verb === 'PATCH' && req?.headers['content-type']?.startsWith('application/apply-patch')) verb = 'APPLY';
  const dryRun = req?.url?.includes('dryRun=') ? 'All' : '';
  const labels = labelsFor(info, verb, dryRun);
  const longRunning = verb === 'WATCH';
  if (longRunning) apiserverLongrunningRequests.inc(labelsWithoutDryRun(labels));
  res.once('close', () => {
    if (longRunning) apiserverLongrunningRequests.dec(labelsWithoutDryRun(labels));
    apiserverRequestTotal.inc(withCode(labels, res.statusCode));
    apiserverRequestDuration.observe(labels, (performance.now() - started) / 1000);
  });
}

const byCode = new WeakMap<Labels, Map<number, Labels>>();
function withCode(l: Labels, code: number): Labels {
  let m = byCode.get(l);
  if (!m) byCode.set(l, (m = new Map()));
  let o = m.get(code);
  if (!o) m.set(code, (o = { ...l, code: String(code) }));
  return o;
}

const noDryRun = new WeakMap<Labels, Labels>();
function labelsWithoutDryRun(l: Labels): Labels {
  let o = noDryRun.get(l);
  if (!o) {
    const { dry_run: _d, ...rest } = l;
    noDryRun.set(l, (o = rest));
  }
  return o;
}

/** /metrics: this thread's metrics and those of the components threads attached to the server. */
export function metricsText(workers: ThreadPortClient[] = []): Promise<string> {
  return exposition(workers);
}
