// The CRI (runtime.v1) messages the pod modules fill, from the CRI client's types (camelCase
// fields as @grpc/proto-loader produces them, enums as names, int64 as numbers).

export type {
  Capability,
  ContainerConfig,
  ContainerMetadata,
  DNSConfig,
  ImageSpec,
  Int64Value,
  KeyValue,
  LinuxContainerResources,
  LinuxContainerSecurityContext,
  LinuxPodSandboxConfig,
  LinuxSandboxSecurityContext,
  Mount,
  MountPropagation,
  NamespaceMode,
  NamespaceOption,
  PodSandboxConfig,
  PodSandboxMetadata,
  PortMapping,
  Protocol,
  SecurityProfile,
  SecurityProfileType,
  SELinuxOption,
  StringMap,
} from '../cri/types.ts';

/** ContainerStatus.mounts as the runtime reports them (read for the termination message). */
export interface StatusMount {
  containerPath: string;
  hostPath: string;
}
