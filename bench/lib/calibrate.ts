// A fixed single-thread CPU task, timed, printed beside benchmark results: this VM's speed varies
// over time (the same code measured 60% slower an hour apart), so results are comparable only
// between runs whose calibration is close.

const sample = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'calibration', namespace: 'default', labels: { app: 'x', tier: 'y' }, annotations: { a: 'b'.repeat(200) } },
  spec: { containers: [{ name: 'c', image: 'registry.local/pause:3.9', resources: { requests: { cpu: '100m', memory: '500Mi' } } }], tolerations: [{ key: 'k', operator: 'Exists' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
};

/** What a benchmark prints: the calibration taken before it (`before`) and one taken now. */
export function calibration(before: number): { before: number; after: number; about: string } {
  return { before, after: calibrationMs(), about: 'machine speed: ms for 20,000 JSON round trips of a pod, before and after (lower is faster; this VM varies by more than 50%)' };
}

/** Milliseconds for 20,000 JSON round trips of a pod (best of three). */
export function calibrationMs(): number {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    let n = 0;
    for (let i = 0; i < 20_000; i++) n += (JSON.parse(JSON.stringify(sample)) as typeof sample).metadata.name.length;
    if (n < 0) throw new Error('unreachable');
    best = Math.min(best, performance.now() - t);
  }
  return Math.round(best * 10) / 10;
}
