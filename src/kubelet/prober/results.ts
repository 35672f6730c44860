// The latest result of each probe type per container ID (upstream prober/results). A change is
// reported once, through the manager's onUpdate.

import type { ProbeType, Result } from './prober.ts';

export interface ProbeUpdate {
  probeType: ProbeType;
  podUid: string;
  containerName: string;
  /** As in the pod status: `containerd://<id>`. */
  containerID: string;
  result: Result;
}

export class ResultsManager {
  private readonly results = new Map<string, { result: Result; podUid: string; containerName: string }>();

  constructor(
    readonly probeType: ProbeType,
    private readonly onUpdate?: (u: ProbeUpdate) => void,
  ) {}

  get(containerID: string): Result | undefined {
    return this.results.get(containerID)?.result;
  }

  set(containerID: string, result: Result, podUid: string, containerName: string): void {
    const prev = this.results.get(containerID);
    if (prev?.result === result) return;
    this.results.set(containerID, { result, podUid, containerName });
    this.onUpdate?.({ probeType: this.probeType, podUid, containerName, containerID, result });
  }

  remove(containerID: string): void {
    this.results.delete(containerID);
  }
}
