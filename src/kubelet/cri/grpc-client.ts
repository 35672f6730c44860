// The CRI client over gRPC: one HTTP/2 connection to the runtime's socket serving both
// RuntimeService and ImageService (unary calls only, h2-unary.ts). A thin layer: build the request
// message, set the deadline, turn a gRPC failure into a CriError, unwrap the response.
//
// Reconnecting: a broken connection is dialled again by the next call. While the runtime is down,
// calls fail fast with UNAVAILABLE (they do not queue), so the kubelet's loops see the outage and
// retry on their own schedule; `waitUntilReady` is for start-up.

import { CriError } from './errors.ts';
import { Code, UnaryCallError, UnaryChannel } from './h2-unary.ts';
import { decodeMessage, encodeMessage, ItemCache, loadProto, type Method } from './codec.ts';
import { criProtoPath } from './proto-path.ts';
import type { CallOptions, CriClient } from './services.ts';
import type * as T from './types.ts';

export interface CriClientOptions {
  /** Deadline of every call that sets none (default 120000 ms, upstream's --runtime-request-timeout). */
  defaultTimeoutMs?: number;
  /** Deadline of PullImage (default 0: none; a pull takes as long as the network needs). */
  pullTimeoutMs?: number;
}

const MiB = 1024 * 1024;

/** 'unix:///run/containerd/containerd.sock', or a bare socket path. */
export function normalizeEndpoint(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  throw new Error(`unsupported container runtime endpoint "${endpoint}": use unix:///path/to/socket`);
}

/** The socket path of a unix endpoint. */
export function endpointSocketPath(endpoint: string): string {
  return normalizeEndpoint(endpoint).slice('unix://'.length);
}

/** Connects lazily: nothing is dialled until the first call. */
export function connectCri(endpoint: string, options: CriClientOptions = {}): CriClient {
  return new GrpcCriClient(normalizeEndpoint(endpoint), options);
}

type Req = Record<string, unknown>;

let parsed: Record<string, Record<string, Method>> | undefined;
/** api.proto's services, parsed once per process. */
function criServices(): Record<string, Record<string, Method>> {
  parsed ??= loadProto(criProtoPath());
  return parsed;
}

class GrpcCriClient implements CriClient {
  readonly endpoint: string;
  private readonly channel: UnaryChannel;
  private readonly runtimeMethods: Record<string, Method>;
  private readonly imageMethods: Record<string, Method>;
  private readonly defaultTimeoutMs: number;
  private readonly pullTimeoutMs: number;
  /**
   * Unfiltered ListPodSandbox and ListContainers (the PLEG's relist every second, housekeeping):
   * items unchanged since the last answer are not decoded again (codec.ts ItemCache), and come
   * back as the same objects, which the relist uses to see that nothing changed.
   */
  private readonly listCaches = new Map<string, ItemCache>();

  constructor(endpoint: string, options: CriClientOptions) {
    this.endpoint = endpoint;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 120_000;
    this.pullTimeoutMs = options.pullTimeoutMs ?? 0;
    const services = criServices();
    this.runtimeMethods = services['runtime.v1.RuntimeService']!;
    this.imageMethods = services['runtime.v1.ImageService']!;
    // ExecSync may return up to 16 MiB of stdout plus as much stderr (runtimes cap each).
    this.channel = new UnaryChannel(endpointSocketPath(endpoint), { maxReceiveBytes: 40 * MiB });
  }

  close(): void {
    this.channel.close();
  }

