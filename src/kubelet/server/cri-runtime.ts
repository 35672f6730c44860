// The kubelet server's runtime providers backed by a CRI RuntimeService (containerd, CRI-O):
// Exec/Attach/PortForward answer the runtime's streaming URLs, and a container's log file and state
// come from ContainerStatus. CriErrors keep their gRPC code, which the server maps to an HTTP status.

import type { RuntimeService } from '../cri/services.ts';
import { isNotFound } from '../cri/errors.ts';
import type { ContainerLogSource, StreamingRuntime } from './types.ts';

export function criStreamingRuntime(cri: RuntimeService): StreamingRuntime {
  return {
    exec: async (req) => ({ url: await cri.exec(req) }),
    attach: async (req) => ({ url: await cri.attach(req) }),
    portForward: async (req) => ({ url: await cri.portForward(req) }),
  };
}

export function criLogSource(cri: RuntimeService): ContainerLogSource {
  return {
    async logPath(containerId) {
      try {
        return (await cri.containerStatus(containerId)).status?.logPath || undefined;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    async isRunning(containerId) {
      try {
        return (await cri.containerStatus(containerId)).status?.state === 'CONTAINER_RUNNING';
      } catch {
        // Gone, or the runtime is away: following stops, as upstream's does on an error.
        return false;
      }
    },
  };
}
