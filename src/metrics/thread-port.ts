// How the API server's thread reaches what runs on a components worker thread: its Prometheus
// metrics (for the one /metrics `mizzen up` serves) and the resource metrics pipeline (for
// metrics.k8s.io). One MessagePort per worker; each question carries an id and gets one answer.
// Nothing crosses the port until someone asks, so the request path pays nothing in between.

import type { MessagePort } from 'node:worker_threads';
import type { MetricsAnswer, MetricsQuery } from './metrics-api.ts';

type Request = { id: number; type: 'prom' } | { id: number; type: 'resource-metrics'; query: MetricsQuery };
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** What one thread offers; set by the components that run there. */
export interface ThreadServices {
  prom?: () => Promise<unknown[]>;
  resourceMetrics?: (q: MetricsQuery) => MetricsAnswer;
}

/** This thread's services (module state is per thread). */
export const threadServices: ThreadServices = {};

/** Worker side: answer the parent's questions from threadServices. */
export function serveThreadPort(port: MessagePort): void {
  port.on('message', (m: Request) => {
    const reply = (r: Reply) => port.postMessage(r);
    void (async () => {
      try {
        if (m.type === 'prom') reply({ id: m.id, ok: true, value: threadServices.prom ? await threadServices.prom() : [] });
        else reply({ id: m.id, ok: true, value: threadServices.resourceMetrics ? threadServices.resourceMetrics(m.query) : null });
      } catch (e) {
        reply({ id: m.id, ok: false, error: (e as Error).message });
      }
    })();
  });
  port.unref();
}

/** Parent side: ask a worker. */
export class ThreadPortClient {
  private next = 1;
  private waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();

  constructor(private port: MessagePort) {
    this.listen(port);
  }

  private listen(port: MessagePort): void {
    port.on('message', (r: Reply) => {
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      clearTimeout(w.timer);
      if (r.ok) w.resolve(r.value);
      else w.reject(new Error(r.error));
    });
    port.unref();
  }

  /**
   * Talks to a new thread from now on (a restarted components worker): whoever holds this client
   * (the API server's /metrics and metrics.k8s.io) keeps it. Questions to the old thread fail.
   */
  rebind(port: MessagePort): void {
    this.rejectWaiting('the components thread was restarted');
    this.port.close();
    this.port = port;
    this.listen(port);
  }

  private rejectWaiting(why: string): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new Error(why));
    }
    this.waiting.clear();
  }

  private ask(req: { type: 'prom' } | { type: 'resource-metrics'; query: MetricsQuery }, timeoutMs: number): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer from the components thread within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.port.postMessage({ ...req, id });
    });
  }

  /** The thread's prom-client metrics as getMetricsAsJSON() gives them. */
  prom(timeoutMs = 5000): Promise<unknown[]> {
    return this.ask({ type: 'prom' }, timeoutMs) as Promise<unknown[]>;
  }

  /** null when no metrics pipeline runs on that thread. */
  resourceMetrics(query: MetricsQuery, timeoutMs = 10_000): Promise<MetricsAnswer | null> {
    return this.ask({ type: 'resource-metrics', query }, timeoutMs) as Promise<MetricsAnswer | null>;
  }

  close(): void {
    this.rejectWaiting('the components thread stopped');
    this.port.close();
  }
}
