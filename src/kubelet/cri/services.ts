// What the kubelet needs from a container runtime, as the CRI defines it (upstream's
// cri-api `RuntimeService` and `ImageService`). The kubelet depends on these interfaces only;
// `grpc-client.ts` implements them over gRPC, and a test may serve a fake.
//
// Every method rejects with a `CriError` (errors.ts) carrying the gRPC status code and the
// runtime's own message. Each call has a deadline (`CallOptions.timeoutMs`, default 2 minutes, as
// upstream's runtime-request-timeout; image pulls have none unless given).

import type {
  AttachRequest,
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStats,
  ContainerStatsFilter,
  ContainerStatusResponse,
  ExecRequest,
  ExecSyncResponse,
  Image,
  ImageFsInfoResponse,
  ImageSpec,
  ImageStatusResponse,
  LinuxContainerResources,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStats,
  PodSandboxStatsFilter,
  PodSandboxStatusResponse,
  PortForwardRequest,
  StatusResponse,
  VersionResponse,
} from './types.ts';

export interface CallOptions {
  /** Deadline for this call in milliseconds; 0 means none. */
  timeoutMs?: number;
  /** Abort the call (it rejects with CANCELLED). */
  signal?: AbortSignal;
}

export interface RuntimeService {
  /** Runtime name and versions; `apiVersion` is the CRI version the client speaks ('v1'). */
  version(apiVersion?: string, opts?: CallOptions): Promise<VersionResponse>;

  /** Creates and starts the pod's sandbox (network namespace, pause container); returns its ID. */
  runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string, opts?: CallOptions): Promise<string>;
  /** Stops every container of the sandbox and releases its network; idempotent. */
  stopPodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void>;
  /** Removes a sandbox and its containers; idempotent. */
  removePodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void>;
  podSandboxStatus(podSandboxId: string, verbose?: boolean, opts?: CallOptions): Promise<PodSandboxStatusResponse>;
  /**
   * Without a filter, a client may give the same objects again for items that did not change
   * since its last answer (the PLEG lists everything each second): list items are read-only.
   */
  listPodSandbox(filter?: PodSandboxFilter, opts?: CallOptions): Promise<PodSandbox[]>;

  /** Creates a container in a sandbox; `sandboxConfig` is the config the sandbox was run with. */
  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig, opts?: CallOptions): Promise<string>;
  startContainer(containerId: string, opts?: CallOptions): Promise<void>;
  /** Sends the stop signal, waits `timeoutSeconds`, then kills; idempotent. */
  stopContainer(containerId: string, timeoutSeconds: number, opts?: CallOptions): Promise<void>;
  removeContainer(containerId: string, opts?: CallOptions): Promise<void>;
  /** Items are read-only (see listPodSandbox). */
  listContainers(filter?: ContainerFilter, opts?: CallOptions): Promise<Container[]>;
  containerStatus(containerId: string, verbose?: boolean, opts?: CallOptions): Promise<ContainerStatusResponse>;
  updateContainerResources(containerId: string, linux: LinuxContainerResources, opts?: CallOptions): Promise<void>;
  /** Asks the runtime to reopen the container's log file (after the kubelet rotated it). */
  reopenContainerLog(containerId: string, opts?: CallOptions): Promise<void>;

  /** Runs a command in the container and collects its output; `timeoutSeconds` 0 = no limit. */
  execSync(containerId: string, cmd: string[], timeoutSeconds?: number, opts?: CallOptions): Promise<ExecSyncResponse>;
  /** URL on the runtime's streaming server that serves this exec session (see docs/node-runtime.md). */
  exec(req: ExecRequest, opts?: CallOptions): Promise<string>;
  attach(req: AttachRequest, opts?: CallOptions): Promise<string>;
  portForward(req: PortForwardRequest, opts?: CallOptions): Promise<string>;

  containerStats(containerId: string, opts?: CallOptions): Promise<ContainerStats | null>;
  listContainerStats(filter?: ContainerStatsFilter, opts?: CallOptions): Promise<ContainerStats[]>;
  podSandboxStats(podSandboxId: string, opts?: CallOptions): Promise<PodSandboxStats | null>;
  listPodSandboxStats(filter?: PodSandboxStatsFilter, opts?: CallOptions): Promise<PodSandboxStats[]>;

  /** Tells the runtime the node's pod CIDR (containerd renders it into its CNI template, if one is set). */
  updateRuntimeConfig(podCidr: string, opts?: CallOptions): Promise<void>;
  /** RuntimeReady / NetworkReady conditions. */
  status(verbose?: boolean, opts?: CallOptions): Promise<StatusResponse>;
}

export interface ImageService {
  listImages(filter?: ImageSpec, opts?: CallOptions): Promise<Image[]>;
  /** The image, or null when it is not present. */
  imageStatus(image: ImageSpec, verbose?: boolean, opts?: CallOptions): Promise<ImageStatusResponse>;
  /** Pulls an image; returns its reference (containerd: the image ID, 'sha256:…'). */
  pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig, opts?: CallOptions): Promise<string>;
  /** Removes an image; idempotent. */
  removeImage(image: ImageSpec, opts?: CallOptions): Promise<void>;
  imageFsInfo(opts?: CallOptions): Promise<ImageFsInfoResponse>;
}

/** One connection to a runtime that serves both services (containerd and CRI-O do). */
export interface CriClient extends RuntimeService, ImageService {
  /** 'unix:///path/to/socket' */
  readonly endpoint: string;
  /**
   * Resolves once the runtime answers `Version`, retrying through restarts; rejects with the last
   * error after `timeoutMs`.
   */
  waitUntilReady(timeoutMs: number): Promise<VersionResponse>;
  close(): void;
}
