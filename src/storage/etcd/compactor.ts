// Periodic compaction of etcd's history, coordinated between API servers as upstream's compactor
// does: at each interval every server tries a compare-and-swap on the version of one key
// (compact_rev_key); the one that wins compacts to the revision it saw one interval earlier, so
// at least one interval of history always stays (watches that resume within it never see 410),
// and however many servers share the etcd, it is compacted once per interval.

import type { EtcdClient } from './client.ts';

export const COMPACT_REV_KEY = 'compact_rev_key';

export interface CompactorOptions {
  client: EtcdClient;
  /** The coordination key inside etcd (namespace + COMPACT_REV_KEY). */
  key: string;
  intervalMs: number;
  timeoutMs: number;
  compact: (revision: number) => Promise<void>;
  log: (msg: string) => void;
}

export class Compactor {
  /** Version of the coordination key as this server last saw it. */
  private version = 0;
  /** The store's revision at this server's previous turn: the next compaction target. */
  private previous = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly o: CompactorOptions) {}

  start(): void {
    const loop = () => {
      this.timer = setTimeout(() => {
        this.running = this.tick()
          .then(() => undefined)
          .catch((e) => this.o.log(`etcd compaction failed: ${(e as Error).message}`))
          .finally(() => {
            this.running = undefined;
            if (this.timer) loop();
          });
      }, this.o.intervalMs);
      this.timer.unref?.();
    };
    loop();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One turn; returns the revision compacted to, if this server did. */
  async tick(): Promise<number | undefined> {
    const { client, key } = this.o;
    const res = await client.txn(
      {
        compare: [{ key, target: 'version', result: 'equal', value: this.version }],
        success: [{ put: { key, value: String(this.previous) } }],
        failure: [{ range: { key } }],
      },
      this.o.timeoutMs,
    );
    const current = res.header.revision;
    if (!res.succeeded) {
      // Another server took this turn: remember where the key is and try at the next one.
      const r = res.responses[0];
      this.version = r && 'range' in r ? (r.range.kvs[0]?.version ?? 0) : 0;
      this.previous = current;
      return undefined;
    }
    this.version++;
    const target = this.previous;
    this.previous = current;
    if (target <= 0) return undefined;
    await this.o.compact(target);
    return target;
  }
}
