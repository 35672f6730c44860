// Request counters in the Prometheus text format at /metrics (upstream's apiserver_request_total,
// by verb, group, resource, subresource and code). Counting is a map lookup per request.

import type { ServerResponse } from 'node:http';
import type { RequestInfo } from './request-info.ts';

const counts = new Map<string, number>();

/** Count this request once its response is finished. */
export function countRequest(res: ServerResponse, info: RequestInfo): void {
  res.once('finish', () => {
    const verb = info.verb.toUpperCase();
    const key = `verb="${verb}",group="${info.group}",version="${info.version}",resource="${info.resource ?? ''}",subresource="${info.subresource ?? ''}",code="${res.statusCode}"`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
}

export function metricsText(): string {
  const lines = ['# HELP apiserver_request_total Counter of API requests by verb, group, version, resource, subresource and HTTP code.', '# TYPE apiserver_request_total counter'];
  for (const [labels, n] of [...counts.entries()].sort()) lines.push(`apiserver_request_total{${labels}} ${n}`);
  return `${lines.join('\n')}\n`;
}
