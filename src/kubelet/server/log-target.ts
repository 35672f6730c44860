// Which container instance `kubectl logs` reads, from the pod's status, with upstream's messages
// (the kubelet's validateContainerLogStatus) for containers that have no log to show yet.

import type { KObject } from '../../api/types.ts';
import { errors } from '../../machinery/errors.ts';
import { runtimeId } from './types.ts';

/** The container named in the pod's spec (containers, init containers or ephemeral containers). */
export function podHasContainer(pod: KObject, name: string): boolean {
  const spec = pod.spec ?? {};
  return [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])].some((c: any) => c?.name === name);
}

/**
 * The runtime ID of the container whose log to read: the current one, or with `previous` the one
 * that ran before the last restart. Throws a 400 saying why there is none.
 */
export function logContainerId(pod: KObject, container: string, previous: boolean): string {
  const podName = pod.metadata.name;
  const st = pod.status ?? {};
  const all = [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? []), ...(st.ephemeralContainerStatuses ?? [])];
  const cs = all.find((c: any) => c?.name === container);
  const bad = (why: string) => errors.badRequest(`container ${JSON.stringify(container)} in pod ${JSON.stringify(podName)} ${why}`);
  if (!cs) throw bad('is not available');
  const last = cs.lastState?.terminated;
  const { waiting, running, terminated } = cs.state ?? {};
  let id: string | undefined;
  if (previous) {
    if (!last?.containerID) throw errors.badRequest(`previous terminated container ${JSON.stringify(container)} in pod ${JSON.stringify(podName)} not found`);
    id = last.containerID;
  } else if (running) {
    id = cs.containerID;
  } else if (terminated) {
    // A container that did not start again has no ID of its own: show the last one's log.
    id = terminated.containerID || last?.containerID;
    if (!id) throw bad('is terminated');
  } else if (last) {
    if (!last.containerID) throw bad('is terminated');
    id = last.containerID;
  } else if (waiting) {
    const reason = waiting.reason;
    if (reason === 'ErrImagePull') throw bad("is waiting to start: image can't be pulled");
    if (reason === 'ImagePullBackOff') throw bad('is waiting to start: trying and failing to pull image');
    throw bad(`is waiting to start: ${reason ?? ''}`);
  } else {
    throw bad('is waiting to start - no logs yet');
  }
  const rid = runtimeId(id);
  if (!rid) throw bad('is waiting to start - no logs yet');
  return rid;
}
