// Runs one probe of a container and reports it as upstream's prober.go does: the handler
// (exec, httpGet, tcpSocket, grpc) against the pod IP, up to three tries when the probe cannot run
// at all, and the Unhealthy / ProbeWarning events with upstream's texts.

import type { Container, EnvVar, Pod, Probe } from '../pods/api-types.ts';
import { expand, mappingFor } from '../pods/expansion.ts';
import { formatPod } from '../pods/format.ts';
import { probeExec, type ExecSync } from './exec.ts';
import { newRequestForHTTPGetAction, probeHTTP, resolveContainerPort } from './http.ts';
import type { ProbeResult } from './probe-result.ts';
import { probeTCP } from './tcp.ts';

export type ProbeType = 'Liveness' | 'Readiness' | 'Startup';
export type Result = 'Success' | 'Failure' | 'Unknown';

export const MAX_PROBE_RETRIES = 3;

/** Records an event about a container (the core maps it to an Event with fieldPath spec.containers{name}). */
export type ContainerEventRecorder = (pod: Pod, containerName: string, type: 'Normal' | 'Warning', reason: string, message: string) => void;

/** The probe's fields with the API defaults (the API server sets them; objects that skipped defaulting get them here). */
export function probeDefaults(p: Probe): Required<Pick<Probe, 'initialDelaySeconds' | 'timeoutSeconds' | 'periodSeconds' | 'successThreshold' | 'failureThreshold'>> {
  return {
    initialDelaySeconds: p.initialDelaySeconds ?? 0,
    timeoutSeconds: p.timeoutSeconds || 1,
    periodSeconds: p.periodSeconds || 10,
    successThreshold: p.successThreshold || 1,
    failureThreshold: p.failureThreshold || 3,
  };
}

/** Upstream's ExpandContainerCommandOnlyStatic: $(VAR) from the container's literal env values only. */
export function expandCommandOnlyStatic(command: string[], env: EnvVar[] | undefined): string[] {
  const m = new Map<string, string>();
  for (const e of env ?? []) m.set(e.name, e.value ?? '');
  const mapping = mappingFor(m);
  return command.map((c) => expand(c, mapping));
}

/** The part of a container ID after `containerd://`. */
export function runtimeContainerId(containerID: string): string {
  const i = containerID.indexOf('://');
  return i >= 0 ? containerID.slice(i + 3) : containerID;
}

/** One attempt of a probe's handler. */
export async function runProbe(probe: Probe, pod: Pod, container: Container, containerID: string, podIP: string, execSync: ExecSync): Promise<ProbeResult> {
  const timeoutMs = probeDefaults(probe).timeoutSeconds * 1000;
  try {
    if (probe.exec) return await probeExec(execSync, runtimeContainerId(containerID), expandCommandOnlyStatic(probe.exec.command ?? [], container.env), timeoutMs);
    if (probe.httpGet) return await probeHTTP(newRequestForHTTPGetAction(probe.httpGet, container, podIP, 'probe'), timeoutMs);
    if (probe.tcpSocket) return await probeTCP(probe.tcpSocket.host || podIP, resolveContainerPort(probe.tcpSocket.port, container), timeoutMs);
    // grpc-js only for pods that have gRPC probes: the kubelet itself speaks gRPC without it.
    if (probe.grpc) return await (await import('./grpc.ts')).probeGRPC(podIP, probe.grpc.service ?? '', probe.grpc.port, timeoutMs);
  } catch (e) {
    return { result: 'unknown', output: '', error: e as Error };
  }
  return { result: 'unknown', output: '', error: new Error(`missing probe handler for ${formatPod(pod)}:${container.name}`) };
}

/**
 * Probe a container and record the event for a failure or warning. `error` set means the probe
 * could not be run: the result must be discarded (upstream's worker ignores it).
 */
export async function probeContainer(
  probeType: ProbeType,
  probe: Probe | undefined,
  pod: Pod,
  container: Container,
  containerID: string,
  podIP: string,
  execSync: ExecSync,
  recordEvent?: ContainerEventRecorder,
): Promise<{ result: Result; error?: Error }> {
  if (!probe) return { result: 'Success' };
  let r: ProbeResult = { result: 'unknown', output: '' };
  for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
    r = await runProbe(probe, pod, container, containerID, podIP, execSync);
    if (!r.error) break;
  }
  if (r.error) {
    recordEvent?.(pod, container.name, 'Warning', 'Unhealthy', `${probeType} probe errored and resulted in ${r.result} state: ${r.error.message}`);
    return { result: 'Failure', error: r.error };
  }
  switch (r.result) {
    case 'success':
      return { result: 'Success' };
    case 'warning':
      recordEvent?.(pod, container.name, 'Warning', 'ProbeWarning', `${probeType} probe warning: ${r.output}`);
      return { result: 'Success' };
    case 'failure':
      recordEvent?.(pod, container.name, 'Warning', 'Unhealthy', `${probeType} probe failed: ${r.output}`);
      return { result: 'Failure' };
    default:
      return { result: 'Failure' };
  }
}
