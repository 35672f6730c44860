// The kubelet server's StatsProvider for a real node: /stats/summary and /metrics/resource from
// one collector. Scrapes that arrive together (metrics-server, kubectl top, a Prometheus) share
// one Summary taken within the last second, so each costs the runtime at most one round of CRI
// stats calls.

import type { StatsProvider } from '../server/types.ts';
import { renderResourceMetrics } from './resource-metrics.ts';
import { SummaryCollector, type Summary, type SummaryOptions } from './summary.ts';

export class NodeStatsProvider implements StatsProvider {
  private readonly collector: SummaryCollector;
  private recent?: { at: number; summary: Promise<Summary> };

  constructor(o: SummaryOptions, private readonly maxAgeMs = 1000) {
    this.collector = new SummaryCollector(o);
  }

  summary(): Promise<Summary> {
    const now = Date.now();
    if (this.recent && now - this.recent.at < this.maxAgeMs) return this.recent.summary;
    const summary = this.collector.summary();
    this.recent = { at: now, summary };
    summary.catch(() => {
      if (this.recent?.summary === summary) this.recent = undefined;
    });
    return summary;
  }

  async resourceMetrics(): Promise<string> {
    let s: Summary | undefined;
    try {
      s = await this.summary();
    } catch {
      s = undefined; // upstream: resource_scrape_error 1 and nothing else
    }
    return renderResourceMetrics(s);
  }
}
