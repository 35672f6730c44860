// The CRI messages Mizzen sends and receives, as the gRPC client hands them over: field names in
// camelCase (pod_sandbox_id → podSandboxId), enums as their names ('CONTAINER_RUNNING'), 64-bit
// integers as JavaScript numbers (nanosecond timestamps keep ~256 ns precision, which is plenty),
// bytes as Buffers, maps as plain objects.
//
// Inputs (configs, filters) have optional fields: anything left out is the proto default.
// Outputs always carry every scalar, list and map (defaults filled in); a nested message that the
// runtime did not send is null.

export type StringMap = Record<string, string>;

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type SecurityProfileType = 'RuntimeDefault' | 'Unconfined' | 'Localhost';

export interface Int64Value {
  value: number;
}
export interface UInt64Value {
  value: number;
}
export interface KeyValue {
  key: string;
  value: string;
}

export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  /** 'RuntimeReady' or 'NetworkReady' (the two the kubelet requires), or a runtime's own. */
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface StatusResponse {
  status: { conditions: RuntimeCondition[] } | null;
  /** verbose only: JSON documents keyed by topic (containerd: 'config', 'cniconfig', 'golang', 'lastCNILoadStatus'). */
  info: StringMap;
}

// ---- shared pieces of configs ----

export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  targetId?: string;
}

export interface SELinuxOption {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
}

export interface SecurityProfile {
  profileType?: SecurityProfileType;
  localhostRef?: string;
}

export interface ImageSpec {
  image: string;
  annotations?: StringMap;
  userSpecifiedImage?: string;
  runtimeHandler?: string;
}

export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  hugepageLimits?: { pageSize: string; limit: number }[];
  unified?: StringMap;
  memorySwapLimitInBytes?: number;
}

// ---- pod sandboxes ----

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}

export interface DNSConfig {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

export interface PortMapping {
  protocol?: Protocol;
  containerPort?: number;
  hostPort?: number;
  hostIp?: string;
}

export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  selinuxOptions?: SELinuxOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

export interface LinuxPodSandboxConfig {
  /** cgroupfs-style parent cgroup path, e.g. '/kubepods/besteffort/pod<uid>' (see docs/node-runtime.md). */
  cgroupParent?: string;
  securityContext?: LinuxSandboxSecurityContext;
  sysctls?: StringMap;
  overhead?: LinuxContainerResources;
  resources?: LinuxContainerResources;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /** Absolute host directory for this pod's container logs (upstream: /var/log/pods/<ns>_<name>_<uid>). */
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  portMappings?: PortMapping[];
  labels?: StringMap;
  annotations?: StringMap;
  linux?: LinuxPodSandboxConfig;
}

export interface PodSandboxFilter {
  id?: string;
  state?: { state: PodSandboxState };
  labelSelector?: StringMap;
}

/** Metadata as the runtime reports it back (attempt always present). */
export interface PodSandboxMetadataOut {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadataOut | null;
  state: PodSandboxState;
  /** nanoseconds since the epoch */
  createdAt: number;
  labels: StringMap;
  annotations: StringMap;
  runtimeHandler: string;
}

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadataOut | null;
  state: PodSandboxState;
  createdAt: number;
  network: { ip: string; additionalIps: { ip: string }[] } | null;
  linux: { namespaces: { options: Required<NamespaceOption> | null } | null } | null;
  labels: StringMap;
  annotations: StringMap;
  runtimeHandler: string;
}

export interface PodSandboxStatusResponse {
  status: PodSandboxStatus | null;
  /** verbose only; containerd: 'info' → JSON with pid, netNamespacePath, config, ... */
  info: StringMap;
  containersStatuses: ContainerStatus[];
  timestamp: number;
}

// ---- containers ----

export interface ContainerMetadata {
  name: string;
  attempt?: number;
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: MountPropagation;
  recursiveReadOnly?: boolean;
}

export interface Device {
  containerPath: string;
  hostPath: string;
  permissions?: string;
}

export interface Capability {
  addCapabilities?: string[];
  dropCapabilities?: string[];
  addAmbientCapabilities?: string[];
}

