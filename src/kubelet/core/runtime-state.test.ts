import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CriClient } from '../cri/services.ts';
import type { Container, PodSandbox } from '../cri/types.ts';
import { RuntimeState } from './runtime-state.ts';

const sandbox = (uid: string, state = 'SANDBOX_READY') => ({ id: `s-${uid}`, metadata: { name: uid, uid, namespace: 'n', attempt: 0 }, state, createdAt: 1, labels: { 'io.kubernetes.pod.uid': uid }, annotations: {}, runtimeHandler: '' }) as unknown as PodSandbox;
const container = (uid: string, state = 'CONTAINER_RUNNING') =>
  ({ id: `c-${uid}`, podSandboxId: `s-${uid}`, metadata: { name: 'c', attempt: 0 }, state, createdAt: 2, labels: { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.container.name': 'c' }, annotations: {} }) as unknown as Container;

/** A runtime answering the lists it is given (as the CRI client does, possibly the same objects again). */
function runtime(): { cri: CriClient; set: (s: PodSandbox[], c: Container[]) => void } {
  let sandboxes: PodSandbox[] = [];
  let containers: Container[] = [];
  const cri = { listPodSandbox: async () => sandboxes, listContainers: async () => containers } as unknown as CriClient;
  return { cri, set: (s, c) => ((sandboxes = s), (containers = c)) };
}

test('relist: pods whose sandboxes or containers changed, whether the client shares unchanged items or not', async () => {
  const rt = runtime();
  const state = new RuntimeState(rt.cri);
  const [sa, sb, ca, cb] = [sandbox('a'), sandbox('b'), container('a'), container('b')];
  rt.set([sa, sb], [ca, cb]);
  assert.deepEqual((await state.relist()).changed.sort(), ['a', 'b']);
  // The same objects (an unchanged runtime through the caching CRI client), in another order.
  rt.set([sb, sa], [cb, ca]);
  const same = await state.relist();
  assert.deepEqual(same.changed, []);
  assert.deepEqual([...same.all.keys()].sort(), ['a', 'b']);
  // Equal but new objects (a client without the cache): still nothing changed.
  rt.set([sandbox('a'), sandbox('b')], [container('a'), container('b')]);
  assert.deepEqual((await state.relist()).changed, []);
  // One container exited; then a pod gone.
  rt.set([sa, sb], [ca, container('b', 'CONTAINER_EXITED')]);
  assert.deepEqual((await state.relist()).changed, ['b']);
  rt.set([sb], [container('b', 'CONTAINER_EXITED')]);
  assert.deepEqual((await state.relist()).changed, ['a']);
  // A pod's sandbox stopped while the items kept their count.
  rt.set([sandbox('b', 'SANDBOX_NOTREADY')], [container('b', 'CONTAINER_EXITED')]);
  assert.deepEqual((await state.relist()).changed, ['b']);
});