  async waitUntilReady(timeoutMs: number): Promise<T.VersionResponse> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const left = end - Date.now();
      try {
        return await this.version('v1', { timeoutMs: Math.max(1, Math.min(left, 2000)) });
      } catch (err) {
        if (Date.now() + 100 >= end) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private async unary<Res>(method: Method, name: string, req: Req, opts: CallOptions | undefined, defaultTimeout: number, cache?: ItemCache): Promise<Res> {
    const timeout = opts?.timeoutMs ?? defaultTimeout;
    let body: Buffer;
    try {
      body = await this.channel.call(method.path, encodeMessage(method.request, req), timeout, opts?.signal);
    } catch (err) {
      if (err instanceof UnaryCallError) throw new CriError(name, err.code, err.details);
      throw new CriError(name, Code.UNKNOWN, (err as Error).message);
    }
    return (cache ? cache.decode(body) : decodeMessage(method.response, body)) as Res;
  }

  /** An unfiltered list call, decoded through its item cache. */
  private cachedList<Res>(name: string, opts?: CallOptions): Promise<Res> {
    const method = this.runtimeMethods[name]!;
    let cache = this.listCaches.get(name);
    if (!cache) this.listCaches.set(name, (cache = new ItemCache(method.response)));
    return this.unary<Res>(method, name, {}, opts, this.defaultTimeoutMs, cache);
  }

  private rt<Res>(name: string, req: Req, opts?: CallOptions, defaultTimeout = this.defaultTimeoutMs): Promise<Res> {
    return this.unary<Res>(this.runtimeMethods[name]!, name, req, opts, defaultTimeout);
  }

  private img<Res>(name: string, req: Req, opts?: CallOptions, defaultTimeout = this.defaultTimeoutMs): Promise<Res> {
    return this.unary<Res>(this.imageMethods[name]!, name, req, opts, defaultTimeout);
  }

  // ---- RuntimeService ----

  version(apiVersion = 'v1', opts?: CallOptions): Promise<T.VersionResponse> {
    return this.rt('Version', { version: apiVersion }, opts);
  }

  async runPodSandbox(config: T.PodSandboxConfig, runtimeHandler = '', opts?: CallOptions): Promise<string> {
    const res = await this.rt<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler }, opts);
    return res.podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void> {
    await this.rt('StopPodSandbox', { podSandboxId }, opts);
  }

  async removePodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void> {
    await this.rt('RemovePodSandbox', { podSandboxId }, opts);
  }

  podSandboxStatus(podSandboxId: string, verbose = false, opts?: CallOptions): Promise<T.PodSandboxStatusResponse> {
    return this.rt('PodSandboxStatus', { podSandboxId, verbose }, opts);
  }

  async listPodSandbox(filter?: T.PodSandboxFilter, opts?: CallOptions): Promise<T.PodSandbox[]> {
    const res = filter ? await this.rt<{ items: T.PodSandbox[] }>('ListPodSandbox', { filter }, opts) : await this.cachedList<{ items: T.PodSandbox[] }>('ListPodSandbox', opts);
    return res.items;
  }

