// Removing a volume's directory on another machine, as k3s's local-path-provisioner does: a
// short-lived pod pinned to the volume's node mounts the base directory and deletes the one entry.

import path from 'node:path';
import type { KObject } from '../../api/types.ts';

export const HELPER_NAMESPACE = 'kube-system';

export function helperPodName(pvName: string): string {
  return `helper-pod-delete-${pvName}`.slice(0, 253);
}

export function deleteHelperPod(pvName: string, nodeName: string, volumeDir: string, image: string): KObject {
  const base = path.dirname(volumeDir);
  const entry = path.basename(volumeDir);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: helperPodName(pvName), namespace: HELPER_NAMESPACE, labels: { 'app.kubernetes.io/name': 'local-path-helper', 'mizzen.dev/volume': pvName } },
    spec: {
      nodeName,
      restartPolicy: 'Never',
      priorityClassName: 'system-node-critical',
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'helper-pod',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['/bin/sh', '-c', 'rm -rf "/data/$VOL_DIR"'],
          env: [{ name: 'VOL_DIR', value: entry }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', hostPath: { path: base, type: 'DirectoryOrCreate' } }],
    },
  };
}
