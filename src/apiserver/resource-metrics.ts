// metrics.k8s.io requests, after authentication and authorization: answered by the resource
// metrics pipeline on a worker thread of this process (src/metrics/; `mizzen up` and
// `mizzen apiserver` both run one, the latter from the first such request on). 503 while none
// runs (starting, or could not start; see src/cli/apiserver.ts), as an unavailable
// metrics-server APIService answers upstream.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../machinery/errors.ts';
import type { RequestInfo } from './request-info.ts';
import type { ThreadPortClient } from '../metrics/thread-port.ts';
import type { MetricsQuery } from '../metrics/metrics-api.ts';

export async function serveResourceMetrics(req: IncomingMessage, res: ServerResponse, info: RequestInfo, q: URLSearchParams, threads: ThreadPortClient[]): Promise<void> {
  if (info.verb !== 'get' && info.verb !== 'list') throw errors.methodNotAllowed(`${info.verb} is not supported on ${info.resource}.metrics.k8s.io (get and list only)`);
  if (info.subresource) throw errors.notFoundPath(`the server could not find the requested resource: no subresource ${info.subresource} on ${info.resource}.metrics.k8s.io`);
  const query: MetricsQuery = { resource: info.resource as 'nodes' | 'pods' };
  if (info.namespace !== undefined) query.namespace = info.namespace;
  if (info.name !== undefined) query.name = info.name;
  const ls = q.get('labelSelector');
  const fs = q.get('fieldSelector');
  if (ls) query.labelSelector = ls;
  if (fs) query.fieldSelector = fs;
  for (const t of threads) {
    let answer;
    try {
      answer = await t.resourceMetrics(query);
    } catch (e) {
      throw errors.serviceUnavailable(`the metrics pipeline did not answer: ${(e as Error).message}`);
    }
    if (!answer) continue;
    res.writeHead(answer.code, { 'Content-Type': 'application/json' });
    res.end(answer.body);
    return;
  }
  void req;
  throw errors.serviceUnavailable('the server is currently unable to handle the request (the resource metrics pipeline of this API server is starting or could not start)');
}
