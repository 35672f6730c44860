// Cluster DNS (src/dns) and the service proxy with NetworkPolicy (src/proxy) as startNode's node
// services, for `mizzen up`'s local node and `mizzen kubelet`.
//
// DNS listens on the pod bridge's gateway (the podCIDR's first address), port 53, and publishes it
// as this node's kube-dns endpoint; the proxy DNATs the kube-dns ClusterIP there
// (internalTrafficPolicy Local). The bridge exists only once the CNI plugin made the first pod, so
// it is made here first, with the gateway address the plugin would give it (the plugin adopts it).
//
// Stopping: the proxy is closed before DNS (startNode closes services in reverse); rules stay, so
// Services keep answering while Mizzen restarts. With `--cleanup` the proxy's chains, jumps and
// host routes go too, before the node runtime removes its unreachable routes and the bridge.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ApiClient } from '../client/api-client.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import type { Upstream } from '../dns/forwarder.ts';
import { nthAddress, parseCidr } from './network/cidr.ts';
import type { NodeService, NodeServiceContext, StartNodeOptions } from './run.ts';

const run = promisify(execFile);

export interface NodeServicesOptions {
  /**
   * The identity DNS and the proxy use; default the node's own. They list/watch Services,
   * EndpointSlices, Pods, Namespaces and NetworkPolicies cluster-wide and write the kube-dns
   * Service and this node's EndpointSlice, which the node authorizer does not give a kubelet.
   */
  kubeconfig?: string;
  /** Cluster DNS on this node (false: none, as `--no-cluster-dns`). */
  dns: false | { upstreams?: Upstream[] };
  /** The service proxy (false: none, as `--no-service-proxy`); networkPolicy false: `--no-network-policy`. */
  proxy: false | { networkPolicy: boolean; nodePortRange?: [number, number] };
}

/** The startDNS / startProxy hooks of startNode. */
export function nodeServiceHooks(o: NodeServicesOptions): Pick<StartNodeOptions, 'startDNS' | 'startProxy'> {
  const clientFor = (ctx: NodeServiceContext): { client: ApiClient; close(): void } => {
    if (!o.kubeconfig) return { client: ctx.client, close() {} };
    const client = new ApiClient({ ...loadKubeconfig(o.kubeconfig), maxSockets: 16, userAgent: `mizzen-node-services/0.1 (${ctx.nodeName})` });
    return { client, close: () => client.close() };
  };

  const startDNS: NodeService | undefined = o.dns === false ? undefined : async (ctx) => {
    const dnsOpts = o.dns as { upstreams?: Upstream[] };
    const gateway = nthAddress(ctx.podCIDR, 1);
    if (ctx.podBridge) await ensureBridgeGateway(ctx.podBridge, ctx.podCIDR);
    const { startNodeDNS } = await import('../dns/node-dns.ts');
    const c = clientFor(ctx);
    try {
      const dns = await startNodeDNS({
        client: c.client,
        nodeName: ctx.nodeName,
        listen: [{ address: gateway, port: 53 }],
        clusterDomain: ctx.clusterDomain,
        upstreams: dnsOpts.upstreams,
        kubeDNS: { endpointAddress: gateway, clusterIP: ctx.clusterDNS[0], ensureService: true },
        log: ctx.log,
      });
      return {
        async close() {
          await dns.close();
          c.close();
        },
      };
    } catch (e) {
      c.close();
      throw e;
    }
  };

  const startProxy: NodeService | undefined = o.proxy === false ? undefined : async (ctx) => {
    const proxyOpts = o.proxy as { networkPolicy: boolean; nodePortRange?: [number, number] };
    await bridgeTrafficThroughIptables(ctx.log);
    const { startServiceProxy } = await import('../proxy/proxy.ts');
    const c = clientFor(ctx);
    const internal = (ctx.getNode()?.status?.addresses ?? []).filter((a: any) => a.type === 'InternalIP').map((a: any) => a.address as string);
    try {
      const proxy = await startServiceProxy({
        client: c.client,
        nodeName: ctx.nodeName,
        nodeIPs: internal.length ? internal : undefined,
        clusterCIDR: ctx.clusterCIDR,
        serviceCIDR: ctx.serviceCIDR,
        podBridge: ctx.podBridge,
        nodePortRange: proxyOpts.nodePortRange,
        networkPolicy: proxyOpts.networkPolicy,
        log: ctx.log,
      });
      return {
        async close() {
          await proxy.close();
          c.close();
        },
        async cleanup() {
          await proxy.cleanup();
          c.close();
        },
      };
    } catch (e) {
      c.close();
      throw e;
    }
  };
  return { startDNS: startDNS && inBackground('cluster DNS', startDNS), startProxy: startProxy && inBackground('service proxy', startProxy) };
}