  async createContainer(podSandboxId: string, config: T.ContainerConfig, sandboxConfig: T.PodSandboxConfig, opts?: CallOptions): Promise<string> {
    const res = await this.rt<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig }, opts);
    return res.containerId;
  }

  async startContainer(containerId: string, opts?: CallOptions): Promise<void> {
    await this.rt('StartContainer', { containerId }, opts);
  }

  async stopContainer(containerId: string, timeoutSeconds: number, opts?: CallOptions): Promise<void> {
    // The runtime waits up to the grace period itself, so the deadline must outlast it.
    await this.rt('StopContainer', { containerId, timeout: timeoutSeconds }, opts, this.defaultTimeoutMs + timeoutSeconds * 1000);
  }

  async removeContainer(containerId: string, opts?: CallOptions): Promise<void> {
    await this.rt('RemoveContainer', { containerId }, opts);
  }

  async listContainers(filter?: T.ContainerFilter, opts?: CallOptions): Promise<T.Container[]> {
    const res = filter ? await this.rt<{ containers: T.Container[] }>('ListContainers', { filter }, opts) : await this.cachedList<{ containers: T.Container[] }>('ListContainers', opts);
    return res.containers;
  }

  containerStatus(containerId: string, verbose = false, opts?: CallOptions): Promise<T.ContainerStatusResponse> {
    return this.rt('ContainerStatus', { containerId, verbose }, opts);
  }

  async updateContainerResources(containerId: string, linux: T.LinuxContainerResources, opts?: CallOptions): Promise<void> {
    await this.rt('UpdateContainerResources', { containerId, linux }, opts);
  }

  async reopenContainerLog(containerId: string, opts?: CallOptions): Promise<void> {
    await this.rt('ReopenContainerLog', { containerId }, opts);
  }

  execSync(containerId: string, cmd: string[], timeoutSeconds = 0, opts?: CallOptions): Promise<T.ExecSyncResponse> {
    // As upstream: no deadline for an unlimited command, else its timeout plus the request timeout.
    const deadline = timeoutSeconds > 0 ? this.defaultTimeoutMs + timeoutSeconds * 1000 : 0;
    return this.rt('ExecSync', { containerId, cmd, timeout: timeoutSeconds }, opts, deadline);
  }

  async exec(req: T.ExecRequest, opts?: CallOptions): Promise<string> {
    return (await this.rt<{ url: string }>('Exec', { ...req }, opts)).url;
  }

  async attach(req: T.AttachRequest, opts?: CallOptions): Promise<string> {
    return (await this.rt<{ url: string }>('Attach', { ...req }, opts)).url;
  }

  async portForward(req: T.PortForwardRequest, opts?: CallOptions): Promise<string> {
    return (await this.rt<{ url: string }>('PortForward', { ...req }, opts)).url;
  }

  async containerStats(containerId: string, opts?: CallOptions): Promise<T.ContainerStats | null> {
    return (await this.rt<{ stats: T.ContainerStats | null }>('ContainerStats', { containerId }, opts)).stats;
  }

  async listContainerStats(filter?: T.ContainerStatsFilter, opts?: CallOptions): Promise<T.ContainerStats[]> {
    return (await this.rt<{ stats: T.ContainerStats[] }>('ListContainerStats', filter ? { filter } : {}, opts)).stats;
  }

  async podSandboxStats(podSandboxId: string, opts?: CallOptions): Promise<T.PodSandboxStats | null> {
    return (await this.rt<{ stats: T.PodSandboxStats | null }>('PodSandboxStats', { podSandboxId }, opts)).stats;
  }

  async listPodSandboxStats(filter?: T.PodSandboxStatsFilter, opts?: CallOptions): Promise<T.PodSandboxStats[]> {
    return (await this.rt<{ stats: T.PodSandboxStats[] }>('ListPodSandboxStats', filter ? { filter } : {}, opts)).stats;
  }

  async updateRuntimeConfig(podCidr: string, opts?: CallOptions): Promise<void> {
    await this.rt('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr } } }, opts);
  }

  status(verbose = false, opts?: CallOptions): Promise<T.StatusResponse> {
    return this.rt('Status', { verbose }, opts);
  }

  // ---- ImageService ----

  async listImages(filter?: T.ImageSpec, opts?: CallOptions): Promise<T.Image[]> {
    return (await this.img<{ images: T.Image[] }>('ListImages', filter ? { filter: { image: filter } } : {}, opts)).images;
  }

  imageStatus(image: T.ImageSpec, verbose = false, opts?: CallOptions): Promise<T.ImageStatusResponse> {
    return this.img('ImageStatus', { image, verbose }, opts);
  }

  async pullImage(image: T.ImageSpec, auth?: T.AuthConfig, sandboxConfig?: T.PodSandboxConfig, opts?: CallOptions): Promise<string> {
    const req: Req = { image };
    if (auth) req.auth = auth;
    if (sandboxConfig) req.sandboxConfig = sandboxConfig;
    return (await this.img<{ imageRef: string }>('PullImage', req, opts, this.pullTimeoutMs)).imageRef;
  }

  async removeImage(image: T.ImageSpec, opts?: CallOptions): Promise<void> {
    await this.img('RemoveImage', { image }, opts);
  }

  imageFsInfo(opts?: CallOptions): Promise<T.ImageFsInfoResponse> {
    return this.img('ImageFsInfo', {}, opts);
  }
}
