import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ScheduledEventWriter } from './scheduled-events.ts';
import { mkPod } from './framework/testing.ts';

function fakeClient(opts: { fail?: boolean } = {}) {
  const written: any[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const pending: Array<() => void> = [];
  return {
    written,
    get maxInFlight() {
      return maxInFlight;
    },
    release() {
      for (const r of pending.splice(0)) r();
    },
    client: {
      createEvent: (ns: string, ev: any) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise((resolve, reject) =>
          pending.push(() => {
            inFlight--;
            if (opts.fail) reject(new Error('boom'));
            else resolve(written.push({ ns, ev }));
          }),
        );
      },
    } as any,
  };
}

describe('ScheduledEventWriter', () => {
  it('writes upstream-shaped Scheduled events with bounded concurrency', async () => {
    const f = fakeClient();
    const w = new ScheduledEventWriter(f.client, { concurrency: 2 });
    for (let i = 0; i < 5; i++) w.scheduled(mkPod(`p${i}`, { ns: 'team', uid: `u${i}` }), 'node-a');
    const done = w.flush();
    while (f.written.length < 5) {
      f.release();
      await new Promise((r) => setImmediate(r));
    }
    await done;
    assert.equal(f.maxInFlight, 2);
    const { ns, ev } = f.written[0];
    assert.equal(ns, 'team');
    assert.equal(ev.reason, 'Scheduled');
    assert.equal(ev.type, 'Normal');
    assert.equal(ev.message, 'Successfully assigned team/p0 to node-a');
    assert.deepEqual(ev.involvedObject, { apiVersion: 'v1', kind: 'Pod', namespace: 'team', name: 'p0', uid: 'u0' });
    assert.deepEqual(ev.source, { component: 'default-scheduler' });
    assert.match(ev.metadata.name, /^p0\.[0-9a-f]+$/);
    assert.equal(new Set(f.written.map((x) => x.ev.metadata.name)).size, 5);
  });

  it('drops the oldest events beyond its buffer and survives write errors', async () => {
    const logs: string[] = [];
    const f = fakeClient({ fail: true });
    const w = new ScheduledEventWriter(f.client, { concurrency: 1, maxQueued: 2, log: (m) => logs.push(m) });
    for (let i = 0; i < 5; i++) w.scheduled(mkPod(`p${i}`), 'n');
    // One in flight, two queued, two dropped.
    assert.equal(w.droppedCount, 2);
    const done = w.flush();
    for (let i = 0; i < 5; i++) {
      f.release();
      await new Promise((r) => setImmediate(r));
    }
    await done;
    assert.equal(logs.length, 3);
    assert.match(logs[0], /unable to write event: boom/);
  });
});