/** How long a stop waits for a node service that is still starting (its informers not synced). */
const STOP_WAIT_MS = 5_000;

/**
 * Starts a node service without holding up the node: its informers wait for their first list,
 * which never comes while the API refuses it (an identity without the permission), and a node is
 * Ready without DNS or the proxy, as upstream's kubelet is without kube-proxy.
 */
function inBackground(what: string, start: NodeService): NodeService {
  return async (ctx) => {
    let stopping = false;
    const started = start(ctx).then(
      (s) => {
        ctx.log(`${what} started`);
        return s;
      },
      (e) => {
        if (!stopping) ctx.log(`${what} did not start: ${(e as Error).message}`);
        return undefined;
      },
    );
    const stop = async (cleanup: boolean) => {
      stopping = true;
      let timer: NodeJS.Timeout | undefined;
      const s = await Promise.race([started, new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), STOP_WAIT_MS)))]);
      clearTimeout(timer);
      if (s === 'late') {
        ctx.log(`${what} was still starting (its informers not synced: is it allowed to list what it needs?); stopping without it`);
        // Closed whenever it does finish starting.
        void started.then((x) => x?.close());
        return;
      }
      if (s) await (cleanup && s.cleanup ? s.cleanup() : s.close());
    };
    return { close: () => stop(false), cleanup: () => stop(true) };
  };
}

/** The pod bridge, up, with the podCIDR's first address (what the CNI bridge plugin's isGateway sets). */
export async function ensureBridgeGateway(bridge: string, podCIDR: string): Promise<void> {
  const gateway = `${nthAddress(podCIDR, 1)}/${parseCidr(podCIDR).prefix}`;
  const show = await run('ip', ['-o', 'addr', 'show', 'dev', bridge]).catch(() => undefined);
  if (!show) await run('ip', ['link', 'add', bridge, 'type', 'bridge']).catch((e) => {
    if (!/File exists/.test((e as { stderr?: string }).stderr ?? '')) throw e;
  });
  if (!show?.stdout.includes(` ${gateway} `)) await run('ip', ['addr', 'replace', gateway, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
}

/**
 * Pod-to-pod traffic on one bridge is switched, not routed: without br_netfilter's
 * bridge-nf-call-iptables it never meets the FORWARD chain (NetworkPolicy) nor nat for a ClusterIP
 * whose endpoint is on the same bridge's reply path.
 */
async function bridgeTrafficThroughIptables(log: (m: string) => void): Promise<void> {
  const knob = '/proc/sys/net/bridge/bridge-nf-call-iptables';
  if (!existsSync(knob)) await run('modprobe', ['br_netfilter']).catch((e) => log(`service proxy: modprobe br_netfilter: ${(e as Error).message.split('\n')[0]}`));
  try {
    if (readFileSync(knob, 'utf8').trim() !== '1') writeFileSync(knob, '1');
  } catch (e) {
    log(`service proxy: cannot set ${knob}: ${(e as Error).message}; NetworkPolicy between pods on this node is not enforced`);
  }
}
