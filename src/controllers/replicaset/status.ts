// ReplicaSet status from its active pods (upstream calculateStatus), and the ReplicaFailure condition.

import { rfc3339 } from '../../machinery/time.ts';
import type { KObject } from '../../api/types.ts';
import { labelsContain } from './pod-utils.ts';
import { isPodAvailable, isPodReady } from '../../api/core/pod-state.ts';

export interface ReplicaSetCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaSetStatus {
  replicas: number;
  fullyLabeledReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  observedGeneration?: number;
  conditions?: ReplicaSetCondition[];
}

export function calculateReplicaSetStatus(
  rs: KObject,
  activePods: KObject[],
  manageError: { message: string; creating: boolean } | undefined,
  nowMs: number,
): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  let fully = 0;
  let ready = 0;
  let available = 0;
  for (const p of activePods) {
    if (labelsContain(p.metadata.labels, templateLabels)) fully++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReadySeconds, nowMs)) available++;
    }
  }
  let conditions: ReplicaSetCondition[] = [...(rs.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === 'ReplicaFailure');
  if (manageError && !failure) {
    conditions.push({
      type: 'ReplicaFailure',
      status: 'True',
      lastTransitionTime: rfc3339(new Date(nowMs)),
      reason: manageError.creating ? 'FailedCreate' : 'FailedDelete',
      message: manageError.message,
    });
  } else if (!manageError && failure) {
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  const status: ReplicaSetStatus = {
    replicas: activePods.length,
    fullyLabeledReplicas: fully,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.status?.observedGeneration,
  };
  if (conditions.length) status.conditions = conditions;
  return status;
}

/** True when writing `next` would change what the ReplicaSet reports. */
export function replicaSetStatusChanged(rs: KObject, next: ReplicaSetStatus): boolean {
  const cur = rs.status ?? {};
  return (
    (cur.replicas ?? 0) !== next.replicas ||
    (cur.fullyLabeledReplicas ?? 0) !== next.fullyLabeledReplicas ||
    (cur.readyReplicas ?? 0) !== next.readyReplicas ||
    (cur.availableReplicas ?? 0) !== next.availableReplicas ||
    cur.observedGeneration !== rs.metadata.generation ||
    JSON.stringify(cur.conditions ?? []) !== JSON.stringify(next.conditions ?? [])
  );
}
