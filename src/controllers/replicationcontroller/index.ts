// The ReplicationController controller: upstream runs the ReplicaSet controller over
// ReplicationControllers (its replication manager), and so does Mizzen. Only the kind differs:
// an RC's selector is a plain label map, its pods' controller references name it, and its events
// come from `replication-controller`.

import type { ControllerFactory } from '../types.ts';
import { replicaController, type ReplicaKind } from '../replicaset/index.ts';

export const RC_REF = { version: 'v1', resource: 'replicationcontrollers' } as const;

export const replicationControllerKind: ReplicaKind = {
  name: 'replicationcontroller',
  eventSource: 'replication-controller',
  ref: RC_REF,
  apiVersion: 'v1',
  kind: 'ReplicationController',
  selector: (rc) => ({ matchLabels: rc.spec?.selector ?? {} }),
};

export const replicationControllerController: ControllerFactory = replicaController(replicationControllerKind);
