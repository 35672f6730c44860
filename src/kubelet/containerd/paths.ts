// Where a supervised containerd and the node's networking keep their files under the data dir
// (k3s keeps the same things under /var/lib/rancher/k3s/agent):
//
//   <data-dir>/containerd/config.toml     generated on every start
//   <data-dir>/containerd/containerd.log  containerd's own log (appended; rotated at start when big)
//   <data-dir>/containerd/containerd.sock the CRI endpoint (see socketPath for long data dirs)
//   <data-dir>/containerd/containerd.pid  to find a containerd left behind by a killed Mizzen
//   <data-dir>/containerd/supervisor.json which process supervises it (and its parent), for tests
//   <data-dir>/containerd/root/, state/   containerd's content store, snapshots, task state
//   <data-dir>/containerd/certs.d/        hosts.toml per registry, from registries.yaml
//   <data-dir>/cni/net.d/                 the CNI conflist containerd loads
//   <data-dir>/cni/ipam/                  host-local's IP allocations
//   <data-dir>/images/                    image archives (*.tar) imported at start
//   <data-dir>/registries.yaml            mirrors and credentials (k3s format), optional
//   <data-dir>/pods/                      container logs (the kubelet's /var/log/pods)

import { createHash } from 'node:crypto';
import { join } from 'node:path';

export interface NodePaths {
  dataDir: string;
  containerdDir: string;
  configFile: string;
  logFile: string;
  socketPath: string;
  pidFile: string;
  ownerFile: string;
  root: string;
  state: string;
  certsDir: string;
  cniConfDir: string;
  cniIpamDir: string;
  imagesDir: string;
  registriesFile: string;
  podLogsDir: string;
}

/** sun_path holds 108 bytes with the NUL; containerd also binds '<socket>.ttrpc'. */
const MAX_SOCKET_PATH = 107 - '.ttrpc'.length;

export function nodePaths(dataDir: string): NodePaths {
  const containerdDir = join(dataDir, 'containerd');
  let socketPath = join(containerdDir, 'containerd.sock');
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    // Too long for a socket address: a short path keyed by the data dir instead.
    const key = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
    socketPath = `/run/mizzen/${key}/containerd.sock`;
  }
  return {
    dataDir,
    containerdDir,
    configFile: join(containerdDir, 'config.toml'),
    logFile: join(containerdDir, 'containerd.log'),
    socketPath,
    pidFile: join(containerdDir, 'containerd.pid'),
    ownerFile: join(containerdDir, 'supervisor.json'),
    root: join(containerdDir, 'root'),
    state: join(containerdDir, 'state'),
    certsDir: join(containerdDir, 'certs.d'),
    cniConfDir: join(dataDir, 'cni', 'net.d'),
    cniIpamDir: join(dataDir, 'cni', 'ipam'),
    imagesDir: join(dataDir, 'images'),
    registriesFile: join(dataDir, 'registries.yaml'),
    podLogsDir: join(dataDir, 'pods'),
  };
}
