// `mizzen kubelet --kubeconfig FILE [flags]`: a real node on this machine, alone, as upstream's
// kubelet runs beside a control plane elsewhere. The kubeconfig is the node's own identity
// (system:node:<name>, e.g. the one `mizzen agent` writes, or DATA_DIR/cred/kubelet-<node>.kubeconfig).

import { readFile } from 'node:fs/promises';
import { nodeInternalIP } from './node/machine-info.ts';
import { nodeNameFromHost } from './node/host-node-name.ts';
import { parseTaints, type Taint } from './node/node-object.ts';
import { parseCapacity, parseLabels } from './simulated/capacity.ts';
import { DEFAULT_CLUSTER_DOMAIN, startNode } from './run.ts';
import type { CliIO } from '../cli/io.ts';
import { listenForStop, type StopSignal } from '../cli/lifecycle.ts';
import { UsageError, expandPath, parseCount } from '../cli/options.ts';
import { isDNS1123Subdomain } from '../api/validation.ts';
import { nodeServiceHooks, type NodeServicesOptions } from './node-services.ts';
import { parseUpstream } from '../dns/upstream.ts';
import { clusterDNSForServiceCIDR } from '../dns/kube-dns-service.ts';
import { startQuietGC, useLeanV8 } from './process-memory.ts';

export interface KubeletCommandOptions {
  kubeconfig: string;
  nodeName: string;
  dataDir: string;
  containerRuntimeEndpoint?: string;
  registerWithTaints?: Taint[];
  nodeLabels?: Record<string, string>;
  externalCloudProvider: boolean;
  cleanup: boolean;
  port: number;
  nodeIP?: string;
  clusterDNS: string[];
  clusterDomain: string;
  clusterCIDR?: string;
  serviceCIDR?: string;
  maxPods?: number;
  kubeReserved?: Record<string, string>;
  systemReserved?: Record<string, string>;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  cgroupRoot?: string;
  podBridge?: string;
  /** --node-lease-duration-seconds: the node Lease's duration, renewed every quarter of it (default 40). */
  nodeLeaseDurationSeconds?: number;
  /** Cluster DNS and the service proxy beside the kubelet (src/kubelet/node-services.ts). */
  services: NodeServicesOptions;
}

function leaseDuration(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = parseCount(v, '--node-lease-duration-seconds', 'kubelet');
  if (n < 1) throw new UsageError(`invalid --node-lease-duration-seconds "${v}": must be positive`, 'kubelet');
  return n;
}

export function defaultKubeletDataDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/mizzen-kubelet' : expandPath('~/.mizzen-kubelet');
}

function checked(v: string | undefined, re: RegExp, flag: string, what: string): string | undefined {
  if (v !== undefined && !re.test(v)) throw new UsageError(`invalid ${flag} "${v}": expected ${what}`, 'kubelet');
  return v;
}

