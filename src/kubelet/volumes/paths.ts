// The kubelet's on-disk layout under its root directory, as upstream lays it out
// (pkg/kubelet/kubelet_getters.go), so tools that know the kubelet find things where they expect:
//
//   <root>/pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>   a volume's directory
//   <root>/pods/<uid>/containers/<container>/<id>               termination-log files
//   <root>/pods/<uid>/etc-hosts                                  the managed /etc/hosts
//   <root>/pods/<uid>/plugins                                    plugin state (unused)

import { join } from 'node:path';

export const PLUGIN_EMPTY_DIR = 'kubernetes.io/empty-dir';
export const PLUGIN_CONFIGMAP = 'kubernetes.io/configmap';
export const PLUGIN_SECRET = 'kubernetes.io/secret';
export const PLUGIN_DOWNWARD_API = 'kubernetes.io/downward-api';
export const PLUGIN_PROJECTED = 'kubernetes.io/projected';
export const PLUGIN_HOST_PATH = 'kubernetes.io/host-path';
export const PLUGIN_LOCAL_VOLUME = 'kubernetes.io/local-volume';

/** Upstream's EscapeQualifiedName: `kubernetes.io/empty-dir` → `kubernetes.io~empty-dir`. */
export function escapeQualifiedName(name: string): string {
  return name.replace(/\//g, '~');
}

export class KubeletPaths {
  constructor(readonly rootDir: string) {}

  podsDir(): string {
    return join(this.rootDir, 'pods');
  }
  podDir(uid: string): string {
    return join(this.rootDir, 'pods', uid);
  }
  podVolumesDir(uid: string): string {
    return join(this.podDir(uid), 'volumes');
  }
  podPluginsDir(uid: string): string {
    return join(this.podDir(uid), 'plugins');
  }
  volumeDir(uid: string, plugin: string, volumeName: string): string {
    return join(this.podVolumesDir(uid), escapeQualifiedName(plugin), volumeName);
  }
  podContainerDir(uid: string, containerName: string): string {
    return join(this.podDir(uid), 'containers', containerName);
  }
  etcHostsPath(uid: string): string {
    return join(this.podDir(uid), 'etc-hosts');
  }
  seccompProfileRoot(): string {
    return join(this.rootDir, 'seccomp');
  }
}