export interface LinuxContainerSecurityContext {
  capabilities?: Capability;
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  selinuxOptions?: SELinuxOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  /** The image's entrypoint is used when empty (Kubernetes' `command`). */
  command?: string[];
  /** Kubernetes' `args` (the image's cmd when both are empty). */
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  devices?: Device[];
  labels?: StringMap;
  annotations?: StringMap;
  /** Relative to the sandbox's logDirectory, e.g. '<container name>/<restart count>.log'. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: { resources?: LinuxContainerResources; securityContext?: LinuxContainerSecurityContext };
}

export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerState };
  podSandboxId?: string;
  labelSelector?: StringMap;
}

export interface ImageSpecOut {
  image: string;
  annotations: StringMap;
  userSpecifiedImage: string;
  runtimeHandler: string;
}

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number } | null;
  image: ImageSpecOut | null;
  imageRef: string;
  state: ContainerState;
  createdAt: number;
  labels: StringMap;
  annotations: StringMap;
  imageId: string;
}

export interface ContainerStatus {
  id: string;
  metadata: { name: string; attempt: number } | null;
  state: ContainerState;
  /** nanoseconds since the epoch; startedAt/finishedAt are 0 until it started/finished */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image: ImageSpecOut | null;
  /** the image by digest ('docker.io/library/busybox@sha256:…' or the image ID) */
  imageRef: string;
  /** 'Completed', 'Error', 'OOMKilled', 'ContainerCannotRun', ... */
  reason: string;
  message: string;
  labels: StringMap;
  annotations: StringMap;
  mounts: Required<Mount>[];
  /** absolute path of the log file on the host */
  logPath: string;
  resources: { linux: Required<LinuxContainerResources> | null } | null;
  imageId: string;
}

export interface ContainerStatusResponse {
  status: ContainerStatus | null;
  /** verbose only; containerd: 'info' → JSON with pid, sandboxID, runtimeSpec, ... */
  info: StringMap;
}

export interface ExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface ExecRequest {
  containerId: string;
  cmd: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface AttachRequest {
  containerId: string;
  stdin?: boolean;
  tty?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface PortForwardRequest {
  podSandboxId: string;
  port?: number[];
}

// ---- stats ----

export interface FilesystemUsage {
  timestamp: number;
  fsId: { mountpoint: string } | null;
  usedBytes: UInt64Value | null;
  inodesUsed: UInt64Value | null;
}

export interface CpuUsage {
  timestamp: number;
  usageCoreNanoSeconds: UInt64Value | null;
  usageNanoCores: UInt64Value | null;
}

export interface MemoryUsage {
  timestamp: number;
  workingSetBytes: UInt64Value | null;
  availableBytes: UInt64Value | null;
  usageBytes: UInt64Value | null;
  rssBytes: UInt64Value | null;
  pageFaults: UInt64Value | null;
  majorPageFaults: UInt64Value | null;
}

export interface ContainerStats {
  attributes: { id: string; metadata: { name: string; attempt: number } | null; labels: StringMap; annotations: StringMap } | null;
  cpu: CpuUsage | null;
  memory: MemoryUsage | null;
  writableLayer: FilesystemUsage | null;
  swap: { timestamp: number; swapAvailableBytes: UInt64Value | null; swapUsageBytes: UInt64Value | null } | null;
}

export interface ContainerStatsFilter {
  id?: string;
  podSandboxId?: string;
  labelSelector?: StringMap;
}

export interface NetworkInterfaceUsage {
  name: string;
  rxBytes: UInt64Value | null;
  rxErrors: UInt64Value | null;
  txBytes: UInt64Value | null;
  txErrors: UInt64Value | null;
}

export interface PodSandboxStats {
  attributes: { id: string; metadata: PodSandboxMetadataOut | null; labels: StringMap; annotations: StringMap } | null;
  linux: {
    cpu: CpuUsage | null;
    memory: MemoryUsage | null;
    network: { timestamp: number; defaultInterface: NetworkInterfaceUsage | null; interfaces: NetworkInterfaceUsage[] } | null;
    process: { timestamp: number; processCount: UInt64Value | null } | null;
    containers: ContainerStats[];
  } | null;
}

export interface PodSandboxStatsFilter {
  id?: string;
  labelSelector?: StringMap;
}

// ---- images ----

export interface Image {
  /** containerd: the config digest, 'sha256:…' */
  id: string;
  /** e.g. ['docker.io/library/busybox:latest'] */
  repoTags: string[];
  /** e.g. ['docker.io/library/busybox@sha256:…'] */
  repoDigests: string[];
  size: number;
  uid: Int64Value | null;
  username: string;
  spec: ImageSpecOut | null;
  pinned: boolean;
}

export interface ImageStatusResponse {
  /** null when the image is not present (not an error) */
  image: Image | null;
  info: StringMap;
}

export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64 of 'username:password' */
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface ImageFsInfoResponse {
  imageFilesystems: FilesystemUsage[];
  containerFilesystems: FilesystemUsage[];
}