export function kubeletOptions(values: Record<string, string | boolean | undefined>): KubeletCommandOptions {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const kubeconfig = str('kubeconfig') ?? process.env.KUBECONFIG;
  if (!kubeconfig) throw new UsageError('--kubeconfig is required: the node\'s own kubeconfig (system:node:NAME)', 'kubelet');
  const nodeName = str('node-name') ?? nodeNameFromHost();
  const bad = isDNS1123Subdomain(nodeName);
  if (bad.length) throw new UsageError(`invalid --node-name "${nodeName}": ${bad[0]}`, 'kubelet');
  const wrap = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new UsageError((e as Error).message, 'kubelet');
    }
  };
  const cloud = str('cloud-provider');
  if (cloud !== undefined && cloud !== '' && cloud !== 'external') throw new UsageError(`invalid --cloud-provider "${cloud}": only "external" is supported (the cloud controller manager initialises the node)`, 'kubelet');
  const port = str('port') === undefined ? 10250 : Number(str('port'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port "${str('port')}"`, 'kubelet');
  const endpoint = str('container-runtime-endpoint');
  if (endpoint !== undefined && !/^(unix:\/\/)?\//.test(endpoint)) throw new UsageError(`invalid --container-runtime-endpoint "${endpoint}": expected unix:///path/to/socket`, 'kubelet');
  if ((str('tls-cert-file') === undefined) !== (str('tls-private-key-file') === undefined)) throw new UsageError('--tls-cert-file and --tls-private-key-file go together', 'kubelet');
  const reserved = (k: string) => (str(k) === undefined ? undefined : wrap(() => parseCapacity(str(k)!, {})));
  return {
    kubeconfig: expandPath(kubeconfig),
    nodeName,
    dataDir: str('data-dir') !== undefined ? expandPath(str('data-dir')!) : defaultKubeletDataDir(),
    containerRuntimeEndpoint: endpoint,
    registerWithTaints: str('register-with-taints') === undefined ? undefined : wrap(() => parseTaints(str('register-with-taints')!)),
    nodeLabels: str('node-labels') === undefined ? undefined : wrap(() => parseLabels(str('node-labels')!)),
    externalCloudProvider: cloud === 'external',
    cleanup: values.cleanup === true,
    port,
    nodeIP: str('node-ip'),
    // With our own cluster DNS the default is its ClusterIP (the service range's 10th address).
    clusterDNS: str('cluster-dns') !== undefined || values['no-cluster-dns'] === true ? (str('cluster-dns') ?? '').split(',').map((s) => s.trim()).filter(Boolean) : [clusterDNSForServiceCIDR(str('service-cluster-ip-range'))],
    clusterDomain: str('cluster-domain') ?? DEFAULT_CLUSTER_DOMAIN,
    clusterCIDR: str('cluster-cidr'),
    serviceCIDR: str('service-cluster-ip-range'),
    maxPods: str('max-pods') === undefined ? undefined : parseCount(str('max-pods'), '--max-pods', 'kubelet'),
    kubeReserved: reserved('kube-reserved'),
    systemReserved: reserved('system-reserved'),
    tlsCertFile: str('tls-cert-file') && expandPath(str('tls-cert-file')!),
    tlsPrivateKeyFile: str('tls-private-key-file') && expandPath(str('tls-private-key-file')!),
    cgroupRoot: checked(str('cgroup-root'), /^(\/[A-Za-z0-9._-]+)+$/, '--cgroup-root', 'an absolute cgroup path such as /mizzen'),
    services: {
      kubeconfig: str('services-kubeconfig') && expandPath(str('services-kubeconfig')!),
      dns: values['no-cluster-dns'] === true ? false : { upstreams: str('dns-upstream') === undefined ? undefined : wrap(() => str('dns-upstream')!.split(',').map((u) => u.trim()).filter(Boolean).map(parseUpstream)) },
      proxy: values['no-service-proxy'] === true ? false : { networkPolicy: values['no-network-policy'] !== true },
    },
    nodeLeaseDurationSeconds: leaseDuration(str('node-lease-duration-seconds')),
    podBridge: checked(str('pod-bridge'), /^[A-Za-z0-9_.-]{1,15}$/, '--pod-bridge', 'a Linux interface name of at most 15 characters'),
  };
}

export async function runKubelet(o: KubeletCommandOptions, io: CliIO, stopSignal?: StopSignal): Promise<number> {
  const log = (m: string) => io.out(`kubelet: ${m}`);
  const stop = stopSignal ?? listenForStop(io);
  // The process is the kubelet's alone (src/kubelet/process-memory.ts).
  useLeanV8();
  const stopQuietGC = startQuietGC();
  try {
    const serving = o.tlsCertFile ? { cert: await readFile(o.tlsCertFile, 'utf8'), key: await readFile(o.tlsPrivateKeyFile!, 'utf8') } : undefined;
    const started = performance.now();
    if (!o.services.kubeconfig && (o.services.dns || o.services.proxy))
      log('cluster DNS and the service proxy use the node\'s own identity, which may not list every pod, namespace and NetworkPolicy nor write kube-system/kube-dns: give them --services-kubeconfig, or pass --no-cluster-dns --no-service-proxy');
    const r = await startNode({
      kubeconfig: o.kubeconfig,
      nodeName: o.nodeName,
      dataDir: o.dataDir,
      containerRuntimeEndpoint: o.containerRuntimeEndpoint,
      clusterCIDR: o.clusterCIDR,
      serviceCIDR: o.serviceCIDR,
      clusterDNS: o.clusterDNS,
      clusterDomain: o.clusterDomain,
      nodeIP: o.nodeIP ?? nodeInternalIP(),
      nodeLabels: o.nodeLabels,
      registerWithTaints: o.registerWithTaints,
      externalCloudProvider: o.externalCloudProvider,
      resources: { maxPods: o.maxPods, kubeReserved: o.kubeReserved, systemReserved: o.systemReserved },
      port: o.port,
      serving,
      cgroupRoot: o.cgroupRoot,
      bridge: o.podBridge,
      networkName: o.podBridge,
      nodeLeaseDurationSeconds: o.nodeLeaseDurationSeconds,
      ...nodeServiceHooks(o.services),
      log,
    });
    if (!r.ok) {
      io.err(`mizzen kubelet: ${r.message}`);
      return 1;
    }
    const node = r.node;
    void node.ready.then(
      () => io.out(`mizzen kubelet: node ${o.nodeName} is Ready in ${((performance.now() - started) / 1000).toFixed(2)}s`),
      () => {},
    );
    const sig = await stop.promise;
    log(`received ${sig}, shutting down${o.cleanup ? ' and removing pods, the pod network and routes' : ' (containers keep running)'}`);
    await node.stop({ cleanup: o.cleanup });
    return 0;
  } catch (e) {
    io.err(`mizzen kubelet: ${(e as Error).message}`);
    return 1;
  } finally {
    stopQuietGC();
    stop.dispose();
  }
}
